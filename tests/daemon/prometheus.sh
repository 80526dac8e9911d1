#!/bin/bash
# A real Prometheus server (Debian's package) scrapes spl-kmemd, with the
# shipped alert rules (monitoring/prometheus/spl-kmem.rules.yml): its HTTP
# API has the cache series; the module unloaded, SplKmemModuleNotLoaded
# fires; loaded again, it resolves.
#
# Sourced by guest.sh (uses its check/wait_for/load_modules/unload_modules/
# mag_is, $OUT, $MODDIR, $PORT) with the daemon active, connected to the
# module, its configuration applied (demo_4k = 32), serving /metrics on
# 127.0.0.1:$PORT; it leaves it so.  Scrapes every 5 s (a shorter timeout
# fails scrapes of a loaded TCG guest, and a failed scrape resets pending
# alerts), rule evaluations every second, and every "for:" of the rules
# shortened to 10 s, so that this takes about a minute under TCG; the
# expressions are the shipped ones.
# shellcheck shell=bash disable=SC2317

PROM=127.0.0.1:9090
PROM_RULES=/etc/prometheus/spl-kmem.rules.yml
PROM_LOG=$OUT/prometheus.txt

# prom_get PATH: the body of a GET to the Prometheus server (HTTP/1.0).
prom_get() {
	local r
	exec 4<>"/dev/tcp/${PROM%:*}/${PROM#*:}" || return 1
	printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$1" >&4
	r=$(timeout 10 cat <&4)
	exec 4<&-
	tr -d '\r' <<<"$r" | sed '1,/^$/d'
}
urlencode() {
	local s=$1 i c out=""
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[a-zA-Z0-9._~-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	echo "$out"
}
# prom_query PROMQL: the JSON answer of /api/v1/query, also logged.
prom_query() {
	local r
	r=$(prom_get "/api/v1/query?query=$(urlencode "$1")")
	printf '%s\n=> %s\n' "$1" "$r" >>"$PROM_LOG"
	echo "$r"
}
# prom_has PROMQL [REGEX]: the query succeeds with a non-empty result
# (matching REGEX when given).
prom_has() {
	local r
	r=$(prom_query "$1")
	grep -q '"status":"success"' <<<"$r" && grep -q '"result":\[{' <<<"$r" &&
		{ [[ -z ${2:-} ]] || grep -qE "$2" <<<"$r"; }
}
prom_empty() {
	local r
	r=$(prom_query "$1")
	grep -q '"status":"success"' <<<"$r" && grep -q '"result":\[\]' <<<"$r"
}
# Every alert of the rules file is loaded, evaluated, and none in error.
prom_rules_ok() {
	local r want got
	r=$(prom_get /api/v1/rules)
	printf '/api/v1/rules\n=> %s\n' "$r" >>"$PROM_LOG"
	want=$(grep -c -- '- alert:' "$PROM_RULES")
	got=$(grep -o '"health":"ok"' <<<"$r" | wc -l)
	grep -q '"name":"SplKmemModuleNotLoaded"' <<<"$r" && ! grep -q '"health":"err' <<<"$r" &&
		((got == want))
}
prom_ready() { prom_get /-/ready | grep -q 'Ready'; }

prometheus_scenario() {
	local alert='ALERTS{alertname="SplKmemModuleNotLoaded"'
	: >"$PROM_LOG"
	if ! command -v prometheus >/dev/null; then
		fail "prometheus: the prometheus package is in the guest (add it to ROOTFS_PKGS)"
		return
	fi
	sed -E 's/^([[:space:]]+for:).*/\1 10s/' "$MODDIR/spl-kmem.rules.yml" >"$PROM_RULES"
	chmod 644 "$PROM_RULES"
	cat >/etc/prometheus/prometheus.yml <<-EOF
		global:
		  scrape_interval: 5s
		  scrape_timeout: 5s
		  evaluation_interval: 1s
		rule_files:
		  - $PROM_RULES
		scrape_configs:
		  - job_name: spl-kmemd
		    static_configs:
		      - targets: ['127.0.0.1:$PORT']
	EOF
	check "prometheus: promtool accepts the configuration and the shipped rules ($(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }'))" \
		bash -c "promtool check config /etc/prometheus/prometheus.yml >>'$PROM_LOG' 2>&1"
	systemctl restart prometheus
	check "prometheus: the server is ready" wait_for 120 prom_ready
	check "prometheus: it scrapes spl-kmemd (up == 1)" \
		wait_for 60 prom_has 'up{job="spl-kmemd"} == 1'
	check "prometheus: its HTTP API has the cache series (spl_kmem_cache_objects{cache=\"demo_4k\"})" \
		wait_for 30 prom_has 'spl_kmem_cache_objects{job="spl-kmemd",cache="demo_4k"}' '"instance":"127.0.0.1:'"$PORT"'"'
	check "prometheus: one memory series per cache the daemon reports" \
		prom_has 'count(spl_kmem_cache_memory_bytes{job="spl-kmemd"}) == on() spl_kmem_caches{job="spl-kmemd"}'
	check "prometheus: the shipped rules are loaded, every one healthy ($(grep -c -- '- alert:' "$PROM_RULES") alerts)" \
		wait_for 20 prom_rules_ok
	check "prometheus: SplKmemModuleNotLoaded does not fire with the module loaded" \
		prom_empty "$alert}"

	unload_modules
	check "prometheus: module unloaded: SplKmemModuleNotLoaded pending first (for: 10s)" \
		wait_for 60 prom_has "$alert,alertstate=\"pending\"}"
	check "prometheus: module unloaded: SplKmemModuleNotLoaded fires, critical, for this instance" \
		wait_for 120 prom_has "$alert,alertstate=\"firing\",severity=\"critical\",instance=\"127.0.0.1:$PORT\"}"
	check "prometheus: module unloaded: the cache series are gone" \
		prom_empty 'spl_kmem_cache_objects{job="spl-kmemd"}'

	check "prometheus: every scrape of spl-kmemd succeeded, the module gone or not" \
		prom_empty 'min_over_time(up{job="spl-kmemd"}[10m]) == 0'
	prom_get /api/v1/alerts >>"$PROM_LOG"

	load_modules
	check "prometheus: module loaded again: the alert resolves" wait_for 60 prom_empty "$alert}"
	check "prometheus: module loaded again: the cache series are back" \
		wait_for 30 prom_has 'spl_kmem_cache_objects{job="spl-kmemd",cache="demo_4k"}'
	check "prometheus: module loaded again: the daemon configured the new caches" wait_for 30 mag_is demo_4k 32
	systemctl stop prometheus
}

prometheus_scenario
