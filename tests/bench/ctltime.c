// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctltime: timings for the control-plane benchmarks (tests/bench/run.sh,
 * stage "control"), built statically for the busybox guest.
 *
 *   ctltime run REPS KEY=VALUE... -- COMMAND [ARG...]
 *       Run COMMAND once untimed (warm-up), then REPS times, each with
 *       stdout on /dev/null, timing fork to exit with CLOCK_MONOTONIC.
 *   ctltime stats KEY=VALUE...
 *       Read one figure in milliseconds per line from stdin.
 *
 * Either prints one line, on stdout and in the kernel log, where
 * tests/bench/report.py finds it among the benchmark module's lines:
 *
 *   spl_kmem_bench: R ctl KEY=VALUE... med= min= max= q1= q3= p99= reps=
 *
 * in milliseconds (quartiles as the module computes them; p99 by nearest
 * rank, which is the maximum below 100 figures).  A failed command, or no
 * figure, prints "spl_kmem_bench: R error ..." instead and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FIGS 100000

static double figs[MAX_FIGS];
static size_t nfigs;

static void emit(const char *line)
{
	char buf[1024];
	int fd;

	printf("%s\n", line);
	fflush(stdout);
	snprintf(buf, sizeof(buf), "<5>spl_kmem_bench: %s\n", line);
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, buf, strlen(buf)) < 0)
			perror("ctltime: /dev/kmsg");
		close(fd);
	}
}

static int fail(const char *keys, const char *why)
{
	char line[900];

	snprintf(line, sizeof(line), "R error ctl %s: %s", keys, why);
	emit(line);
	return 1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int report(const char *keys)
{
	double med, p99;
	size_t n = nfigs, r;
	char line[900];

	if (!n)
		return fail(keys, "no figures");
	qsort(figs, n, sizeof(*figs), cmp);
	med = n & 1 ? figs[n / 2] : (figs[n / 2 - 1] + figs[n / 2]) / 2;
	r = (99 * n + 99) / 100;	/* nearest rank: ceil(0.99 n) */
	p99 = figs[r - 1];
	snprintf(line, sizeof(line),
		 "R ctl %s med=%.3f min=%.3f max=%.3f q1=%.3f q3=%.3f p99=%.3f reps=%zu",
		 keys, med, figs[0], figs[n - 1], figs[(n - 1) / 4],
		 figs[(3 * (n - 1) + 3) / 4], p99, n);
	emit(line);
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Run argv with stdout on /dev/null; its wall time in ms, or -1. */
static double run_once(char **argv)
{
	double t0 = now_ms(), t1;
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	t1 = now_ms();
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return t1 - t0;
}

static void join_keys(char *buf, size_t len, int n, char **kv)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					i ? " " : "", kv[i]);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: ctltime run REPS KEY=VALUE... -- COMMAND [ARG...]\n"
		"       ctltime stats KEY=VALUE... <figures-in-ms\n");
	return 2;
}

int main(int argc, char **argv)
{
	char keys[600];
	int i;

	if (argc >= 3 && !strcmp(argv[1], "run")) {
		long reps = strtol(argv[2], NULL, 10), r;
		int sep = 0;

		for (i = 3; i < argc; i++)
			if (!strcmp(argv[i], "--")) {
				sep = i;
				break;
			}
		if (reps < 1 || reps > MAX_FIGS || !sep || sep + 1 >= argc)
			return usage();
		join_keys(keys, sizeof(keys), sep - 3, argv + 3);
		if (run_once(argv + sep + 1) < 0)
			return fail(keys, "the command failed");
		for (r = 0; r < reps; r++) {
			double t = run_once(argv + sep + 1);

			if (t < 0)
				return fail(keys, "the command failed");
			figs[nfigs++] = t;
		}
		return report(keys);
	}
	if (argc >= 2 && !strcmp(argv[1], "stats")) {
		char line[256];

		join_keys(keys, sizeof(keys), argc - 2, argv + 2);
		while (fgets(line, sizeof(line), stdin) && nfigs < MAX_FIGS) {
			char *end;
			double v = strtod(line, &end);

			if (end != line)
				figs[nfigs++] = v;
		}
		return report(keys);
	}
	return usage();
}
