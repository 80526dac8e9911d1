// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * top [-d SECS] [-n COUNT] [-s FIELD] [-l ROWS]: the biggest caches,
 * refreshed, like slabtop.
 *
 * On a terminal (stdin and stdout, text output) it is interactive: each
 * refresh redraws the screen, fitted to the terminal's size (lines cut at
 * its width, as many caches as its height leaves room for, again after a
 * resize), and keys act at once: q quits, s sorts by the next field, r
 * reverses the order.  The terminal is put back as it was on every way
 * out.  Otherwise (a pipe, or -j) refreshes follow each other, which
 * suits scripts together with -n.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

struct top_opts {
	double delay;
	unsigned long count;
	const char *sort;
	bool reverse;
	unsigned long rows;	/* 0: as many as fit (interactive), else 20 */
};

/* What "s" steps through. */
static const char *const sort_keys[] = {
	"bytes", "used_bytes", "obj_alloc", "slab_total", "mag_objs", "reap",
	"name",
};

/* ---- the terminal ---- */

static struct termios saved_tio;
static bool tio_saved;
static volatile sig_atomic_t resized, stop;

static void term_restore(void)
{
	if (!tio_saved)
		return;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	tio_saved = false;
	/* Show the cursor again, below what was drawn. */
	fputs("\033[?25h\n", stderr);
}

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		resized = 1;
	else
		stop = 1;
}

/* Keys without Enter, no echo; restored at exit and on SIGINT/TERM. */
static int term_setup(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved_tio))
		return -errno;
	t = saved_tio;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t))
		return -errno;
	tio_saved = true;
	atexit(term_restore);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	fputs("\033[?25l", stderr);	/* hide the cursor */
	return 0;
}

static void term_size(unsigned int *rows, unsigned int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

/* ---- one refresh ---- */

/*
 * Put @text on the screen: from the top, each line cut at @cols and the
 * rest of it cleared, at most @rows - 1 lines, then the status line in
 * reverse video on the last row.
 */
static void draw(const char *text, unsigned int rows, unsigned int cols,
		 const struct top_opts *o)
{
	const char *line = text, *nl;
	unsigned int drawn = 0;
	char status[160];
	size_t len;

	fputs("\033[H", stdout);
	while (line && *line && drawn + 1 < rows) {
		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		fprintf(stdout, "%.*s\033[K\n", (int)(len < cols ? len : cols), line);
		drawn++;
		line = nl ? nl + 1 : NULL;
	}
	fputs("\033[J", stdout);		/* clear below */
	snprintf(status, sizeof(status),
		 "sort: %s%s | s: next sort  r: reverse  q: quit", o->sort,
		 o->reverse ? " (reversed)" : "");
	fprintf(stdout, "\033[%u;1H\033[7m%.*s\033[0m\033[K", rows,
		(int)cols, status);
}

/* Lines above the table rows: summary, blank, two header lines. */
#define HEAD_LINES 4

static int refresh(struct splkmem *h, const struct top_opts *o, bool tty)
{
	uint64_t bytes = 0, used = 0, objs = 0;
	struct splkmem_cache_info *v;
	unsigned int trows = 0, tcols = 0;
	unsigned long rows = o->rows ? o->rows : 20;
	char *text = NULL;
	size_t n, i, size = 0;
	FILE *real = stdout, *mem = NULL;
	bool intr;
	int rc;

	if (splkmem_cache_dump(h, &v, &n, 3, &intr))
		return ctl_lib_fail(h, "listing caches");
	for (i = 0; i < n; i++) {
		uint64_t live = splkmem_live_objs(&v[i]);

		bytes += v[i].bytes;
		used += live * v[i].obj_size;
		objs += live;
	}
	cache_sort(v, n, o->sort, o->reverse);
	if (tty) {
		/* Drawn into memory first, then fitted to the terminal. */
		term_size(&trows, &tcols);
		if (!o->rows || o->rows > trows)
			rows = trows > HEAD_LINES + 1 ? trows - HEAD_LINES - 1 : 1;
		mem = open_memstream(&text, &size);
		if (!mem) {
			free(v);
			return ctl_fail("out of memory");
		}
		stdout = mem;
	}
	print_begin();
	open_json_object(NULL);
	print_u64(PRINT_ANY, "caches", "spl_kmem: %llu caches", n);
	print_size(PRINT_ANY, "bytes", ", %s held", bytes);
	print_size(PRINT_ANY, "used_bytes", ", %s in use", used);
	print_u64(PRINT_ANY, "live_objs", " by %llu objects\n\n", objs);
	open_json_array("caches_top");
	cache_print_header();
	for (i = 0; i < n && i < rows; i++)
		cache_print(&v[i], CACHE_ROW);
	close_json_array();
	close_json_object();
	free(v);
	rc = print_end() ? EXIT_FAIL : 0;
	if (!tty)
		return rc;

	stdout = real;
	fclose(mem);
	draw(text, trows, tcols, o);
	free(text);
	return fflush(stdout) ? EXIT_FAIL : rc;
}

/* A key pressed: false to quit. */
static bool key(struct top_opts *o, int c)
{
	size_t i;

	switch (c) {
	case 'q':
	case 'Q':
		return false;
	case 's':
		for (i = 0; i < ARRAY_SIZE(sort_keys); i++)
			if (!strcmp(sort_keys[i], o->sort))
				break;
		o->sort = sort_keys[i < ARRAY_SIZE(sort_keys) - 1 ? i + 1 : 0];
		return true;
	case 'r':
		o->reverse = !o->reverse;
		return true;
	default:
		return true;
	}
}

/* Interactive: refresh every delay, at once on a key or a resize. */
static int run_tty(struct splkmem *h, struct top_opts *o)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	unsigned long done = 0;
	int rc;

	if (term_setup())
		return ctl_fail("cannot set up the terminal: %s", strerror(errno));
	fputs("\033[H\033[2J", stdout);
	for (;;) {
		rc = refresh(h, o, true);
		if (rc || (o->count && ++done >= o->count))
			break;
		for (;;) {
			int r = poll(&p, 1, (int)(o->delay * 1000));
			char c;

			if (stop)
				goto out;
			if (r < 0 && errno == EINTR) {
				if (resized) {
					resized = 0;
					fputs("\033[2J", stdout);
					break;
				}
				continue;
			}
			if (r <= 0)
				break;		/* the delay passed */
			if (read(STDIN_FILENO, &c, 1) != 1)
				goto out;	/* the terminal went away */
			if (!key(o, c))
				goto out;
			break;
		}
	}
out:
	/* Below the drawing, as the shell expects it. */
	{
		unsigned int rows, cols;

		term_size(&rows, &cols);
		fprintf(stdout, "\033[%u;1H\033[K", rows);
		fflush(stdout);
	}
	term_restore();
	return rc;
}

int cmd_top(int argc, char **argv)
{
	struct top_opts o = { 2.0, 0, "bytes", false, 0 };
	struct timespec ts;
	unsigned long i;
	struct splkmem *h;
	char *end;
	int opt, rc = 0;
	bool tty;

	opterr = 0;
	optind = 0;
	while ((opt = getopt(argc, argv, "d:n:s:l:r")) != -1) {
		switch (opt) {
		case 'd':
			o.delay = strtod(optarg, &end);
			if (*end || !optarg[0] || !(o.delay >= 0.1 && o.delay <= 3600))
				return ctl_usage_error("-d wants 0.1 to 3600 seconds");
			break;
		case 'n':
			o.count = strtoul(optarg, &end, 10);
			if (*end || !optarg[0] || !o.count)
				return ctl_usage_error("-n wants a count above 0");
			break;
		case 'l':
			o.rows = strtoul(optarg, &end, 10);
			if (*end || !optarg[0] || !o.rows)
				return ctl_usage_error("-l wants a row count above 0");
			break;
		case 's':
			o.sort = optarg;
			break;
		case 'r':
			o.reverse = true;
			break;
		default:
			return ctl_usage_error("unknown option or missing argument: -%c",
					       optopt);
		}
	}
	if (optind != argc)
		return ctl_usage_error("too many arguments");
	if (!cache_sort(NULL, 0, o.sort, false))
		return ctl_usage_error("cannot sort by '%s'; fields: %s", o.sort,
				       cache_sort_keys());
	tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) && !print_is_json();
	h = ctl_open();
	if (!h)
		return EXIT_FAIL;
	if (tty) {
		rc = run_tty(h, &o);
		splkmem_close(h);
		return rc;
	}
	for (i = 0; !o.count || i < o.count; i++) {
		if (i) {
			ts.tv_sec = (time_t)o.delay;
			ts.tv_nsec = (long)((o.delay - (double)ts.tv_sec) * 1e9);
			while (nanosleep(&ts, &ts) && errno == EINTR)
				;
			print_text("\n");
		}
		rc = refresh(h, &o, false);
		if (rc)
			break;
	}
	splkmem_close(h);
	return rc;
}
