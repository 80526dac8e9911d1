// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Worker kthreads for the multi-CPU tests.
 *
 * Every worker is bound to a CPU, takes a reference on its task so that
 * kthread_stop() is valid even after the thread function returned, and
 * starts only when the whole team exists (the start barrier), so the
 * workers really hit the allocator at the same time.  Every wait is
 * bounded; on a timeout the team is told to abort and the test fails.
 */
#include "spl_kmem_test.h"

#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#define KT_START_TIMEOUT_MS	30000

unsigned int kt_nth_online_cpu(unsigned int n)
{
	unsigned int cpu, i = 0;

	n %= num_online_cpus();
	for_each_online_cpu(cpu)
		if (i++ == n)
			return cpu;
	return cpumask_first(cpu_online_mask);
}

static int kt_worker_main(void *data)
{
	struct kt_worker *w = data;
	struct kt_team *team = w->team;

	atomic_inc(&team->ready);
	wake_up_var(&team->ready);
	wait_for_completion(&team->go);
	if (!READ_ONCE(team->abort)) {
		w->ran = true;
		team->fn(w);
	}
	atomic_inc(&team->done);
	wake_up_var(&team->done);
	return 0;
}

static unsigned int kt_default_cpu(unsigned int id, void *arg)
{
	return kt_nth_online_cpu(id);
}

int kt_team_start(struct kt_team *team, struct kt_ctx *t, unsigned int nr,
		  void (*fn)(struct kt_worker *w), void *arg,
		  unsigned int (*cpu_of)(unsigned int id, void *arg))
{
	unsigned int i;
	int err = 0;

	memset(team, 0, sizeof(*team));
	team->t = t;
	team->fn = fn;
	atomic_set(&team->ready, 0);
	atomic_set(&team->done, 0);
	init_completion(&team->go);
	if (!cpu_of)
		cpu_of = kt_default_cpu;

	team->w = kcalloc(nr, sizeof(*team->w), GFP_KERNEL);
	if (!team->w) {
		kt_fail(t, "no memory for %u workers", nr);
		return -ENOMEM;
	}

	for (i = 0; i < nr; i++) {
		struct kt_worker *w = &team->w[i];
		struct task_struct *task;

		w->team = team;
		w->id = i;
		w->arg = arg;
		w->cpu = cpu_of(i, arg);
		task = kthread_create(kt_worker_main, w, "spl_kt/%u", i);
		if (IS_ERR(task)) {
			err = PTR_ERR(task);
			kt_fail(t, "kthread_create of worker %u: %d", i, err);
			break;
		}
		kthread_bind(task, w->cpu);
		get_task_struct(task);
		w->task = task;
		team->nr++;
		wake_up_process(task);
	}

	if (!err && !wait_var_event_timeout(&team->ready,
					    atomic_read(&team->ready) == nr,
					    msecs_to_jiffies(KT_START_TIMEOUT_MS))) {
		kt_fail(t, "only %d of %u workers started within %u ms",
			atomic_read(&team->ready), nr, KT_START_TIMEOUT_MS);
		err = -ETIMEDOUT;
	}
	if (err) {
		WRITE_ONCE(team->abort, true);
		complete_all(&team->go);
		kt_team_stop(team);
		return err;
	}
	complete_all(&team->go);
	return 0;
}

/* Wait for every worker to finish its function; false on timeout. */
bool kt_team_wait(struct kt_team *team, unsigned int timeout_ms)
{
	if (wait_var_event_timeout(&team->done,
				   atomic_read(&team->done) == team->nr,
				   msecs_to_jiffies(timeout_ms)))
		return true;
	kt_fail(team->t, "%d of %u workers still running after %u ms",
		team->nr - atomic_read(&team->done), team->nr, timeout_ms);
	kt_note(team->t, "workers stuck after %u ms; telling them to stop",
		timeout_ms);
	WRITE_ONCE(team->abort, true);
	return false;
}

/* Reap every worker.  Returns only when none of them can run any more. */
void kt_team_stop(struct kt_team *team)
{
	unsigned int i;

	if (!team->w)
		return;
	if (atomic_read(&team->done) != team->nr)
		WRITE_ONCE(team->abort, true);
	for (i = 0; i < team->nr; i++) {
		struct task_struct *task = team->w[i].task;

		if (!task)
			continue;
		kthread_stop(task);
		put_task_struct(task);
		team->w[i].task = NULL;
	}
	kfree(team->w);
	team->w = NULL;
	team->nr = 0;
}

void kt_gate_init(struct kt_gate *g)
{
	atomic_set(&g->arrived, 0);
	init_completion(&g->open);
}

/* Worker side: arrive and wait until the test thread opens the gate. */
void kt_gate_pass(struct kt_gate *g)
{
	atomic_inc(&g->arrived);
	wake_up_var(&g->arrived);
	wait_for_completion(&g->open);
}

/*
 * Test-thread side.  The caller must kt_gate_open() afterwards whatever
 * this returns, or the workers that did arrive would never leave.
 */
bool kt_gate_wait(struct kt_gate *g, unsigned int nr, unsigned int timeout_ms)
{
	return wait_var_event_timeout(&g->arrived,
				      atomic_read(&g->arrived) >= nr,
				      msecs_to_jiffies(timeout_ms));
}

void kt_gate_open(struct kt_gate *g)
{
	complete_all(&g->open);
}
