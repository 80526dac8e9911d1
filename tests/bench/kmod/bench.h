/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal interface of spl_kmem_bench.ko, the benchmark module of
 * spl_kmem (tests/bench/).  Include this first: it sets pr_fmt.
 *
 * Every figure is printed as one line that tests/bench/report.py parses:
 *
 *   spl_kmem_bench: R <section> key=value key=value ...
 *
 * Costs are guest nanoseconds per object (one allocation plus one free),
 * printed with two decimals; under qemu -icount shift=0 one guest
 * nanosecond is one executed instruction.
 */
#ifndef _SPL_KMEM_BENCH_H
#define _SPL_KMEM_BENCH_H

#define pr_fmt(fmt) "spl_kmem_bench: " fmt

#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/types.h>

#include <spl_kmem/cache.h>

#define KB_MAX_REPS	31

/* One allocator under test. */
struct kb_inst;

struct kb_alloc {
	const char *name;
	/* Create what the allocator needs for objects of bi->size. */
	int (*setup)(struct kb_inst *bi);
	void *(*alloc)(struct kb_inst *bi);
	void (*free)(struct kb_inst *bi, void *p);
	void (*teardown)(struct kb_inst *bi);
	bool spl;		/* an spl_kmem cache: has splkmem stats */
	bool slab_sysfs;	/* has /sys/kernel/slab/<bi->cname>/ */
};

struct kb_inst {
	const struct kb_alloc *a;
	size_t size;
	char cname[SPLKMEM_NAME_MAX];
	struct splkmem_cache *spl;
	struct kmem_cache *kc;
};

/* bench_alloc.c: the allocators, by name. */
extern const struct kb_alloc kb_allocs[];
extern const unsigned int kb_nr_allocs;
const struct kb_alloc *kb_alloc_find(const char *name);
int kb_inst_setup(struct kb_inst *bi, const struct kb_alloc *a, size_t size);
void kb_inst_teardown(struct kb_inst *bi);

/* bench_main.c: parameters and helpers. */
extern unsigned int kb_reps;
extern unsigned long kb_target_ns;
extern char *kb_allocs_param;
extern const size_t kb_sizes[];
extern const unsigned int kb_nr_sizes;
bool kb_size_wanted(size_t size);
bool kb_alloc_wanted(const char *name);

/* Summary of a set of per-object costs (ns * 100). */
struct kb_summary {
	u64 med, min, max, q1, q3;
	unsigned int n;
};

void kb_summarize(u64 *v, unsigned int n, struct kb_summary *s);
/* "med=12.34 min=... max=... q1=... q3=... reps=N" into buf. */
void kb_fmt_summary(char *buf, size_t len, const struct kb_summary *s);
/* ns * 100 per op. */
static inline u64 kb_per_op(u64 ns, u64 ops)
{
	return ops ? div64_u64(ns * 100, ops) : 0;
}

/* Bytes held by a Linux slab cache, from /sys/kernel/slab/<name>/. */
long long kb_slub_bytes(const char *name, long long *objects);
/* Bytes held by an spl_kmem cache, and its live objects. */
u64 kb_spl_bytes(struct kb_inst *bi, u64 *live);
/* Bytes held by whichever allocator bi is; -1 if it has no counters. */
long long kb_held_bytes(struct kb_inst *bi, u64 *live);

/* The sections. */
int kb_fast(void);
int kb_mem(void);
int kb_conc(void);

#endif /* _SPL_KMEM_BENCH_H */
