#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The checks of "make check" must fail when what they guard breaks: run them
# on broken copies of the rules and the dashboard and expect a failure.
#   1. SplKmemModuleNotLoaded's expression inverted: promtool test rules fails;
#   2. a "for:" shortened: promtool test rules fails;
#   3. a dashboard query that does not parse: check-dashboard.py fails;
#   4. a dashboard query on a metric spl-kmemd does not export: it fails.
# usage: selftest.sh [PROMTOOL]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
promtool=${1:-promtool}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

expect_failure() { # name command...
	local name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		echo "FAIL selftest: $name: the check passed"
		failed=1
	else
		echo "PASS selftest: $name: $({ grep -m1 -E 'alertname:|^FAIL ' "$tmp/out" || head -n1 "$tmp/out"; } | sed 's/^ *//' | cut -c1-120)"
	fi
}

rules_variant() { # sed-expression
	mkdir -p "$tmp/r"
	sed "$1" "$here/prometheus/spl-kmem.rules.yml" >"$tmp/r/spl-kmem.rules.yml"
	cp "$here/prometheus/spl-kmem.rules.test.yml" "$tmp/r/"
	cmp -s "$here/prometheus/spl-kmem.rules.yml" "$tmp/r/spl-kmem.rules.yml" &&
		{ echo "selftest: '$1' changed nothing" >&2; exit 1; }
	return 0
}

rules_variant 's/expr: spl_kmemd_module_loaded == 0/expr: spl_kmemd_module_loaded < 0/'
expect_failure "module-not-loaded rule inverted" "$promtool" test rules "$tmp/r/spl-kmem.rules.test.yml"
rules_variant '0,/for: 15m/s//for: 10m/'
expect_failure "a for: shortened" "$promtool" test rules "$tmp/r/spl-kmem.rules.test.yml"

dash_variant() { # python-replacement-of-first-expr-containing old new
	python3 - "$here/grafana/spl-kmem.json" "$tmp/d.json" "$1" "$2" <<'PY'
import sys
src, dst, old, new = sys.argv[1:]
text = open(src).read()
if old not in text:
    sys.exit(f"selftest: {old!r} not in the dashboard")
open(dst, "w").write(text.replace(old, new, 1))
PY
}
dash_variant 'sum by (cache) (spl_kmem_cache_memory_bytes' 'sum by (cache) spl_kmem_cache_memory_bytes ('
expect_failure "a dashboard query that does not parse" \
	python3 "$here/check-dashboard.py" --promtool "$promtool" "$tmp/d.json" "$here/prometheus/spl-kmem.rules.yml"
dash_variant 'spl_kmem_cache_magazine_objects{' 'spl_kmem_cache_magazine_object{'
expect_failure "a dashboard query on a metric not exported" \
	python3 "$here/check-dashboard.py" --promtool "$promtool" "$tmp/d.json" "$here/prometheus/spl-kmem.rules.yml"
exit $failed
