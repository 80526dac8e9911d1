#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the RPMs with rpmbuild ("make rpm").  On this Debian machine:
#   1. the Source0 tarball from a clean copy of the tree;
#   2. spl-kmem-dkms and spl-kmem-monitoring (noarch): rpmbuild -bb
#      --without tools, the packages dnf users install (their content does
#      not depend on the build host);
#   3. the tools part of the spec, checked: rpmspec --parse, and a
#      throw-away rpmbuild of spl-kmem-tools against Debian's libraries
#      (--nodeps, systemd scriptlet macros stubbed) that proves %install and
#      %files agree; that RPM is deleted, being linked against Debian's
#      libraries (build it on Fedora/RHEL with rpmbuild -ba);
#   4. rpmlint on the spec and on the noarch RPMs.
#
# usage: build-rpm.sh [--all] [--out DIR]        (default: build/rpm)
#   --all   on Fedora/RHEL ("make rpm-all"): rpmbuild -ba of the whole spec
#           instead (build dependencies installed with dnf beforehand), the
#           source RPM and every binary RPM copied to DIR
# Output: DIR/spl-kmem-{dkms,monitoring}-<v>-<r>.noarch.rpm, DIR/SOURCES/spl-kmem-<v>.tar.gz,
# DIR/SPECS/spl-kmem.spec, DIR/rpmlint.txt.  Exit 1 when a step fails or
# rpmlint reports an error.
set -euo pipefail
PKG_DIR=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$PKG_DIR/.." && pwd)
OUT=$SRC/build/rpm
ALL=0
log() { printf '[rpm] %s\n' "$*"; }
die() {
	printf '[rpm] error: %s\n' "$*" >&2
	exit 1
}

while (($#)); do
	case $1 in
	--all) ALL=1 ;;
	--out)
		OUT=$2
		shift
		;;
	*)
		sed -n '4,23s/^# \{0,1\}//p' "$0" >&2
		exit 2
		;;
	esac
	shift
done

for tool in rpmbuild rpmspec rpmlint; do
	command -v "$tool" >/dev/null ||
		die "$tool is missing (apt-get install rpm rpmlint, or dnf install rpm-build rpmlint)"
done
"$PKG_DIR/check-versions.sh" "$SRC" || die "versions disagree"
version=$(cat "$SRC/VERSION")
spec=$PKG_DIR/rpm/spl-kmem.spec

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT"/{BUILD,BUILDROOT,RPMS,SRPMS,SOURCES,SPECS,stage,tools-check} "$OUT"/*.rpm
mkdir -p "$OUT"/{SOURCES,SPECS}
cp "$spec" "$OUT/SPECS/"

log "Source0: spl-kmem-$version.tar.gz"
"$PKG_DIR/stage-source.sh" "$SRC" "$OUT/stage/spl-kmem-$version"
tar -C "$OUT/stage" --owner=0 --group=0 --sort=name -czf \
	"$OUT/SOURCES/spl-kmem-$version.tar.gz" "spl-kmem-$version"
rm -rf "$OUT/stage"

rpmbuild_() { # topdir args...
	local top=$1
	shift
	# Debian's rpm has no %dist and no _binary_payload default worth noting.
	rpmbuild --define "_topdir $top" --define "_sourcedir $OUT/SOURCES" "$@"
}

if ((ALL)); then
	log "rpmbuild -ba (every package, build dependencies checked)"
	rpmbuild_ "$OUT" -ba "$OUT/SPECS/spl-kmem.spec" >"$OUT/rpmbuild-all.log" 2>&1 || {
		tail -n 40 "$OUT/rpmbuild-all.log"
		die "rpmbuild -ba failed (log: $OUT/rpmbuild-all.log)"
	}
	find "$OUT/RPMS" "$OUT/SRPMS" -name '*.rpm' -exec mv -t "$OUT" {} +
	rpmlint -r "$PKG_DIR/rpm/spl-kmem.rpmlintrc" "$OUT/SPECS/spl-kmem.spec" "$OUT"/*.rpm || true
	log "done:"
	ls "$OUT"/*.rpm
	exit 0
fi

log "rpmbuild -bb --without tools: spl-kmem-dkms and spl-kmem-monitoring (noarch)"
rpmbuild_ "$OUT" -bb --without tools "$OUT/SPECS/spl-kmem.spec" >"$OUT/rpmbuild-dkms.log" 2>&1 || {
	tail -n 40 "$OUT/rpmbuild-dkms.log"
	die "rpmbuild failed (log: $OUT/rpmbuild-dkms.log)"
}
mv "$OUT"/RPMS/noarch/spl-kmem-dkms-*.noarch.rpm "$OUT"/RPMS/noarch/spl-kmem-monitoring-*.noarch.rpm "$OUT/"
rpm_file=$(ls "$OUT"/spl-kmem-dkms-*.noarch.rpm)
log "built $(basename "$rpm_file"):"
rpm -qlp "$rpm_file" | sed 's/^/  /' | head -n 8
echo "  ... ($(rpm -qlp "$rpm_file" | wc -l) paths)"

# Every file of the DKMS tree is under /usr/src/spl-kmem-<v>, dkms.conf
# carries the version, and the scriptlets call dkms.
rpm -qlp "$rpm_file" | grep -vqE "^(/usr/src/spl-kmem-$version|/usr/share/doc/spl-kmem-dkms)" &&
	die "the dkms RPM has files outside /usr/src/spl-kmem-$version"
rpm2cpio "$rpm_file" | (cd "$OUT" && rm -rf x && mkdir x && cd x && cpio -idm --quiet)
grep -qx "PACKAGE_VERSION=\"$version\"" "$OUT/x/usr/src/spl-kmem-$version/dkms.conf" ||
	die "dkms.conf in the RPM does not say PACKAGE_VERSION=\"$version\""
rm -rf "$OUT/x"
rpm -qp --scripts "$rpm_file" >"$OUT/scriptlets.txt"
if ! grep -q 'dkms remove -m spl-kmem' "$OUT/scriptlets.txt" ||
	! grep -q 'dkms install -m spl-kmem' "$OUT/scriptlets.txt"; then
	die "the dkms RPM's scriptlets do not call dkms"
fi

mon_file=$(ls "$OUT"/spl-kmem-monitoring-*.noarch.rpm)
log "built $(basename "$mon_file"):"
rpm -qlp "$mon_file" | sed 's/^/  /'
rpm -qlp "$mon_file" | grep -qx /usr/share/spl-kmem/prometheus/spl-kmem.rules.yml &&
	rpm -qlp "$mon_file" | grep -qx /usr/share/spl-kmem/grafana/spl-kmem.json &&
	! rpm -qlp "$mon_file" | grep -vqE '^/usr/share/(spl-kmem|doc/spl-kmem-monitoring[^/]*)(/|$)' ||
	die "the monitoring RPM does not hold exactly /usr/share/spl-kmem/{prometheus,grafana}/"

log "rpmspec --parse (tools included)"
rpmspec --define "_sourcedir $OUT/SOURCES" --parse "$OUT/SPECS/spl-kmem.spec" >"$OUT/spec-parsed.txt" 2>"$OUT/spec-parse.err" || {
	cat "$OUT/spec-parse.err"
	die "rpmspec --parse failed"
}
grep -q '^%files tools' "$OUT/spec-parsed.txt" || die "rpmspec --parse shows no %files tools"

log "rpmbuild -bb of spl-kmem-tools with Debian's libraries (check only, RPM discarded)"
# Debian's rpm lacks the systemd macros of systemd-rpm-macros: stub them.
if rpmbuild_ "$OUT/tools-check" -bb --nodeps \
	--define '_unitdir /usr/lib/systemd/system' \
	--define '_modulesloaddir /usr/lib/modules-load.d' \
	--define 'systemd_post() :' --define 'systemd_preun() :' \
	--define 'systemd_postun_with_restart() :' \
	"$OUT/SPECS/spl-kmem.spec" >"$OUT/rpmbuild-tools-check.log" 2>&1; then
	tools_rpm=$(ls "$OUT"/tools-check/RPMS/*/spl-kmem-tools-*.rpm)
	rpm -qlp "$tools_rpm" | sed 's/^/  /'
	rpm -qp --configfiles "$tools_rpm" | grep -qx /etc/spl-kmem/spl-kmemd.conf ||
		die "spl-kmemd.conf is not a %config file"
	rm -rf "$OUT/tools-check"
else
	tail -n 40 "$OUT/rpmbuild-tools-check.log"
	die "the tools part of the spec does not build (log: $OUT/rpmbuild-tools-check.log)"
fi

log "rpmlint"
rc=0
rpmlint "$OUT/SPECS/spl-kmem.spec" "$rpm_file" "$mon_file" >"$OUT/rpmlint-unfiltered.txt" 2>&1 || true
rpmlint -r "$PKG_DIR/rpm/spl-kmem.rpmlintrc" "$OUT/SPECS/spl-kmem.spec" "$rpm_file" "$mon_file" \
	>"$OUT/rpmlint.txt" 2>&1 || rc=$?
cat "$OUT/rpmlint.txt"
errors=$(grep -cE '^[^ ]+: E: ' "$OUT/rpmlint.txt" || true)
((errors == 0)) || die "rpmlint reported $errors error(s)"
log "done: $(basename "$rpm_file") (rpmlint exit status $rc)"
