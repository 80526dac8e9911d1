/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging.  Under systemd, stderr is a journal stream and each line
 * carries its priority as a "<N>" prefix (sd-daemon(3)), which journald
 * strips and records; on a terminal the lines are plain.
 */
#ifndef SPLKMEMD_LOG_H
#define SPLKMEMD_LOG_H

#include <stdbool.h>
#include <syslog.h>

#include "util.h"

/* Decide the output format; @debug also shows LOG_DEBUG lines. */
void log_setup(bool debug);
void log_msg(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

/* "3.4 MiB", "512 B": for log lines (metrics stay in bytes). */
#define fmt_bytes(bytes, buf, len) \
	splkmem_size_str((bytes), SPLKMEM_SIZE_IEC, (buf), (len))

#endif /* SPLKMEMD_LOG_H */
