// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/util.c, the helpers splkmemctl and spl-kmemd share: flag names,
 * live objects, sizes, and the event socket's receive buffer with and
 * without CAP_NET_ADMIN (dropped for real in a child process).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include <cmocka.h>

#include "util.h"

static void flags(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(splkmem_flag_name(0), "nodebug");
	assert_string_equal(splkmem_flag_name(3), "reclaimable");
	assert_null(splkmem_flag_name(4));
	assert_string_equal(splkmem_flags_str(SPLKMEM_CACHE_F_KVMEM |
					      SPLKMEM_CACHE_F_RECLAIMABLE,
					      buf, sizeof(buf)), "kvmem,reclaimable");
	assert_string_equal(splkmem_flags_str(0, buf, sizeof(buf)), "");
	/* Unknown bits of a newer module are left out. */
	assert_string_equal(splkmem_flags_str(0x100 | SPLKMEM_CACHE_F_SLAB, buf,
					      sizeof(buf)), "slab");
	/* Truncated, never overrun. */
	assert_string_equal(splkmem_flags_str(0xf, buf, 8), "nodebug");
}

static void live(void **state)
{
	struct splkmem_cache_info c;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.backing = SPLKMEM_BACKING_KVMEM;
	c.obj_alloc = 100;
	c.mag_objs = 30;
	c.linux_objs = 5;
	assert_int_equal(splkmem_live_objs(&c), 70);
	c.mag_objs = 130;	/* racy counters: never below 0 */
	assert_int_equal(splkmem_live_objs(&c), 0);
	c.backing = SPLKMEM_BACKING_SLAB;
	assert_int_equal(splkmem_live_objs(&c), 5);
}

static void sizes(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(splkmem_size_str(512, SPLKMEM_SIZE_SHORT, b, sizeof(b)), "512");
	assert_string_equal(splkmem_size_str(1536, SPLKMEM_SIZE_SHORT, b, sizeof(b)), "1.5K");
	assert_string_equal(splkmem_size_str(12ull << 30, SPLKMEM_SIZE_SHORT, b, sizeof(b)), "12G");
	assert_string_equal(splkmem_size_str(512, SPLKMEM_SIZE_IEC, b, sizeof(b)), "512 B");
	assert_string_equal(splkmem_size_str(3565158, SPLKMEM_SIZE_IEC, b, sizeof(b)), "3.4 MiB");
	assert_string_equal(splkmem_size_str(UINT64_MAX, SPLKMEM_SIZE_SHORT, b, sizeof(b)), "16E");
}

static int rcvbuf(int fd)
{
	int v = 0;
	socklen_t l = sizeof(v);

	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l), 0);
	return v;
}

static int rmem_max(void)
{
	FILE *f = fopen("/proc/sys/net/core/rmem_max", "r");
	int v = 0;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* Drop CAP_NET_ADMIN from the effective set of this process. */
static int drop_net_admin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[0].effective &= ~(1u << CAP_NET_ADMIN);
	return (int)syscall(SYS_capset, &h, d);
}

static void receive_buffer(void **state)
{
	int max = rmem_max(), want, fd, rc, status;
	pid_t pid;

	(void)state;
	if (max <= 0 || max > (1 << 28))
		skip();
	want = 2 * max;		/* more than rmem_max lets SO_RCVBUF have */
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	rc = splkmem_set_rcvbuf(fd, want);
	if (rc == 0) {
		/* With CAP_NET_ADMIN: past rmem_max (the kernel doubles it). */
		assert_true(rcvbuf(fd) >= want);
	} else {
		assert_int_equal(rc, 1);
		assert_true(rcvbuf(fd) <= 2 * max);
	}
	close(fd);

	/* Without it: the capped option, and no error. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int cfd = socket(AF_UNIX, SOCK_DGRAM, 0);

		if (drop_net_admin())
			_exit(3);
		rc = splkmem_set_rcvbuf(cfd, want);
		_exit(rc == 1 && rcvbuf(cfd) <= 2 * max ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* A bad fd: the errno, not a silent success. */
	assert_int_equal(splkmem_set_rcvbuf(-1, want), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flags),
		cmocka_unit_test(live),
		cmocka_unit_test(sizes),
		cmocka_unit_test(receive_buffer),
	};

	return cmocka_run_group_tests_name("lib_util", tests, NULL, NULL);
}
