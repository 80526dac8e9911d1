// SPDX-License-Identifier: GPL-2.0-or-later
/* Logging to stderr, with journald priority prefixes when stderr is the
 * journal (systemd sets $JOURNAL_STREAM to its device:inode). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "log.h"

static bool use_prefix;
static bool show_debug;

void log_setup(bool debug)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	show_debug = debug;
	use_prefix = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
		     !fstat(2, &st) && st.st_dev == dev && st.st_ino == ino;
}

void log_msg(int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (prio == LOG_DEBUG && !show_debug)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line, so lines of a restarted daemon never mix. */
	if (use_prefix)
		fprintf(stderr, "<%d>%s\n", prio, line);
	else
		fprintf(stderr, "spl-kmemd: %s\n", line);
}
