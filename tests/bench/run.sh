#!/usr/bin/env bash
# Benchmarks of spl_kmem against the kernel's own allocators (make bench).
#
# Builds spl_kmem.ko and the benchmark module tests/bench/kmod/
# spl_kmem_bench.ko for Debian 12's 6.1 kernel, boots that kernel under qemu
# (TCG) with a busybox initramfs twice, and writes BENCHMARKS.md and
# BENCHMARKS.png from the two console logs (tests/bench/report.py):
#
#   boot "fast"  1 vCPU, -icount shift=0,align=off,sleep=off: guest time
#                counts executed instructions (1 ns = 1 instruction), so
#                single-CPU figures repeat from run to run; sections fast
#                and mem of the module
#   boot "conc"  BENCH_SMP vCPUs (4), real time: sections conc and mem;
#                only ratios within this boot mean anything
#
# usage: run.sh [--no-build] [--report-only] [--quick]
#   --no-build     reuse the modules in BUILD_DIR/obj/bench-6.1
#   --report-only  only regenerate the report from BUILD_DIR/bench/*/console.log
#   --quick        3 repetitions, 3 sizes: checks the pipeline in ~2 minutes
# env: SRC, BUILD_DIR (see tests/vm/lib.sh), OUT (where BENCHMARKS.md and
#      BENCHMARKS.png go; default: the tree this script is in), BENCH_TIMEOUT
#      (seconds per boot, default 900), BENCH_SMP (4), BENCH_MEM (MiB, 2048),
#      BENCH_REPS (repetitions of each figure, default 11), BENCH_COMMIT
#      (commit named in the report; default: git rev-parse of SRC)
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
KERNEL_ID=6.1
OBJ_NAME=bench-6.1
RESULTS=$BUILD_DIR/bench
# Debian's python3 (python3-matplotlib), not whatever python3 PATH has first.
PYTHON=${PYTHON:-/usr/bin/python3}

PACKAGES=(
	linux-image-amd64 linux-headers-amd64 build-essential kmod
	qemu-system-x86 busybox-static cpio gzip xz-utils zstd rsync
	python3 python3-matplotlib
)

# Kernel log lines that mean the guest kernel is unhappy (as tests/vm/run.sh).
BAD_CASE='BUG:|WARNING:|Oops|Call Trace|Kernel panic|kernel BUG at|UBSAN:|KASAN:|KFENCE:|list_(add|del) corruption'
BAD_NOCASE='general protection|soft lockup|hung task|hung_task|blocked for more than|bad page|rcu.{0,40}stall|unable to handle'

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
	local obj=$BUILD_DIR/obj/$OBJ_NAME blog
	"$VM_LIB_DIR/build.sh" --kernel-only --obj "$OBJ_NAME" "$KERNEL_ID" >/dev/null ||
		die "building spl_kmem.ko failed (see $obj/build.log)"
	blog=$obj/bench-build.log
	if ! bounded 600 make -j"$(nproc)" -C "$obj/tests/bench/kmod" KDIR="$KDIR" \
		SPL_KMEM_SYMVERS="$obj/kernel/Module.symvers" >"$blog" 2>&1; then
		cat "$blog"
		die "building spl_kmem_bench.ko failed"
	fi
	[[ -f $obj/tests/bench/kmod/spl_kmem_bench.ko ]] || die "spl_kmem_bench.ko was not produced"
	log "built $obj/kernel/spl_kmem.ko and spl_kmem_bench.ko"
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

# Stage "control": part 4 of the benchmarks, PENDING: the time to dump 1,
# 100 and 10,000 caches with `splkmemctl -j list`, and from a PSI event to
# the daemon's finished reap.  It needs the control plane and the daemon.
# When they exist, copy splkmemctl, the daemon and their libraries into
# $stage here and write a control.sh that creates the caches (a new section
# of the bench module that creates N caches and stays loaded), times the
# commands, and prints each figure as a kernel-log line
#   <5>spl_kmem_bench: R ctl what=list caches=100 med=.. min=.. max=.. q1=.. q3=.. p99=.. reps=..
# (milliseconds); report.py already turns such lines into section 4.
add_stage_control() {
	local stage=$1
	echo 'h "control-plane benchmarks pending (no splkmemctl/daemon yet)"' \
		>"$stage/bench/stage.d/control.sh"
}

make_initramfs() {
	local vmdir=$1 args=$2 stage=$1/initramfs m i=0 name
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,dev,proc,sys,tmp,modules/deps,bench/stage.d}
	cp /bin/busybox "$stage/bin/busybox"
	cp "$OBJ_DIR/kernel/spl_kmem.ko" "$OBJ_DIR/tests/bench/kmod/spl_kmem_bench.ko" "$stage/modules/"
	printf '%s\n' "$args" >"$stage/bench/module.args"
	write_stage_module "$stage/bench/stage.d/module.sh"
	add_stage_control "$stage"
	printf '%s\n' module control >"$stage/bench/stages"
	: >"$stage/modules/deps.list"
	while read -r m; do
		[[ -n $m ]] || continue
		i=$((i + 1))
		name=$(printf '%02d-%s' "$i" "$(basename "${m%%.ko*}").ko")
		copy_module "$KMODDIR/$m" "$stage/modules/deps/$name"
		echo "$name" >>"$stage/modules/deps.list"
	done < <(module_deps "$stage/modules/spl_kmem.ko" "$stage/modules/spl_kmem_bench.ko")
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
	make_initramfs "$vmdir" "$args"
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
	bad=$(grep -vE 'Command line: |HARNESS: ' "$txt" | { grep -E "$BAD_CASE" || true; grep -iE "$BAD_NOCASE" || true; } | head -n 20)
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
	kernel_resolve "$KERNEL_ID"
	OBJ_DIR=$BUILD_DIR/obj/$OBJ_NAME
	((do_build == 0)) || build
	mkdir -p "$RESULTS"

	local fast_args="run=fast,mem reps=${BENCH_REPS:-11} target_us=2000"
	local conc_args="run=conc,mem reps=${BENCH_REPS:-11} target_us=10000 sizes=64,4096,16384,131072,1048576"
	if ((quick)); then
		fast_args="run=fast,mem reps=3 target_us=500 sizes=64,16384,131072"
		conc_args="run=conc,mem reps=3 target_us=3000 sizes=64,131072"
	fi
	boot fast 1 "$fast_args" -icount shift=0,align=off,sleep=off -mem-prealloc
	if ((BENCH_SMP >= 2)); then
		boot conc "$BENCH_SMP" "$conc_args"
	fi
	meta
	report
	log "finished in ${SECONDS}s"
}

main "$@"
