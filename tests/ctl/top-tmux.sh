#!/usr/bin/env bash
# splkmemctl top in a real terminal: tmux runs it (built against
# tests/ctl/fake_lib.c, 60 made-up caches), send-keys types, capture-pane
# reads the screen.  Checks that the screen fits the terminal (also after
# a resize), that s and r re-sort at once, that q quits with status 0 and
# gives the terminal back as it was.  Prints "PASS name" / "FAIL name"
# and "top-tmux: N passed, N failed"; exit 0 on a pass.
#
# usage: top-tmux.sh SPLKMEMCTL-FAKE-BINARY
set -u
BIN=$(realpath "$1")
SOCK=spl-kmem-top-test-$$
OUT=$(mktemp -d)
PASSED=0
FAILED=0
tm() { tmux -L "$SOCK" "$@"; }
cleanup() { tm kill-server 2>/dev/null; rm -rf "$OUT"; }
trap cleanup EXIT
pass() { PASSED=$((PASSED + 1)); echo "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
check() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n"; fi; }
screen() { tm capture-pane -p -t t; }
# wait_screen SECONDS REGEX: until the screen shows REGEX.
wait_screen() {
	local end=$((SECONDS + $1))
	while ((SECONDS < end)); do
		screen | grep -qE "$2" && return 0
		sleep 0.2
	done
	screen | grep -qE "$2"
}

command -v tmux >/dev/null || { echo "FAIL tmux is not installed"; exit 1; }
# A shell that runs top, then records the terminal settings and status.
tm new-session -d -s t -x 80 -y 24 \
	"stty -g >$OUT/stty.before; $BIN top -d 0.3; echo \$? >$OUT/rc; stty -g >$OUT/stty.after; sleep 30"

check "top draws its summary line at the top" wait_screen 10 '^spl_kmem: 60 caches'
screen >"$OUT/s1"
check "the status line is on the last row (24)" \
	bash -c "sed -n 24p $OUT/s1 | grep -q '^sort: bytes | s: next sort  r: reverse  q: quit'"
# 24 rows: summary, blank, two header lines, 19 caches, status.
check "as many caches as the height leaves room for (19 of 60)" \
	test "$(grep -c '^fake_cache_' "$OUT/s1")" -eq 19
check "no line wider than the terminal (80)" \
	bash -c "! awk 'length > 80' $OUT/s1 | grep -q ."
first_bytes=$(grep -m1 '^fake_cache_' "$OUT/s1" | awk '{ print $1 }')

tm send-keys -t t s
check "s: sorted by the next field at once (used_bytes)" wait_screen 3 '^sort: used_bytes '
screen >"$OUT/s2"
first_used=$(grep -m1 '^fake_cache_' "$OUT/s2" | awk '{ print $1 }')
check "...and the order changed ($first_bytes, then $first_used)" test "$first_bytes" != "$first_used"
tm send-keys -t t r
check "r: reversed" wait_screen 3 '^sort: used_bytes \(reversed\)'

tm resize-window -t t -x 50 -y 12 2>/dev/null || tm resize-pane -t t -x 50 -y 12
check "after a resize to 50x12: status on row 12" \
	bash -c "for i in \$(seq 20); do tmux -L $SOCK capture-pane -p -t t | sed -n 12p | grep -q '^sort: used_bytes' && exit 0; sleep 0.2; done; exit 1"
screen >"$OUT/s3"
check "...7 caches" test "$(grep -c '^fake_cache_' "$OUT/s3")" -eq 7
check "...no line wider than 50" bash -c "! awk 'length > 50' $OUT/s3 | grep -q ."

tm send-keys -t t q
for _ in $(seq 30); do [[ -s $OUT/stty.after ]] && break; sleep 0.2; done
check "q quits with status 0" test "$(cat "$OUT/rc" 2>/dev/null)" = 0
check "the terminal settings are given back" cmp -s "$OUT/stty.before" "$OUT/stty.after"

# Not a terminal: no escape sequences, -n refreshes, then it ends.
"$BIN" top -n 2 -d 0.1 -l 3 >"$OUT/pipe" 2>&1
check "piped: -n 2 prints two refreshes and ends" test "$(grep -c '^spl_kmem: 60 caches' "$OUT/pipe")" -eq 2
check "piped: no escape sequences" bash -c "! grep -q \$'\\033' $OUT/pipe"
check "piped: -l 3 rows" test "$(grep -c '^fake_cache_' "$OUT/pipe")" -eq 6

echo "top-tmux: $PASSED passed, $FAILED failed"
((FAILED == 0))
