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

say "guest up: kernel $(uname -r), $(nproc) cpus, systemd $(systemctl --version | awk 'NR == 1 { print $2 }')"
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
check "PSI trigger armed" logged 'watching memory pressure: /proc/pressure/memory'
pid=$(mainpid)
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
systemctl stop hog >/dev/null 2>&1
http_body /metrics >"$OUT/http-after-reap.prom"
cp "$TEXTFILE" "$OUT/textfile-after-reap.prom"

# ---- 5. SIGHUP: a bad file keeps the running configuration ----

pid=$(mainpid)
cp "$CONF" "$OUT/good.conf"
printf '[bogus]\nx = 1\n' >>"$CONF"
bad_line=$(grep -n '^\[bogus\]' "$CONF" | cut -d: -f1)
mark
systemctl reload spl-kmemd
check "reload with a bad file: logs file:line" \
	wait_for 20 logged "spl-kmemd.conf:$bad_line: unknown section \[bogus\]"
check "reload with a bad file: keeps the running configuration" \
	logged 'reload failed \(the file has errors\): keeping the running configuration'
check "reload with a bad file: the error is at err priority" \
	bash -c "journalctl -u spl-kmemd -p err -o cat --no-pager | grep -q 'spl-kmemd.conf:$bad_line: unknown section'"
check "reload with a bad file: still active, same process" \
	bash -c "[[ \$(systemctl is-active spl-kmemd) == active && \$(systemctl show -p MainPID --value spl-kmemd) == $pid ]]"
check "reload failure counted" metric_is 'spl_kmemd_config_reloads_total{result="failure"}' 1
check "old configuration still in force (demo_4k = 16)" mag_is demo_4k 16

# ---- 6. SIGHUP: a good file is applied without a restart ----

write_config 32
mark
systemctl reload spl-kmemd
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

mark
unload_modules
check "module unload: logged, waiting" wait_for 20 logged 'spl_kmem module unloaded; waiting for it to come back'
check "module unload: daemon still active" active
check "module unload: module_loaded metric is 0" wait_for 10 metric_is spl_kmemd_module_loaded 0
mark
load_modules
check "module reload: reconnects" wait_for 30 logged 'connected to the spl_kmem module'
check "module reload: the new caches get their magazine size" wait_for 30 mag_is demo_4k 32
check "module reload: module_loaded metric is 1" wait_for 10 metric_is spl_kmemd_module_loaded 1

# ---- 8b. a Prometheus server scrapes it, and alerts (prometheus.sh) ----

# shellcheck source=prometheus.sh
. "$MODDIR/prometheus.sh"

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

# ---- 10. $MEMORY_PRESSURE_WATCH / _WRITE, and a trigger we may not set ----

DROPIN=/run/systemd/system/spl-kmemd.service.d
restart_with_env() {
	mkdir -p "$DROPIN"
	printf '[Service]\nEnvironment=%s\n' "$1" >"$DROPIN/env.conf"
	systemctl daemon-reload
	mark
	systemctl restart spl-kmemd
}
restart_with_env MEMORY_PRESSURE_WATCH=/dev/null
check "MEMORY_PRESSURE_WATCH=/dev/null: not watching, and says why" \
	wait_for 20 logged 'memory pressure watching is off: systemd set .MEMORY_PRESSURE_WATCH=/dev/null'
check "MEMORY_PRESSURE_WATCH=/dev/null: still active" active
fifo=/run/spl-kmemd-test-psi.fifo
mkfifo -m 600 "$fifo"
restart_with_env "MEMORY_PRESSURE_WATCH=$fifo MEMORY_PRESSURE_WRITE=$(printf 'some 50000 2000000\0' | base64 -w0)"
check "MEMORY_PRESSURE_WATCH/_WRITE honoured: that path, the decoded trigger" \
	wait_for 20 logged "watching memory pressure: $fifo \(from systemd\) with trigger .some 50000 2000000."
echo pressure >"$fifo"
check "MEMORY_PRESSURE_WATCH (a FIFO): an event there reaps" \
	wait_for 20 logged 'memory pressure: reaped every cache'
rm -f "$fifo"
# ProtectControlGroups=yes: the service's cgroup file is read-only to it.
cg=/sys/fs/cgroup/system.slice/spl-kmemd.service/memory.pressure
restart_with_env "MEMORY_PRESSURE_WATCH=$cg"
check "trigger not allowed: exactly one clear log line" \
	wait_for 20 bash -c "[[ \$(journalctl -u spl-kmemd --after-cursor='$CURSOR' -o cat --no-pager | grep -c 'not watching memory pressure: $cg (from systemd): ') == 1 ]]"
check "trigger not allowed: the rest keeps working (still active)" active
check "trigger not allowed: pressure_trigger_active metric is 0" \
	wait_for 10 metric_is spl_kmemd_pressure_trigger_active 0
check "trigger not allowed: metrics still served, module connected" \
	metric_is spl_kmemd_module_loaded 1
rm -rf "$DROPIN"
systemctl daemon-reload

systemctl stop spl-kmemd
finish
