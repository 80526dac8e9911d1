// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spl_kmem_bench: benchmarks of spl_kmem against the kernel's allocators.
 *
 * Everything runs from module_init, one section after another, and the
 * kernel log is the result (see bench.h for the line format).  The module
 * is never shipped: tests/bench/run.sh loads it in a qemu guest.
 *
 * Sections (the `run` parameter):
 *   fast  single-CPU cost of alloc+free pairs and of N-allocs-then-N-frees
 *         batches (bench_fast.c)
 *   mem   bytes held per byte of live objects at steady state, and what a
 *         reap returns after a burst (bench_mem.c)
 *   conc  every CPU at once, and objects freed on another CPU than the one
 *         that allocated them (bench_conc.c)
 */
#include "bench.h"

#include <linux/err.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/utsname.h>

static char *run = "fast,mem";
module_param(run, charp, 0444);
MODULE_PARM_DESC(run, "Comma-separated sections: fast, mem, conc");

unsigned int kb_reps = 11;
module_param_named(reps, kb_reps, uint, 0444);
MODULE_PARM_DESC(reps, "Repetitions of each measurement (3..31)");

static unsigned long target_us = 2000;
module_param(target_us, ulong, 0444);
MODULE_PARM_DESC(target_us, "Guest microseconds one repetition aims at");
unsigned long kb_target_ns;

char *kb_allocs_param = "";
module_param_named(allocs, kb_allocs_param, charp, 0444);
MODULE_PARM_DESC(allocs, "Comma-separated allocators (default: all)");

static char *sizes = "";
module_param(sizes, charp, 0444);
MODULE_PARM_DESC(sizes, "Comma-separated object sizes (default: all)");

const size_t kb_sizes[] = { 64, 512, 4096, 16384, 32768, 131072, 1048576 };
const unsigned int kb_nr_sizes = ARRAY_SIZE(kb_sizes);

/* Is @word in the comma-separated @list?  An empty list has everything. */
static bool kb_in_list(const char *list, const char *word)
{
	size_t len = strlen(word);
	const char *p = list;

	if (!list || !*list)
		return true;
	while (*p) {
		const char *end = strchrnul(p, ',');

		if (end - p == len && !strncmp(p, word, len))
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

bool kb_size_wanted(size_t size)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%zu", size);
	return kb_in_list(sizes, buf);
}

bool kb_alloc_wanted(const char *name)
{
	return kb_in_list(kb_allocs_param, name);
}

static int kb_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

void kb_summarize(u64 *v, unsigned int n, struct kb_summary *s)
{
	memset(s, 0, sizeof(*s));
	if (!n)
		return;
	sort(v, n, sizeof(*v), kb_cmp_u64, NULL);
	s->n = n;
	s->min = v[0];
	s->max = v[n - 1];
	s->med = n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s->q1 = v[(n - 1) / 4];
	s->q3 = v[(3 * (n - 1) + 3) / 4];
}

#define KB_X100(v) (v) / 100, (v) % 100

void kb_fmt_summary(char *buf, size_t len, const struct kb_summary *s)
{
	snprintf(buf, len,
		 "med=%llu.%02llu min=%llu.%02llu max=%llu.%02llu q1=%llu.%02llu q3=%llu.%02llu reps=%u",
		 KB_X100(s->med), KB_X100(s->min), KB_X100(s->max),
		 KB_X100(s->q1), KB_X100(s->q3), s->n);
}

/* First number in a sysfs file ("1234 N0=1234" -> 1234), or -1. */
static long long kb_read_sysfs(const char *path)
{
	char buf[64] = "";
	struct file *f;
	loff_t pos = 0;
	long long v;
	ssize_t n;

	f = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(f))
		return -1;
	n = kernel_read(f, buf, sizeof(buf) - 1, &pos);
	filp_close(f, NULL);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, " \n")] = '\0';
	return kstrtoll(buf, 10, &v) ? -1 : v;
}

/*
 * SLUB's own counters: slabs * (PAGE_SIZE << order).  "slabs" counts every
 * slab of the cache (per-CPU, partial and full) and needs CONFIG_SLUB_DEBUG,
 * which Debian has (slub_debug stays off).  A slab allocated at the
 * fallback (smaller) order would be over-counted; none are on an idle guest.
 */
long long kb_slub_bytes(const char *name, long long *objects)
{
	char path[96];
	long long slabs, order;

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/slabs", name);
	slabs = kb_read_sysfs(path);
	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/order", name);
	order = kb_read_sysfs(path);
	if (objects) {
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/objects",
			 name);
		*objects = kb_read_sysfs(path);
	}
	if (slabs < 0 || order < 0)
		return -1;
	return slabs * ((long long)PAGE_SIZE << order);
}

/* spl_kmem's own counters; live objects exclude those in magazines. */
u64 kb_spl_bytes(struct kb_inst *bi, u64 *live)
{
	struct splkmem_cache_stats st;

	splkmem_cache_get_stats(bi->spl, &st);
	if (live)
		*live = st.obj_alloc - st.mag_objs;
	return st.bytes;
}

long long kb_held_bytes(struct kb_inst *bi, u64 *live)
{
	long long objs = -1, b;

	if (bi->a->slab_sysfs) {
		b = kb_slub_bytes(bi->cname, &objs);
		if (live)
			*live = objs < 0 ? 0 : objs;
		return b;
	}
	if (bi->a->spl)
		return kb_spl_bytes(bi, live);
	return -1;
}

/* spl_kmem's tunables, and the backing it picks by default at each size. */
static void kb_report_spl(void)
{
	static const char *const params[] = { "slab_limit", "magazine_size",
					      "obj_per_slab", "max_size" };
	char path[80], line[160];
	size_t len = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(params); i++) {
		snprintf(path, sizeof(path),
			 "/sys/module/spl_kmem/parameters/%s", params[i]);
		len += scnprintf(line + len, sizeof(line) - len, " %s=%lld",
				 params[i], kb_read_sysfs(path));
	}
	pr_info("R spl%s\n", line);

	for (i = 0; i < kb_nr_sizes; i++) {
		struct splkmem_cache_stats st;
		struct splkmem_cache *c;

		c = splkmem_cache_create("kb-default", kb_sizes[i], 0, NULL,
					 NULL, NULL, 0);
		if (IS_ERR(c))
			continue;
		splkmem_cache_get_stats(c, &st);
		splkmem_cache_destroy(c);
		pr_info("R backing size=%zu default=%s\n", kb_sizes[i],
			st.flags & SPLKMEM_KMC_SLAB ? "spl-slab" : "spl-kvmem");
	}
}

static int __init kb_init(void)
{
	ktime_t start = ktime_get();
	int rc = 0;

	kb_reps = clamp(kb_reps, 3u, (unsigned int)KB_MAX_REPS);
	kb_target_ns = max(target_us, 10ul) * NSEC_PER_USEC;
	pr_info("R env kernel=%s cpus=%u hz=%u page=%lu init_on_alloc=%d reps=%u target_us=%lu run=%s\n",
		utsname()->release, num_online_cpus(), HZ, PAGE_SIZE,
		want_init_on_alloc(GFP_KERNEL), kb_reps, target_us, run);
	kb_report_spl();

	if (kb_in_list(run, "fast"))
		rc = rc ?: kb_fast();
	if (kb_in_list(run, "mem"))
		rc = rc ?: kb_mem();
	if (kb_in_list(run, "conc"))
		rc = rc ?: kb_conc();

	pr_info("R done rc=%d ms=%lld\n", rc,
		ktime_ms_delta(ktime_get(), start));
	/* Stay loaded either way: the harness reads the log and unloads. */
	return 0;
}

static void __exit kb_exit(void)
{
}

module_init(kb_init);
module_exit(kb_exit);

MODULE_DESCRIPTION("spl_kmem benchmarks (tests only, never shipped)");
MODULE_LICENSE("GPL");
