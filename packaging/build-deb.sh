#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the Debian packages with dpkg-buildpackage ("make deb").
#
#   spl-kmem-dkms_<v>_all.deb     once, on this machine (Architecture: all)
#   spl-kmem-monitoring_<v>_all.deb  the same
#   <release>/spl-kmem-tools_<v>_<arch>.deb
#                                 for each release, built in that release:
#                                 bookworm on this machine when it is
#                                 Debian 12, trixie in the Debian 13 chroot
#                                 of tests/vm/lib.sh (build/chroot/trixie)
# then lintian on each.
#
# usage: build-deb.sh [--no-lintian] [--out DIR] [RELEASE...]
#   RELEASE   bookworm and/or trixie (default: this machine's release)
#   --out     output directory (default: build/deb)
# Missing build dependencies are installed with apt-get (as root).
# Output: DIR/spl-kmem-{dkms,monitoring}_*.deb, DIR/RELEASE/spl-kmem-tools_*.deb,
# DIR/lintian-*.txt.  Exit 1 when a build fails or lintian reports an error.
set -euo pipefail
# shellcheck disable=SC2034  # read by lib.sh
STEP=deb
PKG_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/vm/lib.sh
. "$PKG_DIR/../tests/vm/lib.sh"

OUT=$BUILD_DIR/deb
LINTIAN=1
RELEASES=()

usage() {
	sed -n '4,20s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

host_release() {
	(. /etc/os-release && echo "${VERSION_CODENAME:-unknown}")
}

# A clean copy of the source tree with packaging/debian as debian/.
stage_source() { # destdir
	"$PKG_DIR/stage-source.sh" "$SRC" "$1" || die "staging $1 failed"
	cp -a "$SRC/packaging/debian" "$1/debian"
}

build_deps_host() { # srcdir --arch-only|--indep-only
	local dir=$1 which=$2 flag=-B
	[[ $which == --indep-only ]] && flag=-A
	(cd "$dir" && dpkg-checkbuilddeps "$flag" 2>/dev/null) && return 0
	[[ $(id -u) == 0 ]] || die "missing build dependencies (dpkg-checkbuilddeps in $dir)"
	log "installing build dependencies on this machine"
	bounded 1200 apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends \
		install build-essential dpkg-dev devscripts lintian >/dev/null
	bounded 1200 apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends \
		build-dep "$which" "$dir" >/dev/null || die "apt-get build-dep failed"
}

run_lintian() { # name lintian-command...
	local name=$1 out=$OUT/lintian-$1.txt rc=0
	shift
	"$@" >"$out" 2>&1 || rc=$?
	local e w
	e=$(grep -c '^E: ' "$out" || true)
	w=$(grep -c '^W: ' "$out" || true)
	log "lintian $name: $e error(s), $w warning(s) ($out)"
	grep -E '^[EW]: ' "$out" || true
	((e == 0)) || LINTIAN_FAILED=1
	# lintian exits 1 for errors, 2 when it could not run.
	((rc != 2)) || {
		cat "$out"
		LINTIAN_FAILED=1
	}
}

# The arch-all package, on this machine.
build_indep() {
	local stage=$OUT/src/indep version
	version=$(cat "$SRC/VERSION")
	log "building spl-kmem-dkms and spl-kmem-monitoring (Architecture: all) here"
	stage_source "$stage/spl-kmem-$version"
	build_deps_host "$stage/spl-kmem-$version" --indep-only
	(cd "$stage/spl-kmem-$version" && bounded 900 dpkg-buildpackage -us -uc -A) \
		>"$OUT/build-indep.log" 2>&1 || {
		tail -n 40 "$OUT/build-indep.log"
		die "dpkg-buildpackage -A failed (log: $OUT/build-indep.log)"
	}
	rm -f "$OUT"/spl-kmem-dkms_*.deb "$OUT"/spl-kmem-monitoring_*.deb
	cp "$stage"/spl-kmem-dkms_*.deb "$stage"/spl-kmem-monitoring_*.deb "$OUT/"
	if ((LINTIAN)); then
		run_lintian indep lintian --info "$stage"/*.changes
	fi
}

# The arch-dependent package for this machine's release.
build_arch_host() {
	local rel=$1 stage=$OUT/src/$1 version
	version=$(cat "$SRC/VERSION")
	log "building spl-kmem-tools for $rel here"
	stage_source "$stage/spl-kmem-$version"
	build_deps_host "$stage/spl-kmem-$version" --arch-only
	(cd "$stage/spl-kmem-$version" && bounded 900 dpkg-buildpackage -us -uc -B) \
		>"$OUT/build-$rel.log" 2>&1 || {
		tail -n 40 "$OUT/build-$rel.log"
		die "dpkg-buildpackage -B failed (log: $OUT/build-$rel.log)"
	}
	rm -rf "${OUT:?}/$rel"
	mkdir -p "$OUT/$rel"
	cp "$stage"/spl-kmem-tools_*.deb "$OUT/$rel/"
	if ((LINTIAN)); then
		run_lintian "$rel" lintian --info "$stage"/*.changes
	fi
}

# The arch-dependent package for Debian 13, in the trixie build chroot.
build_arch_trixie() {
	local version cdir=/var/tmp/spl-kmem-deb log=$OUT/build-trixie.log
	local apt=(apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends)
	version=$(cat "$SRC/VERSION")
	log "building spl-kmem-tools for trixie in $CHROOT_DIR"
	chroot_lock
	chroot_ensure
	chroot_mount_begin
	rm -rf "${CHROOT_DIR:?}$cdir"
	stage_source "$CHROOT_DIR$cdir/spl-kmem-$version"
	: >"$log"
	if ! {
		in_chroot 1200 "${apt[@]}" install build-essential dpkg-dev &&
			in_chroot 1200 "${apt[@]}" build-dep --arch-only "$cdir/spl-kmem-$version"
	} >>"$log" 2>&1; then
		# A stale package index: refresh once.
		in_chroot 600 "${apt[@]}" update >>"$log" 2>&1 || true
		if ! {
			in_chroot 1200 "${apt[@]}" install build-essential dpkg-dev &&
				in_chroot 1200 "${apt[@]}" build-dep --arch-only "$cdir/spl-kmem-$version"
		} >>"$log" 2>&1; then
			tail -n 30 "$log"
			die "installing build dependencies in the chroot failed (log: $log)"
		fi
	fi
	in_chroot 900 sh -c "cd $cdir/spl-kmem-$version && dpkg-buildpackage -us -uc -B" >>"$log" 2>&1 || {
		tail -n 40 "$log"
		die "dpkg-buildpackage -B failed in the trixie chroot (log: $log)"
	}
	rm -rf "${OUT:?}/trixie"
	mkdir -p "$OUT/trixie"
	cp "$CHROOT_DIR$cdir"/spl-kmem-tools_*.deb "$OUT/trixie/"
	if ((LINTIAN)); then
		# Debian 13's lintian judges by Debian 13's policy.
		if ! chroot "$CHROOT_DIR" sh -c 'command -v lintian' >/dev/null; then
			in_chroot 1200 "${apt[@]}" install lintian >>"$log" 2>&1 ||
				warn "cannot install lintian in the chroot"
		fi
		run_lintian trixie in_chroot 600 sh -c "lintian --info $cdir/*.changes"
	fi
	rm -rf "${CHROOT_DIR:?}$cdir"
	chroot_umount_all
}

main() {
	while (($#)); do
		case $1 in
		--no-lintian) LINTIAN=0 ;;
		--out)
			OUT=$2
			shift
			;;
		-h | --help) usage ;;
		-*) usage ;;
		*) RELEASES+=("$1") ;;
		esac
		shift
	done
	mkdir -p "$OUT"
	OUT=$(cd "$OUT" && pwd)
	local host rel start=$SECONDS
	host=$(host_release)
	((${#RELEASES[@]})) || RELEASES=("$host")
	for rel in "${RELEASES[@]}"; do
		[[ $rel == bookworm || $rel == trixie ]] || die "unknown release '$rel' (bookworm, trixie)"
	done
	"$PKG_DIR/check-versions.sh" "$SRC" || die "versions disagree"
	if ((LINTIAN)) && ! command -v lintian >/dev/null; then
		[[ $(id -u) == 0 ]] || die "lintian is not installed"
		bounded 1200 apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends install lintian >/dev/null ||
			die "cannot install lintian"
	fi
	LINTIAN_FAILED=0
	rm -f "$OUT"/lintian-*.txt
	build_indep
	for rel in "${RELEASES[@]}"; do
		if [[ $rel == "$host" ]]; then
			build_arch_host "$rel"
		elif [[ $rel == trixie ]]; then
			build_arch_trixie
		else
			die "cannot build for $rel on a $host machine"
		fi
	done
	rm -rf "$OUT/src"
	log "done in $((SECONDS - start))s:"
	(cd "$OUT" && find . -name '*.deb' | sort | sed 's|^\./|  |')
	((LINTIAN_FAILED == 0)) || die "lintian reported errors"
}

main "$@"
