#!/usr/bin/env bash
# Benchmarks of spl_kmem against the kernel's own allocators (make bench).
#
# Builds spl_kmem.ko and the benchmark module tests/bench/kmod/
# spl_kmem_bench.ko for Debian 12's 6.1 kernel, and for the control plane
# splkmemctl, spl-kmemd, tests/genl/kmod and tests/bench/ctltime.c; boots
# that kernel under qemu (TCG) with a busybox initramfs twice, and writes
# BENCHMARKS.md and BENCHMARKS.png from the two console logs
# (tests/bench/report.py):
#
#   boot "fast"  1 vCPU, -icount shift=0,align=off,sleep=off: guest time
#                counts executed instructions (1 ns = 1 instruction), so
#                single-CPU figures repeat from run to run; sections fast
#                and mem of the module, then the control stage
#                (tests/bench/control.sh: splkmemctl dumps, PSI -> reap)
#   boot "conc"  BENCH_SMP vCPUs (4), real time: sections conc and mem,
#                then the control stage; only ratios within this boot
#                mean anything
#
# usage: run.sh [--no-build] [--report-only] [--quick]
#   --no-build     reuse the modules in BUILD_DIR/obj/bench-6.1
#   --report-only  only regenerate the report from BUILD_DIR/bench/*/console.log
#   --quick        3 repetitions, 3 sizes, 5 PSI events: checks the
#                  pipeline in ~3 minutes
# env: SRC, BUILD_DIR (see tests/vm/lib.sh), OUT (where BENCHMARKS.md and
#      BENCHMARKS.png go; default: the tree this script is in), BENCH_TIMEOUT
#      (seconds per boot, default 900), BENCH_SMP (4), BENCH_MEM (MiB, 2048),
#      BENCH_REPS (repetitions of each figure, default 11), BENCH_COMMIT
#      (commit named in the report; default: git rev-parse of SRC),
#      CTL_NCACHES (cache counts to dump, "1 100 10000"), CTL_REPS (timed
#      dumps of each, 11), PSI_EVENTS (reaps to time, 30), CTL_STAGE_BOOTS
#      (boots that run the control stage, "fast conc"), BENCH_BOOTS (boots
#      to run, "fast conc": a partial run for a quick look; the report
#      takes the other boot's figures from its last log in BUILD_DIR/bench,
#      and needs a fast boot's log there), BENCH_ARGS (extra module
#      arguments for both boots, later ones win: e.g. "sizes=64,512
#      allocs=spl-kvmem,slub")
# Output: BUILD_DIR/bench/{fast,conc}/console.log, OUT/BENCHMARKS.{md,png}
set -euo pipefail
# shellcheck source-path=SCRIPTDIR disable=SC2034
STEP=bench
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../vm/lib.sh
. "$BENCH_DIR/../vm/lib.sh"

OUT=${OUT:-$(cd "$BENCH_DIR/../.." && pwd)}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}
BENCH_SMP=${BENCH_SMP:-4}
BENCH_MEM=${BENCH_MEM:-2048}
BENCH_BOOTS=${BENCH_BOOTS:-fast conc}
KERNEL_ID=6.1
OBJ_NAME=bench-6.1
RESULTS=$BUILD_DIR/bench
# Debian's python3 (python3-matplotlib), not whatever python3 PATH has first.
PYTHON=${PYTHON:-/usr/bin/python3}

PACKAGES=(
	linux-image-amd64 linux-headers-amd64 build-essential kmod
	qemu-system-x86 busybox-static cpio gzip xz-utils zstd rsync
	python3 python3-matplotlib
	pkg-config libnl-3-dev libnl-genl-3-dev libjson-c-dev libsystemd-dev
	libinih-dev libmicrohttpd-dev
)

usage() {
	awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2
	exit 2
}

installed() {
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

deps() {
	local missing=() p apt=(apt-get -q -y -o Dpkg::Use-Pty=0
		-o Dpkg::Options::=--force-confold --no-install-recommends)
	for p in "${PACKAGES[@]}"; do
		installed "$p" || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	[[ $(id -u) -eq 0 ]] || die "need root to install: ${missing[*]}"
	log "installing: ${missing[*]}"
	if [[ -z $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n1) ]]; then
		bounded 600 apt-get -q update >/dev/null || warn "apt-get update reported errors"
	fi
	if ! bounded 1200 env DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${missing[@]}"; then
		bounded 600 apt-get -q update >/dev/null || true
		bounded 1200 env DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${missing[@]}" ||
			die "apt-get install failed"
	fi
}

build() {
	local obj=$BUILD_DIR/obj/$OBJ_NAME
	kmod_build "$obj" tests/bench/kmod tests/genl/kmod ||
		die "building the modules failed (see $obj/build.log)"
	[[ -f $obj/tests/bench/kmod/spl_kmem_bench.ko ]] || die "spl_kmem_bench.ko was not produced"
	build_control "$obj"
}

# The guest's /init: load spl_kmem, run each stage listed in /bench/stages,
# unload, power off.  A stage is a shell file in /bench/stage.d/; every
# line the guest prints goes through the kernel log, so that it keeps its
# order with the module's lines.
write_init() {
	cat >"$1" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
h() { echo "<5>HARNESS: $*" 2>/dev/null >/dev/kmsg || echo "HARNESS: $*"; }
h "guest up: kernel $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
for m in $(cat /modules/deps.list); do
	insmod "/modules/deps/$m" || h "insmod dependency $m FAILED"
done
if insmod /modules/spl_kmem.ko; then
	h "insmod spl_kmem ok"
	for s in $(cat /bench/stages); do
		h "stage $s begin"
		. "/bench/stage.d/$s.sh"
		h "stage $s end"
	done
	if rmmod spl_kmem; then h "rmmod spl_kmem ok"; else h "rmmod spl_kmem FAILED"; fi
else
	h "insmod spl_kmem FAILED"
fi
h "END"
sync
poweroff -f
EOF
	chmod 755 "$1"
}

# Stage "module": the benchmark module with the boot's parameters.
write_stage_module() {
	cat >"$1" <<'EOF'
if insmod /modules/spl_kmem_bench.ko $(cat /bench/module.args); then
	h "insmod spl_kmem_bench ok"
	rmmod spl_kmem_bench || h "rmmod spl_kmem_bench FAILED"
else
	h "insmod spl_kmem_bench FAILED"
fi
EOF
}

# Stage "control": part 4 of the benchmarks, the control plane, with
# splkmemctl (static), the daemon (dynamic: libsystemd has no static
# library, so it comes with the shared libraries ldd names), the genl test
# module (tests/genl/kmod: ncaches=N makes N empty caches, demo=1 a few
# with freed objects in them), ctltime (the timer, tests/bench/ctltime.c)
# and the memory hog of the daemon's tests.  tests/bench/control.sh
#   - loads the test module with 1, 100 and 10,000 caches in turn and times
#     `splkmemctl -j list >/dev/null` (one untimed run, then CTL_REPS);
#   - mounts cgroup2, starts spl-kmemd on /proc/pressure/memory with a
#     500 ms window and no cooldown, and runs the hog in a cgroup whose
#     memory.high is below its size, in episodes, until the daemon has
#     logged PSI_EVENTS reaps; each "returned in N ms" (from the event
#     waking the daemon to the reap's end) is one figure.
# Each result is a kernel-log line for report.py (milliseconds):
#   spl_kmem_bench: R ctl what=list caches=100 med=.. min=.. max=.. q1=.. q3=.. p99=.. reps=..
# CTL_STAGE_BOOTS lists the boots that run it.
CTL_NCACHES=${CTL_NCACHES:-1 100 10000}
CTL_REPS=${CTL_REPS:-11}
PSI_EVENTS=${PSI_EVENTS:-30}
CTL_STAGE_BOOTS=${CTL_STAGE_BOOTS:-fast conc}

build_control() {
	local obj=$1 blog=$1/control-build.log
	: >"$blog"
	if ! bounded 600 make -C "$obj/ctl" STATIC=1 >>"$blog" 2>&1 ||
		! bounded 600 make -C "$obj/daemon" >>"$blog" 2>&1 ||
		! bounded 600 make -C "$obj/tests/genl/tools" "$obj/tests/genl/tools/nldump" >>"$blog" 2>&1 ||
		! cc -O2 -Wall -Wextra -Werror -static -o "$obj/tests/bench/ctltime" \
			"$obj/tests/bench/ctltime.c" >>"$blog" 2>&1 ||
		! cc -O2 -Wall -Wextra -Werror -static -o "$obj/tests/bench/hog" \
			"$obj/tests/daemon/hog.c" >>"$blog" 2>&1; then
		cat "$blog"
		die "building the control-plane benchmark failed"
	fi
	log "built splkmemctl, spl-kmemd, ctltime and hog"
}

# Copy a dynamically linked program and the libraries it needs.
copy_dynamic() { # program stage-dir dest
	local lib
	cp "$1" "$2$3"
	while read -r lib; do
		mkdir -p "$2$(dirname "$lib")"
		cp -L "$lib" "$2$lib"
	done < <(ldd "$1" | grep -oE '/[^ ]+' | sort -u)
}

add_stage_control() {
	local stage=$1 name=$2 obj=$OBJ_DIR ct=$1/bench/ctl
	if [[ " $CTL_STAGE_BOOTS " != *" $name "* ]]; then
		echo 'h "control-plane benchmarks not run in this boot"' \
			>"$stage/bench/stage.d/control.sh"
		return 0
	fi
	mkdir -p "$ct"
	cp "$obj/tests/genl/kmod/spl_kmem_genl_test.ko" "$stage/modules/"
	cp "$obj/ctl/splkmemctl" "$obj/tests/genl/tools/nldump" "$obj/tests/bench/ctltime" \
		"$obj/tests/bench/hog" "$stage/bin/"
	copy_dynamic "$obj/daemon/spl-kmemd" "$stage" /bin/spl-kmemd
	echo "$CTL_NCACHES" >"$ct/ncaches"
	echo "$CTL_REPS" >"$ct/reps"
	echo "$PSI_EVENTS" >"$ct/events"
	# The split of the largest dump (text, raw) in the -icount boot only.
	if [[ $name == fast ]]; then
		echo "${CTL_NCACHES##* }" >"$ct/split"
	else
		: >"$ct/split"
	fi
	cat >"$ct/spl-kmemd.conf" <<'EOF'
# The control-plane benchmark: every PSI event reaps.
[pressure]
type = some
threshold = 100ms
window = 500ms
cooldown = 0
caches = all
[metrics]
textfile =
interval = 60min
EOF
	"$obj/daemon/spl-kmemd" -c "$ct/spl-kmemd.conf" --check >/dev/null ||
		die "the benchmark's spl-kmemd.conf does not pass spl-kmemd --check"
	cp "$BENCH_DIR/control.sh" "$stage/bench/stage.d/control.sh"
}

make_initramfs() {
	local vmdir=$1 args=$2 name=$3 stage=$1/initramfs m i=0 dep
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,dev,proc,sys,tmp,modules/deps,bench/stage.d}
	cp /bin/busybox "$stage/bin/busybox"
	cp "$OBJ_DIR/kernel/spl_kmem.ko" "$OBJ_DIR/tests/bench/kmod/spl_kmem_bench.ko" "$stage/modules/"
	printf '%s\n' "$args" >"$stage/bench/module.args"
	write_stage_module "$stage/bench/stage.d/module.sh"
	add_stage_control "$stage" "$name"
	printf '%s\n' module control >"$stage/bench/stages"
	: >"$stage/modules/deps.list"
	while read -r m; do
		[[ -n $m ]] || continue
		i=$((i + 1))
		dep=$(printf '%02d-%s' "$i" "$(basename "${m%%.ko*}").ko")
		copy_module "$KMODDIR/$m" "$stage/modules/deps/$dep"
		echo "$dep" >>"$stage/modules/deps.list"
	done < <(module_deps "$stage/modules/"*.ko)
	mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
	write_init "$stage/init"
	(cd "$stage" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) |
		gzip -1 >"$vmdir/initramfs.cpio.gz"
}

# boot NAME SMP "MODULE ARGS" [extra qemu args...]
boot() {
	local name=$1 smp=$2 args=$3 vmdir=$RESULTS/$1 rc=0 start=$SECONDS
	shift 3
	mkdir -p "$vmdir"
	make_initramfs "$vmdir" "$args" "$name"
	local cmdline="console=ttyS0,115200 panic=-1 oops=panic loglevel=7 log_buf_len=16M printk.devkmsg=on mitigations=off"
	printf '%s\n' "qemu-system-x86_64 -accel tcg -smp $smp -m $BENCH_MEM${*:+ $*}" >"$vmdir/qemu.args"
	log "boot $name: smp=$smp mem=${BENCH_MEM}M $* module args: $args"
	rm -f "$vmdir/console.log"
	bounded "$BENCH_TIMEOUT" qemu-system-x86_64 -accel tcg -smp "$smp" -m "$BENCH_MEM" "$@" \
		-nodefaults -no-user-config -display none -no-reboot -monitor none \
		-serial "file:$vmdir/console.log" \
		-kernel "$KIMAGE" -initrd "$vmdir/initramfs.cpio.gz" -append "$cmdline" \
		>"$vmdir/qemu.out" 2>&1 || rc=$?
	echo "$rc" >"$vmdir/qemu.rc"
	tr -d '\r' <"$vmdir/console.log" >"$vmdir/console.txt" 2>/dev/null || : >"$vmdir/console.txt"
	log "boot $name: qemu exited rc=$rc after $((SECONDS - start))s"
	judge "$name" "$rc"
}

judge() {
	local name=$1 rc=$2 vmdir=$RESULTS/$1 txt=$RESULTS/$1/console.txt bad
	local reasons=()
	((rc == 0)) || reasons+=("qemu exited with $rc")
	grep -q 'spl_kmem_bench: R done rc=0' "$txt" || reasons+=("no 'R done rc=0' line")
	grep -q 'HARNESS: END' "$txt" || reasons+=("guest init did not finish")
	if grep -q 'HARNESS: .*FAILED' "$txt"; then
		reasons+=("$(grep -o 'HARNESS: .*FAILED' "$txt" | paste -sd ';' -)")
	fi
	if grep -q 'spl_kmem_bench: R error' "$txt"; then
		reasons+=("$(grep -c 'R error' "$txt") benchmark error line(s)")
	fi
	bad=$(vm_bad_lines "$txt" 'Command line: |HARNESS: ' | head -n 20)
	[[ -z $bad ]] || reasons+=("kernel log has BUG/WARNING/Oops/lockup lines")
	if ((${#reasons[@]})); then
		tail -n 60 "$txt"
		[[ -z $bad ]] || printf 'offending: %s\n' "$bad"
		grep 'R error' "$txt" | head -n 20 || true
		die "boot $name failed: $(printf '%s; ' "${reasons[@]}")"
	fi
}

meta() {
	local f=$RESULTS/meta.txt commit
	commit=${BENCH_COMMIT:-$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)}
	{
		echo "date=$(date -u +%F)"
		echo "commit=$commit"
		echo "kernel=$KREL"
		echo "qemu=$(qemu-system-x86_64 --version | head -n1)"
		echo "host_cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
		echo "host_cpus=$(nproc)"
		echo "fast_qemu=$(cat "$RESULTS/fast/qemu.args" 2>/dev/null)"
		echo "conc_qemu=$(cat "$RESULTS/conc/qemu.args" 2>/dev/null)"
		echo "seconds=$SECONDS"
	} >"$f"
}

report() {
	mkdir -p "$OUT"
	bounded 300 "$PYTHON" "$BENCH_DIR/report.py" \
		--fast "$RESULTS/fast/console.txt" --conc "$RESULTS/conc/console.txt" \
		--meta "$RESULTS/meta.txt" \
		--md "$OUT/BENCHMARKS.md" --png "$OUT/BENCHMARKS.png" ||
		die "report.py failed"
	log "wrote $OUT/BENCHMARKS.md and $OUT/BENCHMARKS.png"
}

main() {
	local do_build=1 report_only=0 quick=0
	while (($#)); do
		case $1 in
		--no-build) do_build=0 ;;
		--report-only) report_only=1 ;;
		--quick) quick=1 ;;
		*) usage ;;
		esac
		shift
	done
	if ((report_only)); then
		report
		return 0
	fi
	deps
	kernel_prepare "$KERNEL_ID"
	OBJ_DIR=$BUILD_DIR/obj/$OBJ_NAME
	((do_build == 0)) || build
	mkdir -p "$RESULTS"

	local fast_args="run=fast,mem reps=${BENCH_REPS:-11} target_us=2000"
	local conc_args="run=conc,mem reps=${BENCH_REPS:-11} target_us=10000 sizes=64,4096,16384,131072,1048576"
	if ((quick)); then
		fast_args="run=fast,mem reps=3 target_us=500 sizes=64,16384,131072"
		conc_args="run=conc,mem reps=3 target_us=3000 sizes=64,131072"
		CTL_REPS=3 PSI_EVENTS=5
	fi
	if [[ -n ${BENCH_ARGS:-} ]]; then
		fast_args+=" $BENCH_ARGS"
		conc_args+=" $BENCH_ARGS"
	fi
	if [[ " $BENCH_BOOTS " == *" fast "* ]]; then
		boot fast 1 "$fast_args" -icount shift=0,align=off,sleep=off -mem-prealloc
	fi
	if ((BENCH_SMP >= 2)) && [[ " $BENCH_BOOTS " == *" conc "* ]]; then
		boot conc "$BENCH_SMP" "$conc_args"
	fi
	meta
	report
	log "finished in ${SECONDS}s"
}

main "$@"
