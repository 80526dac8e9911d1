// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spl-kmemd: applies the spl_kmem configuration (tunables, per-cache
 * magazine sizes), reaps the module's caches on memory pressure and
 * exports their statistics for Prometheus.  See spl-kmemd(8).
 *
 * One thread, one sd-event loop: the PSI trigger, the module's events,
 * the controller's notifications, the HTTP server, the metrics timer and
 * the signals are all sources of it.  Under systemd: Type=notify with
 * READY=1/RELOADING=1/STATUS=, and the watchdog is fed by the loop itself
 * (sd_event_set_watchdog), so a wedged loop gets the service restarted.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "daemon.h"
#include "http.h"
#include "log.h"

#ifndef SPL_KMEM_VERSION
#define SPL_KMEM_VERSION "unknown"
#endif

#define METRICS_MAX_AGE_US 1000000	/* HTTP: regenerate if older */

/* sysexits.h's EX_CONFIG: the unit does not restart on it
 * (RestartPreventExitStatus=78): a restart would not fix the file. */
#define EXIT_CONFIG 78

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: spl-kmemd [-c FILE] [-d] [--check]\n"
		"\n"
		"  -c, --config FILE  configuration file (default %s)\n"
		"  -t, --check        check the configuration file and exit\n"
		"  -d, --debug        log debug messages too\n"
		"  -V, --version      print the version and exit\n"
		"  -h, --help         this help\n"
		"\nSee spl-kmemd(8) and spl-kmemd.conf(5).\n",
		CONFIG_DEFAULT_PATH);
}

uint64_t daemon_now_us(struct daemon *d)
{
	uint64_t now = 0;

	sd_event_now(d->event, CLOCK_MONOTONIC, &now);
	return now;
}

void daemon_status(struct daemon *d)
{
	char psi[600];

	if (d->psi)
		snprintf(psi, sizeof(psi), "watching memory pressure (%s)",
			 d->psi_spec.path);
	else if (d->psi_retry && d->psi_spec.enabled &&
		 sd_event_source_get_enabled(d->psi_retry, NULL) > 0)
		snprintf(psi, sizeof(psi), "waiting for %s to appear",
			 d->psi_spec.path);
	else
		snprintf(psi, sizeof(psi), "not watching memory pressure");
	sd_notifyf(0, "STATUS=%s; %s%s%s",
		   d->h ? "connected to spl_kmem" :
			  "waiting for the spl_kmem module",
		   psi, d->last_reap[0] ? "; " : "", d->last_reap);
}

/* ---- metrics ---- */

/* Regenerate the metrics; @textfile: write the textfile too. */
static void refresh(struct daemon *d, bool textfile)
{
	struct splkmem_cache_info *v = NULL;
	const char *what = NULL;
	char err[400];
	size_t n = 0;
	bool have = false;
	char *buf;
	size_t len;
	int rc;

	if (d->h) {
		rc = splkmem_cache_dump(d->h, &v, &n, 3, NULL);
		if (!rc) {
			size_t i, kept = 0;

			/* [metrics] caches: only the caches listed. */
			for (i = 0; i < n; i++)
				if (policy_metrics_cache(&d->cfg->metrics, v[i].name))
					v[kept++] = v[i];
			n = kept;
			have = true;
			if (d->dump_err)
				log_info("listing caches for the metrics works again");
			d->dump_err = 0;
		} else {
			d->stats.errors[ERR_DUMP]++;
			if (rc != d->dump_err)
				log_err("listing caches for the metrics failed: %s",
					daemon_lib_error(d->h, err, sizeof(err)));
			d->dump_err = rc;
		}
	}
	buf = metrics_render(have ? v : NULL, n, &d->stats, &len);
	free(v);
	if (!buf) {
		log_err("formatting the metrics: out of memory");
		return;
	}
	free(d->metrics_buf);
	d->metrics_buf = buf;
	d->metrics_len = len;
	d->metrics_at_us = daemon_now_us(d);

	if (!textfile || !d->cfg->metrics.textfile[0])
		return;
	rc = metrics_write_textfile(d->cfg->metrics.textfile, buf, len, &what);
	if (rc == -ENOENT) {
		/*
		 * The default directory exists only with node_exporter
		 * installed: not an error, and written once it appears.
		 */
		if (rc != d->textfile_err)
			log_notice("not writing %s: its directory does not exist (is node_exporter installed?)",
				   d->cfg->metrics.textfile);
	} else if (rc) {
		d->stats.errors[ERR_TEXTFILE]++;
		/* Once per kind of failure, not every interval. */
		if (rc != d->textfile_err)
			log_err("writing %s failed: %s: %s",
				d->cfg->metrics.textfile, what, strerror(-rc));
	} else {
		if (d->textfile_err)
			log_info("writing %s works again", d->cfg->metrics.textfile);
		d->stats.textfile_write_unix = (uint64_t)time(NULL);
		snprintf(d->textfile_written, sizeof(d->textfile_written), "%s",
			 d->cfg->metrics.textfile);
	}
	d->textfile_err = rc;
}

/*
 * Remove the textfile we wrote (clean stop, or the path changed): stale
 * numbers that node_exporter would go on serving are worse than none.
 */
static void textfile_remove(struct daemon *d)
{
	if (!d->textfile_written[0])
		return;
	if (unlink(d->textfile_written) && errno != ENOENT)
		log_warn("cannot remove %s: %s", d->textfile_written,
			 strerror(errno));
	else
		log_info("removed %s", d->textfile_written);
	d->textfile_written[0] = '\0';
}

void daemon_metrics_refresh(struct daemon *d)
{
	refresh(d, true);
}

/* A scrape: fresh numbers, but the textfile keeps its own interval. */
static const char *http_body(void *arg, size_t *len)
{
	struct daemon *d = arg;

	if (!d->metrics_buf ||
	    daemon_now_us(d) - d->metrics_at_us > METRICS_MAX_AGE_US)
		refresh(d, false);
	*len = d->metrics_len;
	return d->metrics_buf;
}

static int on_metrics_timer(sd_event_source *s, uint64_t usec, void *arg)
{
	struct daemon *d = arg;

	daemon_metrics_refresh(d);
	sd_event_source_set_time(s, usec + d->cfg->metrics.interval_us);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

static int metrics_timer_start(struct daemon *d)
{
	int rc = sd_event_add_time(d->event, &d->metrics_timer, CLOCK_MONOTONIC,
				   daemon_now_us(d) + d->cfg->metrics.interval_us,
				   100000, on_metrics_timer, d);

	if (rc < 0)
		log_err("cannot add the metrics timer: %s", strerror(-rc));
	return rc;
}

/*
 * Arm the one-shot retry timer *@src to fire @delay_us from now, adding it
 * on first use; @what names it in the error.
 */
static void retry_timer_arm(struct daemon *d, sd_event_source **src,
			    uint64_t delay_us, uint64_t accuracy_us,
			    sd_event_time_handler_t cb, const char *what)
{
	int rc;

	if (!*src) {
		rc = sd_event_add_time(d->event, src, CLOCK_MONOTONIC,
				       daemon_now_us(d) + delay_us, accuracy_us,
				       cb, d);
		if (rc < 0)
			log_err("cannot add the %s retry timer: %s", what,
				strerror(-rc));
		return;
	}
	sd_event_source_set_time(*src, daemon_now_us(d) + delay_us);
	sd_event_source_set_enabled(*src, SD_EVENT_ONESHOT);
}

/* ---- the HTTP server: a port taken at start is retried ---- */

#define HTTP_RETRY_US 10000000

static void http_try_start(struct daemon *d, bool retry);

static int on_http_retry(sd_event_source *s, uint64_t usec, void *arg)
{
	struct daemon *d = arg;

	(void)s;
	(void)usec;
	if (!d->http && d->cfg->metrics.listen[0])
		http_try_start(d, true);
	return 0;
}

/*
 * Start serving d->cfg's listen address.  Failing (a port in use) is
 * logged once and counted (not again on each @retry); the rest of the
 * daemon goes on, and the address is tried again every HTTP_RETRY_US.
 */
static void http_try_start(struct daemon *d, bool retry)
{
	bool first = !retry;
	int rc;

	rc = http_start(&d->http, d->event, d->cfg->metrics.listen, http_body,
			d, !first);
	if (!rc) {
		if (!first)
			log_notice("http: %s could be bound now: serving metrics",
				   d->cfg->metrics.listen);
		if (d->http_retry)
			sd_event_source_set_enabled(d->http_retry, SD_EVENT_OFF);
		return;
	}
	if (first) {
		d->stats.errors[ERR_HTTP]++;
		log_warn("http: not serving metrics for now; trying %s again every %d s (the textfile and reaping go on)",
			 d->cfg->metrics.listen, HTTP_RETRY_US / 1000000);
	}
	retry_timer_arm(d, &d->http_retry, HTTP_RETRY_US, 1000000,
			on_http_retry, "http");
}

/* ---- pressure ---- */

static void on_pressure(void *arg)
{
	reap_on_pressure(arg);
}

#define PSI_RETRY_US 2000000	/* a missing cgroup: look again this often */

static int pressure_arm(struct daemon *d, const struct pressure_spec *spec,
			struct pressure **out, bool quiet);

/* Whether a source that is missing may come back by itself (a cgroup
 * removed and made again by a restart of its unit). */
static bool may_come_back(const struct pressure_spec *spec, int err)
{
	return spec->enabled && spec->source != PSI_SRC_SYSTEM &&
	       (err == ENOENT || err == ENODEV || err == 0);
}

static void pressure_publish(struct daemon *d)
{
	const struct pressure_spec *s = &d->psi_spec;

	d->stats.pressure_active = d->psi != NULL;
	snprintf(d->stats.pressure_source, sizeof(d->stats.pressure_source),
		 "%s", pressure_source_name(s->source));
	snprintf(d->stats.pressure_path, sizeof(d->stats.pressure_path), "%s",
		 s->path);
	snprintf(d->stats.pressure_kind, sizeof(d->stats.pressure_kind), "%s",
		 s->kind);
	d->stats.pressure_threshold_us = s->threshold_us;
	d->stats.pressure_window_us = s->window_us;
}

static int on_psi_retry(sd_event_source *s, uint64_t usec, void *arg)
{
	struct daemon *d = arg;
	struct pressure *psi = NULL;

	(void)usec;
	if (d->psi || !d->psi_spec.enabled)
		return 0;
	if (pressure_arm(d, &d->psi_spec, &psi, true) == 0 && psi) {
		d->psi = psi;
		log_notice("memory pressure source is back: watching %s",
			   d->psi_spec.desc);
		pressure_publish(d);
		daemon_status(d);
		return 0;
	}
	sd_event_source_set_time(s, daemon_now_us(d) + PSI_RETRY_US);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* Look for the source again every PSI_RETRY_US until it is back. */
static void psi_retry_schedule(struct daemon *d)
{
	retry_timer_arm(d, &d->psi_retry, PSI_RETRY_US, 100000, on_psi_retry,
			"pressure");
}

static void psi_retry_cancel(struct daemon *d)
{
	if (d->psi_retry)
		sd_event_source_set_enabled(d->psi_retry, SD_EVENT_OFF);
}

static void on_pressure_gone(void *arg)
{
	struct daemon *d = arg;

	pressure_stop(d->psi);
	d->psi = NULL;
	d->stats.errors[ERR_PRESSURE]++;
	if (may_come_back(&d->psi_spec, 0)) {
		log_notice("will watch %s again as soon as it is back",
			   d->psi_spec.path);
		psi_retry_schedule(d);
	}
	pressure_publish(d);
	daemon_status(d);
}

/* Resolve @cfg's pressure source; 0, or -EINVAL (logged). */
static int pressure_spec_for(const struct config *cfg,
			     struct pressure_spec *spec)
{
	char why[200], own[400];
	struct pressure_env env = {
		.watch = getenv("MEMORY_PRESSURE_WATCH"),
		.write = getenv("MEMORY_PRESSURE_WRITE"),
	};

	if (!pressure_own_cgroup(own, sizeof(own)))
		env.own_cgroup = own;
	if (pressure_resolve(&cfg->pressure, &env, spec, why, sizeof(why))) {
		log_err("%s", why);
		return -EINVAL;
	}
	return 0;
}

static bool same_spec(const struct pressure_spec *a,
		      const struct pressure_spec *b)
{
	return a->enabled == b->enabled && !strcmp(a->path, b->path) &&
	       a->trigger_len == b->trigger_len &&
	       !memcmp(a->trigger, b->trigger, a->trigger_len);
}

static int pressure_arm(struct daemon *d, const struct pressure_spec *spec,
			struct pressure **out, bool quiet)
{
	int err = 0, rc;

	if (spec->note[0] && !quiet)
		log_notice("%s", spec->note);
	rc = pressure_start(out, d->event, spec, on_pressure,
			    on_pressure_gone, d, quiet, &err);
	if (rc == 1 && spec->enabled) {
		if (!quiet)
			d->stats.errors[ERR_PRESSURE]++;
		if (may_come_back(spec, err)) {
			if (!quiet)
				log_notice("will watch %s as soon as it appears",
					   spec->path);
			psi_retry_schedule(d);
		}
	}
	return rc < 0 ? rc : 0;
}

/* ---- configuration ---- */

static void log_config_errors(const struct config_errors *errs)
{
	char line[600];
	size_t i;

	for (i = 0; i < errs->n; i++) {
		config_error_format(errs, i, line, sizeof(line));
		log_err("%s", line);
	}
	if (errs->dropped)
		log_err("%s: ... and %zu more error(s)", errs->file,
			errs->dropped);
}

static int load(struct daemon *d, struct config **out)
{
	struct config_errors errs;
	int rc = config_load(d->config_path, d->config_explicit, out, &errs);

	if (rc)
		log_config_errors(&errs);
	return rc;
}

/*
 * SIGHUP: everything that can fail is done first (parse, check against the
 * module, bind the new HTTP address); only then is the new configuration
 * swapped in and applied.  On any failure the running one stays.
 */
static void reload(struct daemon *d)
{
	struct config *cfg = NULL;
	struct http *http = NULL;
	struct pressure *psi = NULL;
	struct pressure_spec spec;
	bool new_http, new_psi;
	const char *why = NULL;

	sd_notifyf(0, "RELOADING=1\nSTATUS=reloading %s", d->config_path);
	log_info("reloading %s", d->config_path);
	if (load(d, &cfg))
		why = "the file has errors";
	else if (module_check_config(d, cfg))
		why = "the module does not accept its tunables";
	else if (pressure_spec_for(cfg, &spec))
		why = "the memory pressure settings from systemd are invalid";
	if (why)
		goto fail;
	new_http = strcmp(cfg->metrics.listen, d->cfg->metrics.listen) != 0;
	if (new_http && cfg->metrics.listen[0] &&
	    http_start(&http, d->event, cfg->metrics.listen, http_body, d,
		       false)) {
		/* Perhaps the old server holds the port: free it, try again. */
		if (d->http) {
			http_stop(d->http);
			d->http = NULL;
			if (!http_start(&http, d->event, cfg->metrics.listen,
					http_body, d, false))
				goto commit;
			if (http_start(&d->http, d->event, d->cfg->metrics.listen,
				       http_body, d, false))
				log_err("http: the old address %s cannot be bound again",
					d->cfg->metrics.listen);
		}
		why = "its HTTP listen address cannot be used";
		d->stats.errors[ERR_HTTP]++;
		goto fail;
	}

commit:

	new_psi = !same_spec(&spec, &d->psi_spec) || !d->psi;
	if (new_psi) {
		pressure_stop(d->psi);
		d->psi = NULL;
		psi_retry_cancel(d);
		d->psi_spec = spec;
		if (pressure_arm(d, &spec, &psi, false) == 0)
			d->psi = psi;
		pressure_publish(d);
	}
	if (new_http) {
		http_stop(d->http);
		d->http = http;
		if (d->http_retry)
			sd_event_source_set_enabled(d->http_retry, SD_EVENT_OFF);
	}
	if (strcmp(cfg->metrics.textfile, d->textfile_written))
		textfile_remove(d);
	config_free(d->cfg);
	d->cfg = cfg;
	module_apply_config(d);
	sd_event_source_set_time(d->metrics_timer,
				 daemon_now_us(d) + cfg->metrics.interval_us);
	sd_event_source_set_enabled(d->metrics_timer, SD_EVENT_ONESHOT);
	d->stats.reloads_ok++;
	d->stats.last_reload_ok = true;
	log_notice("configuration reloaded from %s", d->config_path);
	daemon_metrics_refresh(d);
	sd_notify(0, "READY=1");
	daemon_status(d);
	return;

fail:
	config_free(cfg);
	d->stats.reloads_failed++;
	d->stats.last_reload_ok = false;
	log_err("reload failed (%s): keeping the running configuration", why);
	sd_notify(0, "READY=1");
	daemon_status(d);
}

/* ---- signals and the loop ---- */

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si,
		     void *arg)
{
	struct daemon *d = arg;

	(void)s;
	if (si->ssi_signo == SIGHUP) {
		reload(d);
		return 0;
	}
	log_info("received %s, stopping", strsignal((int)si->ssi_signo));
	sd_notify(0, "STOPPING=1");
	return sd_event_exit(d->event, 0);
}

static int setup(struct daemon *d)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	sigset_t mask;
	size_t i;
	int rc;

	rc = sd_event_default(&d->event);
	if (rc < 0) {
		log_err("cannot create the event loop: %s", strerror(-rc));
		return rc;
	}
	sigemptyset(&mask);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&mask, sigs[i]);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	for (i = 0; i < ARRAY_SIZE(sigs); i++) {
		rc = sd_event_add_signal(d->event, NULL, sigs[i], on_signal, d);
		if (rc < 0) {
			log_err("cannot handle signal %d: %s", sigs[i],
				strerror(-rc));
			return rc;
		}
	}
	/* Feeds WATCHDOG=1 at half of WatchdogSec= when it is set. */
	rc = sd_event_set_watchdog(d->event, true);
	if (rc < 0)
		log_warn("cannot set up the watchdog: %s", strerror(-rc));

	if (d->cfg->metrics.listen[0])
		http_try_start(d, false);
	if ((rc = pressure_spec_for(d->cfg, &d->psi_spec)) ||
	    (rc = pressure_arm(d, &d->psi_spec, &d->psi, false)))
		return rc;
	pressure_publish(d);
	if ((rc = metrics_timer_start(d)))
		return rc;
	return module_start(d);
}

static void teardown(struct daemon *d, bool clean)
{
	if (clean)
		textfile_remove(d);
	module_stop(d);
	pressure_stop(d->psi);
	sd_event_source_disable_unref(d->psi_retry);
	http_stop(d->http);
	sd_event_source_disable_unref(d->http_retry);
	sd_event_source_disable_unref(d->metrics_timer);
	sd_event_unref(d->event);
	config_free(d->cfg);
	free(d->metrics_buf);
}

/*
 * --check (also what the unit's ExecReload= runs before the SIGHUP, so
 * that "systemctl reload" fails on a bad file): the syntax and values,
 * and, when the module is loaded, the tunables against its own ranges.
 */
static int check_config(struct daemon *d)
{
	struct splkmem_error e;
	int rc = 0;

	/* --check names the file it read, even the default one. */
	d->config_explicit = true;
	if (load(d, &d->cfg))
		return 1;
	if (!splkmem_open(&d->h, &e)) {
		if (module_check_config(d, d->cfg))
			rc = 1;
		splkmem_close(d->h);
		d->h = NULL;
	} else {
		log_info("the spl_kmem module is not loaded: tunable values are checked against it when it is");
	}
	if (!rc)
		printf("%s: OK\n", d->config_path);
	config_free(d->cfg);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { 0 };
	bool check = false, debug = false;
	int opt, rc;

	snprintf(d.config_path, sizeof(d.config_path), "%s",
		 CONFIG_DEFAULT_PATH);
	while ((opt = getopt_long(argc, argv, "c:tdVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			if (strlen(optarg) >= sizeof(d.config_path)) {
				fprintf(stderr, "spl-kmemd: configuration path too long\n");
				return 2;
			}
			snprintf(d.config_path, sizeof(d.config_path), "%s", optarg);
			d.config_explicit = true;
			break;
		case 't':
			check = true;
			break;
		case 'd':
			debug = true;
			break;
		case 'V':
			printf("spl-kmemd %s\n", SPL_KMEM_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "spl-kmemd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	log_setup(debug);

	if (check)
		return check_config(&d);
	if (load(&d, &d.cfg)) {
		log_err("not starting: fix %s (spl-kmemd --check tests it)",
			d.config_path);
		sd_notifyf(0, "STATUS=bad configuration in %s", d.config_path);
		return EXIT_CONFIG;
	}
	d.stats.last_reload_ok = true;
	d.stats.version = SPL_KMEM_VERSION;
	log_info("spl-kmemd %s starting with %s", SPL_KMEM_VERSION,
		 d.config_path);
	d.starting = true;
	rc = setup(&d);
	d.starting = false;
	if (rc) {
		sd_notifyf(0, "STATUS=failed to start: %s", strerror(-rc));
		teardown(&d, false);
		return 1;
	}
	daemon_metrics_refresh(&d);
	sd_notify(0, "READY=1");
	daemon_status(&d);
	rc = sd_event_loop(d.event);
	if (rc < 0)
		log_err("event loop failed: %s", strerror(-rc));
	teardown(&d, rc >= 0);
	return rc < 0 ? 1 : 0;
}
