# shellcheck shell=bash disable=SC2034  # globals are used by the scripts sourcing this
# Shared helpers for the VM harness: paths, logging, kernel resolution and the
# Debian 13 (trixie) build chroot used for the 7.x kernel.  Sourced, not run.
#
# Environment (all optional):
#   SRC          source tree to build (default: this repository)
#   BUILD_DIR    output directory (default: <repo>/build)
#   DEBIAN_MIRROR  mirror for the trixie chroot (default: http://deb.debian.org/debian)
#   CHROOT_REFRESH_DAYS  re-run apt in the chroot when its stamp is older (default 7)

VM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$VM_LIB_DIR/../.." && pwd)
SRC=$(cd "${SRC:-$REPO_ROOT}" && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO_ROOT/build}
mkdir -p "$BUILD_DIR"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Resolved: build/chroot may be a symlink shared by several work trees,
# and the mount bookkeeping below compares real paths.
CHROOT_DIR=$(realpath -m "$BUILD_DIR/chroot/trixie")
CHROOT_STAMP=$BUILD_DIR/chroot/trixie.stamp
CHROOT_REFRESH_DAYS=${CHROOT_REFRESH_DAYS:-7}
# Where a kernel's build copy appears inside the chroot (bind mount).
CHROOT_OBJ=/mnt/obj
KERNEL_IDS=(6.1 6.1-rt 7.x)

STEP=${STEP:-vm}

log() { printf '[%s] %s\n' "$STEP" "$*"; }
warn() { printf '[%s] warning: %s\n' "$STEP" "$*" >&2; }
die() {
	printf '[%s] error: %s\n' "$STEP" "$*" >&2
	exit 1
}

# --- exit handling: scripts register cleanups instead of owning the trap ---
_CLEANUPS=()
_BG_PID=""
on_exit() { _CLEANUPS+=("$*"); }
_run_cleanups() {
	local i
	for ((i = ${#_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${_CLEANUPS[i]}" || true
	done
}
# Stop the running bounded command first, so that cleanups (unmounting the
# chroot) do not race with it.  GNU timeout relays the signal to its group.
_on_signal() {
	if [[ -n $_BG_PID ]]; then
		kill -TERM "$_BG_PID" 2>/dev/null || true
		wait "$_BG_PID" 2>/dev/null || true
	fi
	exit "$1"
}
trap _run_cleanups EXIT
# bash does not run the EXIT trap on an untrapped fatal signal.
trap '_on_signal 130' INT
trap '_on_signal 143' TERM HUP

# Like "timeout SECS CMD...", but a signal to this script stops CMD at once
# (timeout moves CMD out of our process group, and bash would run our trap
# only after a foreground CMD ended).  stdin is /dev/null.
bounded() {
	local secs=$1 rc=0
	shift
	timeout -k 15 "$secs" "$@" </dev/null &
	_BG_PID=$!
	wait "$_BG_PID" || rc=$?
	_BG_PID=""
	return "$rc"
}

valid_kernel_id() {
	local id
	for id in "${KERNEL_IDS[@]}"; do
		[[ $1 == "$id" ]] && return 0
	done
	return 1
}

# Release that a Debian kernel metapackage points at, e.g.
# "linux-image-6.1.0-56-amd64 (= ...)" -> 6.1.0-56-amd64.  $1: metapackage,
# $2: optional root directory (chroot) whose dpkg database to read.
meta_release() {
	local meta=$1 root=${2:-/} deps
	deps=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Depends}' "$meta" 2>/dev/null) || return 1
	grep -oE 'linux-image-[0-9][^ ,]*' <<<"$deps" | sed 's/^linux-image-//' | sort -V | tail -n1
}

# Fallback when the metapackage is absent: newest /boot/vmlinuz-* matching $2.
newest_vmlinuz_release() {
	local root=$1 pattern=$2
	find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' 2>/dev/null |
		sed 's/^vmlinuz-//' | grep -E "$pattern" | sort -V | tail -n1
}

# Resolve a kernel ID.  Sets:
#   KREL     kernel release (uname -r in the guest)
#   KROOT    root directory holding that kernel ("" for the host, else chroot)
#   KIMAGE   host path of the vmlinuz
#   KDIR     headers directory as seen by the compiler (inside KROOT)
#   KMODDIR  host path of /lib/modules/$KREL
kernel_resolve() {
	local id=$1 meta pattern
	case $id in
	6.1) KROOT="" meta=linux-image-amd64 pattern='^6\.1\..*-amd64$' ;;
	6.1-rt) KROOT="" meta=linux-image-rt-amd64 pattern='^6\.1\..*-rt-amd64$' ;;
	7.x) KROOT=$CHROOT_DIR meta=linux-image-amd64 pattern='^[0-9]+\..*-amd64$' ;;
	*) die "unknown kernel id '$id' (known: ${KERNEL_IDS[*]})" ;;
	esac
	KREL=$(meta_release "$meta" "${KROOT:-/}") || KREL=""
	[[ -n $KREL ]] || KREL=$(newest_vmlinuz_release "$KROOT" "$pattern")
	[[ -n $KREL ]] || die "$id: no kernel found (did tests/vm/deps.sh run?)"
	if [[ $id == 7.x && ${KREL%%.*} -lt 7 ]]; then
		die "$id: trixie-backports gave kernel $KREL, not 7.x or newer"
	fi
	[[ $id == 7.x && ${KREL%%.*} -ne 7 ]] && warn "$id: resolved to $KREL (not 7.*)"
	KIMAGE=$KROOT/boot/vmlinuz-$KREL
	KDIR=/usr/src/linux-headers-$KREL
	KMODDIR=$KROOT/lib/modules/$KREL
	[[ -r $KIMAGE ]] || die "$id: missing $KIMAGE"
	[[ -f $KROOT$KDIR/Makefile ]] || die "$id: missing headers $KROOT$KDIR"
	return 0
}

# --- trixie chroot ---------------------------------------------------------

# Mount points below the chroot, deepest first.
chroot_mounts() {
	findmnt -rn -o TARGET | awk -v p="$CHROOT_DIR/" 'index($0 "/", p) == 1' | sort -r
}

chroot_umount_all() {
	local m
	while read -r m; do
		[[ -n $m ]] || continue
		umount "$m" 2>/dev/null || umount -l "$m" || warn "cannot unmount $m"
	done < <(chroot_mounts)
}

chroot_mount_begin() {
	chroot_umount_all # stale mounts from a killed run
	on_exit chroot_umount_all
	mount -t proc proc "$CHROOT_DIR/proc"
	mount -t sysfs sysfs "$CHROOT_DIR/sys"
	# debootstrap populates a static /dev; keep resolv.conf current for apt.
	cp -L /etc/resolv.conf "$CHROOT_DIR/etc/resolv.conf" 2>/dev/null || true
}

# Run a command in the chroot with a clean environment, bounded by $1 seconds.
in_chroot() {
	local secs=$1
	shift
	bounded "$secs" chroot "$CHROOT_DIR" /usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
		INITRD=No "$@"
}

# Take the chroot lock for the life of the calling process: creation,
# refresh and builds (which bind-mount into it) must not overlap.
chroot_lock() {
	mkdir -p "$BUILD_DIR/chroot"
	exec {CHROOT_LOCK_FD}>"$BUILD_DIR/chroot/.lock"
	flock -w 3600 "$CHROOT_LOCK_FD" || die "timed out waiting for the chroot lock"
}

_chroot_apt_install() {
	local apt=(apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends)
	in_chroot 600 "${apt[@]}" update &&
		in_chroot 1800 "${apt[@]}" install make gcc libc6-dev kmod xz-utils &&
		in_chroot 1800 "${apt[@]}" install -t trixie-backports \
			linux-image-amd64 linux-headers-amd64
}

_chroot_create() {
	local log=$BUILD_DIR/chroot/trixie-setup.log
	log "creating Debian 13 chroot in $CHROOT_DIR (log: $log)"
	rm -f "$CHROOT_STAMP"
	chroot_umount_all
	rm -rf --one-file-system "$CHROOT_DIR"
	local start=$SECONDS
	if ! bounded 1800 debootstrap --variant=minbase trixie "$CHROOT_DIR" \
		"$DEBIAN_MIRROR" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "debootstrap failed"
	fi
	log "debootstrap took $((SECONDS - start))s"
	# No services in a build chroot; INITRD=No (in_chroot) skips initramfs too.
	printf '#!/bin/sh\nexit 101\n' >"$CHROOT_DIR/usr/sbin/policy-rc.d"
	chmod 755 "$CHROOT_DIR/usr/sbin/policy-rc.d"
	cat >"$CHROOT_DIR/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR trixie main
deb $DEBIAN_MIRROR trixie-updates main
deb $DEBIAN_MIRROR trixie-backports main
EOF
	chroot_mount_begin
	start=$SECONDS
	if ! _chroot_apt_install >>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "installing packages in the chroot failed"
	fi
	chroot_umount_all
	date -u +%FT%TZ >"$CHROOT_STAMP"
	log "chroot packages took $((SECONDS - start))s; chroot ready"
}

# Newer backports kernels appear over time; pick them up now and then.
_chroot_refresh() {
	local log=$BUILD_DIR/chroot/trixie-setup.log
	log "refreshing chroot packages (stamp older than $CHROOT_REFRESH_DAYS days)"
	chroot_mount_begin
	if _chroot_apt_install >>"$log" 2>&1; then
		date -u +%FT%TZ >"$CHROOT_STAMP"
	else
		warn "chroot refresh failed; using the existing chroot (see $log)"
		touch "$CHROOT_STAMP"
	fi
	chroot_umount_all
}

# Make sure the chroot exists; caller must hold chroot_lock.
chroot_ensure() {
	if [[ -f $CHROOT_STAMP && -x $CHROOT_DIR/usr/bin/apt-get ]]; then
		if [[ -n $(find "$CHROOT_STAMP" -mtime "+$CHROOT_REFRESH_DAYS") ]]; then
			_chroot_refresh
		fi
		return 0
	fi
	_chroot_create
}

# Let other runs use the chroot again (chroot_lock holds it until exit).
chroot_unlock() {
	[[ -z ${CHROOT_LOCK_FD:-} ]] || exec {CHROOT_LOCK_FD}>&-
	CHROOT_LOCK_FD=""
}

# An initrd for the chroot's kernel $1, for guests that boot a full root
# file system: made by the chroot's initramfs-tools (installed on first
# use), kept as the chroot's /boot/initrd.img-$1 and made again when the
# kernel's modules change (depmod rewrites modules.dep).  Sets KINITRD.
# Caller holds chroot_lock; the chroot is unmounted afterwards.
chroot_initrd() { # release
	local rel=$1 log=$BUILD_DIR/chroot/initrd.log
	local apt=(apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends)
	KINITRD=$CHROOT_DIR/boot/initrd.img-$rel
	[[ -s $KINITRD && $KINITRD -nt $CHROOT_DIR/lib/modules/$rel/modules.dep ]] && return 0
	chroot_mount_begin
	: >"$log"
	if [[ ! -x $CHROOT_DIR/usr/sbin/update-initramfs ]]; then
		log "installing initramfs-tools in the chroot (log: $log)"
		{ in_chroot 600 "${apt[@]}" update &&
			in_chroot 1800 "${apt[@]}" install initramfs-tools zstd; } >>"$log" 2>&1 ||
			{ tail -n 30 "$log" >&2; die "installing initramfs-tools failed"; }
	fi
	log "making $KINITRD (log: $log)"
	rm -f "$KINITRD"
	if ! in_chroot 900 update-initramfs -c -k "$rel" >>"$log" 2>&1 || [[ ! -s $KINITRD ]]; then
		tail -n 30 "$log" >&2
		rm -f "$KINITRD"
		die "update-initramfs failed"
	fi
	chroot_umount_all
}

# --- booting a guest and reading its console --------------------------------

# Kernel log lines that mean the kernel is unhappy.  Case matters for the
# first set (kernel spelling); the second set is matched case-insensitively.
BAD_CASE='BUG:|WARNING:|Oops|Call Trace|Kernel panic|kernel BUG at|UBSAN:|KASAN:|KFENCE:|list_(add|del) corruption'
BAD_NOCASE='general protection|soft lockup|hung task|hung_task|blocked for more than|bad page|rcu.{0,40}stall|unable to handle'

# Boot $KIMAGE (see kernel_resolve) under TCG with INITRD, serial console
# to VMDIR/console.log, qemu's exit code to VMDIR/qemu.rc.  APPEND adds to
# the kernel command line, further arguments go to qemu (e.g. a -drive).
# env: VM_TIMEOUT, VM_SMP, VM_MEM, VM_APPEND (extra kernel command line).
vm_boot() { # vmdir initrd append [qemu-args...]
	local vmdir=$1 initrd=$2 append=$3 rc=0 start=$SECONDS
	shift 3
	local cmdline="console=ttyS0,115200 panic=-1 printk.devkmsg=on mitigations=off $append ${VM_APPEND:-}"
	rm -f "$vmdir/console.log"
	log "booting $KREL: smp=$VM_SMP mem=${VM_MEM}M timeout=${VM_TIMEOUT}s"
	bounded "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg -smp "$VM_SMP" -m "$VM_MEM" \
		-nodefaults -no-user-config -display none -no-reboot -monitor none \
		-serial "file:$vmdir/console.log" \
		-kernel "$KIMAGE" -initrd "$initrd" -append "$cmdline" "$@" \
		>"$vmdir/qemu.out" 2>&1 || rc=$?
	echo "$rc" >"$vmdir/qemu.rc"
	log "qemu exited rc=$rc after $((SECONDS - start))s"
}

# Mirror the source tree SRC into DEST for building there, leaving out
# what git ignores (build products, build/) and keeping DEST's own
# products (rsync does not delete excluded files).  Compare by content and
# do not keep mtimes: a changed file must look newer than its object even
# when git gave it an older mtime.
sync_tree() { # dest
	mkdir -p "$1"
	rsync -rlpc --delete --exclude=/.git/ --filter=':- .gitignore' \
		--exclude=/build.log --exclude=/.kdir "$SRC/" "$1/"
}

# Print the lines of a console log that show a kernel problem, skipping
# those matching SKIP_RE (a test's own protocol lines, which may quote
# such words).
vm_bad_lines() { # console-file skip-regex
	local judged
	judged=$(grep -nvE "$2" "$1" || true)
	{
		grep -E "$BAD_CASE" <<<"$judged"
		grep -iE "$BAD_NOCASE" <<<"$judged"
	} | sort -t: -k1,1n -u | sed 's/^[0-9]*://' || true
}

# --- modules for a guest ------------------------------------------------------

# Print, in load order, the in-tree modules (paths relative to KMODDIR)
# that the given .ko files depend on, from the kernel's modules.dep.
module_deps() {
	local ko names
	for ko in "$@"; do
		names=$(modinfo -F depends "$ko" 2>/dev/null | tr ',' ' ')
		[[ -n ${names// /} ]] || continue
		awk -v want="$names" '
			BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) { gsub("-", "_", w[i]); need[w[i]] = 1 } }
			{
				path = $1; sub(":$", "", path)
				b = path; sub(".*/", "", b); sub("[.]ko([.][a-z]+)?$", "", b); gsub("-", "_", b)
				if (!(b in need)) next
				# modules.dep lists what a module needs; load in reverse order.
				for (i = NF; i >= 2; i--) print $i
				print path
			}' "$KMODDIR/modules.dep"
	done | awk '!seen[$0]++'
}

# Copy a (possibly compressed) module as a plain .ko.
copy_module() {
	case $1 in
	*.ko.xz) xz -dc "$1" >"$2" ;;
	*.ko.zst) zstd -qdc "$1" >"$2" ;;
	*.ko.gz) gzip -dc "$1" >"$2" ;;
	*) cp "$1" "$2" ;;
	esac
}
