/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /metrics over HTTP with libmicrohttpd, driven by our sd-event loop
 * (MHD's epoll fd and timeout; no thread of its own).
 */
#ifndef SPLKMEMD_HTTP_H
#define SPLKMEMD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-event.h>

struct http;

/* The current metrics; the buffer stays valid until the next call. */
typedef const char *(*http_body_fn)(void *arg, size_t *len);

/* Listen on @listen ("ADDR:PORT", "[V6]:PORT", ":PORT").  0 or a
 * negative errno (logged; at debug priority with @quiet, for retries). */
int http_start(struct http **hp, sd_event *e, const char *listen,
	       http_body_fn body, void *arg, bool quiet);
void http_stop(struct http *h);

#endif /* SPLKMEMD_HTTP_H */
