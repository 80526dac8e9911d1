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
# The Debian 13 chroot (its kernels, initrds and compilers) is kept outside
# the clone, like the debug kernel (debug-kernel.sh), so that a machine
# makes it once and every run, CI's fresh clones included, reuses it; it is
# refreshed now and then (CHROOT_REFRESH_DAYS).  build/chroot points there
# unless it exists already.  Resolved: the mount bookkeeping below compares
# real paths.
CHROOT_CACHE=${SPLKMEM_CACHE:-/var/cache/spl-kmem}/chroot
if [[ ! -e $BUILD_DIR/chroot ]]; then
	mkdir -p "$CHROOT_CACHE"
	ln -sfn "$CHROOT_CACHE" "$BUILD_DIR/chroot" 2>/dev/null || true
fi
CHROOT_DIR=$(realpath -m "$BUILD_DIR/chroot/trixie")
CHROOT_STAMP=$BUILD_DIR/chroot/trixie.stamp
# The chroot kernels installed (chroot_kernel_spec) when it was last set up.
CHROOT_KSTAMP=$BUILD_DIR/chroot/trixie.kernels
CHROOT_REFRESH_DAYS=${CHROOT_REFRESH_DAYS:-7}
# Where a kernel's build copy appears inside the chroot (bind mount).
CHROOT_OBJ=/mnt/obj
# The kernel table (see its header): KERNEL_IDS in table order, and per id
# K_SOURCE, K_FLAVOUR, K_RELEASE_RE, K_SLOW, K_SUITES, K_CMDLINE.
KERNELS_LIST=${KERNELS_LIST:-$VM_LIB_DIR/kernels.list}
KERNEL_IDS=()
# Reasons a suite adds before vm_judge (see there).
JUDGE_REASONS=()
# Extra make variables for kernel/ (kmod_build).
KMOD_VARS=()
declare -gA K_SOURCE=() K_FLAVOUR=() K_RELEASE_RE=() K_SLOW=() K_SUITES=() K_CMDLINE=()
_kernels_load() {
	local id src fl re slow suites cmdline
	while read -r id src fl re slow suites cmdline; do
		[[ -n $id && $id != \#* ]] || continue
		[[ -n $suites ]] || { echo "$KERNELS_LIST: short line for '$id'" >&2; return 1; }
		KERNEL_IDS+=("$id")
		K_SOURCE[$id]=$src K_FLAVOUR[$id]=$fl K_RELEASE_RE[$id]=$re K_SLOW[$id]=$slow
		[[ $suites != all ]] || suites=vm,genl,daemon12,daemon13
		K_SUITES[$id]=$suites
		[[ $cmdline != - ]] || cmdline=""
		K_CMDLINE[$id]=$cmdline
	done <"$KERNELS_LIST"
}
_kernels_load || exit 1

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
	[[ -n ${K_SOURCE[$1]+set} ]]
}

# Suites (vm, genl, daemon) that "make check" runs on kernel $1.
kernel_suites() {
	tr ',' ' ' <<<"${K_SUITES[$1]}"
}

# Release that a Debian kernel metapackage points at, e.g.
# "linux-image-6.1.0-56-amd64 (= ...)" -> 6.1.0-56-amd64.  $1: metapackage,
# $2: optional root directory (chroot) whose dpkg database to read.
meta_release() {
	local meta=$1 root=${2:-/} deps
	deps=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Depends}' "$meta" 2>/dev/null) || return 1
	grep -oE 'linux-image-[0-9][^ ,]*' <<<"$deps" | sed 's/^linux-image-//' | sort -V | tail -n1
}

# Is release $1 of Debian flavour $2?  (amd64 must not take an rt one.)
release_of_flavour() { # release flavour
	case $2 in
	amd64) [[ $1 == *-amd64 && $1 != *-rt-amd64 && $1 != *-cloud-amd64 ]] ;;
	*) [[ $1 == *-"$2" ]] ;;
	esac
}

# Fallback when the metapackage is absent: newest /boot/vmlinuz-* below
# root $1 of flavour $2 whose release matches regex $3.
newest_vmlinuz_release() { # root flavour regex
	local r
	find "$1/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' 2>/dev/null |
		sed 's/^vmlinuz-//' | grep -E -- "$3" | sort -V |
		while read -r r; do release_of_flavour "$r" "$2" && echo "$r"; done | tail -n1
}

# The debug kernel's cache directory (built or not).
debug_kernel_dir() {
	"$VM_LIB_DIR/debug-kernel.sh" --print-dir
}

# In the chroot: where the release of each "trixie" kernel is recorded.
CHROOT_KREC=/etc/spl-kmem-test/kernels

# Resolve a kernel ID (a line of kernels.list).  Sets:
#   KID      the id
#   KREL     kernel release (uname -r in the guest)
#   KROOT    root directory holding that kernel ("" for the host, else chroot)
#   KIMAGE   host path of the vmlinuz
#   KDIR     headers/build directory as seen by the compiler (inside KROOT)
#   KMODDIR  host path of /lib/modules/$KREL
#   KCONFIG  host path of the kernel's .config
#   KSLOW    time-limit factor;  KCMDLINE  extra kernel command line
#   KINITRD  host path of the initrd for a full root file system ("" when
#            the kernel boots one without: the debug kernel)
kernel_resolve() {
	local id=$1 src fl dir
	valid_kernel_id "$id" || die "unknown kernel id '$id' (known: ${KERNEL_IDS[*]})"
	KID=$id src=${K_SOURCE[$id]} fl=${K_FLAVOUR[$id]}
	case $src in
	debug)
		dir=$(debug_kernel_dir) || die "$id: cannot locate the debug kernel"
		[[ -f $dir/ok ]] || die "$id: the debug kernel is not built yet (tests/vm/debug-kernel.sh)"
		KROOT="" KREL=$(cat "$dir/release")
		KIMAGE=$dir/src/arch/x86/boot/bzImage
		KDIR=$dir/src
		KMODDIR=$dir/root/lib/modules/$KREL
		KCONFIG=$dir/src/.config
		KINITRD=""
		;;
	host | trixie | trixie-backports)
		KROOT=""
		[[ $src == host ]] || KROOT=$CHROOT_DIR
		if [[ $src == trixie ]]; then
			KREL=$(cat "$KROOT$CHROOT_KREC/$id" 2>/dev/null) || KREL=""
		else
			KREL=$(meta_release "linux-image-$fl" "${KROOT:-/}") || KREL=""
		fi
		[[ -n $KREL ]] || KREL=$(newest_vmlinuz_release "$KROOT" "$fl" "${K_RELEASE_RE[$id]}")
		[[ -n $KREL ]] || die "$id: no kernel found (did tests/vm/deps.sh run?)"
		release_of_flavour "$KREL" "$fl" || die "$id: $KREL is not of flavour $fl"
		KIMAGE=$KROOT/boot/vmlinuz-$KREL
		KDIR=/usr/src/linux-headers-$KREL
		KMODDIR=$KROOT/lib/modules/$KREL
		KCONFIG=$KROOT/boot/config-$KREL
		# The chroot's initrd is made on demand (chroot_initrd).
		KINITRD=$KROOT/boot/initrd.img-$KREL
		[[ -f $KROOT$KDIR/Makefile ]] || die "$id: missing headers $KROOT$KDIR"
		;;
	*) die "$KERNELS_LIST: $id: unknown source '$src'" ;;
	esac
	[[ $KREL =~ ${K_RELEASE_RE[$id]} ]] ||
		die "$id: resolved to $KREL, which does not match '${K_RELEASE_RE[$id]}' ($KERNELS_LIST)"
	[[ -r $KIMAGE ]] || die "$id: missing $KIMAGE"
	KSLOW=${K_SLOW[$id]:-1}
	KCMDLINE=${K_CMDLINE[$id]}
	return 0
}

# Make kernel $1 available, then kernel_resolve it: the chroot's kernels
# are installed (chroot created or refreshed) under the chroot lock, the
# debug kernel is built unless cached (tests/vm/debug-kernel.sh waits for
# a build running elsewhere).  The host's come from tests/vm/deps.sh.
kernel_prepare() {
	local id=$1
	valid_kernel_id "$id" || die "unknown kernel id '$id' (known: ${KERNEL_IDS[*]})"
	case ${K_SOURCE[$id]} in
	trixie | trixie-backports)
		if [[ -n ${CHROOT_LOCK_FD:-} ]]; then
			chroot_ensure
		else
			chroot_lock
			chroot_ensure
			chroot_unlock
		fi
		;;
	debug) "$VM_LIB_DIR/debug-kernel.sh" || die "$id: building the debug kernel failed" ;;
	esac
	kernel_resolve "$id"
}

# Does the resolved kernel have kmemleak?  Then every suite scans at its end.
kernel_has_kmemleak() {
	grep -qx 'CONFIG_DEBUG_KMEMLEAK=y' "$KCONFIG" 2>/dev/null
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

# At exit, unmount only while holding the chroot lock: a run that has
# released it must not pull /proc from under the build that holds it now
# (objtool then fails with "fopen failed").
_chroot_exit_umount() {
	[[ -z ${CHROOT_LOCK_FD:-} ]] || chroot_umount_all
}

chroot_mount_begin() {
	chroot_umount_all # stale mounts from a killed run
	on_exit _chroot_exit_umount
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

# The table's chroot kernels as one line: a change (a kernel added)
# makes chroot_ensure install again.
chroot_kernel_spec() {
	local id
	for id in "${KERNEL_IDS[@]}"; do
		case ${K_SOURCE[$id]} in
		trixie | trixie-backports) printf '%s:%s:%s ' "$id" "${K_SOURCE[$id]}" "${K_FLAVOUR[$id]}" ;;
		esac
	done
	echo
}

# Install the versioned kernel that suite $2's linux-image-$3 points to
# (not the newer one backports give the metapackage) and record its
# release for kernel_resolve.
_chroot_suite_kernel() { # id suite flavour
	local id=$1 suite=$2 fl=$3 ver rel
	local apt=(apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends)
	ver=$(in_chroot 120 apt-cache madison "linux-image-$fl" |
		awk -F'|' -v re=" $suite(-updates)?/main " '$3 ~ re { gsub(/ /, "", $2); print $2 }' |
		sort -V | tail -n1)
	[[ -n $ver ]] || { echo "no linux-image-$fl in $suite" >&2; return 1; }
	rel=$(in_chroot 120 apt-cache show "linux-image-$fl=$ver" | sed -n 's/^Depends: //p' |
		grep -oE 'linux-image-[0-9][^ ,]*' | head -n1 | sed 's/^linux-image-//')
	[[ -n $rel ]] || { echo "linux-image-$fl=$ver names no kernel" >&2; return 1; }
	echo "$id: $suite's linux-image-$fl $ver -> $rel"
	in_chroot 1800 "${apt[@]}" install "linux-image-$rel" "linux-headers-$rel" || return 1
	mkdir -p "$CHROOT_DIR$CHROOT_KREC"
	echo "$rel" >"$CHROOT_DIR$CHROOT_KREC/$id"
}

_chroot_apt_install() {
	local apt=(apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends) id fl
	in_chroot 600 "${apt[@]}" update &&
		in_chroot 1800 "${apt[@]}" install make gcc libc6-dev kmod xz-utils || return 1
	for id in "${KERNEL_IDS[@]}"; do
		fl=${K_FLAVOUR[$id]}
		case ${K_SOURCE[$id]} in
		trixie-backports)
			in_chroot 1800 "${apt[@]}" install -t trixie-backports \
				"linux-image-$fl" "linux-headers-$fl" || return 1
			;;
		trixie) _chroot_suite_kernel "$id" trixie "$fl" || return 1 ;;
		esac
	done
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
	chroot_kernel_spec >"$CHROOT_KSTAMP"
	log "chroot packages took $((SECONDS - start))s; chroot ready"
}

# Newer backports kernels appear over time; pick them up now and then.
_chroot_refresh() { # why
	local log=$BUILD_DIR/chroot/trixie-setup.log start=$SECONDS
	log "refreshing chroot packages ($1; log: $log)"
	chroot_mount_begin
	if _chroot_apt_install >>"$log" 2>&1; then
		date -u +%FT%TZ >"$CHROOT_STAMP"
		chroot_kernel_spec >"$CHROOT_KSTAMP"
		log "chroot refresh took $((SECONDS - start))s"
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
			_chroot_refresh "stamp older than $CHROOT_REFRESH_DAYS days"
		elif [[ $(cat "$CHROOT_KSTAMP" 2>/dev/null) != "$(chroot_kernel_spec)" ]]; then
			_chroot_refresh "kernels.list names kernels it does not have yet"
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
# Besides oopses and lockups, the reports of the debug kernel's detectors:
# lockdep (its reports start "WARNING: possible circular locking
# dependency detected" and so on; the phrases are listed on their own so
# that a report whose WARNING line was lost still counts), KASAN and
# KFENCE, kmemleak (the "unreferenced object" lines of a scan, see
# tests/vm/guest-lib.sh, and kmemleak giving up), DEBUG_OBJECTS ("ODEBUG:")
# and the atomic-context checks.
BAD_CASE='BUG:|WARNING:|Oops|Call Trace|Kernel panic|kernel BUG at|UBSAN:|KASAN:|KFENCE:|list_(add|del) corruption'
BAD_CASE+='|possible circular locking dependency|inconsistent lock state|possible recursive locking'
BAD_CASE+='|suspicious RCU usage|turning off the locking correctness validator|DEBUG_LOCKS_WARN_ON'
BAD_CASE+='|unreferenced object|suspected memory leak|Kernel memory leak detector disabled'
BAD_CASE+='|kmemleak: (Memory pool empty|Cannot allocate)|ODEBUG:'
BAD_CASE+='|sleeping function called from invalid context|scheduling while atomic'
BAD_NOCASE='general protection|soft lockup|hung task|hung_task|blocked for more than|bad page|rcu.{0,40}stall|unable to handle'
# Lines that match the above but are not a problem (debug-kernel boot).
BAD_BENIGN='ODEBUG: selftest passed'

# The guest side of the harness (kmemleak_begin/kmemleak_end), copied into
# every guest.
GUEST_LIB=$VM_LIB_DIR/guest-lib.sh

# Boot $KIMAGE (see kernel_resolve) under TCG with INITRD ("": none),
# serial console to VMDIR/console.log, qemu's exit code to VMDIR/qemu.rc,
# the boot's wall time to VMDIR/boot.seconds.  APPEND adds to the kernel
# command line (after the kernel's own from kernels.list), further
# arguments go to qemu (e.g. a -drive).
# env: VM_TIMEOUT (seconds on a production kernel; multiplied by the
#      kernel's slow factor), VM_SMP, VM_MEM, VM_APPEND (extra command line).
vm_boot() { # vmdir initrd append [qemu-args...]
	local vmdir=$1 initrd=$2 append=$3 rc=0 start=$SECONDS
	shift 3
	# tsc=nowatchdog: under TCG on a busy host the clocksource watchdog
	# marks the TSC unstable mid-run, and 7.x then flips sched_clock's
	# static keys while other vCPUs run them, which once ended a 7.x-rt
	# guest in an int3 Oops (text patching under TCG), not ours.
	local cmdline="console=ttyS0,115200 panic=-1 printk.devkmsg=on mitigations=off tsc=nowatchdog ${KCMDLINE:-} $append ${VM_APPEND:-}"
	local tmo=$((VM_TIMEOUT * ${KSLOW:-1})) rd=()
	[[ -z $initrd ]] || rd=(-initrd "$initrd")
	rm -f "$vmdir/console.log"
	echo "$tmo" >"$vmdir/timeout"
	log "booting $KREL: smp=$VM_SMP mem=${VM_MEM}M timeout=${tmo}s"
	bounded "$tmo" qemu-system-x86_64 -accel tcg -smp "$VM_SMP" -m "$VM_MEM" \
		-nodefaults -no-user-config -display none -no-reboot -monitor none \
		-serial "file:$vmdir/console.log" \
		-kernel "$KIMAGE" "${rd[@]}" -append "$cmdline" "$@" \
		>"$vmdir/qemu.out" 2>&1 || rc=$?
	echo "$rc" >"$vmdir/qemu.rc"
	echo "$((SECONDS - start))" >"$vmdir/boot.seconds"
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
	judged=$(grep -nvE "$2|$BAD_BENIGN" "$1" || true)
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

# --- building the modules for a kernel ------------------------------------------

# Mirror SRC into DEST like sync_tree; print what changed (rsync -i).
_sync_tree_changes() { # dest
	mkdir -p "$1"
	rsync -rlpc -i --delete --exclude=/.git/ --filter=':- .gitignore' \
		--exclude=/build.log --exclude=/.kdir --exclude=/.built "$SRC/" "$1/"
}

# make, bounded, on the host or in the chroot (KROOT), in directory $1
# given as the compiler sees it.
_kmake() { # dir make-args...
	local d=$1
	shift
	if [[ -n $KROOT ]]; then
		in_chroot "${BUILD_TIMEOUT:-900}" make -j"$(nproc)" -C "$d" "$@"
	else
		bounded "${BUILD_TIMEOUT:-900}" make -j"$(nproc)" -C "$d" "$@"
	fi
}

# Build kernel/spl_kmem.ko and each test-module directory DIR (relative to
# the tree, e.g. tests/kmod) against it in TOP (host path) for the
# resolved kernel: on the host, inside the Debian 13 chroot (TOP is
# bind-mounted there; the chroot lock is taken unless the caller holds
# it), or against the debug kernel's build tree.  KERNEL=0 skips kernel/.
# Appends to TOP/build.log; returns 1 on failure.
_kmod_make() { # top kernel(0|1) [dir...]
	local top=$1 host_top=$1 with_kernel=$2 blog=$1/build.log d took_lock=0 rc=0
	shift 2
	if [[ -n $KROOT ]]; then
		if [[ -z ${CHROOT_LOCK_FD:-} ]]; then
			chroot_lock
			took_lock=1
		fi
		mkdir -p "$CHROOT_DIR$CHROOT_OBJ"
		chroot_mount_begin
		mount --bind "$host_top" "$CHROOT_DIR$CHROOT_OBJ"
		top=$CHROOT_OBJ
	fi
	if ((with_kernel)); then
		# SPL_KMEM_TESTING=1: the test hooks the suites drive (never packaged).
		_kmake "$top/kernel" KDIR="$KDIR" SPL_KMEM_TESTING=1 "${KMOD_VARS[@]}" >>"$blog" 2>&1 || rc=1
		[[ $rc == 1 || -f $host_top/kernel/spl_kmem.ko ]] ||
			{ echo "kernel/spl_kmem.ko was not produced" >>"$blog"; rc=1; }
	fi
	if ((rc == 0)); then
		for d in "$@"; do
			_kmake "$top/$d" KDIR="$KDIR" SPL_KMEM_SYMVERS="$top/kernel/Module.symvers" \
				>>"$blog" 2>&1 || { rc=1; break; }
		done
	fi
	if [[ -n $KROOT ]]; then
		chroot_umount_all
		((took_lock == 0)) || chroot_unlock
	fi
	return "$rc"
}

# Build kernel/spl_kmem.ko, then each test-module directory DIR (e.g.
# tests/kmod, tests/genl/kmod) against it, for the resolved kernel
# (kernel_resolve), and leave them in OBJ, the caller's private mirror of
# SRC (where it builds its userspace).  The modules are built once per
# kernel and source tree in build/obj/kmod-<id> and shared by the suites:
# a suite whose tree matches the last build and whose DIRs were built
# reuses them.  The log is OBJ/build.log; on failure it is printed and the
# function returns 1.
# env: KMOD_FRESH=1 or KMOD_VARS (array of extra make variables for
#      kernel/, e.g. W=1 C=1): build from scratch in OBJ itself, nothing
#      shared (the W=1 and sparse checks); BUILD_TIMEOUT (900)
kmod_build() { # obj [dir...]
	local obj=$1 shared d lockfd start=$SECONDS need=() with_kernel=0
	shift
	if [[ ${KMOD_FRESH:-0} == 1 || ${#KMOD_VARS[@]} -gt 0 ]]; then
		rm -rf --one-file-system "$obj"
		sync_tree "$obj"
		echo "$KREL" >"$obj/.kdir"
		: >"$obj/build.log"
		log "building for $KREL: kernel/${*:+ and $*} in $obj"
		if ! _kmod_make "$obj" 1 "$@"; then
			cat "$obj/build.log"
			warn "module build for $KREL failed (log: $obj/build.log)"
			return 1
		fi
		log "modules for $KREL built in $((SECONDS - start))s"
		return 0
	fi
	shared=$BUILD_DIR/obj/kmod-$KID
	mkdir -p "$BUILD_DIR/obj"
	exec {lockfd}>"$BUILD_DIR/obj/.kmod-$KID.lock"
	flock -w 3600 "$lockfd" || die "timed out waiting for another module build for $KID"
	if [[ ! -f $shared/.kdir || $(cat "$shared/.kdir") != "$KREL" ]]; then
		rm -rf --one-file-system "$shared"
	fi
	# Only what the modules are made of counts as a change: kernel/,
	# VERSION and the test-module directories built before or now.
	local dirs_re changed
	dirs_re=$( { cat "$shared/.built" 2>/dev/null; printf '%s\n' "$@"; } | grep -v '^kernel$' |
		sed 's/[.]/[.]/g; s|$|/|' | paste -sd '|' -)
	changed=$(_sync_tree_changes "$shared" | awk '{ print $2 }' |
		grep -E "^(kernel/|VERSION\$${dirs_re:+|$dirs_re})" || true)
	if [[ -n $changed || ! -f $shared/.built ]]; then
		rm -f "$shared/.built"
		with_kernel=1
		need=("$@")
	else
		for d in "$@"; do
			grep -qxF "$d" "$shared/.built" || need+=("$d")
		done
	fi
	echo "$KREL" >"$shared/.kdir"
	if ((with_kernel == 0 && ${#need[@]} == 0)); then
		log "modules for $KREL up to date in $shared"
	else
		log "building for $KREL:$( ((with_kernel)) && echo " kernel/")${need[*]:+ ${need[*]}} in $shared"
		((with_kernel == 0)) || : >"$shared/build.log"
		if ! _kmod_make "$shared" "$with_kernel" "${need[@]}"; then
			exec {lockfd}>&-
			cat "$shared/build.log"
			cp "$shared/build.log" "$obj/build.log" 2>/dev/null || true
			warn "module build for $KREL failed (log: $shared/build.log)"
			return 1
		fi
		((with_kernel == 0)) || echo kernel >"$shared/.built"
		printf '%s\n' "${need[@]}" >>"$shared/.built"
		log "modules for $KREL built in $((SECONDS - start))s"
	fi
	# The caller's copy: its tree, with the modules from the shared build.
	sync_tree "$obj"
	echo "$KREL" >"$obj/.kdir"
	cp "$shared/build.log" "$obj/build.log"
	cp "$shared/kernel/spl_kmem.ko" "$shared/kernel/Module.symvers" "$obj/kernel/"
	for d in "$@"; do
		cp "$shared/$d"/*.ko "$shared/$d/Module.symvers" "$obj/$d/" 2>/dev/null ||
			cp "$shared/$d"/*.ko "$obj/$d/"
	done
	exec {lockfd}>&-
}

# --- judging a suite's run ----------------------------------------------------

# Judge a suite's guest console VMDIR/console.log and write VMDIR/result,
# the file check.sh reads (kernel=, release=, passed=, failed=,
# test_failed=, harness_error=, verdict=, reasons=, seconds=, kmemleak=).
# TAG is the prefix of the suite's result lines in the kernel log:
# "TAG: PASS name", "TAG: FAIL name: why", one "TAG: DONE N passed, N
# failed".  The run fails on any of: qemu's exit status (124: timeout), a
# missing DONE line or one that disagrees with the PASS/FAIL lines, a FAIL
# line, END_RE ("": not required) missing, a kernel-log problem
# (vm_bad_lines, minus the suite's own lines SKIP_RE), on a kernel with
# kmemleak a final scan that did not run or reported anything, and each
# reason the suite put into the array JUDGE_REASONS.  EXTRA_FILE: host-side
# "TAG: PASS|FAIL" lines, counted too.  A failure that no FAIL line counts
# counts as one failed test (harness_error=1), so totals show it.
# Prints the PASS/FAIL lines, on failure the console's tail, the offending
# lines and the reasons, and last "LABEL: N passed, N failed".
vm_judge() { # label vmdir tag skip-re [end-re] [extra-file]
	local label=$1 vmdir=$2 tag=$3 skip=$4 end_re=${5:-} extra=${6:-}
	local log=$vmdir/console.log clean=$vmdir/console.txt
	local qrc pass fail gpass gfail done_line dpass dfail bad kml=n/a n
	local reasons=("${JUDGE_REASONS[@]}")
	[[ -f $log ]] || : >"$log"
	tr -d '\r' <"$log" >"$clean"
	[[ -n $extra && -f $extra ]] || extra=/dev/null
	qrc=$(cat "$vmdir/qemu.rc" 2>/dev/null || echo missing)
	gpass=$(grep -cE "$tag: PASS( |$)" "$clean" || true)
	gfail=$(grep -cE "$tag: FAIL( |:|$)" "$clean" || true)
	pass=$((gpass + $(grep -cE "$tag: PASS( |$)" "$extra" || true)))
	fail=$((gfail + $(grep -cE "$tag: FAIL( |:|$)" "$extra" || true)))
	done_line=$(grep -oE "$tag: DONE [0-9]+ passed, [0-9]+ failed" "$clean" || true)
	case $qrc in
	0) ;;
	124 | 137) reasons+=("qemu timed out after $(cat "$vmdir/timeout" 2>/dev/null)s") ;;
	*) reasons+=("qemu exited with $qrc: $(head -c 300 "$vmdir/qemu.out" 2>/dev/null | tr '\n' ' ')") ;;
	esac
	if [[ -z $done_line ]]; then
		reasons+=("no DONE line: the guest did not finish")
	elif (($(wc -l <<<"$done_line") > 1)); then
		reasons+=("more than one DONE line")
	else
		read -r dpass dfail < <(sed -E 's/.*DONE ([0-9]+) passed, ([0-9]+) failed/\1 \2/' <<<"$done_line")
		if [[ $dpass != "$gpass" || $dfail != "$gfail" ]]; then
			reasons+=("DONE says $dpass passed, $dfail failed but the log has $gpass PASS and $gfail FAIL lines")
		fi
	fi
	((fail == 0)) || reasons+=("$fail test(s) failed")
	[[ -z $end_re ]] || grep -qE "$end_re" "$clean" || reasons+=("guest init did not finish")
	if kernel_has_kmemleak; then
		n=$(grep -oE 'KMEMLEAK: scan done, [0-9]+ leak' "$clean" | tail -n1 | grep -oE '[0-9]+' || true)
		if [[ -z $n ]]; then
			kml=not-run
			reasons+=("kmemleak: the final scan did not run")
		elif ((n > 0)); then
			kml=$n
			reasons+=("kmemleak: $n unreferenced object(s), report in the log")
		else
			kml=clean
		fi
	fi
	bad=$(vm_bad_lines "$clean" "$skip")
	[[ -z $bad ]] || reasons+=("kernel log has BUG/WARNING/Oops/lockup/debug-report lines")

	local harness_err=0 verdict=pass why=""
	if ((${#reasons[@]})); then
		verdict=fail
		((fail > 0)) || harness_err=1
		why=$(printf '%s; ' "${reasons[@]}")
	fi
	why=${why//[\"\$\`\\]/} # result is read by check.sh: keep it inert
	cat >"$vmdir/result" <<EOF
kernel=${KID:-unknown}
release=${KREL:-unknown}
passed=$pass
failed=$((fail + harness_err))
test_failed=$fail
harness_error=$harness_err
verdict=$verdict
reasons="$why"
seconds=$(cat "$vmdir/boot.seconds" 2>/dev/null || echo 0)
kmemleak=$kml
EOF
	cat "$clean" "$extra" | grep -oE "$tag: (PASS|FAIL|SKIP)( .*|$)" | sed "s/^$tag: //" || true
	if [[ $verdict == fail ]]; then
		echo "----- last 80 lines of $log -----"
		tail -n 80 "$clean"
		echo "----- end of console log -----"
		[[ -z $bad ]] || awk '!seen[$0]++ { print "offending: " $0 }' <<<"$bad" | head -n 60
		printf 'reason: %s\n' "${reasons[@]}"
	fi
	log "$label ($KREL): verdict $verdict"
	echo "$label: $pass passed, $((fail + harness_err)) failed"
	[[ $verdict == pass ]]
}

# A suite whose build failed: a result that counts one failure.
vm_result_build_failed() { # vmdir label
	printf 'kernel=%s\nrelease=%s\npassed=0\nfailed=1\nverdict=fail\nreasons="build failed"\n' \
		"${KID:-unknown}" "${KREL:-unknown}" >"$1/result"
	echo "$2: 0 passed, 1 failed"
}
