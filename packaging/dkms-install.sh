#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# "make install-dkms" / "make uninstall-dkms": the module through DKMS
# without a package, as the packages do it.
#
# usage: dkms-install.sh [--uninstall] [SRCDIR]
#   install    make /usr/src/spl-kmem-<VERSION> (packaging/dkms-source.sh),
#              dkms add, then dkms install for every installed kernel that
#              has its headers (a kernel without them is named, not fatal)
#   --uninstall  dkms remove --all, and remove /usr/src/spl-kmem-<VERSION>
# With DESTDIR set, install only makes $DESTDIR/usr/src/spl-kmem-<VERSION>
# (for staging); dkms is not run.
set -eu

uninstall=0
if [ "${1:-}" = --uninstall ]; then
	uninstall=1
	shift
fi
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
version=$(cat "$src/VERSION")
tree=${DESTDIR:-}/usr/src/spl-kmem-$version

if [ "$uninstall" = 1 ]; then
	if [ -z "${DESTDIR:-}" ] && command -v dkms >/dev/null 2>&1 &&
		[ -n "$(dkms status -m spl-kmem -v "$version" 2>/dev/null)" ]; then
		dkms remove -m spl-kmem -v "$version" --all
	fi
	rm -rf "$tree"
	exit 0
fi

rm -rf "$tree"
"$src/packaging/dkms-source.sh" "$src" "$tree"
[ -z "${DESTDIR:-}" ] || exit 0

command -v dkms >/dev/null 2>&1 || {
	echo "dkms-install.sh: dkms is not installed (apt install dkms / dnf install dkms)" >&2
	exit 1
}
[ -z "$(dkms status -m spl-kmem -v "$version" 2>/dev/null)" ] || dkms remove -m spl-kmem -v "$version" --all
dkms add -m spl-kmem -v "$version"
rc=0
built=0
for kdir in /lib/modules/*/; do
	kver=$(basename "$kdir")
	[ -e "$kdir/vmlinuz" ] || [ -e "/boot/vmlinuz-$kver" ] || continue
	if [ ! -e "$kdir/build/Makefile" ]; then
		echo "dkms-install.sh: kernel $kver has no headers: spl_kmem not built for it" >&2
		continue
	fi
	if dkms install -m spl-kmem -v "$version" -k "$kver"; then
		built=$((built + 1))
	else
		rc=1
	fi
done
[ "$built" -gt 0 ] || {
	echo "dkms-install.sh: no kernel with headers: install linux-headers-$(uname -r) (or kernel-devel), then: dkms autoinstall" >&2
	rc=1
}
exit "$rc"
