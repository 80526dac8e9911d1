#!/usr/bin/env bash
# spl-kmemd in a VM with systemd as PID 1: build spl_kmem.ko, the test
# module tests/genl/kmod (its demo=1 creates caches after the daemon has
# started), spl-kmemd, splkmemctl and a memory hog; put them with the unit
# and a oneshot test unit into a Debian root file system (debootstrap,
# cached under build/daemon-vm/rootfs-CODENAME) turned into an ext4 image;
# boot KERNEL_ID's Debian kernel and initrd on it under qemu (TCG); judge
# the console (PASS/FAIL lines, BUG/WARNING/Oops lines) and run promtool on
# the metrics the guest wrote (read back from the image with debugfs).
# The guest's userspace (and so its systemd) is the --rootfs release
# whatever the kernel; the daemon, splkmemctl and the hog are built in that
# release (Debian 13: in the trixie chroot of tests/vm/lib.sh).
#
# usage: run-vm.sh [--rootfs 12|13] [--demo] [--no-build] [--parse-only]
#                  [--prepare] [KERNEL_ID]
#   KERNEL_ID     a line of tests/vm/kernels.list (default 6.1): a Debian
#                 kernel with its initrd (the host's /boot, or for the
#                 Debian 13 chroot's kernels one made there by
#                 initramfs-tools), or the debug kernel, which has virtio
#                 and ext4 built in and boots without one
#   --rootfs R    the guest's Debian release: 12 (bookworm, default,
#                 systemd 252) or 13 (trixie, systemd 257, which hands
#                 services $MEMORY_PRESSURE_WATCH); also env ROOTFS
#   --prepare     only make the cached root file system and exit
#   --demo        start the daemon, feed it memory pressure, print what it
#                 logs and exports (for make demo)
#   --no-build    reuse build/obj/daemon-KERNEL_ID and daemon-user-CODENAME
#   --parse-only  only re-judge build/vm/daemon-KERNEL_ID
# env: VM_TIMEOUT (seconds, default 900, times the kernel's slow factor in
#      tests/vm/kernels.list), VM_SMP (2), VM_MEM (MiB, 1024),
#      DEBIAN_MIRROR (for debootstrap), DAEMON_SKIP (guest scenarios to
#      skip, space-separated; default on the debug kernel: systemd_watch,
#      systemd's drop-ins and environment, which take 6 of its minutes
#      with daemon-reload under KASAN and lockdep and touch no kernel
#      code that the other scenarios do not)
# Output: build/vm/daemon-KERNEL_ID[-deb13]/{console.log,out/,result}; exit
# 0 on a pass.  The last line is "daemon KERNEL_ID[-deb13]: N passed, N
# failed".
set -euo pipefail
# shellcheck disable=SC2034  # STEP is read by lib.sh
STEP=daemon
DAEMON_TEST_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../vm/lib.sh
. "$DAEMON_TEST_DIR/../vm/lib.sh"

VM_TIMEOUT=${VM_TIMEOUT:-900}
VM_SMP=${VM_SMP:-2}
VM_MEM=${VM_MEM:-1024}
ROOTFS=${ROOTFS:-12}
# procps: /bin/kill, for the unit's ExecReload=.  Runtime libraries by
# their names in each release (trixie's 64-bit time_t renames: t64).
ROOTFS_COMMON=systemd,systemd-sysv,udev,kmod,procps,libnl-3-200,libnl-genl-3-200,libinih1,libsystemd0,libjson-c5

# Set ROOTFS_CODENAME, ROOTFS_PKGS, ROOTFS_BASE, ROOTFS_STAMP for $ROOTFS.
rootfs_select() {
	case $ROOTFS in
	12 | bookworm) ROOTFS=12 ROOTFS_CODENAME=bookworm
		# prometheus: the server of tests/daemon/prometheus.sh.
		ROOTFS_PKGS=$ROOTFS_COMMON,libmicrohttpd12,prometheus ;;
	13 | trixie) ROOTFS=13 ROOTFS_CODENAME=trixie
		ROOTFS_PKGS=$ROOTFS_COMMON,libmicrohttpd12t64 ;;
	*) die "unknown --rootfs '$ROOTFS' (known: 12, 13)" ;;
	esac
	ROOTFS_BASE=$BUILD_DIR/daemon-vm/rootfs-$ROOTFS_CODENAME
	ROOTFS_STAMP=$ROOTFS_BASE.stamp
}
GUEST_DIR=/usr/local/lib/spl-kmemd-test
GUEST_OUT=/var/tmp/spl-kmemd-test

# Our protocol lines are exempt from the kernel-log scan.
SKIP_RE='DAEMON: |Command line: '

usage() {
	sed -n '2,38s/^# \{0,1\}//p' "$0" >&2
	exit 2
}


build() {
	local obj=$1
	kmod_build "$obj" tests/genl/kmod || die "module build failed"
}

# Build-dependencies of the userspace in the trixie chroot.
USER_BUILD_DEPS=(make gcc libc6-dev pkgconf libnl-3-dev libnl-genl-3-dev
	libsystemd-dev libinih-dev libmicrohttpd-dev libjson-c-dev)

# The daemon, splkmemctl and the hog, dynamically linked against the
# guest release's libraries: on the host for Debian 12 (the host's
# release), in the trixie chroot for Debian 13.  In $1, a tree of its own
# per release (build/obj/daemon-user-CODENAME).
build_user() {
	local uobj=$1 top=$1 blog=$1/build.log took_lock=0
	local apt=(apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends)
	local run=(bounded 600)
	sync_tree "$uobj"
	: >"$blog"
	if ((ROOTFS == 13)); then
		if [[ -z ${CHROOT_LOCK_FD:-} ]]; then
			chroot_lock
			took_lock=1
		fi
		chroot_ensure
		chroot_mount_begin
		if ! chroot "$CHROOT_DIR" dpkg-query -W "${USER_BUILD_DEPS[@]}" >/dev/null 2>&1; then
			log "installing the userspace build-dependencies in the chroot"
			{ in_chroot 600 "${apt[@]}" update &&
				in_chroot 1200 "${apt[@]}" install "${USER_BUILD_DEPS[@]}"; } >>"$blog" 2>&1 ||
				{ tail -n 30 "$blog"; die "installing build-dependencies in the chroot failed"; }
		fi
		mkdir -p "$CHROOT_DIR/mnt/obj-user"
		mount --bind "$uobj" "$CHROOT_DIR/mnt/obj-user"
		top=/mnt/obj-user
		run=(in_chroot 600)
	fi
	if ! "${run[@]}" make -j"$(nproc)" -C "$top/daemon" >>"$blog" 2>&1 ||
		! "${run[@]}" make -j"$(nproc)" -C "$top/ctl" >>"$blog" 2>&1 ||
		! "${run[@]}" cc -O2 -Wall -Wextra -Werror -o "$top/tests/daemon/hog" \
			"$top/tests/daemon/hog.c" >>"$blog" 2>&1; then
		cat "$blog"
		die "userspace build failed (Debian $ROOTFS)"
	fi
	if ((ROOTFS == 13)); then
		chroot_umount_all
		((took_lock == 0)) || chroot_unlock
	fi
}

# A Debian $ROOTFS minbase + systemd root file system, made once and reused.
rootfs_ensure() {
	local log=$BUILD_DIR/daemon-vm/debootstrap-$ROOTFS_CODENAME.log start=$SECONDS
	mkdir -p "$BUILD_DIR/daemon-vm"
	exec {ROOTFS_LOCK_FD}>"$BUILD_DIR/daemon-vm/.lock-$ROOTFS_CODENAME"
	flock -w 3600 "$ROOTFS_LOCK_FD" || die "timed out waiting for the rootfs lock"
	# The stamp holds the package list: a new list makes a new root.
	# The lock is only for making it: runs that share it go on in parallel.
	if [[ -x $ROOTFS_BASE/lib/systemd/systemd &&
		$(cat "$ROOTFS_STAMP" 2>/dev/null) == "$ROOTFS_PKGS" ]]; then
		exec {ROOTFS_LOCK_FD}>&-
		return 0
	fi
	command -v debootstrap >/dev/null || die "debootstrap is not installed"
	log "creating the Debian $ROOTFS ($ROOTFS_CODENAME) guest root file system (log: $log)"
	rm -rf --one-file-system "$ROOTFS_BASE" "$ROOTFS_BASE.tmp"
	if ! bounded 1800 debootstrap --variant=minbase --include="$ROOTFS_PKGS" \
		"$ROOTFS_CODENAME" "$ROOTFS_BASE.tmp" "$DEBIAN_MIRROR" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "debootstrap failed"
	fi
	mv "$ROOTFS_BASE.tmp" "$ROOTFS_BASE"
	echo "$ROOTFS_PKGS" >"$ROOTFS_STAMP"
	exec {ROOTFS_LOCK_FD}>&-
	log "root file system ready in $((SECONDS - start))s"
}

# The image: the cached root plus our files, as ext4 (no mount needed).
make_image() {
	local obj=$1 uobj=$2 vmdir=$3 mode=$4 stage=$3/rootfs
	rm -rf --one-file-system "$stage"
	cp -a "$ROOTFS_BASE" "$stage"
	install -m 755 "$uobj/daemon/spl-kmemd" "$stage/usr/sbin/spl-kmemd"
	install -m 755 "$uobj/ctl/splkmemctl" "$stage/usr/sbin/splkmemctl"
	install -m 644 "$obj/etc/spl-kmemd.service" "$stage/lib/systemd/system/spl-kmemd.service"
	install -d "$stage/etc/spl-kmem" "$stage$GUEST_DIR"
	install -m 644 "$obj/etc/spl-kmemd.conf" "$stage$GUEST_DIR/spl-kmemd.conf.example"
	install -m 644 "$obj/kernel/spl_kmem.ko" "$obj/tests/genl/kmod/spl_kmem_genl_test.ko" \
		"$stage$GUEST_DIR/"
	install -m 755 "$uobj/tests/daemon/hog" "$obj/tests/daemon/guest.sh" "$stage$GUEST_DIR/"
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
	# The Prometheus scenario (tests/daemon/prometheus.sh) and the shipped
	# rules: it tests userspace only, so one kernel (6.1) runs it unless
	# PROMETHEUS=1|0 says otherwise; Debian 12's rootfs has the server.
	if ((ROOTFS == 12)) && [[ ${PROMETHEUS:-$([[ $KID == 6.1 ]] && echo 1 || echo 0)} == 1 ]]; then
		install -m 644 "$obj/tests/daemon/prometheus.sh" "$obj/monitoring/prometheus/spl-kmem.rules.yml" \
			"$stage$GUEST_DIR/"
	fi
	# Started by prometheus.sh only: not at boot, competing with the other scenarios.
	rm -f "$stage/etc/systemd/system/multi-user.target.wants/prometheus.service"
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
	local skip=${DAEMON_SKIP-}
	[[ -v DAEMON_SKIP || ${K_SOURCE[$KID]} != debug ]] || skip=systemd_watch
	tr ' ' '\n' <<<"$skip" | sed '/^$/d' >"$stage$GUEST_DIR/skip"
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
		good.conf demo.txt monitor.json monitor-w.txt prometheus.txt; do
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
	local id=$1 vmdir=$2 label="daemon $1"
	((ROOTFS == 12)) || label+=" (Debian $ROOTFS)"
	promtool_checks "$vmdir" >"$vmdir/host-checks.txt"
	vm_judge "$label" "$vmdir" DAEMON "$SKIP_RE" "" "$vmdir/host-checks.txt" && return 0
	if [[ -s $vmdir/out/journal.txt ]]; then
		echo "--- spl-kmemd journal (last 40 lines; all in $vmdir/out/journal.txt)"
		tail -n 40 "$vmdir/out/journal.txt"
	fi
	return 1
}

main() {
	local build=1 parse_only=0 demo=0 prepare=0
	while (($#)); do
		case $1 in
		--rootfs)
			(($# >= 2)) || usage
			ROOTFS=$2
			shift
			;;
		--rootfs=*) ROOTFS=${1#--rootfs=} ;;
		--prepare) prepare=1 ;;
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
	rootfs_select
	if ((prepare)); then
		rootfs_ensure
		return 0
	fi
	local id=${1:-6.1} name vmdir obj uobj
	valid_kernel_id "$id" || die "unknown kernel id '$id' (known: ${KERNEL_IDS[*]})"
	name=daemon-$id
	((demo == 0)) || name=daemon-demo-$id
	# Debian 12 keeps the historical names.
	((ROOTFS == 12)) || name=$name-deb$ROOTFS
	# shellcheck disable=SC2034  # read by log() in lib.sh
	STEP=$name
	vmdir=$BUILD_DIR/vm/$name
	obj=$BUILD_DIR/obj/daemon-$id
	uobj=$BUILD_DIR/obj/daemon-user-$ROOTFS_CODENAME
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
		if ((build)); then
			build "$obj"
			build_user "$uobj"
		fi
		if [[ -n $KROOT && -n $KINITRD ]]; then
			chroot_lock
			chroot_initrd "$KREL" # sets KINITRD
			chroot_unlock
		fi
		[[ -z $KINITRD || -r $KINITRD ]] || die "missing $KINITRD"
		rootfs_ensure
		local mode=""
		((demo == 0)) || mode=--demo
		make_image "$obj" "$uobj" "$vmdir" "$mode"
		BOOT_START=$SECONDS
		vm_boot "$vmdir" "$KINITRD" "root=/dev/vda rw rootfstype=ext4 loglevel=6" \
			-drive "file=$vmdir/rootfs.img,if=virtio,format=raw"
		extract "$vmdir"
	fi
	if ((demo)); then
		[[ -s $vmdir/out/demo.txt ]] || die "the demo did not finish (see $vmdir/console.log)"
		cat "$vmdir/out/demo.txt"
		return 0
	fi
	judge "${name#daemon-}" "$vmdir"
}

main "$@"
