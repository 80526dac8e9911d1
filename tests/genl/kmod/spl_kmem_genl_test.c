// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spl_kmem_genl_test: caches for the control-plane tests in tests/genl/.
 * Everything is chosen at load time:
 *
 *   ncaches=N  create N empty caches genl_t00000.. (the 5,000-cache dump);
 *              all are destroyed on unload
 *   demo=1     create a few caches of each kind and leave objects in them,
 *              some freed (for list, show and reap to have something to say)
 *   load=1     create cache genl_load and run one thread per CPU that
 *              allocates and frees tagged objects from it, handing half of
 *              them to other CPUs to free, until 1 is written to
 *              parameters/load_stop.  Meanwhile userspace resizes the
 *              cache's magazines.  Stopping checks that no object was
 *              handed out twice or changed while held, and that none was
 *              lost: every object comes back, and a reap then empties the
 *              cache.  The verdict: parameters/load_errors (0 = pass) and a
 *              "spl_kmem_genl_test: load: PASS|FAIL ..." kernel log line.
 *
 *   emergency=1  create cache genl_emerg with every growth delayed by a
 *              second, then allocate from it: once sleeping (the growth
 *              is declared deadlocked, an emergency object is used), then
 *              in bursts without sleeping from hard interrupt context
 *              (irq_work), a second apart: more emergency objects than
 *              the module announces in a second.  All freed on unload.
 *
 *   leak=1     a consumer that forgets: create caches genl_leak_kvmem and
 *              genl_leak_slab (objects still allocated) and genl_leak_idle
 *              (every object freed, some slabs empty and a trim pending),
 *              with a constructor and destructor in this module, and never
 *              destroy them.  `rmmod spl_kmem` after this module is gone
 *              must say so once per cache and call none of them.
 *   misuse=1   a consumer that frees wrongly: on cache genl_misuse, free
 *              one object three times and three foreign pointers; then
 *              clean up properly.  spl_kmem must say so once per kind,
 *              naming the cache.
 *
 * Writing N to parameters/churn creates and destroys a cache N times: a
 * dump running meanwhile must come back flagged as interrupted.  Writing
 * N to parameters/race_events creates cache genl_race N times in one
 * thread while another destroys each one as soon as it exists: a listener
 * must see its creations and destructions alternate.
 */
#define pr_fmt(fmt) "spl_kmem_genl_test: " fmt

#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/irq_work.h>
#include <linux/kmemleak.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>

#include <spl_kmem/cache.h>

static unsigned int ncaches;
module_param(ncaches, uint, 0444);
MODULE_PARM_DESC(ncaches, "Empty caches to create (genl_t00000...)");
static bool demo;
module_param(demo, bool, 0444);
MODULE_PARM_DESC(demo, "Create demonstration caches with objects in them");
static bool emergency;
module_param(emergency, bool, 0444);
MODULE_PARM_DESC(emergency, "Drive cache genl_emerg into deadlock and emergency objects");
static bool load;
module_param(load, bool, 0444);
MODULE_PARM_DESC(load, "Run a tagged-object load on cache genl_load");

static bool leak;
module_param(leak, bool, 0444);
MODULE_PARM_DESC(leak, "Create caches and never destroy them");
static bool misuse;
module_param(misuse, bool, 0444);
MODULE_PARM_DESC(misuse, "Free objects twice and to the wrong cache");

static unsigned long load_ops;
module_param(load_ops, ulong, 0444);
MODULE_PARM_DESC(load_ops, "Objects allocated and freed by the load so far");
static unsigned long load_errors;
module_param(load_errors, ulong, 0444);
MODULE_PARM_DESC(load_errors, "Errors the load found (valid once stopped)");

/* ---- many caches ---- */

static struct splkmem_cache **many;

static int many_create(void)
{
	char name[SPLKMEM_NAME_MAX];
	unsigned int i;

	many = kvcalloc(ncaches, sizeof(*many), GFP_KERNEL);
	if (!many)
		return -ENOMEM;
	for (i = 0; i < ncaches; i++) {
		snprintf(name, sizeof(name), "genl_t%05u", i);
		/* Virtual-memory backed: no Linux kmem_cache (and sysfs
		 * directory) per cache; large objects: small magazines. */
		many[i] = splkmem_cache_create(name, 64 * 1024, 0, NULL, NULL,
					       NULL, SPLKMEM_KMC_KVMEM);
		if (IS_ERR(many[i])) {
			int rc = PTR_ERR(many[i]);

			pr_err("creating %s: %d\n", name, rc);
			many[i] = NULL;
			return rc;
		}
		if (!(i % 256))
			cond_resched();
	}
	pr_info("created %u caches\n", ncaches);
	return 0;
}

static void many_destroy(void)
{
	unsigned int i;

	if (!many)
		return;
	for (i = 0; i < ncaches; i++)
		if (many[i])
			splkmem_cache_destroy(many[i]);
	kvfree(many);
	many = NULL;
}

/* ---- demonstration caches ---- */

struct demo_cache {
	const char *name;
	size_t size;
	unsigned int flags;
	unsigned int nalloc;	/* objects allocated... */
	unsigned int nkeep;	/* ...of which kept until unload */
	struct splkmem_cache *cache;
	void **objs;
};

static struct demo_cache demos[] = {
	{ "demo_small", 192, 0, 2000, 1500 },
	{ "demo_4k", 4096, SPLKMEM_KMC_KVMEM, 1500, 300 },
	{ "demo_128k", 128 * 1024, SPLKMEM_KMC_KVMEM, 64, 16 },
	{ "demo_1m_reclaim", 1024 * 1024,
	  SPLKMEM_KMC_KVMEM | SPLKMEM_KMC_RECLAIMABLE, 8, 2 },
};

static int demo_create(void)
{
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(demos); i++) {
		struct demo_cache *d = &demos[i];

		d->cache = splkmem_cache_create(d->name, d->size, 0, NULL, NULL,
						NULL, d->flags);
		if (IS_ERR(d->cache)) {
			int rc = PTR_ERR(d->cache);

			d->cache = NULL;
			return rc;
		}
		d->objs = kvcalloc(d->nalloc, sizeof(void *), GFP_KERNEL);
		if (!d->objs)
			return -ENOMEM;
		for (j = 0; j < d->nalloc; j++)
			d->objs[j] = splkmem_cache_alloc(d->cache,
							 SPLKMEM_KM_SLEEP);
		/* Free the rest: they land in magazines and empty slabs. */
		for (j = d->nkeep; j < d->nalloc; j++) {
			splkmem_cache_free(d->cache, d->objs[j]);
			d->objs[j] = NULL;
		}
	}
	return 0;
}

static void demo_destroy(void)
{
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(demos); i++) {
		struct demo_cache *d = &demos[i];

		if (!d->cache)
			continue;
		for (j = 0; d->objs && j < d->nalloc; j++)
			if (d->objs[j])
				splkmem_cache_free(d->cache, d->objs[j]);
		kvfree(d->objs);
		d->objs = NULL;
		splkmem_cache_destroy(d->cache);
		d->cache = NULL;
	}
}

/* ---- deadlock and emergency objects ---- */

#define EMERG_BURST	20
#define EMERG_MAX	(1 + EMERG_BURST + 4 * EMERG_BURST)

static struct splkmem_cache *emerg_cache;
static void *emerg_objs[EMERG_MAX];
static unsigned int emerg_n, emerg_want;

/* Runs in hard interrupt context (a kernel thread on PREEMPT_RT). */
static void emerg_burst(struct irq_work *w)
{
	unsigned int i;

	for (i = 0; i < emerg_want && emerg_n < EMERG_MAX; i++) {
		void *obj = splkmem_cache_alloc(emerg_cache, SPLKMEM_KM_NOSLEEP);

		if (obj)
			emerg_objs[emerg_n++] = obj;
	}
}

static int emerg_create(void)
{
	struct irq_work w;
	int round;

	emerg_cache = splkmem_cache_create("genl_emerg", 4096, 0, NULL, NULL,
					   NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(emerg_cache)) {
		int rc = PTR_ERR(emerg_cache);

		emerg_cache = NULL;
		return rc;
	}
	splkmem_cache_inject_grow_delay(emerg_cache, 1000);
	/* Waits for a growth that takes a second: declared deadlocked. */
	emerg_objs[emerg_n++] = splkmem_cache_alloc(emerg_cache,
						    SPLKMEM_KM_SLEEP);
	init_irq_work(&w, emerg_burst);
	/* The second burst outlasts the slabs the first growth added. */
	for (round = 0; round < 2; round++) {
		if (round)
			msleep(1500);
		emerg_want = round ? 4 * EMERG_BURST : EMERG_BURST;
		irq_work_queue(&w);
		irq_work_sync(&w);
	}
	pr_info("emergency: %u objects allocated\n", emerg_n);
	return 0;
}

static void emerg_destroy(void)
{
	unsigned int i;

	if (!emerg_cache)
		return;
	for (i = 0; i < emerg_n; i++)
		if (emerg_objs[i])
			splkmem_cache_free(emerg_cache, emerg_objs[i]);
	emerg_n = 0;
	splkmem_cache_inject_grow_delay(emerg_cache, 0);
	splkmem_cache_destroy(emerg_cache);
	emerg_cache = NULL;
}

/* ---- tagged-object load ---- */

#define LOAD_OBJ_SIZE	512
#define LOAD_BATCH	64
#define POOL_SIZE	1024

/* An object held by the load, and the tag written into it. */
struct held {
	u64 *obj;
	u64 tag;
};

static struct splkmem_cache *load_cache;
static DEFINE_XARRAY(load_live);	/* objects handed out, by address */
static atomic64_t load_seq;
static atomic_long_t load_nops, load_nerr;
static struct task_struct **load_threads;
static DEFINE_MUTEX(load_mutex);	/* load start/stop */
static bool load_stopped;

/* Objects in flight between CPUs: allocated on one, freed on another. */
static DEFINE_SPINLOCK(pool_lock);
static struct held pool[POOL_SIZE];
static unsigned int pool_len;

static void load_err(const char *what, void *obj)
{
	if (atomic_long_inc_return(&load_nerr) <= 10)
		pr_err("load: %s: %p\n", what, obj);
}

static bool load_get(struct held *h)
{
	u64 *obj = splkmem_cache_alloc(load_cache, SPLKMEM_KM_SLEEP);
	int rc;

	if (!obj) {
		load_err("allocation failed", NULL);
		return false;
	}
	/* An object already in the set was handed out twice. */
	rc = xa_insert(&load_live, (unsigned long)obj, xa_mk_value(0),
		       GFP_KERNEL);
	if (rc) {
		load_err(rc == -EBUSY ? "object handed out twice" :
			 "xa_insert failed", obj);
		return false;
	}
	h->obj = obj;
	h->tag = atomic64_inc_return(&load_seq);
	obj[0] = h->tag;
	obj[LOAD_OBJ_SIZE / sizeof(u64) - 1] = ~h->tag;
	return true;
}

static void load_put(struct held *h)
{
	u64 *obj = h->obj;

	if (obj[0] != h->tag || obj[LOAD_OBJ_SIZE / sizeof(u64) - 1] != ~h->tag)
		load_err("object changed while held", obj);
	/* Out of the set before it goes back: it may be reallocated at once. */
	if (!xa_erase(&load_live, (unsigned long)obj))
		load_err("freeing an object not handed out", obj);
	obj[0] = 0;
	splkmem_cache_free(load_cache, obj);
	atomic_long_inc(&load_nops);
}

static int load_thread(void *arg)
{
	struct held mine[LOAD_BATCH], theirs[LOAD_BATCH / 2];
	struct rnd_state rnd;
	unsigned int n, i, give, got;

	prandom_seed_state(&rnd, (uintptr_t)arg ^ get_random_u32());
	while (!kthread_should_stop()) {
		n = 1 + prandom_u32_state(&rnd) % LOAD_BATCH;
		for (i = 0; i < n; i++)
			if (!load_get(&mine[i]))
				break;
		n = i;

		/* Swap half of ours for objects other CPUs allocated. */
		give = n / 2;
		got = 0;
		spin_lock(&pool_lock);
		while (got < ARRAY_SIZE(theirs) && pool_len)
			theirs[got++] = pool[--pool_len];
		while (give && pool_len < POOL_SIZE)
			pool[pool_len++] = mine[--n], give--;
		spin_unlock(&pool_lock);

		for (i = 0; i < got; i++)
			load_put(&theirs[i]);
		for (i = 0; i < n; i++)
			load_put(&mine[i]);
		WRITE_ONCE(load_ops, atomic_long_read(&load_nops));
		cond_resched();
	}
	return 0;
}

static int load_start(void)
{
	unsigned int cpu;

	load_cache = splkmem_cache_create("genl_load", LOAD_OBJ_SIZE, 0, NULL,
					  NULL, NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(load_cache)) {
		int rc = PTR_ERR(load_cache);

		load_cache = NULL;
		return rc;
	}
	load_threads = kcalloc(nr_cpu_ids, sizeof(*load_threads), GFP_KERNEL);
	if (!load_threads)
		return -ENOMEM;
	for_each_online_cpu(cpu) {
		struct task_struct *t;

		t = kthread_create(load_thread, (void *)(uintptr_t)cpu,
				   "genl_load/%u", cpu);
		if (IS_ERR(t))
			return PTR_ERR(t);
		kthread_bind(t, cpu);
		load_threads[cpu] = t;
		wake_up_process(t);
	}
	pr_info("load: running on %u CPUs\n", num_online_cpus());
	return 0;
}

/* Stop the threads and judge; idempotent. */
static void load_stop_and_check(void)
{
	struct splkmem_cache_stats st;
	unsigned int cpu, i;
	unsigned long idx;
	void *entry;

	mutex_lock(&load_mutex);
	if (load_stopped || !load_cache) {
		mutex_unlock(&load_mutex);
		return;
	}
	load_stopped = true;
	for (cpu = 0; load_threads && cpu < nr_cpu_ids; cpu++)
		if (load_threads[cpu])
			kthread_stop(load_threads[cpu]);
	for (i = 0; i < pool_len; i++)
		load_put(&pool[i]);
	pool_len = 0;
	xa_for_each(&load_live, idx, entry)
		load_err("object still held after the load", (void *)idx);

	/* Lost objects: all came back, so all must be free or parked. */
	splkmem_cache_get_stats(load_cache, &st);
	if (st.obj_alloc != st.mag_objs) {
		pr_err("load: %llu objects allocated, %llu in magazines: %llu lost\n",
		       st.obj_alloc, st.mag_objs, st.obj_alloc - st.mag_objs);
		atomic_long_inc(&load_nerr);
	}
	splkmem_cache_reap_now(load_cache);
	splkmem_cache_get_stats(load_cache, &st);
	if (st.obj_alloc || st.slab_total) {
		pr_err("load: after a reap %llu objects allocated, %llu slabs\n",
		       st.obj_alloc, st.slab_total);
		atomic_long_inc(&load_nerr);
	}
	load_ops = atomic_long_read(&load_nops);
	load_errors = atomic_long_read(&load_nerr);
	pr_info("load: %s %lu objects, %lu errors, magazine size now %u\n",
		load_errors ? "FAIL" : "PASS", load_ops, load_errors,
		st.mag_size);
	mutex_unlock(&load_mutex);
}

static void load_destroy(void)
{
	load_stop_and_check();
	kfree(load_threads);
	load_threads = NULL;
	if (load_cache)
		splkmem_cache_destroy(load_cache);
	load_cache = NULL;
	xa_destroy(&load_live);
}

static int load_stop_set(const char *val, const struct kernel_param *kp)
{
	bool stop;
	int rc = kstrtobool(val, &stop);

	if (rc)
		return rc;
	if (stop)
		load_stop_and_check();
	return 0;
}

static const struct kernel_param_ops load_stop_ops = {
	.set = load_stop_set,
	.get = param_get_bool,
};

module_param_cb(load_stop, &load_stop_ops, &load_stopped, 0644);
MODULE_PARM_DESC(load_stop, "Write 1 to stop the load and judge it");

static int churn_set(const char *val, const struct kernel_param *kp)
{
	struct splkmem_cache *c;
	unsigned int n, i;
	int rc = kstrtouint(val, 0, &n);

	if (rc)
		return rc;
	for (i = 0; i < n; i++) {
		c = splkmem_cache_create("genl_churn", 64, 0, NULL, NULL, NULL, 0);
		if (IS_ERR(c))
			return PTR_ERR(c);
		splkmem_cache_destroy(c);
	}
	return 0;
}

static const struct kernel_param_ops churn_ops = {
	.set = churn_set,
	.get = param_get_uint,
};

static unsigned int churn;
module_param_cb(churn, &churn_ops, &churn, 0644);
MODULE_PARM_DESC(churn, "Write N to create and destroy a cache N times");

/* ---- a consumer that forgets to destroy its caches ---- */

static atomic_t leak_ctors = ATOMIC_INIT(0);

static int leak_ctor(void *obj, void *priv, int kmflags)
{
	atomic_inc(&leak_ctors);
	return 0;
}

static void leak_dtor(void *obj, void *priv)
{
	atomic_dec(&leak_ctors);
}

static int leak_create(void)
{
	static const struct {
		const char *name;
		size_t size;
		unsigned int flags;
		unsigned int alloc, keep;
	} lc[] = {
		{ "genl_leak_kvmem", 4096, SPLKMEM_KMC_KVMEM, 64, 10 },
		{ "genl_leak_slab", 128, SPLKMEM_KMC_SLAB, 64, 10 },
		/* All freed: magazines full, empty slabs, a trim pending. */
		{ "genl_leak_idle", 16384, SPLKMEM_KMC_KVMEM, 512, 0 },
	};
	void **objs;
	unsigned int i, j;

	objs = kcalloc(512, sizeof(*objs), GFP_KERNEL);
	if (!objs)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(lc); i++) {
		struct splkmem_cache *c;

		c = splkmem_cache_create(lc[i].name, lc[i].size, 0, leak_ctor,
					 leak_dtor, NULL, lc[i].flags);
		if (IS_ERR(c)) {
			kfree(objs);
			return PTR_ERR(c);
		}
		splkmem_cache_set_magazine(c, 8);
		for (j = 0; j < lc[i].alloc; j++)
			objs[j] = splkmem_cache_alloc(c, SPLKMEM_KM_SLEEP);
		for (j = lc[i].keep; j < lc[i].alloc; j++)
			splkmem_cache_free(c, objs[j]);
		/*
		 * The objects kept are lost with this module, on purpose.
		 * Linux-slab objects are kmemleak's own; a virtual-memory
		 * cache's live inside its slabs, which stay reachable from the
		 * cache that spl_kmem keeps (telling kmemleak about an address
		 * inside one of its objects is itself an error report).
		 */
		for (j = 0; j < lc[i].keep; j++)
			if (lc[i].flags & SPLKMEM_KMC_SLAB)
				kmemleak_not_leak(objs[j]);
	}
	kfree(objs);
	pr_info("leak: 3 caches left behind\n");
	return 0;
}

/* ---- a consumer that frees wrongly ---- */

static int misuse_run(void)
{
	struct splkmem_cache *c, *other;
	void *obj, *x, *y, *foreign, *kbuf;
	int i, rc = 0;

	c = splkmem_cache_create("genl_misuse", 512, 0, NULL, NULL, NULL,
				 SPLKMEM_KMC_KVMEM);
	if (IS_ERR(c))
		return PTR_ERR(c);
	other = splkmem_cache_create("genl_misuse_other", 4096, 0, NULL, NULL,
				     NULL, SPLKMEM_KMC_KVMEM);
	if (IS_ERR(other)) {
		splkmem_cache_destroy(c);
		return PTR_ERR(other);
	}
	kbuf = kmalloc(512, GFP_KERNEL);
	obj = splkmem_cache_alloc(c, SPLKMEM_KM_SLEEP);
	foreign = splkmem_cache_alloc(other, SPLKMEM_KM_SLEEP);
	memset(foreign, 0x5a, 4096);
	splkmem_cache_free(c, obj);
	for (i = 0; i < 3; i++) {
		splkmem_cache_free(c, obj);		/* twice */
		splkmem_cache_free(c, foreign);		/* another cache's */
		if (kbuf)
			splkmem_cache_free(c, kbuf);	/* no cache's */
	}
	/* Not corrupted: two allocations are two objects. */
	x = splkmem_cache_alloc(c, SPLKMEM_KM_SLEEP);
	y = splkmem_cache_alloc(c, SPLKMEM_KM_SLEEP);
	if (x == y) {
		pr_err("misuse: FAIL: one object handed out twice\n");
		rc = -EINVAL;
	} else {
		pr_info("misuse: PASS\n");
	}
	if (x != y)
		splkmem_cache_free(c, y);
	splkmem_cache_free(c, x);
	splkmem_cache_free(other, foreign);
	kfree(kbuf);
	splkmem_cache_destroy(other);
	splkmem_cache_destroy(c);
	return rc;
}

/* ---- create and destroy events of one name, racing ---- */

static struct splkmem_cache *race_slot;
static bool race_done;

static int race_destroyer(void *arg)
{
	struct splkmem_cache *c;

	for (;;) {
		bool done = READ_ONCE(race_done);

		/* Read before the slot: the last cache is seen either way. */
		c = xchg(&race_slot, NULL);
		if (c)
			splkmem_cache_destroy(c);
		else if (done)
			break;
		else
			cond_resched();
	}
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

static int race_events_set(const char *val, const struct kernel_param *kp)
{
	struct task_struct *t;
	struct splkmem_cache *c;
	unsigned int n, i;
	int rc = kstrtouint(val, 0, &n);

	if (rc)
		return rc;
	WRITE_ONCE(race_done, false);
	t = kthread_run(race_destroyer, NULL, "genl_race");
	if (IS_ERR(t))
		return PTR_ERR(t);
	for (i = 0; i < n; i++) {
		/* Retried until the destroyer has unlinked the last one. */
		while (IS_ERR(c = splkmem_cache_create("genl_race", 4096, 0,
						       NULL, NULL, NULL,
						       SPLKMEM_KMC_KVMEM))) {
			if (PTR_ERR(c) != -EEXIST) {
				rc = PTR_ERR(c);
				goto out;
			}
			cond_resched();
		}
		while (cmpxchg(&race_slot, NULL, c))
			cond_resched();
	}
out:
	WRITE_ONCE(race_done, true);
	kthread_stop(t);
	return rc;
}

static const struct kernel_param_ops race_events_ops = {
	.set = race_events_set,
	.get = param_get_uint,
};

static unsigned int race_events;
module_param_cb(race_events, &race_events_ops, &race_events, 0644);
MODULE_PARM_DESC(race_events, "Write N: create genl_race N times while another thread destroys it");

static void genl_test_cleanup(void)
{
	load_destroy();
	emerg_destroy();
	demo_destroy();
	many_destroy();
}

static int __init genl_test_init(void)
{
	int rc = 0;

	if (ncaches)
		rc = many_create();
	if (!rc && demo)
		rc = demo_create();
	if (!rc && emergency)
		rc = emerg_create();
	if (!rc && load)
		rc = load_start();
	if (!rc && leak)
		rc = leak_create();
	if (!rc && misuse)
		rc = misuse_run();
	if (rc)
		genl_test_cleanup();
	return rc;
}

static void __exit genl_test_exit(void)
{
	genl_test_cleanup();
}

module_init(genl_test_init);
module_exit(genl_test_exit);

MODULE_DESCRIPTION("spl_kmem control-plane test caches");
MODULE_LICENSE("GPL");
