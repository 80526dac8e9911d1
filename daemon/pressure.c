// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * PSI triggers in the event loop.
 *
 * A regular file (the PSI files) is opened O_RDWR|O_NONBLOCK, the trigger
 * "some|full THRESHOLD_US WINDOW_US" written to it with its terminating
 * NUL (the kernel overwrites the last byte written with one), and the fd
 * polled for EPOLLPRI; EPOLLERR means the cgroup went away.  What systemd
 * may hand over instead ($MEMORY_PRESSURE_WATCH) can also be a FIFO or a
 * socket, which signal by becoming readable (EPOLLIN).  One trigger per
 * fd; the kernel sends at most one event per window.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "pressure.h"

struct pressure {
	sd_event_source *src;
	int fd;
	bool readable;		/* FIFO or socket: drain on EPOLLIN */
	bool socket;
	pressure_fn fn;
	pressure_gone_fn gone;
	void *arg;
	char desc[600];
};

int base64_decode(const char *in, unsigned char *out, size_t outlen,
		  size_t *n)
{
	uint32_t acc = 0;
	size_t len = 0;
	int bits = 0, pad = 0;
	const char *c;

	for (c = in; *c; c++) {
		int v;

		if (*c == '=') {
			pad++;
			continue;
		}
		if (pad)
			return -EINVAL;		/* data after padding */
		if (*c >= 'A' && *c <= 'Z')
			v = *c - 'A';
		else if (*c >= 'a' && *c <= 'z')
			v = *c - 'a' + 26;
		else if (*c >= '0' && *c <= '9')
			v = *c - '0' + 52;
		else if (*c == '+')
			v = 62;
		else if (*c == '/')
			v = 63;
		else
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (len == outlen)
				return -ENOBUFS;
			out[len++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero padding, and at most two '='. */
	if (pad > 2 || bits >= 6 || acc)
		return -EINVAL;
	*n = len;
	return 0;
}

static const char *kind_name(enum psi_kind k)
{
	return k == PSI_FULL ? "full" : "some";
}

const char *pressure_source_name(enum pressure_source src)
{
	switch (src) {
	case PSI_SRC_CGROUP: return "cgroup";
	case PSI_SRC_SYSTEMD: return "systemd";
	default: return "system";
	}
}

int pressure_own_cgroup(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[600];
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\n");

		line[n] = '\0';
		/* cgroup v2: "0::/system.slice/spl-kmemd.service" */
		if (strncmp(line, "0::", 3))
			continue;
		if (n - 3 >= len) {
			rc = -ENAMETOOLONG;
			break;
		}
		memcpy(buf, line + 3, n - 2);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

/* Whether @path is the memory.pressure of cgroup @own or one below it. */
static bool in_own_cgroup(const char *path, const char *own)
{
	static const char root[] = "/sys/fs/cgroup";
	size_t rl = sizeof(root) - 1, ol;

	if (!own || !own[0] || strncmp(path, root, rl))
		return false;
	path += rl;
	ol = strlen(own);
	while (ol && own[ol - 1] == '/')
		ol--;
	/* The root cgroup ("/") is the system's: never "our own". */
	if (!ol)
		return false;
	return !strncmp(path, own, ol) && path[ol] == '/';
}

/* The kind, threshold and window of a trigger text, for the metrics. */
static void parse_trigger(struct pressure_spec *spec)
{
	char kind[8];
	unsigned long long th, win;

	if (sscanf(spec->trigger, "%7s %llu %llu", kind, &th, &win) == 3 &&
	    (!strcmp(kind, "some") || !strcmp(kind, "full"))) {
		snprintf(spec->kind, sizeof(spec->kind), "%s", kind);
		spec->threshold_us = th;
		spec->window_us = win;
	}
}

static int from_systemd(struct pressure_spec *spec, const char *env_watch,
			const char *env_write, char *why, size_t whylen)
{
	size_t n;

	spec->from_systemd = true;
	spec->source = PSI_SRC_SYSTEMD;
	snprintf(spec->path, sizeof(spec->path), "%s", env_watch);
	if (base64_decode(env_write, (unsigned char *)spec->trigger,
			  sizeof(spec->trigger) - 1, &n) || !n) {
		snprintf(why, whylen,
			 "$MEMORY_PRESSURE_WRITE is not valid base64 of at most %zu bytes",
			 sizeof(spec->trigger) - 1);
		return -EINVAL;
	}
	/* The kernel takes the last byte for the NUL. */
	if (spec->trigger[n - 1] != '\0' && spec->trigger[n - 1] != '\n')
		spec->trigger[n++] = '\0';
	spec->trigger_len = n;
	spec->enabled = true;
	parse_trigger(spec);
	snprintf(spec->desc, sizeof(spec->desc),
		 "%s (from systemd) with trigger \"%.*s\"", spec->path,
		 (int)strcspn(spec->trigger, "\n"), spec->trigger);
	return 0;
}

int pressure_resolve(const struct config_pressure *cfg,
		     const struct pressure_env *env, struct pressure_spec *spec,
		     char *why, size_t whylen)
{
	const char *env_watch = env ? env->watch : NULL;
	const char *env_write = env ? env->write : NULL;
	bool use_env = false;

	memset(spec, 0, sizeof(*spec));
	if (!cfg->enabled) {
		snprintf(spec->desc, sizeof(spec->desc),
			 "off in the configuration");
		return 0;
	}
	if (env_watch && env_watch[0]) {
		if (!cfg->systemd_watch)
			snprintf(spec->note, sizeof(spec->note),
				 "ignoring $MEMORY_PRESSURE_WATCH=%s from systemd ([pressure] systemd_watch = no)",
				 env_watch);
		else if (!strcmp(env_watch, "/dev/null")) {
			snprintf(spec->desc, sizeof(spec->desc),
				 "off: systemd set $MEMORY_PRESSURE_WATCH=/dev/null");
			return 0;
		} else if (in_own_cgroup(env_watch, env->own_cgroup))
			snprintf(spec->note, sizeof(spec->note),
				 "ignoring $MEMORY_PRESSURE_WATCH=%s: that is the daemon's own cgroup, whose pressure says nothing about the system's",
				 env_watch);
		else
			use_env = true;
	}
	if (use_env && env_write && env_write[0])
		return from_systemd(spec, env_watch, env_write, why, whylen);
	if (use_env) {
		spec->from_systemd = true;
		spec->source = PSI_SRC_SYSTEMD;
		snprintf(spec->path, sizeof(spec->path), "%s", env_watch);
	} else if (cfg->cgroup[0]) {
		const char *cg = cfg->cgroup;
		const char *base = cg[0] == '/' ? "" : "/sys/fs/cgroup/";
		size_t l = strlen(cg);
		bool has_file = l >= 15 && !strcmp(cg + l - 15, "memory.pressure");

		while (l > 1 && cg[l - 1] == '/')
			l--;
		spec->source = PSI_SRC_CGROUP;
		snprintf(spec->path, sizeof(spec->path), "%s%.*s%s", base,
			 (int)l, cg, has_file ? "" : "/memory.pressure");
	} else {
		spec->source = PSI_SRC_SYSTEM;
		snprintf(spec->path, sizeof(spec->path), "%s", PSI_SYSTEM_PATH);
	}
	spec->trigger_len = (size_t)snprintf(spec->trigger, sizeof(spec->trigger),
					     "%s %llu %llu",
					     kind_name(cfg->kind),
					     (unsigned long long)cfg->threshold_us,
					     (unsigned long long)cfg->window_us) + 1;
	spec->enabled = true;
	parse_trigger(spec);
	snprintf(spec->desc, sizeof(spec->desc),
		 "%s%s, %s stall of %llu ms in %llu ms", spec->path,
		 spec->from_systemd ? " (from systemd)" :
		 spec->source == PSI_SRC_CGROUP ? " (cgroup)" : " (system-wide)",
		 kind_name(cfg->kind),
		 (unsigned long long)cfg->threshold_us / 1000,
		 (unsigned long long)cfg->window_us / 1000);
	return 0;
}

/* Why a trigger could not be set, for the one log line. */
static const char *hint(int err, bool system)
{
	switch (err) {
	case ENOENT:
		return system ? "the kernel has no PSI (CONFIG_PSI) or it was not built in" :
			"no such file (is the cgroup there, with the memory controller?)";
	case EOPNOTSUPP:
		return "PSI is disabled (boot with psi=1)";
	case EPERM:
	case EACCES:
		return "no permission to set a PSI trigger (before Linux 6.5 that needs CAP_SYS_RESOURCE; "
		       "from 6.5 unprivileged windows must be multiples of 2 s)";
	case EROFS:
		return "the file is on a read-only mount (see the unit's Protect*= settings)";
	case EINVAL:
		return "the kernel refused the trigger";
	case EBUSY:
		return "the file already has a trigger";
	default:
		return "unexpected error";
	}
}

static void drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct pressure *p = arg;
	bool gone = false;

	(void)s;
	if (p->readable && (revents & EPOLLIN)) {
		char buf[256];
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n == 0 && p->socket)
			gone = true;
		else if (n > 0)
			drain(fd);
	}
	if (revents & (EPOLLERR | EPOLLHUP))
		gone = true;
	if (gone) {
		log_warn("memory pressure source %s went away; no longer watching it",
			 p->desc);
		sd_event_source_set_enabled(p->src, SD_EVENT_OFF);
		if (p->gone)
			p->gone(p->arg);
		return 0;
	}
	if (revents & (EPOLLPRI | EPOLLIN))
		p->fn(p->arg);
	return 0;
}

static int open_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    fcntl(fd, F_SETFL, O_NONBLOCK)) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

int pressure_start(struct pressure **pp, sd_event *e,
		   const struct pressure_spec *spec, pressure_fn fn,
		   pressure_gone_fn gone, void *arg, bool quiet, int *err)
{
	bool system = !strcmp(spec->path, PSI_SYSTEM_PATH);
	struct pressure *p;
	struct stat st;
	uint32_t events = EPOLLPRI;
	int fd, rc;

	*pp = NULL;
	if (err)
		*err = 0;
	if (!spec->enabled) {
		log_notice("memory pressure watching is %s", spec->desc);
		return 1;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->fd = -1;
	p->fn = fn;
	p->gone = gone;
	p->arg = arg;
	snprintf(p->desc, sizeof(p->desc), "%s", spec->desc);

	if (stat(spec->path, &st)) {
		rc = errno;
		goto unavailable;
	}
	if (S_ISSOCK(st.st_mode)) {
		fd = open_socket(spec->path);
		p->readable = p->socket = true;
		events = EPOLLIN;
	} else if (S_ISFIFO(st.st_mode)) {
		/* Read-write: a FIFO without writers would report HUP forever. */
		fd = open(spec->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		p->readable = true;
		events = EPOLLIN;
	} else {
		fd = open(spec->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	}
	if (fd < 0) {
		rc = fd == -1 ? errno : -fd;
		goto unavailable;
	}
	p->fd = fd;
	if (spec->trigger_len && !S_ISFIFO(st.st_mode) &&
	    write(fd, spec->trigger, spec->trigger_len) < 0) {
		rc = errno;
		goto unavailable;
	}
	rc = sd_event_add_io(e, &p->src, fd, events, on_io, p);
	if (rc < 0) {
		log_err("cannot watch %s: %s", spec->path, strerror(-rc));
		pressure_stop(p);
		return rc;
	}
	log_info("watching memory pressure: %s", spec->desc);
	*pp = p;
	return 0;

unavailable:
	log_msg(quiet ? LOG_DEBUG : LOG_WARNING,
		"not watching memory pressure: %s%s: %s: %s; reaping on pressure is off, the rest goes on",
		spec->path, spec->from_systemd ? " (from systemd)" : "",
		strerror(rc), hint(rc, system));
	if (err)
		*err = rc;
	pressure_stop(p);
	return 1;
}

void pressure_stop(struct pressure *p)
{
	if (!p)
		return;
	sd_event_source_disable_unref(p->src);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}
