#!/usr/bin/env bash
# Build kernel/spl_kmem.ko and tests/kmod/spl_kmem_test.ko for one kernel ID
# (tests/vm/kernels.list) in a private copy of the source tree:
# build/obj/<name>/.  A command-line front end to kmod_build in lib.sh.
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

usage() {
	sed -n '2,11s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

main() {
	local dirs=(tests/kmod) obj_name=""
	while (($#)); do
		case $1 in
		--kernel-only) dirs=() ;;
		--fresh) KMOD_FRESH=1 ;;
		--obj) obj_name=$2 && shift ;;
		-*) usage ;;
		*) break ;;
		esac
		shift
	done
	(($# >= 1)) || usage
	local id=$1
	shift
	KMOD_VARS=("$@")
	STEP="build $id"
	[[ -f $SRC/kernel/Makefile ]] || die "no kernel/Makefile in SRC=$SRC"
	kernel_prepare "$id"
	local obj=$BUILD_DIR/obj/${obj_name:-$id}
	kmod_build "$obj" "${dirs[@]}" || die "build failed"
	# Callers (check.sh's W=1 and sparse checks) read the log.
	cat "$obj/build.log"
	log "ok in ${SECONDS}s: $obj/kernel/spl_kmem.ko"
}

main "$@"
