#!/usr/bin/env bash
# Control-plane tests (or the demo) in a VM: build spl_kmem.ko, the test
# module tests/genl/kmod and, statically, splkmemctl and the test tools;
# boot KERNEL_ID under qemu (TCG) with a busybox initramfs that runs
# tests/genl/guest.sh (or demo.sh); judge the serial console.
#
# usage: run-vm.sh [--demo] [--no-build] [--parse-only] KERNEL_ID
#   --demo        run demo.sh instead of the tests; print its console
#   --no-build    reuse build/obj/genl-KERNEL_ID
#   --parse-only  only re-judge build/vm/genl-KERNEL_ID/console.log
# env: VM_TIMEOUT (seconds, default 1200, times the kernel's slow factor in
#      tests/vm/kernels.list), VM_SMP (4), VM_MEM (MiB, 2048),
#      GENL_NCACHES (caches for the big dump, default 5000),
#      GENL_FUZZ (messages for the fuzzer, default 12000)
# Output: build/vm/genl-KERNEL_ID/{console.log,result}; exit 0 on a pass.
#
# Reuses tests/vm/lib.sh: kernel_prepare, kmod_build, vm_boot, vm_judge.
set -euo pipefail
# shellcheck disable=SC2034  # STEP is read by lib.sh
STEP=genl
GENL_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../vm/lib.sh
. "$GENL_DIR/../vm/lib.sh"

VM_TIMEOUT=${VM_TIMEOUT:-1200}
VM_SMP=${VM_SMP:-4}
VM_MEM=${VM_MEM:-2048}
GENL_NCACHES=${GENL_NCACHES:-5000}
GENL_FUZZ=${GENL_FUZZ:-12000}

# Our protocol lines are exempt from the kernel-log scan.
SKIP_RE='GENL: |Command line: '

usage() {
	sed -n '2,17s/^# \{0,1\}//p' "$0" >&2
	exit 2
}


# Userspace: static, built on the host whatever the guest kernel.
build_user() {
	local obj=$1
	make -s -C "$obj/ctl" STATIC=1 >>"$obj/build.log" 2>&1 ||
		{ cat "$obj/build.log"; die "splkmemctl build failed"; }
	make -s -C "$obj/tests/genl/tools" >>"$obj/build.log" 2>&1 ||
		{ cat "$obj/build.log"; die "test tools build failed"; }
}

write_init() {
	cat >"$1" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
echo "<5>GENL: guest up: kernel $(uname -r), $(nproc) cpus" >/dev/kmsg
. /lib/guest-lib.sh
kmemleak_begin
sh /genl/script.sh $(cat /genl/args)
kmemleak_end
sleep 1
echo "<5>GENL: END" >/dev/kmsg
sync
poweroff -f
EOF
	chmod 755 "$1"
}

make_initramfs() {
	local obj=$1 vmdir=$2 script=$3 stage=$2/initramfs
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,dev,lib,proc,sys,tmp,modules,genl}
	cp /bin/busybox "$stage/bin/busybox"
	cp "$GUEST_LIB" "$stage/lib/guest-lib.sh"
	cp "$obj/kernel/spl_kmem.ko" "$obj/tests/genl/kmod/spl_kmem_genl_test.ko" \
		"$stage/modules/"
	cp "$obj/ctl/splkmemctl" "$obj/tests/genl/tools/"{jcheck,nlfuzz,nldump,nlfail,asuser} \
		"$stage/bin/"
	cp "$GENL_DIR/$script" "$stage/genl/script.sh"
	# The kernel's slow factor (tests/vm/kernels.list): the guest scales
	# its load loops and timing-dependent bounds by it.
	echo "$GENL_NCACHES $GENL_FUZZ ${KSLOW:-1}" >"$stage/genl/args"
	mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
	write_init "$stage/init"
	(cd "$stage" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) |
		gzip -1 >"$vmdir/initramfs.cpio.gz"
}

main() {
	local build=1 parse_only=0 demo=0
	while (($#)); do
		case $1 in
		--demo) demo=1 ;;
		--no-build) build=0 ;;
		--parse-only) parse_only=1 build=0 ;;
		-*) usage ;;
		*) break ;;
		esac
		shift
	done
	(($# == 1)) || usage
	local id=$1 name vmdir obj
	valid_kernel_id "$id" || die "unknown kernel id '$id' (known: ${KERNEL_IDS[*]})"
	name=genl-$id
	((demo == 0)) || name=demo-$id
	# shellcheck disable=SC2034  # read by log() in lib.sh
	STEP=$name
	vmdir=$BUILD_DIR/vm/$name
	obj=$BUILD_DIR/obj/genl-$id
	mkdir -p "$vmdir"
	if ((parse_only)); then
		kernel_resolve "$id"
	else
		rm -f "$vmdir/result" "$vmdir/qemu.rc"
		KID=$id
		kernel_prepare "$id"
		if ((build)); then
			if ! kmod_build "$obj" tests/genl/kmod; then
				vm_result_build_failed "$vmdir" "genl $id"
				return 1
			fi
			build_user "$obj"
		fi
		make_initramfs "$obj" "$vmdir" "$([[ $demo == 1 ]] && echo demo.sh || echo guest.sh)"
		vm_boot "$vmdir" "$vmdir/initramfs.cpio.gz" "oops=panic loglevel=7 log_buf_len=16M"
	fi
	if ((demo)); then
		tr -d '\r' <"$vmdir/console.log" | sed -n '/GENL: DEMO BEGIN/,/GENL: DEMO END/p' |
			grep -v 'GENL: DEMO' | grep -vE '^\[ *[0-9]+\.[0-9]+\] '
		grep -q 'GENL: DEMO END' "$vmdir/console.log" || die "the demo did not finish (see $vmdir/console.log)"
		return 0
	fi
	vm_judge "genl $id" "$vmdir" GENL "$SKIP_RE" 'GENL: END'
}

main "$@"
