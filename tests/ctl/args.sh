#!/usr/bin/env bash
# splkmemctl's command line as people type it (built against
# tests/ctl/fake_lib.c): options after the positional arguments and -j
# after the command, as ip(8) takes them, and JSON of the same shape per
# command whatever the arguments.  "args: N passed, N failed".
#
# usage: args.sh SPLKMEMCTL-FAKE-BINARY
set -u
BIN=$1
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
check() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n"; fi; }
same() { [[ $("$BIN" "${@:2}" 2>&1) == "$1" ]]; }
# json_is 'PYTHON-EXPR over j' ARGS...: the JSON output satisfies it.
json_is() {
	local expr=$1
	shift
	"$BIN" "$@" 2>/dev/null | python3 -c "import json,sys; j=json.load(sys.stdin); sys.exit(0 if ($expr) else 1)"
}

ref=$("$BIN" -j list 'fake_cache_00*' -s bytes)
check "list GLOB -s FIELD -j == -j list -s FIELD GLOB" same "$ref" list 'fake_cache_00*' -s bytes -j
check "list -j GLOB -s FIELD (options between arguments)" same "$ref" list -j 'fake_cache_00*' -s bytes
check "list: -j after the command gives JSON" json_is 'isinstance(j, list) and len(j) == 10' list 'fake_cache_00*' -j
check "list -r after the glob reverses" json_is 'j[0]["name"] == "fake_cache_009"' list 'fake_cache_00*' -s name -r -j
check "-p after the command indents" bash -c "'$BIN' list 'fake_cache_000' -j -p | grep -q '^  {'"
check "get -j: an array" json_is 'isinstance(j, list) and len(j) == 2' get -j
check "get TUNABLE -j: an array too (same shape)" json_is 'isinstance(j, list) and len(j) == 1 and j[0]["name"] == "kmem_threads"' get kmem_threads -j
check "reap -j: cache is null" json_is 'j["cache"] is None and j["slabs"] == 10' reap -j
check "reap NAME -j: the same keys" json_is 'j["cache"] == "x" and set(j) == {"cache", "slabs", "bytes"}' reap x -j
check "an unknown option after the arguments is a usage error (2)" \
	bash -c "'$BIN' get kmem_threads -x >/dev/null 2>&1; [[ \$? == 2 ]]"
check "-- ends the options" json_is 'j[0]["name"] == "fake_cache_001"' -j list -- 'fake_cache_001'

echo "args: $PASSED passed, $FAILED failed"
((FAILED == 0))
