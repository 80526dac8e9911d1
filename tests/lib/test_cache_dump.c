// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libsplkmem's cache dump on its failure paths, on the host: lib/cache.c
 * is linked with fakes of the request layer (splkmem_msg_new,
 * splkmem_transact) that replay a dump interrupted by a cache's creation
 * and fail where the test says.  Built with ASan: LeakSanitizer fails the
 * run if a failed retry leaks the list gathered so far.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static int msg_calls, fail_msg_at, transact_calls, intr_until;

struct nl_msg *splkmem_msg_new(struct splkmem *h, uint8_t cmd, int flags)
{
	(void)cmd;
	(void)flags;
	if (++msg_calls == fail_msg_at) {
		splkmem_fail(h, ENOMEM, "out of memory");
		return NULL;
	}
	return nlmsg_alloc();
}

/* Two caches per dump; interrupted (NLM_F_DUMP_INTR) up to intr_until. */
int splkmem_transact(struct splkmem *h, struct nl_msg *msg,
		     splkmem_reply_fn fn, void *arg, bool *interrupted)
{
	static const char *const names[] = { "zio_buf_512", "dnode_t" };
	size_t i;
	int rc = 0;

	(void)h;
	transact_calls++;
	for (i = 0; i < 2 && !rc; i++) {
		struct nl_msg *m = nlmsg_alloc();
		struct nlattr *tb[SPLKMEM_A_MAX + 1] = { 0 }, *nest;

		assert_non_null(m);
		nest = nla_nest_start(m, SPLKMEM_A_CACHE);
		assert_int_equal(nla_put_string(m, SPLKMEM_CACHE_A_NAME, names[i]), 0);
		assert_int_equal(nla_put_u32(m, SPLKMEM_CACHE_A_OBJ_SIZE, 512), 0);
		nla_nest_end(m, nest);
		tb[SPLKMEM_A_CACHE] = nest;
		rc = fn(tb, arg);
		nlmsg_free(m);
	}
	nlmsg_free(msg);
	if (interrupted)
		*interrupted = transact_calls <= intr_until;
	return rc;
}

static void reset(int fail_at, int intr)
{
	msg_calls = transact_calls = 0;
	fail_msg_at = fail_at;
	intr_until = intr;
}

static void dump_ok(void **state)
{
	struct splkmem h = { 0 };
	struct splkmem_cache_info *v = NULL;
	bool intr = true;
	size_t n = 0;

	(void)state;
	reset(0, 0);
	assert_int_equal(splkmem_cache_dump(&h, &v, &n, 3, &intr), 0);
	assert_int_equal(n, 2);
	assert_false(intr);
	assert_string_equal(v[1].name, "dnode_t");
	assert_int_equal(v[0].obj_size, 512);
	free(v);
}

/* Interrupted every time: the last list, flagged. */
static void dump_interrupted(void **state)
{
	struct splkmem h = { 0 };
	struct splkmem_cache_info *v = NULL;
	bool intr = false;
	size_t n = 0;

	(void)state;
	reset(0, 100);
	assert_int_equal(splkmem_cache_dump(&h, &v, &n, 3, &intr), 0);
	assert_int_equal(transact_calls, 4);
	assert_int_equal(n, 2);
	assert_true(intr);
	free(v);
}

/* The retry after an interrupted dump cannot allocate its request: an
 * error, and nothing of the first attempt's list is leaked (ASan). */
static void retry_alloc_fails(void **state)
{
	struct splkmem h = { 0 };
	struct splkmem_cache_info *v = (void *)1;
	size_t n = 7;

	(void)state;
	reset(2, 1);
	assert_int_equal(splkmem_cache_dump(&h, &v, &n, 3, NULL), -ENOMEM);
	assert_int_equal(transact_calls, 1);
	assert_int_equal(h.err.code, ENOMEM);
	/* The caller's variables are left alone on failure. */
	assert_ptr_equal(v, (void *)1);
	assert_int_equal(n, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dump_ok),
		cmocka_unit_test(dump_interrupted),
		cmocka_unit_test(retry_alloc_fails),
	};

	return cmocka_run_group_tests_name("lib_cache_dump", tests, NULL, NULL);
}
