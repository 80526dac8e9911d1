#!/bin/bash
# Runs inside the journey's guest (systemd as PID 1, started by the oneshot
# unit journey-check.service), then powers it off.  Prints one line per
# check to the console:
#   JOURNEY: PASS <name>  /  JOURNEY: FAIL <name>: <reason>
#   JOURNEY: DONE <n> passed, <n> failed
#
# usage: guest.sh first|newer
#   first  the kernel the packages were installed with: the module was
#          loaded at boot, "systemctl enable --now spl-kmemd", splkmemctl
#   newer  the kernel installed afterwards: the same, then
#          "apt-get purge spl-kmem-dkms spl-kmem-tools" and nothing left
# /usr/local/lib/journey/expect holds VERSION= and KREL= (set by journey.sh).
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive SYSTEMD_PAGER='' SYSTEMD_COLORS=0
phase=${1:?phase}
# shellcheck source=/dev/null
. /usr/local/lib/journey/expect
OUT=/var/tmp/journey
mkdir -p "$OUT"
PASSED=0
FAILED=0

say() {
	local t
	t=$(cut -d' ' -f1 /proc/uptime)
	echo "JOURNEY: $* [${t%.*}s]" >/dev/console
	echo "JOURNEY: $*"
}
pass() {
	PASSED=$((PASSED + 1))
	say "PASS $1"
}
fail() {
	FAILED=$((FAILED + 1))
	say "FAIL $1: $2"
}
# Show a command's output on the console, prefixed (for the log).
show() { sed 's/^/JOURNEY:   | /' >/dev/console; }

finish() {
	say "DONE $PASSED passed, $FAILED failed"
	sync
	systemctl poweroff --no-block
	exit 0
}

# --- the module, loaded at boot by systemd-modules-load -------------------
check_module() {
	local where ver
	if [[ $(uname -r) == "$KREL" ]]; then
		pass "$phase: booted kernel $KREL"
	else
		fail "$phase: booted kernel" "uname -r is $(uname -r), expected $KREL"
	fi
	# Nothing in this script loads it: only modules-load.d can have.
	if [[ -d /sys/module/spl_kmem ]] && lsmod | grep -q '^spl_kmem '; then
		pass "$phase: spl_kmem loaded at boot"
	else
		fail "$phase: spl_kmem loaded at boot" "not in lsmod; systemd-modules-load: $(systemctl is-active systemd-modules-load.service)"
		journalctl -b -u systemd-modules-load.service --no-pager 2>&1 | tail -n 20 | show
	fi
	journalctl -b -u systemd-modules-load.service --no-pager -o cat 2>/dev/null | grep -i spl_kmem | show
	ver=$(cat /sys/module/spl_kmem/version 2>/dev/null)
	where=$(modinfo -n spl_kmem 2>/dev/null)
	if [[ $ver == "$VERSION" && $where == /lib/modules/$KREL/updates/dkms/spl_kmem.ko* ]]; then
		pass "$phase: module version $ver from $where"
	else
		fail "$phase: module version and origin" "version '$ver' (expected $VERSION), file '$where'"
	fi
	if dkms status -m spl-kmem -k "$KREL" 2>&1 | tee "$OUT/dkms-status" | grep -q ': installed'; then
		pass "$phase: dkms status: installed for $KREL"
	else
		fail "$phase: dkms status" "$(tr '\n' ' ' <"$OUT/dkms-status")"
	fi
}

# --- the service and the CLI ------------------------------------------------
check_service() {
	local st
	if [[ $phase == newer ]]; then
		# Enabled since the first boot: it must have started by itself.
		for _ in $(seq 1 60); do
			st=$(systemctl is-active spl-kmemd.service)
			[[ $st == activating ]] || break
			sleep 1
		done
		if [[ $st == active ]]; then
			pass "$phase: spl-kmemd started at boot"
		else
			fail "$phase: spl-kmemd started at boot" "is-active: $st"
		fi
	fi
	if timeout 120 systemctl enable --now spl-kmemd >"$OUT/enable" 2>&1; then
		pass "$phase: systemctl enable --now spl-kmemd"
	else
		fail "$phase: systemctl enable --now spl-kmemd" "$(tr '\n' ' ' <"$OUT/enable")"
	fi
	st=$(systemctl is-active spl-kmemd.service)
	if [[ $st == active && $(systemctl is-enabled spl-kmemd.service) == enabled ]]; then
		pass "$phase: spl-kmemd active and enabled"
	else
		fail "$phase: spl-kmemd active and enabled" "is-active: $st, is-enabled: $(systemctl is-enabled spl-kmemd.service 2>&1)"
		systemctl status --no-pager -l spl-kmemd.service 2>&1 | show
	fi
	journalctl -b -u spl-kmemd.service --no-pager -o cat 2>&1 | tail -n 8 | show
	# Not counted (the daemon's defaults are not packaging's): reported.
	if journalctl -b -u spl-kmemd.service -p err --no-pager -o cat 2>/dev/null | grep -q .; then
		say "NOTE $phase: spl-kmemd logged errors on a fresh install: $(journalctl -b -u spl-kmemd.service -p err --no-pager -o cat | head -n 2 | tr '\n' ' ')"
	fi
	if timeout 60 splkmemctl list >"$OUT/list" 2>&1; then
		pass "$phase: splkmemctl list"
	else
		fail "$phase: splkmemctl list" "exit $?: $(head -c 300 "$OUT/list")"
	fi
	show <"$OUT/list"
	if timeout 60 splkmemctl get >"$OUT/get" 2>&1 && grep -q magazine_size "$OUT/get"; then
		pass "$phase: splkmemctl get"
	else
		fail "$phase: splkmemctl get" "$(head -c 300 "$OUT/get")"
	fi
	# man pages and completion are where man and bash look for them.
	if [[ -e /usr/share/man/man8/splkmemctl.8.gz && -e /usr/share/man/man8/spl-kmemd.8.gz &&
		-e /usr/share/man/man5/spl-kmemd.conf.5.gz &&
		-e /usr/share/bash-completion/completions/splkmemctl &&
		-e /etc/spl-kmem/spl-kmemd.conf ]] &&
		grep -qx /etc/spl-kmem/spl-kmemd.conf /var/lib/dpkg/info/spl-kmem-tools.conffiles; then
		pass "$phase: man pages, completion, conffile in place"
	else
		fail "$phase: man pages, completion, conffile in place" "something is missing"
	fi
	if systemctl --failed --no-legend --plain 2>/dev/null | grep -E 'spl|modules-load' >"$OUT/failed"; then
		fail "$phase: no failed units" "$(tr '\n' ' ' <"$OUT/failed")"
	else
		pass "$phase: no failed units of ours"
	fi
}

# --- apt purge: nothing left behind ---------------------------------------
check_purge() {
	local left
	if timeout 600 apt-get purge -y -q -o Dpkg::Use-Pty=0 spl-kmem-dkms spl-kmem-tools \
		>"$OUT/purge" 2>&1; then
		pass "purge: apt-get purge spl-kmem-dkms spl-kmem-tools"
	else
		fail "purge: apt-get purge" "exit status $?"
	fi
	show <"$OUT/purge"
	left=$(dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' 'spl-kmem*' 2>/dev/null | grep -v '^un ')
	if [[ -z $left ]]; then
		pass "purge: no package state left (not even rc)"
	else
		fail "purge: package state" "$left"
	fi
	st=$(systemctl is-active spl-kmemd.service 2>/dev/null)
	if [[ $st != active && $st != activating ]] && ! pgrep -x spl-kmemd >/dev/null; then
		pass "purge: spl-kmemd stopped"
	else
		fail "purge: spl-kmemd stopped" "is-active: $st"
	fi
	left=""
	for p in /usr/src/spl-kmem-* /var/lib/dkms/spl-kmem /etc/spl-kmem \
		/usr/sbin/splkmemctl /usr/sbin/spl-kmemd \
		/lib/systemd/system/spl-kmemd.service /usr/lib/systemd/system/spl-kmemd.service \
		/etc/systemd/system/spl-kmemd.service \
		/usr/lib/modules-load.d/spl-kmem.conf /etc/modules-load.d/spl-kmem.conf \
		/usr/share/bash-completion/completions/splkmemctl \
		/usr/share/man/man8/splkmemctl.8.gz /usr/share/man/man8/spl-kmemd.8.gz \
		/usr/share/man/man5/spl-kmemd.conf.5.gz; do
		[[ -e $p || -L $p ]] && left+="$p "
	done
	left+=$(find /lib/modules /usr/lib/modules -name 'spl_kmem.ko*' 2>/dev/null | tr '\n' ' ')
	modinfo -n spl_kmem >/dev/null 2>&1 && left+="(modinfo still finds spl_kmem) "
	left+=$(find /etc/systemd /usr/lib/systemd /lib/systemd -name 'spl-kmemd*' 2>/dev/null | tr '\n' ' ')
	if [[ -z ${left// /} ]]; then
		pass "purge: module, sources, dkms state, unit, binaries, config, modules-load.d entry gone"
	else
		fail "purge: leftovers" "$left"
	fi
	# Anything else with our names, anywhere on the root file system
	# (deb-systemd-helper state, dpkg info files, ...).
	left=$(find / -xdev \( -iname '*spl-kmem*' -o -iname '*spl_kmem*' -o -iname '*splkmem*' \) \
		-not -path '/usr/local/lib/journey*' -not -path '/var/tmp/journey*' \
		-not -path '/var/log/*' -not -path '/var/cache/apt/*' 2>/dev/null | head -n 20)
	if [[ -z $left ]]; then
		pass "purge: no file named after spl-kmem left on /"
	else
		fail "purge: files named after spl-kmem left" "$(tr '\n' ' ' <<<"$left")"
	fi
	if systemctl list-unit-files spl-kmemd.service --no-legend 2>/dev/null | grep -q spl-kmemd; then
		fail "purge: unit unknown to systemd" "systemctl list-unit-files still shows it"
	else
		pass "purge: unit unknown to systemd"
	fi
	# Removing the files does not unload the module; it must unload cleanly.
	if rmmod spl_kmem 2>"$OUT/rmmod" && [[ ! -d /sys/module/spl_kmem ]]; then
		pass "purge: rmmod spl_kmem"
	else
		fail "purge: rmmod spl_kmem" "$(cat "$OUT/rmmod")"
	fi
}

say "guest up: phase $phase, kernel $(uname -r), $(nproc) cpus"
# journey-check.service runs after multi-user.target: systemd-modules-load
# has run and spl-kmemd (Type=notify) has started or failed by now.
say "system state: $(systemctl is-system-running 2>&1) (this check is still running)"
check_module
check_service
[[ $phase == newer ]] && check_purge
finish
