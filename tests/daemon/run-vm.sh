#!/usr/bin/env bash
# spl-kmemd in a VM with systemd as PID 1: build spl_kmem.ko, the test
# module tests/genl/kmod (its demo=1 creates caches after the daemon has
# started), spl-kmemd, splkmemctl and a memory hog; put them with the unit
# and a oneshot test unit into a Debian 12 root file system (debootstrap,
# cached under build/daemon-vm/rootfs-base) turned into an ext4 image;
# boot KERNEL_ID's Debian kernel and initrd on it under qemu (TCG); judge
# the console (PASS/FAIL lines, BUG/WARNING/Oops lines) and run promtool on
# the metrics the guest wrote (read back from the image with debugfs).
# The guest's userspace is Debian 12 whatever the kernel.
#
# usage: run-vm.sh [--demo] [--no-build] [--parse-only] [KERNEL_ID]
#   KERNEL_ID     a line of tests/vm/kernels.list (default 6.1): a Debian
#                 kernel with its initrd (the host's /boot, or for the
#                 Debian 13 chroot's kernels one made there by
#                 initramfs-tools), or the debug kernel, which has virtio
#                 and ext4 built in and boots without one
#   --demo        start the daemon, feed it memory pressure, print what it
#                 logs and exports (for make demo)
#   --no-build    reuse build/obj/daemon-KERNEL_ID
#   --parse-only  only re-judge build/vm/daemon-KERNEL_ID
# env: VM_TIMEOUT (seconds, default 900, times the kernel's slow factor in
#      tests/vm/kernels.list), VM_SMP (2), VM_MEM (MiB, 1024),
#      DEBIAN_MIRROR (for debootstrap)
# Output: build/vm/daemon-KERNEL_ID/{console.log,out/,result}; exit 0 on
# a pass.  The last line is "daemon KERNEL_ID: N passed, N failed".
set -euo pipefail
# shellcheck disable=SC2034  # STEP is read by lib.sh
STEP=daemon
DAEMON_TEST_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../vm/lib.sh
. "$DAEMON_TEST_DIR/../vm/lib.sh"

VM_TIMEOUT=${VM_TIMEOUT:-900}
VM_SMP=${VM_SMP:-2}
VM_MEM=${VM_MEM:-1024}
ROOTFS_BASE=$BUILD_DIR/daemon-vm/rootfs-base
ROOTFS_STAMP=$BUILD_DIR/daemon-vm/rootfs-base.stamp
# procps: /bin/kill, for the unit's ExecReload=.
ROOTFS_PKGS=systemd,systemd-sysv,udev,kmod,procps,libnl-3-200,libnl-genl-3-200,libinih1,libmicrohttpd12,libsystemd0,libjson-c5
GUEST_DIR=/usr/local/lib/spl-kmemd-test
GUEST_OUT=/var/tmp/spl-kmemd-test

# Our protocol lines are exempt from the kernel-log scan.
SKIP_RE='DAEMON: |Command line: '

usage() {
	sed -n '2,26s/^# \{0,1\}//p' "$0" >&2
	exit 2
}


build() {
	local obj=$1 blog=$1/build.log
	kmod_build "$obj" tests/genl/kmod || die "module build failed"
	# Userspace, dynamically linked: the guest is Debian 12 like the host.
	if ! bounded 600 make -j"$(nproc)" -C "$obj/daemon" >>"$blog" 2>&1 ||
		! bounded 600 make -j"$(nproc)" -C "$obj/ctl" >>"$blog" 2>&1 ||
		! cc -O2 -Wall -Wextra -Werror -o "$obj/tests/daemon/hog" \
			"$obj/tests/daemon/hog.c" >>"$blog" 2>&1; then
		cat "$blog"
		die "userspace build failed"
	fi
}

# A Debian 12 minbase + systemd root file system, made once and reused.
rootfs_ensure() {
	local log=$BUILD_DIR/daemon-vm/debootstrap.log start=$SECONDS
	mkdir -p "$BUILD_DIR/daemon-vm"
	exec {ROOTFS_LOCK_FD}>"$BUILD_DIR/daemon-vm/.lock"
	flock -w 3600 "$ROOTFS_LOCK_FD" || die "timed out waiting for the rootfs lock"
	# The stamp holds the package list: a new list makes a new root.
	[[ -x $ROOTFS_BASE/lib/systemd/systemd &&
		$(cat "$ROOTFS_STAMP" 2>/dev/null) == "$ROOTFS_PKGS" ]] && return 0
	command -v debootstrap >/dev/null || die "debootstrap is not installed"
	log "creating the Debian 12 guest root file system (log: $log)"
	rm -rf --one-file-system "$ROOTFS_BASE" "$ROOTFS_BASE.tmp"
	if ! bounded 1800 debootstrap --variant=minbase --include="$ROOTFS_PKGS" \
		bookworm "$ROOTFS_BASE.tmp" "$DEBIAN_MIRROR" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "debootstrap failed"
	fi
	mv "$ROOTFS_BASE.tmp" "$ROOTFS_BASE"
	echo "$ROOTFS_PKGS" >"$ROOTFS_STAMP"
	log "root file system ready in $((SECONDS - start))s"
}

# The image: the cached root plus our files, as ext4 (no mount needed).
make_image() {
	local obj=$1 vmdir=$2 mode=$3 stage=$2/rootfs
	rm -rf --one-file-system "$stage"
	cp -a "$ROOTFS_BASE" "$stage"
	install -m 755 "$obj/daemon/spl-kmemd" "$stage/usr/sbin/spl-kmemd"
	install -m 755 "$obj/ctl/splkmemctl" "$stage/usr/sbin/splkmemctl"
	install -m 644 "$obj/etc/spl-kmemd.service" "$stage/lib/systemd/system/spl-kmemd.service"
	install -d "$stage/etc/spl-kmem" "$stage$GUEST_DIR"
	install -m 644 "$obj/etc/spl-kmemd.conf" "$stage$GUEST_DIR/spl-kmemd.conf.example"
	install -m 644 "$obj/kernel/spl_kmem.ko" "$obj/tests/genl/kmod/spl_kmem_genl_test.ko" \
		"$stage$GUEST_DIR/"
	install -m 755 "$obj/tests/daemon/hog" "$obj/tests/daemon/guest.sh" "$stage$GUEST_DIR/"
	install -m 644 "$GUEST_LIB" "$stage$GUEST_DIR/guest-lib.sh"
	# The harness's kmemleak step (tests/vm/guest-lib.sh): a baseline
	# before the test starts; at shutdown, after the test and the daemon
	# have stopped, unload the modules and scan.
	cat >"$stage/etc/systemd/system/spl-kmem-kmemleak.service" <<EOF
[Unit]
Description=kmemleak baseline, and a final scan at shutdown (VM harness)
RequiresMountsFor=/sys/kernel/debug
Before=spl-kmemd-test.service spl-kmemd.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c '. $GUEST_DIR/guest-lib.sh; kmemleak_begin'
ExecStop=/bin/sh -c 'rmmod spl_kmem_genl_test 2>/dev/null; rmmod spl_kmem 2>/dev/null; . $GUEST_DIR/guest-lib.sh; kmemleak_end'
TimeoutSec=30min
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
	cat >"$stage/etc/systemd/system/spl-kmemd-test.service" <<EOF
[Unit]
Description=spl-kmemd VM test
After=multi-user.target spl-kmem-kmemleak.service

[Service]
Type=simple
ExecStart=/bin/bash $GUEST_DIR/guest.sh $mode
StandardOutput=file:/var/tmp/spl-kmemd-test.out
StandardError=inherit

[Install]
WantedBy=multi-user.target
EOF
	mkdir -p "$stage/etc/systemd/system/multi-user.target.wants"
	ln -sf /etc/systemd/system/spl-kmemd-test.service \
		"$stage/etc/systemd/system/multi-user.target.wants/spl-kmemd-test.service"
	ln -sf /etc/systemd/system/spl-kmem-kmemleak.service \
		"$stage/etc/systemd/system/multi-user.target.wants/spl-kmem-kmemleak.service"
	# e2scrub_reap (e2fsprogs) waits on LVM and udev: on the debug kernel
	# under TCG it held multi-user.target, and so the test, for 15 minutes.
	ln -sf /dev/null "$stage/etc/systemd/system/e2scrub_reap.service"
	# No logins on the console: nothing to interleave with our lines.
	ln -sf /dev/null "$stage/etc/systemd/system/serial-getty@ttyS0.service"
	ln -sf /dev/null "$stage/etc/systemd/system/getty@tty1.service"
	echo spl-kmemd-test >"$stage/etc/hostname"
	: >"$stage/etc/machine-id"
	rm -f "$vmdir/rootfs.img"
	mkfs.ext4 -q -F -L root -d "$stage" "$vmdir/rootfs.img" 1536M ||
		die "mkfs.ext4 failed"
	rm -rf --one-file-system "$stage"
}


# Copy the guest's outputs out of the image.
extract() {
	local vmdir=$1 f
	rm -rf "$vmdir/out"
	mkdir -p "$vmdir/out"
	for f in results.txt journal.txt status.txt verify.txt security.txt \
		textfile.prom http.prom http-after-reap.prom textfile-after-reap.prom \
		good.conf demo.txt; do
		debugfs -R "dump $GUEST_OUT/$f $vmdir/out/$f" "$vmdir/rootfs.img" \
			>/dev/null 2>&1 || true
		[[ -s $vmdir/out/$f ]] || rm -f "$vmdir/out/$f"
	done
}

# Host-side checks of what the guest exported.
promtool_checks() {
	local vmdir=$1 f
	for f in textfile.prom http.prom http-after-reap.prom; do
		if [[ ! -s $vmdir/out/$f ]]; then
			echo "DAEMON: FAIL promtool check metrics $f (not written)"
		elif ! command -v promtool >/dev/null; then
			echo "DAEMON: FAIL promtool check metrics $f (promtool not installed: apt-get install prometheus)"
		elif promtool check metrics <"$vmdir/out/$f" >"$vmdir/out/$f.promtool" 2>&1; then
			echo "DAEMON: PASS promtool check metrics $f ($(grep -c '^spl_kmem' "$vmdir/out/$f") samples)"
		else
			echo "DAEMON: FAIL promtool check metrics $f: $(head -n 3 "$vmdir/out/$f.promtool" | tr '\n' ' ')"
		fi
	done
}

judge() {
	local id=$1 vmdir=$2
	promtool_checks "$vmdir" >"$vmdir/host-checks.txt"
	vm_judge "daemon $id" "$vmdir" DAEMON "$SKIP_RE" "" "$vmdir/host-checks.txt" && return 0
	if [[ -s $vmdir/out/journal.txt ]]; then
		echo "--- spl-kmemd journal (last 40 lines; all in $vmdir/out/journal.txt)"
		tail -n 40 "$vmdir/out/journal.txt"
	fi
	return 1
}

main() {
	local build=1 parse_only=0 demo=0
	while (($#)); do
		case $1 in
		--demo) demo=1 ;;
		--no-build) build=0 ;;
		--parse-only) parse_only=1 build=0 ;;
		-h | --help) usage ;;
		-*) usage ;;
		*) break ;;
		esac
		shift
	done
	(($# <= 1)) || usage
	local id=${1:-6.1} name vmdir obj
	valid_kernel_id "$id" || die "unknown kernel id '$id' (known: ${KERNEL_IDS[*]})"
	name=daemon-$id
	((demo == 0)) || name=daemon-demo-$id
	# shellcheck disable=SC2034  # read by log() in lib.sh
	STEP=$name
	vmdir=$BUILD_DIR/vm/$name
	obj=$BUILD_DIR/obj/daemon-$id
	mkdir -p "$vmdir"
	if ((parse_only)); then
		kernel_resolve "$id"
	else
		rm -f "$vmdir/result" "$vmdir/qemu.rc"
		KID=$id
		kernel_prepare "$id" # sets KINITRD ("": the kernel needs none)
		for tool in qemu-system-x86_64 mkfs.ext4 debugfs rsync; do
			command -v "$tool" >/dev/null || die "$tool is not installed"
		done
		((build == 0)) || build "$obj"
		if [[ -n $KROOT && -n $KINITRD ]]; then
			chroot_lock
			chroot_initrd "$KREL" # sets KINITRD
			chroot_unlock
		fi
		[[ -z $KINITRD || -r $KINITRD ]] || die "missing $KINITRD"
		rootfs_ensure
		local mode=""
		((demo == 0)) || mode=--demo
		make_image "$obj" "$vmdir" "$mode"
		vm_boot "$vmdir" "$KINITRD" "root=/dev/vda rw rootfstype=ext4 loglevel=6" \
			-drive "file=$vmdir/rootfs.img,if=virtio,format=raw"
		extract "$vmdir"
	fi
	if ((demo)); then
		[[ -s $vmdir/out/demo.txt ]] || die "the demo did not finish (see $vmdir/console.log)"
		cat "$vmdir/out/demo.txt"
		return 0
	fi
	judge "$id" "$vmdir"
}

main "$@"
