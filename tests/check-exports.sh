#!/usr/bin/env bash
# No-clash test: spl_kmem.ko must be loadable next to OpenZFS's spl.ko, so it
# may not export any symbol that spl.ko exports, nor be called "spl".
# Builds nothing: give it a built module.
#
# usage: check-exports.sh [FILE...]    FILE: spl_kmem.ko or a Module.symvers
#        check-exports.sh --self-test  prove the check can fail
# Without FILE it uses kernel/Module.symvers, else kernel/spl_kmem.ko.
# The deny list is tests/data/openzfs-spl-exports.txt (committed, required),
# cross-checked against ../shared/reference/openzfs-spl-exports.txt.
# env: DENYLIST overrides the committed list (used by the self-test).
set -euo pipefail

NAME="exports-no-clash"
REPO=$(cd "$(dirname "$0")/.." && pwd)
DENYLIST=${DENYLIST:-$REPO/tests/data/openzfs-spl-exports.txt}

note() { printf "[check-exports] %s\n" "$*" >&2; }
fail() {
	printf 'FAIL %s: %s\n' "$NAME" "$*"
	exit 1
}

shared_list() {
	local top
	top=$(git -C "$REPO" rev-parse --show-toplevel 2>/dev/null || echo "$REPO")
	for f in "$top/../shared/reference/openzfs-spl-exports.txt" \
		"$REPO/../shared/reference/openzfs-spl-exports.txt"; do
		[[ -f $f ]] && {
			echo "$f"
			return 0
		}
	done
	return 0
}

# Symbols (one per line) that must not be exported.  Runs in $(...): the
# caller checks that the committed list exists.
load_denylist() {
	local shared
	shared=$(shared_list)
	if [[ -z $shared ]]; then
		note "shared/ reference list not found; using $DENYLIST alone"
	elif ! cmp -s <(sort -u "$DENYLIST") <(sort -u "$shared"); then
		note "warning: $DENYLIST differs from $shared; checking against both"
	fi
	cat "$DENYLIST" ${shared:+"$shared"} | sed 's/#.*//; s/[[:space:]]//g' | grep -v '^$' | sort -u
}

# Print "MODULE SYMBOL" lines for each export of FILE.
exports_of() {
	local f=$1 mod
	case $f in
	*.ko)
		mod=$(modinfo -F name "$f" 2>/dev/null || true)
		mod=${mod:-$(basename "$f" .ko)}
		nm --defined-only "$f" | awk -v m="$mod" '$3 ~ /^__ksymtab_/ { sub(/^__ksymtab_/, "", $3); print m, $3 }'
		;;
	*)
		# Module.symvers: CRC, symbol, module path, export type[, namespace]
		awk -F'\t' 'NF >= 3 { m = $3; sub(/.*\//, "", m); print m, $2 }' "$f"
		;;
	esac
}

default_input() {
	local f
	for f in "$REPO/kernel/Module.symvers" "$REPO/kernel/spl_kmem.ko"; do
		[[ -f $f ]] && {
			INPUTS=("$f")
			return 0
		}
	done
	fail "no kernel/Module.symvers or kernel/spl_kmem.ko: build first (make)"
}

check() {
	local deny exports clash f n
	INPUTS=("$@")
	((${#INPUTS[@]})) || default_input
	[[ -s $DENYLIST ]] || fail "deny list $DENYLIST is missing or empty"
	deny=$(load_denylist)
	for f in "${INPUTS[@]}"; do
		[[ -f $f ]] || fail "$f: no such file"
		exports=$(exports_of "$f")
		n=$(grep -c . <<<"$exports" || true)
		note "$f: $n exported symbol(s) checked against $(wc -l <<<"$deny") spl.ko exports"
		if awk '{print $1}' <<<"$exports" | grep -qx spl; then
			fail "$f: module is named 'spl', which is OpenZFS's module name"
		fi
		clash=$(awk '{print $2}' <<<"$exports" | grep -vx '' | sort -u | comm -12 - <(echo "$deny"))
		[[ -z $clash ]] || fail "$f exports symbols that OpenZFS spl.ko exports: $(echo "$clash" | paste -sd ' ' -)"
	done
	echo "PASS $NAME"
}

# Feed fake symbol lists through the real check and expect the right verdicts.
self_test() {
	local ok=1
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	printf '0x0\tsplk_cache_alloc\t/x/kernel/spl_kmem\tEXPORT_SYMBOL_GPL\t\n' >"$tmp/good.symvers"
	printf '0x0\tspl_kmem_cache_alloc\t/x/kernel/spl_kmem\tEXPORT_SYMBOL\t\n' >"$tmp/clash.symvers"
	printf '0x0\tsplk_cache_alloc\t/x/kernel/spl\tEXPORT_SYMBOL\t\n' >"$tmp/named-spl.symvers"
	expect() { # expected-rc description command...
		local want=$1 what=$2 rc=0
		shift 2
		"$@" >"$tmp/out" 2>&1 || rc=$?
		if [[ $want == 0 && $rc != 0 || $want != 0 && $rc == 0 ]]; then
			note "self-test: $what: got rc=$rc, expected $([[ $want == 0 ]] && echo success || echo failure)"
			sed 's/^/    /' "$tmp/out"
			ok=0
		else
			note "self-test: $what: ok ($(tail -n1 "$tmp/out"))"
		fi
	}
	expect 0 "clean module passes" "$0" "$tmp/good.symvers"
	expect 1 "spl_kmem_cache_alloc export fails" "$0" "$tmp/clash.symvers"
	expect 1 "module named spl fails" "$0" "$tmp/named-spl.symvers"
	expect 1 "missing deny list fails" env DENYLIST="$tmp/absent.txt" "$0" "$tmp/good.symvers"
	if ((ok)); then
		echo "PASS exports-selftest"
	else
		echo "FAIL exports-selftest: the no-clash check did not fail when it should (see above)"
		return 1
	fi
}

if [[ ${1:-} == --self-test ]]; then
	self_test
else
	check "$@"
fi
