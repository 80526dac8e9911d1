// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The metrics endpoint.  libmicrohttpd runs in "external select" mode with
 * MHD_USE_EPOLL: it exposes one epoll fd, which our loop watches; after
 * each MHD_run() we re-arm a timer to MHD_get_timeout() so idle
 * connections time out.  GET or HEAD /metrics only.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "config.h"
#include "http.h"
#include "log.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;	/* before 0.9.71 handlers returned int */
#else
typedef enum MHD_Result MHD_Result_t;
#endif

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct http {
	struct MHD_Daemon *mhd;
	sd_event *event;
	sd_event_source *io, *timer;
	http_body_fn body;
	void *arg;
	char listen[128];
};

static MHD_Result_t reply(struct MHD_Connection *c, unsigned int status,
			  const char *text, size_t len, const char *type,
			  bool allow)
{
	struct MHD_Response *r;
	MHD_Result_t rc;

	r = MHD_create_response_from_buffer(len, (void *)text,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static MHD_Result_t on_request(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	static const char index_page[] =
		"spl-kmemd: the metrics are at /metrics\n";
	static const char not_found[] = "not found; try /metrics\n";
	static const char not_allowed[] = "method not allowed\n";
	struct http *h = cls;
	const char *body;
	size_t len;

	(void)version;
	(void)upload;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed,
			     sizeof(not_allowed) - 1, "text/plain", true);
	if (*upload_size)	/* a GET with a body: ignore it */
		*upload_size = 0;
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, index_page, sizeof(index_page) - 1,
			     "text/plain", false);
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, not_found,
			     sizeof(not_found) - 1, "text/plain", false);
	body = h->body(h->arg, &len);
	if (!body) {
		static const char busy[] = "metrics unavailable\n";

		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, busy,
			     sizeof(busy) - 1, "text/plain", false);
	}
	return reply(c, MHD_HTTP_OK, body, len, CONTENT_TYPE, false);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	log_warn("http: %s", buf);
}

static void rearm(struct http *h);

static int on_timer(sd_event_source *s, uint64_t usec, void *arg)
{
	struct http *h = arg;

	(void)s;
	(void)usec;
	MHD_run(h->mhd);
	rearm(h);
	return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct http *h = arg;

	(void)s;
	(void)fd;
	(void)revents;
	MHD_run(h->mhd);
	rearm(h);
	return 0;
}

static void rearm(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	uint64_t now;

	if (MHD_get_timeout(h->mhd, &ms) != MHD_YES) {
		sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
		return;
	}
	sd_event_now(h->event, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(h->timer, now + ms * 1000);
	sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
}

int http_start(struct http **hp, sd_event *e, const char *listen,
	       http_body_fn body, void *arg, bool quiet)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	const union MHD_DaemonInfo *info;
	struct addrinfo *ai = NULL;
	unsigned int flags = MHD_USE_EPOLL | (quiet ? 0 : MHD_USE_ERROR_LOG);
	char host[128], port[8];
	uint16_t portnum;
	struct http *h;
	int rc;

	*hp = NULL;
	if (config_parse_listen(listen, host, sizeof(host), &portnum))
		return -EINVAL;		/* the configuration checked it */
	snprintf(port, sizeof(port), "%u", portnum);
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->event = e;
	h->body = body;
	h->arg = arg;
	snprintf(h->listen, sizeof(h->listen), "%s", listen);

	if (host[0]) {
		rc = getaddrinfo(host, port, &hints, &ai);
		if (rc) {
			log_err("http: cannot resolve listen address %s: %s",
				listen, gai_strerror(rc));
			free(h);
			return -EINVAL;
		}
		if (ai->ai_family == AF_INET6)
			flags |= MHD_USE_IPv6;
		h->mhd = MHD_start_daemon(flags, portnum, NULL, NULL, on_request, h,
					  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
					  MHD_OPTION_SOCK_ADDR, ai->ai_addr,
					  MHD_OPTION_CONNECTION_LIMIT, 16u,
					  MHD_OPTION_CONNECTION_TIMEOUT, 10u,
					  MHD_OPTION_END);
		freeaddrinfo(ai);
	} else {
		/* Every address: IPv6 and IPv4 if the kernel has IPv6. */
		h->mhd = MHD_start_daemon(flags | MHD_USE_DUAL_STACK, portnum, NULL,
					  NULL, on_request, h,
					  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
					  MHD_OPTION_CONNECTION_LIMIT, 16u,
					  MHD_OPTION_CONNECTION_TIMEOUT, 10u,
					  MHD_OPTION_END);
		if (!h->mhd)
			h->mhd = MHD_start_daemon(flags, portnum, NULL, NULL,
						  on_request, h,
						  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
						  MHD_OPTION_CONNECTION_LIMIT, 16u,
						  MHD_OPTION_CONNECTION_TIMEOUT, 10u,
						  MHD_OPTION_END);
	}
	if (!h->mhd) {
		log_msg(quiet ? LOG_DEBUG : LOG_ERR,
			"http: cannot listen on %s (address in use, or not allowed?)",
			listen);
		free(h);
		return -EADDRNOTAVAIL;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	rc = info ? sd_event_add_io(e, &h->io, info->epoll_fd, EPOLLIN, on_io, h) :
		    -EINVAL;
	if (rc >= 0)
		rc = sd_event_add_time(e, &h->timer, CLOCK_MONOTONIC, UINT64_MAX,
				       0, on_timer, h);
	if (rc < 0) {
		log_err("http: cannot add to the event loop: %s", strerror(-rc));
		http_stop(h);
		return rc;
	}
	rearm(h);
	log_info("serving metrics on http://%s/metrics", listen);
	*hp = h;
	return 0;
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	sd_event_source_disable_unref(h->io);
	sd_event_source_disable_unref(h->timer);
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	free(h);
}
