// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spl-kmemd decisions: which [cache] section applies, when a magazine
 * must change, what pressure reaps, the cooldown; where pressure comes
 * from (configuration, $MEMORY_PRESSURE_WATCH/_WRITE), base64; and the
 * PSI watcher itself on a FIFO and a socket (a regular file cannot be
 * polled outside procfs/cgroupfs).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "policy.h"
#include "pressure.h"

static struct config *parse(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct config_errors errs;
	struct config *cfg;

	assert_non_null(f);
	assert_int_equal(config_parse(f, "test.conf", &cfg, &errs), 0);
	fclose(f);
	return cfg;
}

static struct splkmem_cache_info cache(const char *name, uint32_t mag,
				       bool is_auto, uint32_t backing)
{
	struct splkmem_cache_info c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.mag_size = mag;
	c.mag_auto = is_auto;
	c.backing = backing;
	return c;
}

static void sections(void **state)
{
	struct config *cfg = parse("[cache zio_*]\nmagazine_size = 8\n"
				   "[cache zio_buf_*]\nmagazine_size = 16\n"
				   "[cache zio_buf_512]\nmagazine_size = 32\n"
				   "[cache ?node_t]\nmagazine_size = 4\n");
	const struct config_cache *s;

	(void)state;
	/* An exact name wins over every glob, even earlier ones. */
	s = policy_cache_section(cfg, "zio_buf_512");
	assert_string_equal(s->pattern, "zio_buf_512");
	/* Among globs, the first in the file. */
	s = policy_cache_section(cfg, "zio_buf_1024");
	assert_string_equal(s->pattern, "zio_*");
	s = policy_cache_section(cfg, "dnode_t");
	assert_string_equal(s->pattern, "?node_t");
	assert_null(policy_cache_section(cfg, "arc_buf"));
	assert_null(policy_cache_section(cfg, "xzio_buf"));
	config_free(cfg);
}

static void magazine_changes(void **state)
{
	struct config *cfg = parse("[cache fixed]\nmagazine_size = 32\n"
				   "[cache auto]\nmagazine_size = auto\n"
				   "[cache nomag]\n");
	const struct config_cache *sec = NULL;
	struct splkmem_cache_info c;
	uint32_t size = 99;

	(void)state;
	c = cache("fixed", 16, false, SPLKMEM_BACKING_KVMEM);
	assert_true(policy_magazine_change(cfg, &c, &size, &sec));
	assert_int_equal(size, 32);
	assert_string_equal(sec->pattern, "fixed");
	/* Already 32: nothing to do. */
	c = cache("fixed", 32, false, SPLKMEM_BACKING_KVMEM);
	assert_false(policy_magazine_change(cfg, &c, &size, &sec));
	/* 32 chosen automatically is not "set to 32". */
	c = cache("fixed", 32, true, SPLKMEM_BACKING_KVMEM);
	assert_true(policy_magazine_change(cfg, &c, &size, &sec));
	/* auto wanted: only a fixed size changes. */
	c = cache("auto", 64, true, SPLKMEM_BACKING_KVMEM);
	assert_false(policy_magazine_change(cfg, &c, &size, &sec));
	c = cache("auto", 64, false, SPLKMEM_BACKING_KVMEM);
	assert_true(policy_magazine_change(cfg, &c, &size, &sec));
	assert_int_equal(size, 0);
	/* Linux-slab caches have no magazines. */
	c = cache("fixed", 0, false, SPLKMEM_BACKING_SLAB);
	assert_false(policy_magazine_change(cfg, &c, &size, &sec));
	/* A section without magazine_size, and no section. */
	c = cache("nomag", 8, false, SPLKMEM_BACKING_KVMEM);
	assert_false(policy_magazine_change(cfg, &c, &size, &sec));
	c = cache("other", 8, false, SPLKMEM_BACKING_KVMEM);
	assert_false(policy_magazine_change(cfg, &c, &size, &sec));
	config_free(cfg);
}

static void reap_lists(void **state)
{
	struct config *all = parse("[pressure]\ncaches = all\n");
	struct config *some = parse("[pressure]\ncaches = zio_buf_* dnode_t\n");

	(void)state;
	assert_true(policy_reap_all(&all->pressure));
	assert_false(policy_reap_all(&some->pressure));
	assert_true(policy_reaps_cache(&some->pressure, "zio_buf_512"));
	assert_true(policy_reaps_cache(&some->pressure, "dnode_t"));
	assert_false(policy_reaps_cache(&some->pressure, "dnode_tt"));
	assert_false(policy_reaps_cache(&some->pressure, "zio_data_buf_512"));
	config_free(all);
	config_free(some);
}

static void cooldown(void **state)
{
	struct ratelimit rl = { 0, false };

	(void)state;
	assert_true(ratelimit_allow(&rl, 5000000, 10000000));
	assert_false(ratelimit_allow(&rl, 5000001, 10000000));
	assert_false(ratelimit_allow(&rl, 14999999, 10000000));
	assert_true(ratelimit_allow(&rl, 15000000, 10000000));
	/* A held-back event does not restart the cooldown. */
	assert_false(ratelimit_allow(&rl, 20000000, 10000000));
	assert_true(ratelimit_allow(&rl, 25000000, 10000000));
	/* No cooldown: always. */
	assert_true(ratelimit_allow(&rl, 25000000, 0));
	assert_true(ratelimit_allow(&rl, 25000000, 0));
	/* The first event at time 0 is allowed. */
	rl.used = false;
	assert_true(ratelimit_allow(&rl, 0, 10000000));
}

static void base64(void **state)
{
	unsigned char out[32];
	size_t n;

	(void)state;
	/* "some 200000 2000000\0", as systemd encodes it */
	assert_int_equal(base64_decode("c29tZSAyMDAwMDAgMjAwMDAwMAA=", out,
				       sizeof(out), &n), 0);
	assert_int_equal(n, 20);
	assert_memory_equal(out, "some 200000 2000000", 20);
	assert_int_equal(base64_decode("YQ==", out, sizeof(out), &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(base64_decode("YQ", out, sizeof(out), &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(base64_decode("", out, sizeof(out), &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(base64_decode("+/+/", out, sizeof(out), &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(base64_decode("YQ=x", out, sizeof(out), &n), -EINVAL);
	assert_int_equal(base64_decode("Y Q", out, sizeof(out), &n), -EINVAL);
	assert_int_equal(base64_decode("YR==", out, sizeof(out), &n), -EINVAL);
	assert_int_equal(base64_decode("Y", out, sizeof(out), &n), -EINVAL);
	assert_int_equal(base64_decode("YQ===", out, sizeof(out), &n), -EINVAL);
	assert_int_equal(base64_decode("YWJj", out, 2, &n), -ENOBUFS);
}

/* pressure_resolve() with this environment. */
static int res(const struct config *cfg, const char *watch, const char *write,
	       const char *own, struct pressure_spec *s, char *why, size_t len)
{
	struct pressure_env env = { watch, write, own };

	return pressure_resolve(&cfg->pressure, &env, s, why, len);
}

static void resolve(void **state)
{
	struct config *cfg = parse("[pressure]\ntype = full\nthreshold = 150ms\n"
				   "window = 2s\nsystemd_watch = yes\n");
	struct pressure_spec s;
	char why[200];

	(void)state;
	/* The system file, with the trigger and its NUL. */
	assert_int_equal(res(cfg, NULL, NULL, NULL, &s, why, sizeof(why)), 0);
	assert_true(s.enabled);
	assert_false(s.from_systemd);
	assert_int_equal(s.source, PSI_SRC_SYSTEM);
	assert_string_equal(s.path, "/proc/pressure/memory");
	assert_string_equal(s.trigger, "full 150000 2000000");
	assert_int_equal(s.trigger_len, strlen("full 150000 2000000") + 1);
	assert_string_equal(s.kind, "full");
	assert_int_equal(s.threshold_us, 150000);
	assert_int_equal(s.window_us, 2000000);
	assert_string_equal(s.note, "");

	/* With systemd_watch = yes, systemd's settings win... */
	assert_int_equal(res(cfg, "/sys/fs/cgroup/x/memory.pressure",
			     "c29tZSAyMDAwMDAgMjAwMDAwMAA=",
			     "/system.slice/spl-kmemd.service", &s, why,
			     sizeof(why)), 0);
	assert_true(s.from_systemd);
	assert_int_equal(s.source, PSI_SRC_SYSTEMD);
	assert_string_equal(s.path, "/sys/fs/cgroup/x/memory.pressure");
	assert_string_equal(s.trigger, "some 200000 2000000");
	assert_int_equal(s.trigger_len, 20);
	assert_string_equal(s.kind, "some");
	assert_int_equal(s.threshold_us, 200000);
	/* ...a trigger without its NUL gets one... */
	assert_int_equal(res(cfg, "/x", "c29tZSAxIDI=", NULL, &s, why,
			     sizeof(why)), 0);
	assert_int_equal(s.trigger_len, strlen("some 1 2") + 1);
	assert_int_equal(s.trigger[s.trigger_len - 1], '\0');
	/* ...without $MEMORY_PRESSURE_WRITE, ours is written there... */
	assert_int_equal(res(cfg, "/x", NULL, NULL, &s, why, sizeof(why)), 0);
	assert_string_equal(s.path, "/x");
	assert_string_equal(s.trigger, "full 150000 2000000");
	/* .../dev/null means off... */
	assert_int_equal(res(cfg, "/dev/null", "eA==", NULL, &s, why,
			     sizeof(why)), 0);
	assert_false(s.enabled);
	assert_non_null(strstr(s.desc, "/dev/null"));
	/* ...an empty one is ignored... */
	assert_int_equal(res(cfg, "", NULL, NULL, &s, why, sizeof(why)), 0);
	assert_string_equal(s.path, "/proc/pressure/memory");
	/* ...and bad base64 is an error. */
	assert_int_equal(res(cfg, "/x", "!!", NULL, &s, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "MEMORY_PRESSURE_WRITE"));
	config_free(cfg);
}

/*
 * The defect of systemd 254+: it points $MEMORY_PRESSURE_WATCH at the
 * service's own cgroup.  Never watched, whatever systemd_watch says.
 */
static void resolve_own_cgroup_never(void **state)
{
	static const char own[] = "/system.slice/spl-kmemd.service";
	static const char own_file[] =
		"/sys/fs/cgroup/system.slice/spl-kmemd.service/memory.pressure";
	/* systemd 257's $MEMORY_PRESSURE_WRITE: "some 200000 2000000\0" */
	static const char sd_write[] = "c29tZSAyMDAwMDAgMjAwMDAwMAA=";
	struct config *yes = parse("[pressure]\nsystemd_watch = yes\n");
	struct config *def = parse("");
	struct config *cg = parse("[pressure]\ncgroup = workload.slice\n"
				  "systemd_watch = yes\n");
	struct pressure_spec s;
	char why[200];

	(void)state;
	/* The default (no): the system's pressure, with a note why. */
	assert_false(def->pressure.systemd_watch);
	assert_int_equal(res(def, own_file, sd_write, own, &s, why,
			     sizeof(why)), 0);
	assert_true(s.enabled);
	assert_int_equal(s.source, PSI_SRC_SYSTEM);
	assert_string_equal(s.path, "/proc/pressure/memory");
	assert_string_equal(s.trigger, "some 100000 1000000");
	assert_non_null(strstr(s.note, own_file));
	assert_non_null(strstr(s.note, "systemd_watch = no"));
	/* yes: still not its own cgroup... */
	assert_int_equal(res(yes, own_file, sd_write, own, &s, why,
			     sizeof(why)), 0);
	assert_int_equal(s.source, PSI_SRC_SYSTEM);
	assert_string_equal(s.path, "/proc/pressure/memory");
	assert_false(s.from_systemd);
	assert_non_null(strstr(s.note, "own cgroup"));
	/* ...nor one below it... */
	assert_int_equal(res(yes, "/sys/fs/cgroup/system.slice/spl-kmemd.service/sub/memory.pressure",
			     NULL, own, &s, why, sizeof(why)), 0);
	assert_string_equal(s.path, "/proc/pressure/memory");
	/* ...and the configured cgroup is what is watched then. */
	assert_int_equal(res(cg, own_file, sd_write, own, &s, why,
			     sizeof(why)), 0);
	assert_int_equal(s.source, PSI_SRC_CGROUP);
	assert_string_equal(s.path,
			    "/sys/fs/cgroup/workload.slice/memory.pressure");
	/* A sibling whose name starts the same is not ours. */
	assert_int_equal(res(yes, "/sys/fs/cgroup/system.slice/spl-kmemd.service2/memory.pressure",
			     NULL, own, &s, why, sizeof(why)), 0);
	assert_int_equal(s.source, PSI_SRC_SYSTEMD);
	/* The root cgroup is the system's. */
	assert_int_equal(res(yes, "/sys/fs/cgroup/memory.pressure", NULL, "/",
			     &s, why, sizeof(why)), 0);
	assert_int_equal(s.source, PSI_SRC_SYSTEMD);
	assert_string_equal(s.note, "");
	config_free(yes);
	config_free(def);
	config_free(cg);
}

static void own_cgroup(void **state)
{
	char buf[400];

	(void)state;
	/* The host runs cgroup v2 (as systemd does): a path from the root. */
	if (pressure_own_cgroup(buf, sizeof(buf)) == 0)
		assert_int_equal(buf[0], '/');
	assert_int_not_equal(pressure_own_cgroup(buf, 1), 0);
}

static void resolve_config_sources(void **state)
{
	struct config *cfg;
	struct pressure_spec s;
	char why[200];

	(void)state;
	cfg = parse("[pressure]\ncgroup = system.slice/x.service/\n"
		    "systemd_watch = no\n");
	assert_int_equal(res(cfg, "/x", NULL, NULL, &s, why, sizeof(why)), 0);
	assert_string_equal(s.path,
			    "/sys/fs/cgroup/system.slice/x.service/memory.pressure");
	assert_string_equal(s.trigger, "some 100000 1000000");
	assert_int_equal(s.source, PSI_SRC_CGROUP);
	assert_string_equal(pressure_source_name(s.source), "cgroup");
	config_free(cfg);

	cfg = parse("[pressure]\ncgroup = /sys/fs/cgroup/a/memory.pressure\n");
	assert_int_equal(res(cfg, NULL, NULL, NULL, &s, why, sizeof(why)), 0);
	assert_string_equal(s.path, "/sys/fs/cgroup/a/memory.pressure");
	config_free(cfg);

	cfg = parse("[pressure]\nenabled = no\n");
	assert_int_equal(res(cfg, "/x", NULL, NULL, &s, why, sizeof(why)), 0);
	assert_false(s.enabled);
	config_free(cfg);
}

/* ---- the watcher, in a real event loop ---- */

struct seen {
	int events, gone;
	sd_event *e;
};

static void on_event(void *arg)
{
	struct seen *s = arg;

	s->events++;
	sd_event_exit(s->e, 0);
}

static void on_gone(void *arg)
{
	struct seen *s = arg;

	s->gone++;
	sd_event_exit(s->e, 0);
}

static void run_once(sd_event *e)
{
	/* Bounded: a missed event fails instead of hanging. */
	int i;

	for (i = 0; i < 50 && sd_event_get_state(e) != SD_EVENT_FINISHED; i++)
		assert_true(sd_event_run(e, 100000) >= 0);
}

static void watch_fifo(void **state)
{
	char dir[] = "/tmp/spl-kmemd-psi.XXXXXX";
	struct config *cfg = parse("");
	struct seen seen = { 0, 0, NULL };
	struct pressure_spec s;
	struct pressure *p;
	char why[100];
	int wfd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sd_event_new(&seen.e), 0);
	res(cfg, NULL, NULL, NULL, &s, why, sizeof(why));
	snprintf(s.path, sizeof(s.path), "%s/fifo", dir);
	assert_int_equal(mkfifo(s.path, 0600), 0);
	assert_int_equal(pressure_start(&p, seen.e, &s, on_event, on_gone, &seen, false, NULL), 0);
	assert_non_null(p);
	wfd = open(s.path, O_WRONLY | O_NONBLOCK);
	assert_true(wfd >= 0);
	assert_int_equal(write(wfd, "x", 1), 1);
	close(wfd);	/* no HUP storm: the watcher holds it read-write */
	run_once(seen.e);
	assert_int_equal(seen.events, 1);
	assert_int_equal(seen.gone, 0);
	pressure_stop(p);
	sd_event_unref(seen.e);
	unlink(s.path);
	rmdir(dir);
	config_free(cfg);
}

static void watch_socket(void **state)
{
	char dir[] = "/tmp/spl-kmemd-psi.XXXXXX", got[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct config *cfg = parse("");
	struct seen seen = { 0, 0, NULL };
	struct pressure_spec s;
	struct pressure *p;
	char why[100];
	int lfd, cfd;
	ssize_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sd_event_new(&seen.e), 0);
	cfg->pressure.systemd_watch = true;
	res(cfg, "/x", "c29tZSAxIDI=", NULL, &s, why, sizeof(why));
	snprintf(s.path, sizeof(s.path), "%s/sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(pressure_start(&p, seen.e, &s, on_event, on_gone, &seen, false, NULL), 0);
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	/* The trigger text goes to the socket too. */
	n = read(cfd, got, sizeof(got));
	assert_int_equal(n, (ssize_t)strlen("some 1 2") + 1);
	assert_string_equal(got, "some 1 2");
	assert_int_equal(write(cfd, "p", 1), 1);
	run_once(seen.e);
	assert_int_equal(seen.events, 1);
	/* The peer closing is the source going away. */
	close(cfd);
	sd_event_exit(seen.e, 0);
	seen.e = sd_event_unref(seen.e);
	assert_int_equal(sd_event_new(&seen.e), 0);
	pressure_stop(p);
	assert_int_equal(pressure_start(&p, seen.e, &s, on_event, on_gone, &seen, false, NULL), 0);
	cfd = accept(lfd, NULL, NULL);
	close(cfd);
	run_once(seen.e);
	assert_int_equal(seen.gone, 1);
	pressure_stop(p);
	close(lfd);
	sd_event_unref(seen.e);
	unlink(s.path);
	rmdir(dir);
	config_free(cfg);
}

static void watch_unavailable(void **state)
{
	struct config *cfg = parse("[pressure]\ncgroup = no/such/cgroup\n");
	struct pressure_spec s;
	struct pressure *p = (struct pressure *)1;
	sd_event *e;
	char why[100];
	int err = 0;

	(void)state;
	assert_int_equal(sd_event_new(&e), 0);
	res(cfg, NULL, NULL, NULL, &s, why, sizeof(why));
	/* Missing file: one log line, "not available", no failure; the
	 * caller learns ENOENT (a cgroup that may appear: it retries). */
	assert_int_equal(pressure_start(&p, e, &s, on_event, on_gone, NULL, false, &err), 1);
	assert_null(p);
	assert_int_equal(err, ENOENT);
	assert_int_equal(s.source, PSI_SRC_CGROUP);
	/* Off: the same. */
	s.enabled = false;
	assert_int_equal(pressure_start(&p, e, &s, on_event, on_gone, NULL, false, NULL), 1);
	assert_null(p);
	sd_event_unref(e);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sections),
		cmocka_unit_test(magazine_changes),
		cmocka_unit_test(reap_lists),
		cmocka_unit_test(cooldown),
		cmocka_unit_test(base64),
		cmocka_unit_test(resolve),
		cmocka_unit_test(resolve_own_cgroup_never),
		cmocka_unit_test(own_cgroup),
		cmocka_unit_test(resolve_config_sources),
		cmocka_unit_test(watch_fifo),
		cmocka_unit_test(watch_socket),
		cmocka_unit_test(watch_unavailable),
	};

	log_setup(false);
	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
