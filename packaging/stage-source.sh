#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Copy the source tree as git sees it -- tracked and untracked files, minus
# ignored ones and build products -- to DEST: the input of dpkg-buildpackage
# and of the RPM's Source0 tarball.  Without git, rsync with the same
# exclusions.
#
# usage: stage-source.sh SRCDIR DEST
set -euo pipefail

[[ $# == 2 ]] || {
	sed -n '4,9s/^# \{0,1\}//p' "$0" >&2
	exit 2
}
src=$(cd "$1" && pwd)
dest=$2
rm -rf "$dest"
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
if git -C "$src" rev-parse --show-toplevel >/dev/null 2>&1; then
	# Files that git tracks but that were deleted in the work tree are skipped.
	(cd "$src" && git ls-files -z -co --exclude-standard) |
		grep -zvE '^(build/|debian/|daemon/spl-kmemd$|ctl/splkmemctl$)' |
		(cd "$src" && while IFS= read -r -d '' f; do
			[[ -e $f || -L $f ]] && printf '%s\0' "$f"
		done) |
		(cd "$src" && xargs -0 -r cp --parents -P -t "$dest")
else
	rsync -a --exclude=/build/ --exclude=/.git/ --exclude=/debian/ \
		--exclude='*.o' --exclude='*.ko' --exclude='*.a' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude=Module.symvers \
		--exclude=modules.order --exclude=spl_kmem_config.h \
		--exclude=/ctl/splkmemctl --exclude=/daemon/spl-kmemd "$src/" "$dest/"
fi
[[ -f $dest/VERSION && -f $dest/dkms.conf && -d $dest/kernel ]] ||
	{ echo "stage-source.sh: $dest is incomplete" >&2; exit 1; }
