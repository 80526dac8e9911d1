# shellcheck shell=bash
# Recording checks for the packaging scripts (sourced): each check prints
# "PASS name" or "FAIL name: reason"; the caller writes the totals.
PASSED=0
FAILED=0
RESULTS=()
REASONS=()

pass() { # name
	PASSED=$((PASSED + 1))
	RESULTS+=("PASS $1")
	echo "PASS $1"
}

fail() { # name reason
	FAILED=$((FAILED + 1))
	RESULTS+=("FAIL $1: $2")
	REASONS+=("$1: $2")
	echo "FAIL $1: $2"
}
