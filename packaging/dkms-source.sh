#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Make the DKMS source tree of spl_kmem.ko: what the module build needs and
# nothing else.  One definition, used by debian/rules, the RPM spec and
# "make install-dkms".
#
# usage: dkms-source.sh [-n] SRCDIR DESTDIR
#   SRCDIR   top of the spl-kmem source tree (holds VERSION, dkms.conf, kernel/)
#   DESTDIR  the tree to make, e.g. $DESTDIR/usr/src/spl-kmem-$(cat VERSION)
#   -n       leave dkms.conf out (dh_dkms installs it itself)
# The result: DESTDIR/{dkms.conf,VERSION,kernel/{Kbuild,Makefile,configure.sh,
# *.c,*.h,config/*.c,include/...}}, with PACKAGE_VERSION in dkms.conf taken
# from VERSION.  Build products of an in-place build are never copied.
set -eu

with_conf=1
if [ "${1:-}" = -n ]; then
	with_conf=0
	shift
fi
[ $# -eq 2 ] || { sed -n '4,15s/^# \{0,1\}//p' "$0" >&2; exit 2; }
src=$1
dest=$2

version=$(cat "$src/VERSION")
case $version in
'' | *[!0-9A-Za-z.+~]*) echo "dkms-source.sh: bad version '$version' in $src/VERSION" >&2; exit 1 ;;
esac
grep -q '^PACKAGE_VERSION="#MODULE_VERSION#"$' "$src/dkms.conf" || {
	echo "dkms-source.sh: $src/dkms.conf must say PACKAGE_VERSION=\"#MODULE_VERSION#\"" >&2
	exit 1
}

mkdir -p "$dest"
install -m 644 "$src/VERSION" "$dest/VERSION"
if [ "$with_conf" = 1 ]; then
	sed "s/#MODULE_VERSION#/$version/" "$src/dkms.conf" >"$dest/dkms.conf"
	chmod 644 "$dest/dkms.conf"
fi
# Sources only: generated files (spl_kmem_config.h, *.mod.c) are left out.
(cd "$src" && find kernel -type f \( -name '*.c' -o -name '*.h' -o \
	-name Kbuild -o -name Makefile -o -name configure.sh \) \
	! -name '*.mod.c' ! -name 'spl_kmem_config.h' ! -path 'kernel/.*' -print) |
	LC_ALL=C sort | while read -r f; do
		mode=644
		[ "$f" = kernel/configure.sh ] && mode=755
		install -D -m "$mode" "$src/$f" "$dest/$f"
	done
