# Guest side of the VM harness, shared by every suite: sourced by the
# busybox guests' /init (tests/vm/run.sh, tests/genl/run-vm.sh) and by the
# systemd guest's kmemleak unit (tests/daemon/run-vm.sh).  POSIX sh.
# Lines go through the kernel log, so they keep their order with the
# kernel's own and reach the serial console that vm_judge (lib.sh) reads.
#
# On a kernel with kmemleak (the debug kernel):
#   kmemleak_begin  at the start of a suite: scan once and "clear", so that
#                   what boot leaked (not ours) is never reported;
#   kmemleak_end    at its end: scan, wait, scan again (kmemleak reports
#                   only objects older than 5 s, and an object seen
#                   unreferenced in one scan but referenced in the next is
#                   dropped), then print each line of the report as
#                   "kmemleak-report: ..." (its "unreferenced object" lines
#                   fail the run) and "KMEMLEAK: scan done, N leak(s)
#                   reported", which vm_judge requires on such a kernel.
# On other kernels kmemleak_end prints "KMEMLEAK: not in this kernel".

KMEMLEAK_FILE=/sys/kernel/debug/kmemleak

guest_say() { # level text
	echo "<$1>$2" >/dev/kmsg 2>/dev/null || echo "$2"
}

_kmemleak_ready() {
	[ -e "$KMEMLEAK_FILE" ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	[ -w "$KMEMLEAK_FILE" ]
}

kmemleak_begin() {
	_kmemleak_ready || return 0
	if echo scan >"$KMEMLEAK_FILE" && echo clear >"$KMEMLEAK_FILE"; then
		guest_say 5 "KMEMLEAK: baseline taken"
	else
		guest_say 3 "KMEMLEAK: baseline scan failed"
	fi
}

kmemleak_end() {
	_kml_n=0
	if ! _kmemleak_ready; then
		guest_say 5 "KMEMLEAK: not in this kernel"
		return 0
	fi
	guest_say 5 "KMEMLEAK: final scan"
	sleep 5
	if ! echo scan >"$KMEMLEAK_FILE"; then
		guest_say 3 "KMEMLEAK: scan failed"
		return 1
	fi
	sleep 5
	echo scan >"$KMEMLEAK_FILE"
	while IFS= read -r _kml_line; do
		case $_kml_line in
		*"unreferenced object"*) _kml_n=$((_kml_n + 1)) ;;
		esac
		guest_say 3 "kmemleak-report: $_kml_line"
	done <"$KMEMLEAK_FILE"
	guest_say 5 "KMEMLEAK: scan done, $_kml_n leak(s) reported"
	[ "$_kml_n" = 0 ]
}

# On a kernel with fault injection (the debug kernel): let /proc/self/fail-nth
# reach sleeping allocations too (failslab and fail_page_alloc ignore them by
# default), and keep the injected failures quiet: their stack dumps would be
# taken for kernel trouble by the log scan.  The tests that inject (the
# allocator suite's create_fail) print SKIP where this is missing.
fault_injection_setup() {
	[ -d /sys/kernel/debug/failslab ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	for _fi in failslab fail_page_alloc; do
		[ -d "/sys/kernel/debug/$_fi" ] || continue
		echo N >"/sys/kernel/debug/$_fi/ignore-gfp-wait"
		echo 0 >"/sys/kernel/debug/$_fi/verbose"
		guest_say 5 "FAULT-INJECTION: $_fi reaches sleeping allocations, quietly"
	done
}
