#!/bin/bash
# spl-kmemd scenarios, run in the VM by spl-kmemd-test.service with systemd
# as PID 1 (see run-vm.sh).  Each check prints "DAEMON: PASS|FAIL name" to
# the console (through /dev/kmsg) and to $OUT/results.txt; the last line
# is "DAEMON: DONE N passed, N failed".  Then the guest powers off.
#
# usage: guest.sh [--demo]
# shellcheck disable=SC2317  # functions run through check and wait_for
set -u

OUT=/var/tmp/spl-kmemd-test
CONF=/etc/spl-kmem/spl-kmemd.conf
MODDIR=/usr/local/lib/spl-kmemd-test
TEXTFILE=/var/lib/prometheus/node-exporter/spl_kmem.prom
PORT=9882
PASSED=0
FAILED=0
CURSOR=""

mkdir -p "$OUT" /var/lib/prometheus/node-exporter
: >"$OUT/results.txt"

say() {
	echo "<5>DAEMON: $*" >/dev/kmsg
	echo "DAEMON: $*" >>"$OUT/results.txt"
}
pass() {
	PASSED=$((PASSED + 1))
	say "PASS $*"
}
fail() {
	FAILED=$((FAILED + 1))
	say "FAIL $*"
}
# check NAME CMD...: pass or fail NAME on CMD's status.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}
# skipping SCENARIO WHY: true (and says so) if run-vm.sh listed SCENARIO in
# $MODDIR/skip for this kernel.
skipping() {
	grep -qx "$1" "$MODDIR/skip" 2>/dev/null || return 1
	say "SKIP $1: $2"
}
# wait_for SECONDS CMD...: until CMD succeeds, polling every 0.2 s.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS < end)); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}

# Journal of the daemon since the last mark().
mark() {
	CURSOR=$(journalctl -u spl-kmemd -n 0 --show-cursor --no-pager 2>/dev/null |
		sed -n 's/^-- cursor: //p')
}
since_mark() {
	if [[ -n $CURSOR ]]; then
		journalctl -u spl-kmemd --after-cursor="$CURSOR" -o cat --no-pager
	else
		journalctl -u spl-kmemd -o cat --no-pager
	fi
}
logged() { since_mark | grep -qE "$1"; }

mainpid() { systemctl show -p MainPID --value spl-kmemd; }
active() { [[ $(systemctl is-active spl-kmemd) == active ]]; }

# HTTP GET with bash's /dev/tcp: the whole response, CRs removed.
http_get() {
	local r
	exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
	printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$1" >&3
	r=$(timeout 10 cat <&3)
	exec 3<&-
	tr -d '\r' <<<"$r"
}
http_body() { http_get "$1" | sed '1,/^$/d'; }
# metric 'NAME{LABELS}': its value over HTTP.
metric() { http_body /metrics | awk -v m="$1" '$1 == m { print $2 }'; }
metric_is() { [[ $(metric "$1") == "$2" ]]; }
metric_above() {
	local v
	v=$(metric "$1")
	[[ -n $v ]] && ((v > $2))
}

mag_of() { splkmemctl -j show "$1" 2>/dev/null | grep -oE '"mag_size": ?[0-9]+' | grep -oE '[0-9]+$'; }
mag_is() { [[ $(mag_of "$1") == "$2" ]]; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

load_modules() {
	insmod "$MODDIR/spl_kmem.ko" && insmod "$MODDIR/spl_kmem_genl_test.ko" demo=1
}
unload_modules() {
	rmmod spl_kmem_genl_test && rmmod spl_kmem
}

write_config() {
	cat >"$CONF" <<EOF
# spl-kmemd VM test configuration
[tunables]
kmem_threads = 6

[cache demo_4k]
magazine_size = ${1:-16}

[cache demo_1*]
magazine_size = 8

[pressure]
threshold = 50ms
window = 1s
cooldown = 3s
${PRESSURE_EXTRA:-}

[metrics]
textfile = $TEXTFILE
listen = 127.0.0.1:$PORT
interval = 2s
EOF
}

finish() {
	journalctl -u spl-kmemd -o short-monotonic --no-pager >"$OUT/journal.txt" 2>&1
	systemctl status spl-kmemd --no-pager >"$OUT/status.txt" 2>&1
	say "DONE $PASSED passed, $FAILED failed"
	sync
	systemctl poweroff --no-block
	exit 0
}

# ---- the demonstration: the daemon under systemd, and its metrics ----

demo() {
	local d=$OUT/demo.txt
	write_config
	load_modules
	systemctl start spl-kmemd
	sleep 3
	{
		echo "\$ systemctl status spl-kmemd"
		systemctl status spl-kmemd --no-pager -n 0 | sed 's/[[:space:]]*$//'
		echo
		echo "\$ journalctl -u spl-kmemd -o cat"
		journalctl -u spl-kmemd -o cat --no-pager
		echo
		echo "\$ systemd-run -p MemoryHigh=48M hog 200 20   # a memory hog in a cgroup"
		systemd-run --quiet --unit=hog -p MemoryHigh=48M -p MemorySwapMax=0 \
			"$MODDIR/hog" 200 20
		wait_for 90 logged 'memory pressure: reaped'
		journalctl -u spl-kmemd -o cat --no-pager | grep 'memory pressure:' | tail -n 3
		systemctl stop hog 2>/dev/null
		sleep 1
		echo
		echo "# GET http://127.0.0.1:$PORT/metrics, some of its lines:"
		http_body /metrics | grep -E '^spl_kmem_cache_(info|magazine_size|memory_bytes|reaps_total)\{cache="demo_4k"|^spl_kmemd_(pressure_events|reaps|reaped_bytes)_total'
		echo
		echo "\$ systemd-analyze security spl-kmemd | tail -n 1"
		systemd-analyze security spl-kmemd --no-pager 2>/dev/null | tail -n 1
	} >"$d" 2>&1
	sync
	say "DEMO DONE"
	systemctl poweroff --no-block
	exit 0
}

[[ ${1:-} == --demo ]] && demo

SYSTEMD_VERSION=$(systemctl --version | awk 'NR == 1 { print $2 }')
say "guest up: kernel $(uname -r), $(nproc) cpus, systemd $SYSTEMD_VERSION, $(. /etc/os-release && echo "$PRETTY_NAME")"
write_config
mark

# ---- 1. start with the module absent: active, waiting, not polling ----

check "unit file passes systemd-analyze verify" \
	bash -c 'out=$(systemd-analyze verify --man=no /lib/systemd/system/spl-kmemd.service 2>&1); echo "$out" >'"$OUT"'/verify.txt; [[ -z $out ]]'
systemd-analyze security spl-kmemd.service --no-pager >"$OUT/security.txt" 2>&1
check "systemd-analyze security rates the unit OK or better ($(tail -n 1 "$OUT/security.txt" | grep -oE '[0-9.]+ [A-Z]+'))" \
	grep -qE 'Overall exposure level for spl-kmemd.service: [0-9.]+ (OK|SAFE)' "$OUT/security.txt"

check "systemctl start reaches active with the module not loaded" \
	bash -c 'systemctl start spl-kmemd && [[ $(systemctl is-active spl-kmemd) == active ]]'
check "it logs that it waits for the module" wait_for 10 logged 'module not loaded; waiting for it to appear'
check "STATUS= says it is waiting" \
	bash -c 'systemctl show -p StatusText --value spl-kmemd | grep -q "waiting for the spl_kmem module"'
pid=$(mainpid)
# systemd 254 and later hand every service with memory accounting its own
# cgroup's memory.pressure in $MEMORY_PRESSURE_WATCH: not the system's.
env_watch=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^MEMORY_PRESSURE_WATCH=//p')
say "INFO systemd $SYSTEMD_VERSION set MEMORY_PRESSURE_WATCH=${env_watch:-(unset)}"
check "the system's pressure is watched: /proc/pressure/memory, not the service's cgroup (log)" \
	logged 'watching memory pressure: /proc/pressure/memory \(system-wide\), some stall of 50 ms in 1000 ms'
check "nothing under the service's own cgroup is watched" \
	bash -c "! journalctl -u spl-kmemd -o cat --no-pager | grep -q 'watching memory pressure: /sys/fs/cgroup/system.slice/spl-kmemd.service'"
if ((SYSTEMD_VERSION >= 254)); then
	check "systemd $SYSTEMD_VERSION set \$MEMORY_PRESSURE_WATCH to the service's cgroup" \
		test "$env_watch" = /sys/fs/cgroup/system.slice/spl-kmemd.service/memory.pressure
	check "...and the daemon says it ignores it" \
		logged "ignoring .MEMORY_PRESSURE_WATCH=$env_watch from systemd \(\[pressure\] systemd_watch = no\)"
else
	check "systemd $SYSTEMD_VERSION sets no \$MEMORY_PRESSURE_WATCH" test -z "$env_watch"
fi
check "pressure source in the metrics: source=system, path=/proc/pressure/memory, the configured trigger" \
	wait_for 10 metric_is 'spl_kmemd_pressure_info{source="system",path="/proc/pressure/memory",type="some",threshold_seconds="0.05",window_seconds="1"}' 1
check "pressure trigger active in the metrics" metric_is spl_kmemd_pressure_trigger_active 1
t0=$(cpu_ticks "$pid")
sleep 5
t1=$(cpu_ticks "$pid")
check "no busy polling while waiting ($((t1 - t0)) ticks of CPU in 5 s)" test $((t1 - t0)) -le 25

# ---- 2. the module appears; a cache created later is configured ----

mark
insmod "$MODDIR/spl_kmem.ko"
check "connects when the module is loaded" wait_for 30 logged 'connected to the spl_kmem module'
check "tunables applied on connect (kmem_threads = 6)" \
	wait_for 10 grep -qx 6 /sys/module/spl_kmem/parameters/kmem_threads
check "tunable change logged" logged 'tunable kmem_threads: 4 -> 6'
insmod "$MODDIR/spl_kmem_genl_test.ko" demo=1
check "cache created later gets its magazine size (demo_4k = 16, exact name)" wait_for 30 mag_is demo_4k 16
check "cache created later gets its magazine size (demo_128k = 8, glob demo_1*)" wait_for 30 mag_is demo_128k 8
check "magazine change logged at notice priority" \
	bash -c "journalctl -u spl-kmemd -p notice..notice -o cat --no-pager | grep -q 'cache demo_4k: magazine size .* -> 16 (\[cache demo_4k\], line 5)'"

# ---- 3. metrics ----

check "textfile written with per-cache series" \
	wait_for 20 grep -q '^spl_kmem_cache_magazine_size{cache="demo_4k"} 16$' "$TEXTFILE"
check "textfile is world-readable" bash -c "[[ \$(stat -c %a $TEXTFILE) == 644 ]]"
check "no temporary files left next to the textfile" \
	bash -c "[[ \$(ls /var/lib/prometheus/node-exporter | wc -l) == 1 ]]"
http_metrics_ok() {
	local r
	r=$(http_get /metrics)
	grep -q '^HTTP/1.[01] 200' <<<"$r" &&
		grep -qi '^Content-Type: text/plain; version=0.0.4' <<<"$r"
}
http_404() { http_get /nope | grep -q '^HTTP/1.[01] 404'; }
check "HTTP /metrics answers 200 with the Prometheus content type" http_metrics_ok
check "HTTP answers 404 elsewhere" http_404
check "module_loaded metric is 1" metric_is spl_kmemd_module_loaded 1
cp "$TEXTFILE" "$OUT/textfile.prom"
http_body /metrics >"$OUT/http.prom"

# ---- 4. real memory pressure: PSI fires, the daemon reaps ----

mark
bytes_before=$(metric spl_kmemd_reaped_bytes_total)
systemd-run --quiet --unit=hog -p MemoryHigh=48M -p MemorySwapMax=0 "$MODDIR/hog" 200 40
check "PSI event under a memory hog makes the daemon reap, bytes in the log" \
	wait_for 90 logged 'memory pressure: reaped every cache: [0-9]+ slabs, .* \([1-9][0-9]* bytes\) returned'
grep -E 'some|full' /proc/pressure/memory | sed 's/^/psi: /' >>"$OUT/results.txt"
check "pressure events counted in the metrics" metric_above spl_kmemd_pressure_events_total 0
check "returned bytes show in the metrics" \
	wait_for 10 metric_above spl_kmemd_reaped_bytes_total "${bytes_before:-0}"
check "reaps logged at notice priority" \
	bash -c "journalctl -u spl-kmemd -p notice..notice -o cat --no-pager | grep -q 'memory pressure: reaped'"
check "last reap time in the metrics (Unix time)" \
	wait_for 10 metric_above spl_kmemd_last_reap_timestamp_seconds 1600000000
check "reap duration histogram counted the reap" \
	metric_above spl_kmemd_reap_duration_seconds_count 0
# From one scrape: the hog may cause another reap between two.
hist_consistent() {
	local body inf count
	body=$(http_body /metrics)
	inf=$(awk '$1 == "spl_kmemd_reap_duration_seconds_bucket{le=\"+Inf\"}" { print $2 }' <<<"$body")
	count=$(awk '$1 == "spl_kmemd_reap_duration_seconds_count" { print $2 }' <<<"$body")
	[[ -n $inf && $inf == "$count" ]]
}
check "reap duration histogram: +Inf bucket equals the count" hist_consistent
systemctl stop hog >/dev/null 2>&1
http_body /metrics >"$OUT/http-after-reap.prom"
cp "$TEXTFILE" "$OUT/textfile-after-reap.prom"

# ---- 5. reload with a bad file: reported, the running configuration kept ----

pid=$(mainpid)
cp "$CONF" "$OUT/good.conf"
printf '[bogus]\nx = 1\n' >>"$CONF"
bad_line=$(grep -n '^\[bogus\]' "$CONF" | cut -d: -f1)
mark
if systemctl reload spl-kmemd 2>"$OUT/reload-bad.txt"; then rc=0; else rc=$?; fi
check "systemctl reload with a bad file fails (exit $rc)" test "$rc" -ne 0
check "reload with a bad file: the check logs file:line at err priority" \
	wait_for 20 bash -c "journalctl -u spl-kmemd -p err -o cat --no-pager | grep -q 'spl-kmemd.conf:$bad_line: unknown section \[bogus\]'"
check "reload with a bad file: still active, same process" \
	bash -c "[[ \$(systemctl is-active spl-kmemd) == active && \$(systemctl show -p MainPID --value spl-kmemd) == $pid ]]"
check "old configuration still in force (demo_4k = 16)" mag_is demo_4k 16
# A SIGHUP that bypasses the check: the daemon's own refusal.
mark
kill -HUP "$pid"
check "SIGHUP with a bad file: logs file:line" \
	wait_for 20 logged "spl-kmemd.conf:$bad_line: unknown section \[bogus\]"
check "SIGHUP with a bad file: keeps the running configuration" \
	logged 'reload failed \(the file has errors\): keeping the running configuration'
check "SIGHUP with a bad file: still active, same process" \
	bash -c "[[ \$(systemctl is-active spl-kmemd) == active && \$(systemctl show -p MainPID --value spl-kmemd) == $pid ]]"
check "reload failure counted" wait_for 10 metric_is 'spl_kmemd_config_reloads_total{result="failure"}' 1
check "last reload unsuccessful in the metrics" wait_for 10 metric_is spl_kmemd_config_last_reload_successful 0
check "old configuration still in force after SIGHUP (demo_4k = 16)" mag_is demo_4k 16

# ---- 6. SIGHUP: a good file is applied without a restart ----

write_config 32
mark
check "systemctl reload with a good file succeeds" systemctl reload spl-kmemd
check "reload with a good file is applied (demo_4k = 32)" wait_for 20 mag_is demo_4k 32
check "reload logged" logged 'configuration reloaded from'
check "reload kept the same process" bash -c "[[ \$(systemctl show -p MainPID --value spl-kmemd) == $pid ]]"

# ---- 7. kill -9: systemd restarts it ----

mark
kill -9 "$pid"
check "kill -9: restarted by systemd" \
	wait_for 30 bash -c "p=\$(systemctl show -p MainPID --value spl-kmemd); [[ \$p != 0 && \$p != $pid && \$(systemctl is-active spl-kmemd) == active ]]"
check "kill -9: the new process reconnects" wait_for 20 logged 'connected to the spl_kmem module'
check "one restart so far (NRestarts=1: no watchdog kill)" \
	bash -c '[[ $(systemctl show -p NRestarts --value spl-kmemd) == 1 ]]'

# ---- 8. module unloaded and loaded again ----

# splkmemctl monitor sees it too: without -w it ends, with -w it waits.
splkmemctl monitor -j >"$OUT/monitor.json" 2>"$OUT/monitor.err" &
mon=$!
splkmemctl monitor -w >"$OUT/monitor-w.txt" 2>"$OUT/monitor-w.err" &
monw=$!
wait_for 10 grep -q listening "$OUT/monitor.err"
wait_for 10 grep -q listening "$OUT/monitor-w.err"
mark
unload_modules
check "module unload: logged, waiting" wait_for 20 logged 'spl_kmem module unloaded; waiting for it to come back'
check "module unload: daemon still active" active
check "module unload: module_loaded metric is 0" wait_for 10 metric_is spl_kmemd_module_loaded 0
check "monitor: ends by itself when the module is unloaded" \
	wait_for 20 bash -c "! kill -0 $mon 2>/dev/null"
if wait "$mon"; then rc=0; else rc=$?; fi
check "monitor: ...with status 0 ($rc)" test "$rc" -eq 0
check "monitor -j: cache-del events with a timestamp, then module-unloaded" \
	bash -c "grep -q '\"timestamp\":\"20[0-9-]*T[0-9:.]*[-+][0-9]*\",\"event\":\"cache-del\",\"cache\":\"demo_4k\"' $OUT/monitor.json &&
		tail -n 1 $OUT/monitor.json | grep -q '\"event\":\"module-unloaded\",\"cache\":null'"
check "monitor -w: still running after the unload" kill -0 "$monw"
mark
load_modules
check "module reload: reconnects" wait_for 30 logged 'connected to the spl_kmem module'
check "module reload: the new caches get their magazine size" wait_for 30 mag_is demo_4k 32
check "module reload: module_loaded metric is 1" wait_for 10 metric_is spl_kmemd_module_loaded 1
check "monitor -w: says the module is back, then prints its events" \
	wait_for 20 bash -c "grep -q ' module-loaded' $OUT/monitor-w.txt && grep -A1000 ' module-loaded' $OUT/monitor-w.txt | grep -qE '^20[^ ]+ cache-new +demo_4k'"
kill "$monw" 2>/dev/null
wait "$monw" 2>/dev/null

# ---- 8b. a Prometheus server scrapes it, and alerts (prometheus.sh) ----

# Only where run-vm.sh put it in the image (one kernel: see there).
# shellcheck source=prometheus.sh
[[ ! -f $MODDIR/prometheus.sh ]] || . "$MODDIR/prometheus.sh"

# ---- 9. a bad file at start: refuses to start, names file:line ----

systemctl stop spl-kmemd
printf '[metrics]\ninterval = 1s\nwrong_key = 3\n' >"$CONF"
mark
if systemctl start spl-kmemd 2>/dev/null; then rc=0; else rc=$?; fi
check "bad file at start: systemctl start fails" test "$rc" -ne 0
check "bad file at start: logged as file:line at err priority" \
	bash -c "journalctl -u spl-kmemd -p err -o cat --no-pager | grep -q 'spl-kmemd.conf:3: unknown key .wrong_key. in \[metrics\]'"
check "bad file at start: exit status 78, not restarted" \
	bash -c '[[ $(systemctl show -p ExecMainStatus --value spl-kmemd) == 78 && $(systemctl is-active spl-kmemd) != activating ]]'
cp "$OUT/good.conf" "$CONF"
systemctl reset-failed spl-kmemd 2>/dev/null
check "good file again: starts" bash -c 'systemctl start spl-kmemd && [[ $(systemctl is-active spl-kmemd) == active ]]'
check "watchdog configured (WatchdogUSec=30s)" \
	bash -c '[[ $(systemctl show -p WatchdogUSec --value spl-kmemd) == 30s ]]'
check "no watchdog timeout in the journal" \
	bash -c '! journalctl -u spl-kmemd --no-pager | grep -qi "watchdog timeout"'
check "STATUS= says it is connected" \
	wait_for 10 bash -c 'systemctl show -p StatusText --value spl-kmemd | grep -q "connected to spl_kmem"'
check "--check accepts the shipped example" spl-kmemd --check -c "$MODDIR/spl-kmemd.conf.example"

# ---- 10. systemd_watch = yes: $MEMORY_PRESSURE_WATCH / _WRITE ----

# systemd's side (drop-ins, daemon-reload and the environment it hands the
# service), the same on every kernel.
DROPIN=/run/systemd/system/spl-kmemd.service.d
if ! skipping systemd_watch "run-vm.sh skips it on this kernel"; then
	restart_with_env() {
		mkdir -p "$DROPIN"
		printf '[Service]\nEnvironment=%s\n' "$1" >"$DROPIN/env.conf"
		systemctl daemon-reload
		mark
		systemctl restart spl-kmemd
	}
	PRESSURE_EXTRA="systemd_watch = yes" write_config 32
	restart_with_env MEMORY_PRESSURE_WATCH=/dev/null
	check "MEMORY_PRESSURE_WATCH=/dev/null: not watching, and says why" \
		wait_for 20 logged 'memory pressure watching is off: systemd set .MEMORY_PRESSURE_WATCH=/dev/null'
	check "MEMORY_PRESSURE_WATCH=/dev/null: still active" active
	fifo=/run/spl-kmemd-test-psi.fifo
	mkfifo -m 600 "$fifo"
	restart_with_env "MEMORY_PRESSURE_WATCH=$fifo MEMORY_PRESSURE_WRITE=$(printf 'some 50000 2000000\0' | base64 -w0)"
	check "MEMORY_PRESSURE_WATCH/_WRITE honoured: that path, the decoded trigger" \
		wait_for 20 logged "watching memory pressure: $fifo \(from systemd\) with trigger .some 50000 2000000."
	check "...and the metrics say so (source=systemd, the trigger systemd wrote)" \
		wait_for 10 metric_is "spl_kmemd_pressure_info{source=\"systemd\",path=\"$fifo\",type=\"some\",threshold_seconds=\"0.05\",window_seconds=\"2\"}" 1
	echo pressure >"$fifo"
	check "MEMORY_PRESSURE_WATCH (a FIFO): an event there reaps" \
		wait_for 20 logged 'memory pressure: reaped every cache'
	rm -f "$fifo"
	# What systemd 254+ sets by itself: the service's own cgroup.  Never.
	own=/sys/fs/cgroup/system.slice/spl-kmemd.service/memory.pressure
	restart_with_env "MEMORY_PRESSURE_WATCH=$own"
	check "systemd_watch = yes, but \$MEMORY_PRESSURE_WATCH is the service's own cgroup: ignored, says why" \
		wait_for 20 logged "ignoring .MEMORY_PRESSURE_WATCH=$own: that is the daemon's own cgroup"
	check "...and the system's pressure is watched instead" \
		logged 'watching memory pressure: /proc/pressure/memory \(system-wide\)'
	# ProtectControlGroups=yes: cgroup files are read-only to the service.
	cg=/sys/fs/cgroup/system.slice/memory.pressure
	restart_with_env "MEMORY_PRESSURE_WATCH=$cg"
	check "trigger not allowed: exactly one clear log line" \
		wait_for 20 bash -c "[[ \$(journalctl -u spl-kmemd --after-cursor='$CURSOR' -o cat --no-pager | grep -c 'not watching memory pressure: $cg (from systemd): ') == 1 ]]"
	check "trigger not allowed: the rest keeps working (still active)" active
	check "trigger not allowed: pressure_trigger_active metric is 0" \
		wait_for 10 metric_is spl_kmemd_pressure_trigger_active 0
	check "trigger not allowed: metrics still served, module connected" \
		metric_is spl_kmemd_module_loaded 1
	rm -f "$DROPIN/env.conf"
fi

# ---- 11. a watched cgroup removed and made again: watched again ----

# The parent outlives the cgroup: a bind mount of the cgroup itself would
# keep showing the removed directory (see spl-kmemd.conf(5)).
mkdir -p "$DROPIN"
printf '[Service]\nReadWritePaths=/sys/fs/cgroup/system.slice\n' >"$DROPIN/cgroup.conf"
systemctl daemon-reload
systemd-run --quiet --unit=workload sleep 600
PRESSURE_EXTRA="cgroup = system.slice/workload.service" write_config 32
wcg=/sys/fs/cgroup/system.slice/workload.service/memory.pressure
mark
systemctl restart spl-kmemd
pid=$(mainpid)
check "cgroup = ...: that cgroup's memory.pressure is watched" \
	wait_for 20 logged "watching memory pressure: $wcg \(cgroup\)"
check "cgroup = ...: source=cgroup in the metrics" \
	wait_for 10 metric_is "spl_kmemd_pressure_info{source=\"cgroup\",path=\"$wcg\",type=\"some\",threshold_seconds=\"0.05\",window_seconds=\"1\"}" 1
mark
systemctl stop workload
check "cgroup removed: noticed, and it will be watched again" \
	wait_for 20 logged "will watch $wcg again as soon as it is back"
check "cgroup removed: trigger inactive in the metrics" \
	wait_for 10 metric_is spl_kmemd_pressure_trigger_active 0
check "cgroup removed: still active" active
mark
# The unit made again, this time a memory hog: the new cgroup's pressure.
systemd-run --quiet --unit=workload -p MemoryHigh=48M -p MemorySwapMax=0 "$MODDIR/hog" 200 40
check "cgroup made again: watched again without a reload" \
	wait_for 20 logged "memory pressure source is back: watching $wcg"
check "cgroup made again: trigger active in the metrics" \
	wait_for 10 metric_is spl_kmemd_pressure_trigger_active 1
check "cgroup made again: its pressure makes the daemon reap" \
	wait_for 90 logged 'memory pressure: reaped every cache'
check "cgroup made again: same process, no SIGHUP" \
	bash -c "[[ \$(systemctl show -p MainPID --value spl-kmemd) == $pid ]] && ! journalctl -u spl-kmemd --after-cursor='$CURSOR' -o cat --no-pager | grep -q 'reloading'"
systemctl stop workload >/dev/null 2>&1
rm -rf "$DROPIN"
systemctl daemon-reload

# ---- 12. what fails at start does not stop the reaper ----

# A tunable the module refuses (kmem_threads is 1..64 in the module).
systemctl stop spl-kmemd
write_config 32
sed -i 's/^kmem_threads = 6$/kmem_threads = 1000/' "$CONF"
mark
check "a tunable the module refuses: systemctl start succeeds" systemctl start spl-kmemd
check "...the refusal is logged with file:line and the module's range" \
	wait_for 20 logged 'spl-kmemd.conf:3: kmem_threads = 1000 is outside the loaded module.s range 1\.\.64'
check "...counted in the metrics" \
	wait_for 10 metric_above 'spl_kmemd_errors_total{operation="tunable"}' 0
check "...the rest is applied (demo_4k = 32) and it stays active" \
	bash -c 'sleep 3; [[ $(systemctl is-active spl-kmemd) == active ]]'
check "...pressure still watched" wait_for 10 metric_is spl_kmemd_pressure_trigger_active 1
check "...kmem_threads left as the module had it" \
	bash -c '[[ $(cat /sys/module/spl_kmem/parameters/kmem_threads) != 1000 ]]'
# The HTTP port taken by another process.
systemctl stop spl-kmemd
write_config 32
systemd-socket-activate -l "127.0.0.1:$PORT" /bin/sleep 600 >/dev/null 2>&1 &
blocker=$!
sleep 1
mark
check "HTTP port taken: systemctl start succeeds" systemctl start spl-kmemd
check "...logged" wait_for 20 logged "http: cannot listen on 127.0.0.1:$PORT"
check "...it stays active and watches pressure" \
	bash -c 'sleep 3; [[ $(systemctl is-active spl-kmemd) == active ]] && journalctl -u spl-kmemd --after-cursor="'"$CURSOR"'" -o cat --no-pager | grep -q "watching memory pressure: /proc/pressure/memory"'
check "...the textfile still counts the failure" \
	wait_for 20 grep -qE '^spl_kmemd_errors_total\{operation="http"\} [1-9]' "$TEXTFILE"
kill "$blocker" 2>/dev/null
wait "$blocker" 2>/dev/null
check "...and once the port is free, /metrics is served without a restart" \
	wait_for 30 metric_is spl_kmemd_module_loaded 1
check "...the failure was logged once, not at every retry" \
	bash -c "[[ \$(journalctl -u spl-kmemd --after-cursor='$CURSOR' -o cat --no-pager | grep -c 'http: not serving metrics for now') == 1 ]]"
check "...and counted once" \
	metric_is 'spl_kmemd_errors_total{operation="http"}' 1

systemctl stop spl-kmemd
check "clean stop removes the textfile" test ! -e "$TEXTFILE"
finish
