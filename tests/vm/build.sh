#!/usr/bin/env bash
# Build kernel/spl_kmem.ko and tests/kmod/spl_kmem_test.ko for one kernel ID
# in a private copy of the source tree: build/obj/<name>/.
#
# usage: build.sh [--kernel-only] [--fresh] [--obj NAME] KERNEL_ID [MAKEVAR=value...]
#   --kernel-only  build only kernel/ (used by the W=1 and sparse checks)
#   --fresh        start from an empty copy (forces every file to recompile)
#   --obj NAME     copy name under build/obj (default: KERNEL_ID)
#   MAKEVAR=value  passed to the kernel/ make, e.g. W=1 C=1
# env: SRC (tree to build), BUILD_DIR, BUILD_TIMEOUT (seconds, default 900)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR disable=SC2034

STEP=build
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

BUILD_TIMEOUT=${BUILD_TIMEOUT:-900}
KERNEL_ONLY=0
FRESH=0
OBJ_NAME=""

usage() {
	sed -n '2,10s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# make, run on the host or in the chroot, bounded in time.
run_make() {
	local jobs
	jobs=$(nproc)
	if [[ -n $KROOT ]]; then
		in_chroot "$BUILD_TIMEOUT" make -j"$jobs" "$@"
	else
		bounded "$BUILD_TIMEOUT" make -j"$jobs" "$@"
	fi
}

main() {
	while (($#)); do
		case $1 in
		--kernel-only) KERNEL_ONLY=1 ;;
		--fresh) FRESH=1 ;;
		--obj) OBJ_NAME=$2 && shift ;;
		-h | --help) usage ;;
		-*) usage ;;
		*) break ;;
		esac
		shift
	done
	(($# >= 1)) || usage
	local id=$1
	shift
	valid_kernel_id "$id" || die "unknown kernel id '$id' (known: ${KERNEL_IDS[*]})"
	STEP="build $id"
	[[ -f $SRC/kernel/Makefile ]] || die "no kernel/Makefile in SRC=$SRC"

	if [[ $id == 7.x ]]; then
		chroot_lock
		chroot_ensure
	fi
	kernel_resolve "$id"

	local obj=$BUILD_DIR/obj/${OBJ_NAME:-$id} top
	# Objects built for another kernel release are useless: start over.
	if [[ $FRESH == 1 || ! -f $obj/.kdir || $(cat "$obj/.kdir") != "$KREL" ]]; then
		rm -rf --one-file-system "$obj"
	fi
	sync_tree "$obj"
	echo "$KREL" >"$obj/.kdir"

	top=$obj
	if [[ -n $KROOT ]]; then
		mkdir -p "$CHROOT_DIR$CHROOT_OBJ"
		chroot_mount_begin
		mount --bind "$obj" "$CHROOT_DIR$CHROOT_OBJ"
		top=$CHROOT_OBJ
	fi

	log "kernel $KREL, tree $SRC -> $obj"
	local blog=$obj/build.log
	: >"$blog"
	# SPL_KMEM_TESTING=1: the test hooks the suites drive (never packaged).
	if ! run_make -C "$top/kernel" KDIR="$KDIR" SPL_KMEM_TESTING=1 "$@" >>"$blog" 2>&1; then
		cat "$blog"
		die "kernel/ build failed"
	fi
	[[ -f $obj/kernel/spl_kmem.ko ]] || die "kernel/spl_kmem.ko was not produced"
	if [[ $KERNEL_ONLY == 0 ]]; then
		if ! run_make -C "$top/tests/kmod" KDIR="$KDIR" \
			SPL_KMEM_SYMVERS="$top/kernel/Module.symvers" >>"$blog" 2>&1; then
			cat "$blog"
			die "tests/kmod build failed"
		fi
		[[ -f $obj/tests/kmod/spl_kmem_test.ko ]] || die "tests/kmod/spl_kmem_test.ko was not produced"
	fi
	cat "$blog"
	[[ -z $KROOT ]] || chroot_umount_all
	log "ok in ${SECONDS}s: $obj/kernel/spl_kmem.ko"
}

main "$@"
