// SPDX-License-Identifier: GPL-2.0-or-later
/* The text/JSON print layer (see print.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "print.h"

#define MAX_DEPTH 16

static bool json_mode, pretty_mode;
static struct json_object *stack[MAX_DEPTH];
static int depth;		/* containers open */
static struct json_object *root;

void print_set_mode(bool json, bool pretty)
{
	json_mode = json;
	pretty_mode = pretty;
}

bool print_is_json(void)
{
	return json_mode;
}

void print_begin(void)
{
	root = NULL;
	depth = 0;
}

/* Write the document; 0, or -1 if stdout failed. */
int print_end(void)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

	if (json_mode && root) {
		flags |= pretty_mode ? JSON_C_TO_STRING_PRETTY |
				       JSON_C_TO_STRING_SPACED :
				       JSON_C_TO_STRING_PLAIN;
		fputs(json_object_to_json_string_ext(root, flags), stdout);
		fputc('\n', stdout);
		json_object_put(root);
	}
	root = NULL;
	depth = 0;
	return fflush(stdout) ? -1 : 0;
}

/* Add @v under @key to the innermost container, or make it the root. */
static void add(const char *key, struct json_object *v)
{
	struct json_object *top;

	if (!depth) {
		if (root)
			json_object_put(root);
		root = v;
		return;
	}
	top = stack[depth - 1];
	if (json_object_is_type(top, json_type_array))
		json_object_array_add(top, v);
	else
		json_object_object_add(top, key ? key : "", v);
}

static void open_container(const char *key, struct json_object *c)
{
	if (!json_mode)
		return;
	if (depth == MAX_DEPTH)
		abort();	/* a bug in the caller */
	add(key, c);
	/* The container lives in its parent (or is the root). */
	stack[depth++] = c;
}

void open_json_object(const char *key)
{
	if (json_mode)
		open_container(key, json_object_new_object());
}

void open_json_array(const char *key)
{
	if (json_mode)
		open_container(key, json_object_new_array());
}

void close_json_object(void)
{
	if (json_mode && depth)
		depth--;
}

void close_json_array(void)
{
	close_json_object();
}

static bool to_text(enum output_type t)
{
	return !json_mode && (t & PRINT_FP);
}

static bool to_json(enum output_type t)
{
	return json_mode && (t & PRINT_JSON);
}

void print_string(enum output_type t, const char *key, const char *fmt,
		  const char *value)
{
	if (to_json(t))
		add(key, json_object_new_string(value));
	else if (to_text(t))
		printf(fmt, value);
}

void print_u64(enum output_type t, const char *key, const char *fmt,
	       uint64_t value)
{
	if (to_json(t))
		add(key, json_object_new_uint64(value));
	else if (to_text(t))
		printf(fmt, (unsigned long long)value);
}

void print_bool(enum output_type t, const char *key, const char *fmt,
		bool value)
{
	if (to_json(t))
		add(key, json_object_new_boolean(value));
	else if (to_text(t))
		printf(fmt, value ? "yes" : "no");
}

void print_size(enum output_type t, const char *key, const char *fmt,
		uint64_t bytes)
{
	char buf[16];

	if (to_json(t))
		add(key, json_object_new_uint64(bytes));
	else if (to_text(t))
		printf(fmt, human_size(bytes, buf, sizeof(buf)));
}

void print_null(const char *key)
{
	if (json_mode)
		add(key, NULL);
}

void print_text(const char *fmt, ...)
{
	va_list ap;

	if (json_mode)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}
