#!/usr/bin/env bash
# The install journey of the Debian packages on a fresh Debian system:
#
#  1. build spl-kmem-dkms (all) and spl-kmem-tools for RELEASE
#     (packaging/build-deb.sh: tools built inside RELEASE);
#  2. debootstrap a fresh RELEASE root file system with its kernel and
#     headers, dkms, systemd, udev, kmod (apt-get in a chroot);
#  3. "apt install ./spl-kmem-dkms_*.deb ./spl-kmem-tools_*.deb" in it: DKMS
#     must build and install spl_kmem.ko for that kernel;
#  4. boot it (qemu TCG, systemd as PID 1; the rootfs's own kernel and
#     initrd): spl_kmem loaded at boot, "systemctl enable --now spl-kmemd",
#     splkmemctl list (tests/packaging/guest.sh first);
#  5. install a newer kernel from RELEASE-backports (bookworm: 6.12,
#     trixie: 7.x) with its headers: DKMS must build the module for it;
#  6. boot that kernel: the module loads, the service runs, splkmemctl
#     answers; then "apt-get purge spl-kmem-dkms spl-kmem-tools" and check
#     that nothing is left (guest.sh newer).
#
#  7. (bookworm) with the newer kernel's headers removed: spl-kmem-dkms.deb
#     builds for the other kernel and its postinst names the one left out;
#     then the RPM's DKMS scriptlets, on the same root with rpm and Debian
#     12's dkms: install, upgrade to the same version (new Release), upgrade
#     to the next version, erase; dkms must hold exactly the installed
#     version, and nothing at the end.
#
# usage: journey.sh [--no-build] [--keep] [--no-rpm] RELEASE  (bookworm | trixie)
#   --no-build  use the packages already in build/deb
#   --keep      keep the root file system and images (build/journey/RELEASE)
#   --no-rpm    skip step 7
# env: VM_TIMEOUT (seconds per boot, default 600), VM_SMP (2), VM_MEM (2048),
#      DEBIAN_MIRROR, SECURITY_MIRROR (default http://deb.debian.org/debian-security)
# Output: "PASS name" / "FAIL name: reason" lines, a summary, and
# build/vm/journey-RELEASE/{result,console-*.log,*.log}; exit 0 on a pass.
set -euo pipefail
# shellcheck disable=SC2034  # STEP is read by lib.sh's log()
STEP=journey
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../vm/lib.sh
. "$HERE/../vm/lib.sh"

VM_TIMEOUT=${VM_TIMEOUT:-600}
VM_SMP=${VM_SMP:-2}
VM_MEM=${VM_MEM:-2048}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
APT=(apt-get -q -y -o Dpkg::Use-Pty=0)
# The guest's protocol lines and the command-line echo are not kernel trouble.
SKIP_RE='JOURNEY: |Command line: '

usage() {
	sed -n '2,25s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# shellcheck source=results.sh
. "$HERE/results.sh"
NOTES=()
TIMES=()
timed() { # name start
	TIMES+=("$1=$((SECONDS - $2))s")
	log "$1 took $((SECONDS - $2))s"
}

# --- the root file system ---------------------------------------------------

root_mounts() {
	findmnt -rn -o TARGET | awk -v p="$ROOT/" 'index($0 "/", p) == 1' | sort -r
}
root_umount() {
	local m
	while read -r m; do
		[[ -n $m ]] || continue
		umount "$m" 2>/dev/null || umount -l "$m" || warn "cannot unmount $m"
	done < <(root_mounts)
}
root_mount() {
	root_umount
	mount -t proc proc "$ROOT/proc"
	mount -t sysfs sysfs "$ROOT/sys"
	cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
}
# A command in the root, as apt would run there: unlike tests/vm/lib.sh's
# in_chroot, kernel installs make their initrd (no INITRD=No).
in_root() {
	local secs=$1
	shift
	bounded "$secs" chroot "$ROOT" /usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

make_rootfs() {
	local log=$VMDIR/rootfs.log start=$SECONDS
	log "debootstrap $RELEASE into $ROOT (log: $log)"
	root_umount
	rm -rf --one-file-system "$ROOT" "$ROOT.tmp"
	if ! bounded 1500 debootstrap --variant=minbase "$RELEASE" "$ROOT.tmp" \
		"$DEBIAN_MIRROR" >"$log" 2>&1; then
		tail -n 20 "$log"
		fail "$RELEASE: debootstrap" "see $log"
		return 1
	fi
	mv "$ROOT.tmp" "$ROOT"
	timed debootstrap "$start"
	start=$SECONDS
	cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR $RELEASE main
deb $DEBIAN_MIRROR $RELEASE-updates main
deb $SECURITY_MIRROR $RELEASE-security main
deb $DEBIAN_MIRROR $NEWER_SUITE main
EOF
	# No daemons started by package scripts in the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
	chmod 755 "$ROOT/usr/sbin/policy-rc.d"
	# A small initrd (this guest needs virtio and ext4 only) is quicker to
	# make and to boot under TCG; everything else is Debian's default.
	mkdir -p "$ROOT/etc/initramfs-tools/conf.d"
	echo MODULES=list >"$ROOT/etc/initramfs-tools/conf.d/journey.conf"
	printf '%s\n' virtio_pci virtio_blk ext4 >>"$ROOT/etc/initramfs-tools/modules"
	root_mount
	if ! {
		in_root 600 "${APT[@]}" update &&
			in_root 900 "${APT[@]}" --no-install-recommends install initramfs-tools &&
			in_root 1800 "${APT[@]}" --no-install-recommends install \
				linux-image-amd64 linux-headers-amd64 dkms systemd systemd-sysv \
				udev kmod procps
	} >>"$log" 2>&1; then
		tail -n 30 "$log"
		fail "$RELEASE: root file system packages" "see $log"
		return 1
	fi
	KREL_A=$(meta_release linux-image-amd64 "$ROOT") || KREL_A=""
	if [[ -z $KREL_A || ! -r $ROOT/boot/vmlinuz-$KREL_A || ! -r $ROOT/boot/initrd.img-$KREL_A ||
		! -e $ROOT/lib/modules/$KREL_A/build/Makefile ]]; then
		fail "$RELEASE: kernel, initrd and headers in the root" "kernel '$KREL_A'"
		return 1
	fi
	# The console is ours: no login prompt to interleave with the lines.
	ln -sf /dev/null "$ROOT/etc/systemd/system/serial-getty@ttyS0.service"
	ln -sf /dev/null "$ROOT/etc/systemd/system/getty@tty1.service"
	echo "journey-$RELEASE" >"$ROOT/etc/hostname"
	printf '127.0.0.1 localhost\n127.0.1.1 journey-%s\n' "$RELEASE" >"$ROOT/etc/hosts"
	timed root-packages "$start"
	pass "$RELEASE: fresh root file system with kernel $KREL_A, its headers, dkms, systemd"
}

# --- the packages -----------------------------------------------------------

install_debs() {
	local log=$VMDIR/install.log start=$SECONDS st
	local dkms_deb tools_deb
	dkms_deb=$(ls "$DEB_DIR"/spl-kmem-dkms_*_all.deb 2>/dev/null | sort -V | tail -n1)
	tools_deb=$(ls "$DEB_DIR/$RELEASE"/spl-kmem-tools_*.deb 2>/dev/null | sort -V | tail -n1)
	if [[ -z $dkms_deb || -z $tools_deb ]]; then
		fail "$RELEASE: packages" "no spl-kmem-dkms or $RELEASE spl-kmem-tools .deb in $DEB_DIR"
		return 1
	fi
	rm -rf "$ROOT/var/tmp/debs"
	mkdir -p "$ROOT/var/tmp/debs"
	cp "$dkms_deb" "$tools_deb" "$ROOT/var/tmp/debs/"
	log "apt install ./$(basename "$dkms_deb") ./$(basename "$tools_deb") (log: $log)"
	# What a user types (Recommends included).
	if in_root 1200 sh -c "cd /var/tmp/debs && apt-get -q -y -o Dpkg::Use-Pty=0 install \
		./$(basename "$dkms_deb") ./$(basename "$tools_deb")" >"$log" 2>&1; then
		pass "$RELEASE: apt install ./spl-kmem-dkms_*.deb ./spl-kmem-tools_*.deb"
	else
		tail -n 40 "$log"
		fail "$RELEASE: apt install" "exit status $? (see $log)"
		return 1
	fi
	rm -rf "$ROOT/var/tmp/debs"
	grep -E 'DKMS|dkms|Building|spl-kmem' "$log" | sed 's/^/  | /' | head -n 30
	st=$(in_root 60 dkms status -m spl-kmem 2>&1 || true)
	if grep -q "spl-kmem/$VERSION, $KREL_A, [^:]*: installed" <<<"$st" &&
		compgen -G "$ROOT/lib/modules/$KREL_A/updates/dkms/spl_kmem.ko*" >/dev/null; then
		pass "$RELEASE: DKMS built and installed spl_kmem $VERSION for $KREL_A (updates/dkms)"
	else
		fail "$RELEASE: DKMS build for $KREL_A" "dkms status: $(tr '\n' ' ' <<<"$st")"
	fi
	dkms_conf_clean "$log" install
	if [[ -L $ROOT/etc/systemd/system/multi-user.target.wants/spl-kmemd.service ]]; then
		pass "$RELEASE: spl-kmemd.service enabled by the package"
	else
		fail "$RELEASE: spl-kmemd.service enabled by the package" "no multi-user.target.wants link"
	fi
	timed install "$start"
}

# This release's dkms has nothing to say about our dkms.conf: no
# deprecated directive, no warning, no error.
dkms_conf_clean() { # log what
	local bad
	bad=$(grep -iE 'deprecat|dkms\.conf: (warning|error)|bad exit status' "$1" || true)
	if [[ -z $bad ]]; then
		pass "$RELEASE: $2: dkms $(in_root 30 dkms --version 2>/dev/null | grep -oE '[0-9][0-9.]+' | head -n1) reports no deprecation or dkms.conf problem"
	else
		fail "$RELEASE: $2: dkms complains" "$(head -n 3 <<<"$bad" | tr '\n' ' ')"
	fi
}

newer_kernel() {
	local log=$VMDIR/newer-kernel.log start=$SECONDS st
	log "installing $NEWER_SUITE's kernel and headers (log: $log)"
	root_mount
	if ! in_root 1800 "${APT[@]}" --no-install-recommends -t "$NEWER_SUITE" install \
		linux-image-amd64 linux-headers-amd64 >"$log" 2>&1; then
		tail -n 40 "$log"
		fail "$RELEASE: install $NEWER_SUITE kernel" "see $log"
		return 1
	fi
	KREL_B=$(meta_release linux-image-amd64 "$ROOT") || KREL_B=""
	if [[ -z $KREL_B || $KREL_B == "$KREL_A" || ! -r $ROOT/boot/initrd.img-$KREL_B ]] ||
		[[ $(printf '%s\n' "$KREL_A" "$KREL_B" | sort -V | tail -n1) != "$KREL_B" ]]; then
		fail "$RELEASE: newer kernel" "got '$KREL_B' after $KREL_A"
		return 1
	fi
	grep -iE 'dkms|spl-kmem|Building|Installing' "$log" | sed 's/^/  | /' | head -n 20
	st=$(in_root 60 dkms status -m spl-kmem 2>&1 || true)
	if grep -q "spl-kmem/$VERSION, $KREL_B, [^:]*: installed" <<<"$st" &&
		compgen -G "$ROOT/lib/modules/$KREL_B/updates/dkms/spl_kmem.ko*" >/dev/null; then
		pass "$RELEASE: kernel $KREL_B installed afterwards: DKMS rebuilt spl_kmem for it"
	else
		fail "$RELEASE: DKMS rebuild for $KREL_B" "dkms status: $(tr '\n' ' ' <<<"$st")"
	fi
	dkms_conf_clean "$log" "newer kernel"
	root_umount
	timed newer-kernel "$start"
}

# --- the RPM's DKMS scriptlets, on the same root (bookworm only) ------------

# spl-kmem-dkms.noarch.rpm at VERSION-RELEASE, built from the spec with the
# tree's VERSION replaced: the upgrade cases need more than one version.
rpm_variant() { # version release
	local v=$1 r=$2 top=$JDIR/rpm/$1-$2
	rm -rf "$top"
	mkdir -p "$top/SOURCES" "$top/SPECS"
	"$SRC/packaging/stage-source.sh" "$SRC" "$top/stage/spl-kmem-$v" || return 1
	echo "$v" >"$top/stage/spl-kmem-$v/VERSION"
	tar -C "$top/stage" -czf "$top/SOURCES/spl-kmem-$v.tar.gz" "spl-kmem-$v"
	sed -e "s/^Version:.*/Version:        $v/" -e "s/^Release:.*/Release:        $r/" \
		"$SRC/packaging/rpm/spl-kmem.spec" >"$top/SPECS/spl-kmem.spec"
	rpmbuild --define "_topdir $top" -bb --without tools "$top/SPECS/spl-kmem.spec" \
		>"$top/rpmbuild.log" 2>&1 || return 1
	cp "$top/RPMS/noarch/spl-kmem-dkms-$v-$r.noarch.rpm" "$ROOT/var/tmp/rpms/"
}

# dkms status of spl-kmem in the root, one "version kernel state" a line.
rpm_dkms_state() {
	in_root 60 dkms status -m spl-kmem 2>/dev/null |
		sed -nE 's|^spl-kmem/([^,]+), ([^,]+), [^:]+: ([a-z]+).*|\1 \2 \3|p' | sort | tr '\n' ';'
}

rpm_step() { # name expected-state rpm-args...
	local name=$1 want=$2 got
	shift 2
	if ! in_root 900 rpm --force-debian --nodeps "$@" >>"$VMDIR/rpm.log" 2>&1; then
		fail "$RELEASE: rpm: $name" "rpm $* failed (see $VMDIR/rpm.log)"
		return 0
	fi
	got=$(rpm_dkms_state)
	if [[ $got == "$want" ]]; then
		pass "$RELEASE: rpm: $name: dkms has ${want:-nothing}"
	else
		fail "$RELEASE: rpm: $name" "dkms has '$got', expected '$want'"
	fi
}

# spl-kmem-dkms.deb on a root where kernel $KREL_B has no headers.
no_headers_deb() {
	local deb log=$VMDIR/no-headers.log
	deb=$(ls "$DEB_DIR"/spl-kmem-dkms_*_all.deb | sort -V | tail -n1)
	mkdir -p "$ROOT/var/tmp/debs"
	cp "$deb" "$ROOT/var/tmp/debs/"
	in_root 900 "${APT[@]}" --no-install-recommends install "/var/tmp/debs/$(basename "$deb")" >"$log" 2>&1 || true
	rm -rf "$ROOT/var/tmp/debs"
	if grep -q "not built for kernel $KREL_B: its headers are missing; install linux-headers-$KREL_B" "$log" &&
		[[ $(rpm_dkms_state) == "$VERSION $KREL_A installed;" ]]; then
		pass "$RELEASE: without headers for $KREL_B: built for $KREL_A only, and the postinst says what to install"
	else
		fail "$RELEASE: no-headers message" "dkms has '$(rpm_dkms_state)'; see $log"
	fi
	grep -E '^spl-kmem-dkms:' "$log" | sed 's/^/  | /'
	in_root 600 "${APT[@]}" purge spl-kmem-dkms >>"$log" 2>&1 || fail "$RELEASE: purge after the no-headers install" "see $log"
}

rpm_scriptlets() {
	local start=$SECONDS left a=$KREL_A b=$KREL_B next
	next=${VERSION%.*}.$((${VERSION##*.} + 1))
	log "RPM scriptlets: install, same-version upgrade, upgrade to $next, erase (log: $VMDIR/rpm.log)"
	: >"$VMDIR/rpm.log"
	root_mount
	# The Debian packages go first (a purge in the chroot, as in the guest).
	if in_root 600 "${APT[@]}" purge spl-kmem-dkms spl-kmem-tools >>"$VMDIR/rpm.log" 2>&1 &&
		[[ -z $(rpm_dkms_state) ]]; then
		pass "$RELEASE: apt purge in the chroot leaves dkms with nothing"
	else
		fail "$RELEASE: apt purge in the chroot" "dkms still has '$(rpm_dkms_state)'"
	fi
	# Kernel B loses its headers: the packages must build for A and say
	# plainly that B has no module (dkms alone prints one easily missed line).
	if ! in_root 600 "${APT[@]}" purge linux-headers-amd64 "linux-headers-$b" >>"$VMDIR/rpm.log" 2>&1 ||
		[[ -e $ROOT/lib/modules/$b/build ]]; then
		fail "$RELEASE: remove the headers of $b" "see $VMDIR/rpm.log"
	else
		no_headers_deb
	fi
	rm -rf "$ROOT/var/tmp/rpms"
	mkdir -p "$ROOT/var/tmp/rpms"
	if ! in_root 900 "${APT[@]}" --no-install-recommends install rpm >>"$VMDIR/rpm.log" 2>&1 ||
		! rpm_variant "$VERSION" 1 || ! rpm_variant "$VERSION" 2 || ! rpm_variant "$next" 1; then
		fail "$RELEASE: rpm: setup" "rpm in the root or the RPM variants (see $VMDIR/rpm.log, $JDIR/rpm)"
		root_umount
		return 0
	fi
	in_root 60 rpmdb --initdb >>"$VMDIR/rpm.log" 2>&1 || true
	local r=/var/tmp/rpms/spl-kmem-dkms
	rpm_step "install $VERSION-1" "$VERSION $a installed;" -i "$r-$VERSION-1.noarch.rpm"
	if grep -q "no development files for kernel $b" "$VMDIR/rpm.log"; then
		pass "$RELEASE: rpm: %posttrans names kernel $b as lacking headers"
	else
		fail "$RELEASE: rpm: no-headers message" "nothing about $b in $VMDIR/rpm.log"
	fi
	rpm_step "upgrade to $VERSION-2 (same version)" "$VERSION $a installed;" -U "$r-$VERSION-2.noarch.rpm"
	rpm_step "upgrade to $next-1" "$next $a installed;" -U "$r-$next-1.noarch.rpm"
	rpm_step "erase" "" -e spl-kmem-dkms
	left=$(cd "$ROOT" && find usr/src var/lib/dkms lib/modules -name 'spl?kmem*' 2>/dev/null | tr '\n' ' ')
	if [[ -z $left ]]; then
		pass "$RELEASE: rpm: erase leaves no module, source or dkms state"
	else
		fail "$RELEASE: rpm: erase leaves" "$left"
	fi
	rm -rf "$ROOT/var/tmp/rpms" "$JDIR/rpm"
	root_umount
	timed rpm-scriptlets "$start"
}

# --- booting ----------------------------------------------------------------

guest_setup() { # phase krel
	local phase=$1 krel=$2
	install -D -m 755 "$HERE/guest.sh" "$ROOT/usr/local/lib/journey/guest.sh"
	printf 'VERSION=%s\nKREL=%s\n' "$VERSION" "$krel" >"$ROOT/usr/local/lib/journey/expect"
	cat >"$ROOT/etc/systemd/system/journey-check.service" <<EOF
[Unit]
Description=spl-kmem packaging journey check ($phase)
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/usr/local/lib/journey/guest.sh $phase
StandardOutput=journal
StandardError=journal+console
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOF
	mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants"
	ln -sfn /etc/systemd/system/journey-check.service \
		"$ROOT/etc/systemd/system/multi-user.target.wants/journey-check.service"
	rm -rf "$ROOT/var/tmp/journey"
}

boot() { # phase krel
	local phase=$1 krel=$2 img=$JDIR/rootfs.img start=$SECONDS size rc=0
	local console=$VMDIR/console-$phase.log
	guest_setup "$phase" "$krel"
	root_umount
	[[ -z $(root_mounts) ]] || die "file systems still mounted under $ROOT"
	# The booted system is a normal one: package scripts may stop and
	# start services there (the chroot's policy-rc.d is put back after).
	rm -f "$ROOT/usr/sbin/policy-rc.d"
	# The root without our packages' build trees is ~2 GB: room to spare.
	size=$(($(du -sm --one-file-system "$ROOT" | cut -f1) * 5 / 4 + 768))
	rm -f "$img"
	if ! mkfs.ext4 -q -F -L root -d "$ROOT" "$img" "${size}M" >"$VMDIR/mkfs-$phase.log" 2>&1; then
		cat "$VMDIR/mkfs-$phase.log"
		fail "$RELEASE: $phase boot" "mkfs.ext4 -d failed"
		return 1
	fi
	timed "image-$phase" "$start"
	start=$SECONDS
	log "booting $krel ($phase) under TCG: smp=$VM_SMP mem=${VM_MEM}M timeout=${VM_TIMEOUT}s"
	rm -f "$console"
	bounded "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg -smp "$VM_SMP" -m "$VM_MEM" \
		-nodefaults -no-user-config -display none -no-reboot -monitor none \
		-serial "file:$console" \
		-drive "file=$img,if=virtio,format=raw" \
		-kernel "$ROOT/boot/vmlinuz-$krel" -initrd "$ROOT/boot/initrd.img-$krel" \
		-append "root=/dev/vda rw console=ttyS0,115200 panic=-1 loglevel=5 mitigations=off" \
		>"$VMDIR/qemu-$phase.out" 2>&1 || rc=$?
	timed "boot-$phase" "$start"
	judge_boot "$phase" "$rc"
	# Keep what the guest wrote next to the console log.
	rm -rf "$VMDIR/guest-$phase" "$VMDIR/journey"
	if debugfs -R "rdump /var/tmp/journey $VMDIR" "$img" >/dev/null 2>&1; then
		mv "$VMDIR/journey" "$VMDIR/guest-$phase" 2>/dev/null || true
	fi
	((KEEP)) || rm -f "$img"
	printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
	chmod 755 "$ROOT/usr/sbin/policy-rc.d"
}

judge_boot() { # phase qemu-rc
	local phase=$1 rc=$2 clean p f done_line bad
	clean=$VMDIR/console-$phase.txt
	tr -d '\r' <"$VMDIR/console-$phase.log" >"$clean" 2>/dev/null || : >"$clean"
	grep -E 'JOURNEY: (PASS|FAIL|DONE|NOTE)' "$clean" | sed 's/^.*JOURNEY: //' || true
	p=$(grep -c 'JOURNEY: PASS ' "$clean" || true)
	f=$(grep -c 'JOURNEY: FAIL ' "$clean" || true)
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	while read -r line; do
		[[ -n $line ]] || continue
		if [[ $line == "JOURNEY: NOTE "* ]]; then
			NOTES+=("${line#JOURNEY: NOTE }")
			continue
		fi
		RESULTS+=("${line#JOURNEY: }")
		[[ $line == "JOURNEY: FAIL "* ]] && REASONS+=("${line#JOURNEY: FAIL }")
	done < <(grep -E 'JOURNEY: (PASS|FAIL|NOTE) ' "$clean" | sed 's/^.*\(JOURNEY: \)/\1/')
	done_line=$(grep -oE 'JOURNEY: DONE [0-9]+ passed, [0-9]+ failed' "$clean" | tail -n1 || true)
	if ((rc != 0)); then
		fail "$RELEASE: $phase boot" "qemu exited with $rc (124: timed out after ${VM_TIMEOUT}s)"
	elif [[ -z $done_line ]]; then
		fail "$RELEASE: $phase boot" "the guest check did not finish (no DONE line)"
	fi
	bad=$(vm_bad_lines "$clean" "$SKIP_RE")
	if [[ -n $bad ]]; then
		fail "$RELEASE: $phase boot kernel log" "BUG/WARNING/Oops lines: $(head -n 3 <<<"$bad" | tr '\n' ' ')"
	else
		pass "$RELEASE: $phase boot: no BUG/WARNING/Oops in the console log"
	fi
	if [[ -z $done_line || $rc != 0 || $f != 0 || -n $bad ]]; then
		echo "----- last 60 lines of $VMDIR/console-$phase.log -----"
		tail -n 60 "$clean"
		echo "----- end -----"
	fi
}

write_result() {
	local verdict=pass why=""
	((FAILED == 0 && PASSED > 0)) || verdict=fail
	((${#REASONS[@]} == 0)) || why=$(printf '%s; ' "${REASONS[@]}")
	why=${why//[\"\$\`\\]/} # check.sh sources the file: keep it inert
	cat >"$VMDIR/result" <<EOF
kernel=journey-$RELEASE
release=$RELEASE ${KREL_A:-?} then ${KREL_B:-?}
passed=$PASSED
failed=$FAILED
verdict=$verdict
reasons="$why"
timings="${TIMES[*]}"
seconds=$((SECONDS - T0))
EOF
	echo "==== journey $RELEASE: ${KREL_A:-?} then ${KREL_B:-?} ($((SECONDS - T0))s: ${TIMES[*]}) ===="
	printf '%s\n' "${RESULTS[@]}"
	((${#NOTES[@]} == 0)) || printf 'NOTE %s\n' "${NOTES[@]}"
	echo "journey-$RELEASE: $PASSED passed, $FAILED failed"
	[[ $verdict == pass ]]
}

main() {
	local build=1
	KEEP=0
	RPM=1
	while (($#)); do
		case $1 in
		--no-build) build=0 ;;
		--keep) KEEP=1 ;;
		--no-rpm) RPM=0 ;;
		-h | --help | -*) usage ;;
		*) break ;;
		esac
		shift
	done
	(($# == 1)) || usage
	RELEASE=$1
	case $RELEASE in
	bookworm | trixie) NEWER_SUITE=$RELEASE-backports ;;
	*) usage ;;
	esac
	# shellcheck disable=SC2034  # read by lib.sh's log()
	STEP="journey $RELEASE"
	T0=$SECONDS
	VERSION=$(cat "$SRC/VERSION")
	JDIR=$BUILD_DIR/journey/$RELEASE
	VMDIR=$BUILD_DIR/vm/journey-$RELEASE
	ROOT=$JDIR/rootfs
	DEB_DIR=$BUILD_DIR/deb
	KREL_A="" KREL_B=""
	mkdir -p "$JDIR" "$VMDIR"
	exec {LOCK_FD}>"$JDIR/.lock"
	flock -w 3600 "$LOCK_FD" || die "timed out waiting for $JDIR/.lock"
	rm -f "$VMDIR"/result "$VMDIR"/console-*.log
	on_exit root_umount
	for tool in debootstrap qemu-system-x86_64 mkfs.ext4 debugfs; do
		command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install debootstrap qemu-system-x86 e2fsprogs)"
	done

	local start=$SECONDS
	if ((build)); then
		if "$SRC/packaging/build-deb.sh" --no-lintian "$RELEASE" >"$VMDIR/build-deb.log" 2>&1; then
			pass "$RELEASE: packages built (dpkg-buildpackage; tools inside $RELEASE)"
		else
			tail -n 30 "$VMDIR/build-deb.log"
			fail "$RELEASE: packages built" "packaging/build-deb.sh failed (see $VMDIR/build-deb.log)"
			write_result
			return 1
		fi
		timed build-debs "$start"
	fi
	if make_rootfs && install_debs; then
		boot first "$KREL_A"
		if newer_kernel; then
			boot newer "$KREL_B"
			# The RPM's scriptlets against a real dkms (Debian 12's):
			# both kernels of this root have headers.
			if ((RPM)) && [[ $RELEASE == bookworm ]] && command -v rpmbuild >/dev/null; then
				rpm_scriptlets
			fi
		fi
	fi
	root_umount
	if ((KEEP == 0)) && ((FAILED == 0)); then
		rm -rf --one-file-system "$ROOT"
	fi
	write_result
}

main "$@"
