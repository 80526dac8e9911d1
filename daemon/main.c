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
	char psi[64];

	if (d->psi)
		snprintf(psi, sizeof(psi), "watching memory pressure");
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
			have = true;
			if (d->dump_err)
				log_info("listing caches for the metrics works again");
			d->dump_err = 0;
		} else {
			d->stats.errors[ERR_DUMP]++;
			if (rc != d->dump_err)
				log_err("listing caches for the metrics failed: %s",
					splkmem_error_str(splkmem_last_error(d->h),
							  err, sizeof(err)));
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
	} else if (d->textfile_err) {
		log_info("writing %s works again", d->cfg->metrics.textfile);
	}
	d->textfile_err = rc;
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

/* ---- pressure ---- */

static void on_pressure(void *arg)
{
	reap_on_pressure(arg);
}

static void on_pressure_gone(void *arg)
{
	struct daemon *d = arg;

	pressure_stop(d->psi);
	d->psi = NULL;
	d->stats.pressure_active = false;
	d->stats.errors[ERR_PRESSURE]++;
	daemon_status(d);
}

/* Resolve @cfg's pressure source; 0, or -EINVAL (logged). */
static int pressure_spec_for(const struct config *cfg,
			     struct pressure_spec *spec)
{
	char why[200];

	if (pressure_resolve(&cfg->pressure, getenv("MEMORY_PRESSURE_WATCH"),
			     getenv("MEMORY_PRESSURE_WRITE"), spec, why,
			     sizeof(why))) {
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
			struct pressure **out)
{
	int rc = pressure_start(out, d->event, spec, on_pressure,
				on_pressure_gone, d);

	if (rc == 1 && spec->enabled)
		d->stats.errors[ERR_PRESSURE]++;
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
	    http_start(&http, d->event, cfg->metrics.listen, http_body, d)) {
		/* Perhaps the old server holds the port: free it, try again. */
		if (d->http) {
			http_stop(d->http);
			d->http = NULL;
			if (!http_start(&http, d->event, cfg->metrics.listen,
					http_body, d))
				goto commit;
			if (http_start(&d->http, d->event, d->cfg->metrics.listen,
				       http_body, d))
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
		if (pressure_arm(d, &spec, &psi) == 0)
			d->psi = psi;
		d->psi_spec = spec;
		d->stats.pressure_active = d->psi != NULL;
	}
	if (new_http) {
		http_stop(d->http);
		d->http = http;
	}
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
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&mask, sigs[i]);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
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

	if (d->cfg->metrics.listen[0] &&
	    (rc = http_start(&d->http, d->event, d->cfg->metrics.listen,
			     http_body, d)))
		return rc;
	if ((rc = pressure_spec_for(d->cfg, &d->psi_spec)) ||
	    (rc = pressure_arm(d, &d->psi_spec, &d->psi)))
		return rc;
	d->stats.pressure_active = d->psi != NULL;
	if ((rc = metrics_timer_start(d)))
		return rc;
	return module_start(d);
}

static void teardown(struct daemon *d)
{
	module_stop(d);
	pressure_stop(d->psi);
	http_stop(d->http);
	sd_event_source_disable_unref(d->metrics_timer);
	sd_event_unref(d->event);
	config_free(d->cfg);
	free(d->metrics_buf);
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

	if (check) {
		/* --check names the file it read, even the default one. */
		d.config_explicit = true;
		if (load(&d, &d.cfg))
			return 1;
		printf("%s: OK\n", d.config_path);
		config_free(d.cfg);
		return 0;
	}
	if (load(&d, &d.cfg)) {
		log_err("not starting: fix %s (spl-kmemd --check tests it)",
			d.config_path);
		sd_notifyf(0, "STATUS=bad configuration in %s", d.config_path);
		return EXIT_CONFIG;
	}
	d.stats.last_reload_ok = true;
	log_info("spl-kmemd %s starting with %s", SPL_KMEM_VERSION,
		 d.config_path);
	d.starting = true;
	rc = setup(&d);
	d.starting = false;
	if (!rc && d.start_rejected) {
		log_err("not starting: the loaded module does not accept the configured tunables");
		sd_notifyf(0, "STATUS=the module refuses the tunables in %s",
			   d.config_path);
		teardown(&d);
		return EXIT_CONFIG;
	}
	if (rc) {
		sd_notifyf(0, "STATUS=failed to start: %s", strerror(-rc));
		teardown(&d);
		return 1;
	}
	daemon_metrics_refresh(&d);
	sd_notify(0, "READY=1");
	daemon_status(&d);
	rc = sd_event_loop(d.event);
	if (rc < 0)
		log_err("event loop failed: %s", strerror(-rc));
	teardown(&d);
	return rc < 0 ? 1 : 0;
}
