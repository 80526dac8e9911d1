// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One cache, printed from one table of fields: as a row of `list` and
 * `top` (like /proc/spl/kmem/slab, sizes made human-readable) or in full
 * for `show`.  JSON always gets every field, under the same keys whatever
 * the layout; text gets the layout's fields.  The keys are also what
 * `list -s` sorts by.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

enum kind { K_NAME, K_BACKING, K_FLAGS, K_NUM, K_SIZE, K_BOOL };

struct field {
	const char *key;	/* JSON key, sort key */
	const char *group;	/* row: header group */
	const char *title;	/* row: column title; NULL = not in rows */
	int width;		/* row: column width, negative = left */
	const char *label;	/* detail: label */
	enum kind kind;
	uint64_t (*get)(const struct splkmem_cache_info *c);
	bool kvmem;		/* only meaningful for KVMEM caches */
};

static bool is_kvmem(const struct splkmem_cache_info *c)
{
	return c->backing == SPLKMEM_BACKING_KVMEM;
}

static uint64_t live_objs(const struct splkmem_cache_info *c)
{
	return splkmem_live_objs(c);
}

static uint64_t used_bytes(const struct splkmem_cache_info *c)
{
	return splkmem_live_objs(c) * c->obj_size;
}

#define GETTER(_f)							\
	static uint64_t get_##_f(const struct splkmem_cache_info *c)	\
	{								\
		return c->_f;						\
	}

GETTER(backing) GETTER(flags) GETTER(obj_size) GETTER(obj_align)
GETTER(slab_size) GETTER(slab_objs) GETTER(mag_size) GETTER(mag_refill)
GETTER(mag_auto) GETTER(mag_objs) GETTER(slab_total) GETTER(slab_alloc)
GETTER(slab_max) GETTER(obj_total) GETTER(obj_alloc) GETTER(obj_max)
GETTER(obj_emergency) GETTER(obj_emergency_max) GETTER(obj_deadlock)
GETTER(linux_objs) GETTER(slab_create) GETTER(slab_destroy)
GETTER(slab_fail) GETTER(grow) GETTER(reap) GETTER(bytes)
GETTER(grow_fail) GETTER(grow_backoff) GETTER(depot_full)
GETTER(depot_empty) GETTER(depot_locks) GETTER(depot_contended)
GETTER(slab_locks) GETTER(slab_contended)

#undef GETTER

static const struct field fields[] = {
	{ "name", "", "NAME", -24, "name", K_NAME, NULL, false },
	{ "backing", "", "TYPE", -5, "backing", K_BACKING, get_backing, false },
	{ "flags", "", NULL, 0, "flags", K_FLAGS, get_flags, false },
	{ "obj_size", "", "OBJSIZE", 7, "object size", K_SIZE, get_obj_size, false },
	{ "obj_align", "", NULL, 0, "object alignment", K_NUM, get_obj_align, false },
	{ "slab_size", "", "SLABSIZE", 8, "slab size", K_SIZE, get_slab_size, true },
	{ "slab_objs", "", NULL, 0, "objects per slab", K_NUM, get_slab_objs, true },
	{ "bytes", "", "MEMORY", 7, "memory held", K_SIZE, get_bytes, true },
	{ "used_bytes", "", "USED", 7, "memory in use", K_SIZE, used_bytes, false },
	{ "slab_total", "slabs", "TOTAL", 6, "slabs", K_NUM, get_slab_total, true },
	{ "slab_alloc", "slabs", "ALLOC", 6, "slabs in use", K_NUM, get_slab_alloc, true },
	{ "slab_max", "slabs", "MAX", 6, "slabs in use, max", K_NUM, get_slab_max, true },
	{ "obj_total", "objects", "TOTAL", 8, "objects", K_NUM, get_obj_total, true },
	{ "obj_alloc", "objects", "ALLOC", 8, "objects allocated", K_NUM, get_obj_alloc, true },
	{ "obj_max", "objects", "MAX", 8, "objects allocated, max", K_NUM, get_obj_max, true },
	{ "live_objs", "", NULL, 0, "objects in use", K_NUM, live_objs, false },
	{ "linux_objs", "", NULL, 0, "Linux slab objects", K_NUM, get_linux_objs, false },
	{ "mag_size", "magazine", "SIZE", 4, "magazine size", K_NUM, get_mag_size, true },
	{ "mag_auto", "", NULL, 0, "magazine size automatic", K_BOOL, get_mag_auto, true },
	{ "mag_refill", "", NULL, 0, "magazine refill", K_NUM, get_mag_refill, true },
	{ "mag_objs", "magazine", "OBJS", 6, "objects in magazines", K_NUM, get_mag_objs, true },
	{ "depot_full", "", NULL, 0, "full magazines in the depot", K_NUM, get_depot_full, true },
	{ "depot_empty", "", NULL, 0, "empty magazines in the depot", K_NUM, get_depot_empty, true },
	{ "depot_locks", "", NULL, 0, "depot lock acquisitions", K_NUM, get_depot_locks, true },
	{ "depot_contended", "", NULL, 0, "depot lock contended", K_NUM, get_depot_contended, true },
	{ "slab_locks", "", NULL, 0, "slab lock acquisitions", K_NUM, get_slab_locks, true },
	{ "slab_contended", "", NULL, 0, "slab lock contended", K_NUM, get_slab_contended, true },
	{ "obj_emergency", "emergency", "ALLOC", 5, "emergency objects", K_NUM, get_obj_emergency, true },
	{ "obj_emergency_max", "emergency", "MAX", 5, "emergency objects, max", K_NUM, get_obj_emergency_max, true },
	{ "obj_deadlock", "emergency", "DLOCK", 5, "deadlocks", K_NUM, get_obj_deadlock, true },
	{ "slab_create", "", NULL, 0, "slabs created", K_NUM, get_slab_create, true },
	{ "slab_destroy", "", NULL, 0, "slabs destroyed", K_NUM, get_slab_destroy, true },
	{ "slab_fail", "", NULL, 0, "slab allocations failed", K_NUM, get_slab_fail, true },
	{ "grow", "", NULL, 0, "growths", K_NUM, get_grow, true },
	{ "grow_fail", "", NULL, 0, "growths failed", K_NUM, get_grow_fail, true },
	{ "grow_backoff", "", NULL, 0, "allocations backed off", K_NUM, get_grow_backoff, true },
	{ "reap", "", NULL, 0, "reaps", K_NUM, get_reap, false },
};

#define NFIELDS ARRAY_SIZE(fields)

static void print_flags(enum output_type t, const char *fmt, uint64_t flags)
{
	char text[64] = "";
	size_t i;

	const char *name;

	open_json_array("flags");
	for (i = 0; (name = splkmem_flag_name((unsigned int)i)); i++)
		if (flags & (1u << i))
			print_string(PRINT_JSON, NULL, NULL, name);
	close_json_array();
	splkmem_flags_str((uint32_t)flags, text, sizeof(text));
	print_string(t & PRINT_FP, NULL, fmt, text[0] ? text : "-");
}

/* One field, with the text format for its layout. */
static void print_field(const struct field *f,
			const struct splkmem_cache_info *c, enum output_type t,
			const char *fmt, bool detail)
{
	uint64_t v = f->get ? f->get(c) : 0;
	char buf[64], human[16];

	switch (f->kind) {
	case K_NAME:
		print_string(t, f->key, fmt, c->name);
		break;
	case K_BACKING:
		print_string(t, f->key, fmt, splkmem_backing_name(c->backing));
		break;
	case K_FLAGS:
		print_flags(t, fmt, v);
		break;
	case K_BOOL:
		print_bool(t, f->key, fmt, v != 0);
		break;
	case K_NUM:
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
		print_u64(t & PRINT_JSON, f->key, NULL, v);
		print_string(t & PRINT_FP, NULL, fmt, buf);
		break;
	case K_SIZE:
		if (detail && v >= 1024)
			snprintf(buf, sizeof(buf), "%llu (%s)",
				 (unsigned long long)v,
				 human_size(v, human, sizeof(human)));
		else if (detail)
			snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
		else
			human_size(v, buf, sizeof(buf));
		print_u64(t & PRINT_JSON, f->key, NULL, v);
		print_string(t & PRINT_FP, NULL, fmt, buf);
		break;
	}
}

/* Row columns are separated by one space; no space after the last. */
static const char *col_fmt(const struct field *f, char *buf, size_t len)
{
	snprintf(buf, len, "%s%%%ds", f == &fields[0] ? "" : " ", f->width);
	return buf;
}

/* "---- slabs ----" over a group of columns @width wide. */
static void print_group(const char *group, int width)
{
	int label = (int)strlen(group) + 2, left, i;

	if (!group[0] || label > width) {
		print_text("%*s", width, "");
		return;
	}
	left = (width - label) / 2;
	for (i = 0; i < left; i++)
		print_text("-");
	print_text(" %s ", group);
	for (i = left + label; i < width; i++)
		print_text("-");
}

void cache_print_header(void)
{
	const char *group = NULL;
	int width = 0;
	char fmt[16];
	size_t i;

	if (print_is_json())
		return;
	/* Group titles over their columns, as /proc/spl/kmem/slab has. */
	for (i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];

		if (!f->title)
			continue;
		if (group && !strcmp(f->group, group)) {
			width += 1 + abs(f->width);
			continue;
		}
		if (group) {
			print_group(group, width);
			print_text(" ");
		}
		group = f->group;
		width = abs(f->width);
	}
	if (group && group[0])
		print_group(group, width);
	print_text("\n");
	for (i = 0; i < NFIELDS; i++)
		if (fields[i].title)
			print_text(col_fmt(&fields[i], fmt, sizeof(fmt)),
				   fields[i].title);
	print_text("\n");
}

void cache_print(const struct splkmem_cache_info *c, enum cache_layout l)
{
	bool kvmem = is_kvmem(c);
	char fmt[32];
	size_t i;

	open_json_object(NULL);
	if (l == CACHE_DETAIL)
		print_text("cache %s\n", c->name);
	for (i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];
		enum output_type t = PRINT_ANY;

		if (l == CACHE_ROW) {
			col_fmt(f, fmt, sizeof(fmt));
			if (!f->title) {
				t = PRINT_JSON;
			} else if (f->kvmem && !kvmem) {
				/* Not applicable: "-" in text, value in JSON. */
				print_string(PRINT_FP, NULL, fmt, "-");
				t = PRINT_JSON;
			}
		} else {
			if (f->kind == K_NAME || (f->kvmem && !kvmem))
				t = PRINT_JSON;
			snprintf(fmt, sizeof(fmt), "  %-24s %%s\n", f->label);
		}
		print_field(f, c, t, fmt, l == CACHE_DETAIL);
	}
	if (l == CACHE_ROW)
		print_text("\n");
	close_json_object();
}

static const struct field *sort_field;
static int sort_sign;

static int cmp(const void *a, const void *b)
{
	const struct splkmem_cache_info *x = a, *y = b;
	uint64_t vx, vy;

	if (sort_field->kind == K_NAME)
		return sort_sign * strcmp(x->name, y->name);
	vx = sort_field->get(x);
	vy = sort_field->get(y);
	if (vx != vy)	/* numbers: largest first */
		return sort_sign * (vx < vy ? 1 : -1);
	return strcmp(x->name, y->name);
}

bool cache_sort(struct splkmem_cache_info *v, size_t n, const char *key,
		bool reverse)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++)
		if (!strcmp(fields[i].key, key) && fields[i].kind != K_FLAGS)
			break;
	if (i == NFIELDS)
		return false;
	sort_field = &fields[i];
	sort_sign = reverse ? -1 : 1;
	qsort(v, n, sizeof(*v), cmp);
	return true;
}

const char *cache_sort_keys(void)
{
	static char keys[1024];
	size_t i;

	if (keys[0])
		return keys;
	for (i = 0; i < NFIELDS; i++) {
		if (fields[i].kind == K_FLAGS)
			continue;
		if (keys[0])
			strcat(keys, " ");
		strcat(keys, fields[i].key);
	}
	return keys;
}
