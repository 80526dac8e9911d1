#!/usr/bin/env bash
# Install the host packages the build and the VM harness need (Debian 12).
# Fast no-op when everything is already installed.  The host's kernels
# are the "host" lines of tests/vm/kernels.list; the Debian 13 ones (6.12,
# 7.x) are NOT installed here: they live in the trixie chroot (see lib.sh)
# so that the host is never upgraded with Debian 13 packages.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR disable=SC2034

STEP=deps
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

PACKAGES=(
	build-essential kmod sparse
	qemu-system-x86 busybox-static cpio gzip xz-utils zstd
	debootstrap rsync util-linux coreutils
	libnl-3-dev libnl-genl-3-dev libjson-c-dev pkg-config
	libsystemd-dev libinih-dev libmicrohttpd-dev libcmocka-dev prometheus
	# monitoring/check-dashboard.py.
	python3
	e2fsprogs
	# splkmemctl top in a real terminal (make -C ctl check).
	tmux
	# The debug kernel (tests/vm/debug-kernel.sh).
	linux-source-6.1 bc bison flex libelf-dev libssl-dev
	debhelper dh-dkms dkms devscripts dpkg-dev fakeroot lintian rpm rpmlint
)

# The host's kernels: the "host" lines of kernels.list.
for id in "${KERNEL_IDS[@]}"; do
	[[ ${K_SOURCE[$id]} != host ]] ||
		PACKAGES+=("linux-image-${K_FLAVOUR[$id]}" "linux-headers-${K_FLAVOUR[$id]}")
done

installed() {
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

# apt lists younger than a day count as fresh.
lists_fresh() {
	[[ -n $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n1) ]]
}

apt_update() {
	log "apt-get update"
	# A broken third-party source must not stop us; install reports real trouble.
	bounded 600 apt-get -q update >/dev/null || warn "apt-get update reported errors"
}

apt_install() {
	bounded 1800 env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
		-o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confold \
		--no-install-recommends install "$@"
}

main() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		installed "$p" || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		log "all ${#PACKAGES[@]} host packages present"
		return 0
	fi
	[[ $(id -u) -eq 0 ]] || die "need root to install: ${missing[*]}"
	log "installing: ${missing[*]}"
	lists_fresh || apt_update
	if ! apt_install "${missing[@]}"; then
		# Lists may be fresh yet stale for a point release; retry once.
		apt_update
		apt_install "${missing[@]}" || die "apt-get install failed"
	fi
	log "done"
}

main
log "finished in ${SECONDS}s"
