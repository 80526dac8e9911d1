#!/usr/bin/env bash
# Build the debug kernel (lockdep, KASAN, kmemleak, DEBUG_OBJECTS, fault
# injection) from Debian's linux-source-6.1 with tests/vm/debug-kernel.config,
# or reuse the cached one.  The cache lives outside the clone, keyed by the
# fragment, the build recipe, the source package version and the compiler, so a
# machine builds it once and every later run (CI included) reuses it.
#
# usage: debug-kernel.sh [--print-dir]
#   --print-dir  print the cache directory (built or not) and exit
# env: SPLKMEM_CACHE (default /var/cache/spl-kmem), DEBUG_KERNEL_JOBS (nproc)
#
# The cache directory holds:
#   src/     the unpacked source tree, built in place (out-of-tree modules
#            build against it with make -C src M=...)
#   root/    modules_install output: root/lib/modules/<release>/
#   release  the kernel release string;  ok  written last, when complete
set -euo pipefail
# shellcheck source-path=SCRIPTDIR disable=SC2034
STEP=debug-kernel
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

FRAGMENT=$VM_LIB_DIR/debug-kernel.config
SRC_TAR=/usr/src/linux-source-6.1.tar.xz
CACHE_ROOT=${SPLKMEM_CACHE:-/var/cache/spl-kmem}/debug-kernel
# Bump when the build steps below change what is built (not for messages):
# the key then changes and the kernel is built again.
RECIPE=1

debug_kernel_key() {
	local ver
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
		die "linux-source-6.1 is not installed (tests/vm/deps.sh installs it)"
	{
		echo "$ver"
		gcc --version | head -n1
		echo "recipe $RECIPE"
		cat "$FRAGMENT"
	} | sha256sum | cut -c1-16
}

# User + system seconds of every finished child of this shell, from bash's
# "times" (its second line).  Run in this shell, not a subshell, whose
# children are its own: hence the file.
children_cpu_seconds() { # file
	times >"$1"
	sed -n 2p "$1" | awk '{
		t = 0
		for (i = 1; i <= 2; i++) {
			split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2]
		}
		printf "%d\n", t
	}'
}

main() {
	local key dir start jobs rel cpu
	key=$(debug_kernel_key)
	dir=$CACHE_ROOT/$key
	if [[ ${1:-} == --print-dir ]]; then
		echo "$dir"
		return 0
	fi
	if [[ -f $dir/ok ]]; then
		log "cached: $dir ($(cat "$dir/release"))"
		return 0
	fi
	mkdir -p "$CACHE_ROOT"
	exec {lock}>"$CACHE_ROOT/.lock"
	flock -w 5400 "$lock" || die "timed out waiting for another debug-kernel build"
	if [[ -f $dir/ok ]]; then
		log "cached: $dir (built meanwhile)"
		return 0
	fi
	start=$SECONDS
	jobs=${DEBUG_KERNEL_JOBS:-$(nproc)}
	rm -rf "$dir"
	mkdir -p "$dir"
	log "building the debug kernel in $dir (key $key, -j$jobs); log: $dir/build.log"
	tar -C "$dir" -xf "$SRC_TAR"
	mv "$dir"/linux-source-6.1 "$dir/src"
	(
		cd "$dir/src"
		make -s defconfig kvm_guest.config
		scripts/kconfig/merge_config.sh -m .config "$FRAGMENT"
		make -s olddefconfig
		# merge_config.sh warns but does not fail when an option did not
		# stick: fail here for the detectors, which are the point.
		for opt in KASAN PROVE_LOCKING DEBUG_KMEMLEAK DEBUG_OBJECTS_WORK \
			DEBUG_ATOMIC_SLEEP DEBUG_PREEMPT DEBUG_LIST PROVE_RCU FAILSLAB \
			FAIL_PAGE_ALLOC FAULT_INJECTION_DEBUG_FS HOTPLUG_CPU PSI SLUB_DEBUG \
			VIRTIO_BLK EXT4_FS MEMCG; do
			grep -qx "CONFIG_$opt=y" .config || { echo "CONFIG_$opt is not y" >&2; exit 1; }
		done
	) >"$dir/build.log" 2>&1 || { tail -n 30 "$dir/build.log" >&2; die "configuration failed"; }
	log "configured in $((SECONDS - start))s; compiling (about 15 minutes on 2 cores)"
	# Progress: one line a minute with the number of objects built so far.
	(
		while sleep 60; do
			log "… $((SECONDS - start))s, $(find "$dir/src" -name '*.o' | wc -l) objects"
		done
	) &
	local ticker=$!
	if ! make -C "$dir/src" -j"$jobs" bzImage modules >>"$dir/build.log" 2>&1; then
		kill "$ticker" 2>/dev/null || true
		tail -n 40 "$dir/build.log" >&2
		die "kernel build failed"
	fi
	make -C "$dir/src" -s INSTALL_MOD_PATH="$dir/root" modules_install >>"$dir/build.log" 2>&1 ||
		{ kill "$ticker" 2>/dev/null || true; die "modules_install failed"; }
	kill "$ticker" 2>/dev/null || true
	rel=$(make -C "$dir/src" -s kernelrelease)
	children_cpu_seconds "$dir/times" >"$dir/build-cpu-seconds"
	cpu=$(cat "$dir/build-cpu-seconds")
	echo "$rel" >"$dir/release"
	echo "$((SECONDS - start))" >"$dir/build-seconds"
	touch "$dir/ok"
	# CPU time does not depend on what else the machine runs: divided by
	# the jobs, it is about what the build takes on an idle machine.
	log "built $rel in $((SECONDS - start))s; ${cpu}s of CPU (≈$((cpu / jobs))s on $jobs idle CPUs)"
}

main "$@"
