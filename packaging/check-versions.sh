#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# VERSION is the only place the version is written by hand.  Everything
# else either takes it from there when a package is built (dkms.conf's
# PACKAGE_VERSION, the module's and the tools' -DSPL_KMEM_VERSION), or, as
# the Debian changelog and the RPM spec must carry it literally, is checked
# here against it.  Run by "make deb", "make rpm" and the packaging tests.
#
# usage: check-versions.sh [SRCDIR]      exit 1 on any mismatch
set -eu

src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
rc=0
fail() {
	echo "check-versions: $*" >&2
	rc=1
}

version=$(cat "$src/VERSION")
case $version in
[0-9]*.[0-9]*) ;;
*) fail "VERSION holds '$version', not a version" ;;
esac

# dkms.conf: a placeholder, never a second copy of the number.
grep -q '^PACKAGE_VERSION="#MODULE_VERSION#"$' "$src/dkms.conf" ||
	fail "dkms.conf must say PACKAGE_VERSION=\"#MODULE_VERSION#\" (filled in from VERSION at build time)"

# Debian: native package, so the changelog's version is the upstream one.
deb=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$src/packaging/debian/changelog")
[ "$deb" = "$version" ] ||
	fail "packaging/debian/changelog's newest entry is $deb, VERSION is $version (dch -v $version)"

# RPM: Version: and the newest %changelog entry.
spec=$src/packaging/rpm/spl-kmem.spec
rpmv=$(sed -n 's/^Version:[[:space:]]*//p' "$spec" | head -n 1)
[ "$rpmv" = "$version" ] ||
	fail "$spec has Version: $rpmv, VERSION is $version"
rpmcl=$(sed -n '/^%changelog/,$s/^\* .* - \([^ -]*\)-[^ ]*$/\1/p' "$spec" | head -n 1)
[ "$rpmcl" = "$version" ] ||
	fail "$spec's newest %changelog entry is for $rpmcl, VERSION is $version"

[ "$rc" = 0 ] && echo "check-versions: $version everywhere (VERSION, dkms.conf template, debian/changelog, RPM spec)"
exit "$rc"
