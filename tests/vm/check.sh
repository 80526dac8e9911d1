#!/usr/bin/env bash
# Driver behind "make check": host packages, host-side checks and VM runs,
# then one total line "N passed, N failed" as the very last line.
#
# usage: check.sh [--deps] [--host] [--vm] [--packaging] [KERNEL_ID...]
#   --deps  run tests/vm/deps.sh first
#   --host  host checks, one test each: kernel-doc, W=1 build, sparse build
#           (both against 6.1, must be warning-free), exports-no-clash,
#           exports-selftest, the daemon's unit tests (make -C daemon check)
#   --vm    for each KERNEL_ID (default: every line of tests/vm/kernels.list)
#           the suites its line names: the allocator suite (vm,
#           tests/vm/run.sh), the control-plane suite (genl,
#           tests/genl/run-vm.sh) and the daemon under systemd (daemon,
#           tests/daemon/run-vm.sh); the debug kernel is built first when
#           it is not cached (tests/vm/debug-kernel.sh)
#   --packaging  tests/packaging/static.sh (one version, dkms.conf, make deb
#           with lintian for Debian 12 and 13, make rpm with rpmlint), then
#           the install journey on Debian 12 and on Debian 13
#           (tests/packaging/journey.sh: debootstrap, apt install, boots, purge)
# Keeps going after a failure so the summary is complete; exit 1 if anything failed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR disable=SC2034
STEP=check
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

TOTAL_PASS=0
TOTAL_FAIL=0
SUMMARY=()
CHECK_DIR=$BUILD_DIR/check

record() { # name pass|fail [detail]
	if [[ $2 == pass ]]; then
		TOTAL_PASS=$((TOTAL_PASS + 1))
		SUMMARY+=("PASS $1${3:+ ($3)}")
	else
		TOTAL_FAIL=$((TOTAL_FAIL + 1))
		SUMMARY+=("FAIL $1${3:+ ($3)}")
	fi
}

# A kernel build with extra make flags whose output must be free of
# compiler, sparse and modpost diagnostics.
clean_build_check() { # name obj-name requirement make-vars...
	local name=$1 obj=$2 need=$3 start=$SECONDS blog bad
	shift 3
	log "$name: building kernel/ against 6.1 with $*"
	blog=$BUILD_DIR/obj/$obj/build.log
	if ! "$VM_LIB_DIR/build.sh" --kernel-only --fresh --obj "$obj" 6.1 "$@" >"$CHECK_DIR/$name.log" 2>&1; then
		cat "$CHECK_DIR/$name.log"
		record "$name" fail "build failed"
		return 0
	fi
	bad=$(grep -iE '(warning|error):' "$blog" || true)
	if [[ -n $bad ]]; then
		cat "$blog"
		printf 'offending: %s\n' "$bad"
		record "$name" fail "diagnostics in build output"
	elif [[ -n $need ]] && ! grep -qE "$need" "$blog"; then
		cat "$blog"
		record "$name" fail "expected '$need' in the build output: did the tool run?"
	else
		record "$name" pass
	fi
	log "$name took $((SECONDS - start))s"
}

# A host check that is one make target: pass when it exits 0.
make_check() { # name make-args...
	local name=$1 log
	shift
	log=$CHECK_DIR/$name.log
	log "$name: make $*"
	if make "$@" >"$log" 2>&1; then
		tail -n 5 "$log"
		record "$name" pass
	else
		tail -n 40 "$log"
		record "$name" fail "make $* failed"
	fi
}

exports_check() {
	local name=$1 out rc=0
	shift
	out=$("$REPO_ROOT/tests/check-exports.sh" "$@" 2>&1) || rc=$?
	echo "$out"
	if ((rc == 0)) && grep -q '^PASS ' <<<"$out"; then
		record "$name" pass
	else
		record "$name" fail "$(grep -m1 '^FAIL' <<<"$out" || echo "rc=$rc")"
	fi
}

# Every kernel-doc comment of the module and its API header parses cleanly.
kernel_doc_check() {
	local out
	kernel_resolve 6.1
	out=$(perl "$KROOT$KDIR/scripts/kernel-doc" -none -v \
		"$REPO_ROOT"/kernel/include/spl_kmem/*.h "$REPO_ROOT"/kernel/*.c 2>&1 |
		grep -iE 'warning|error' || true)
	if [[ -n $out ]]; then
		printf 'offending: %s\n' "$out"
		record kernel-doc fail "kernel-doc warnings"
	else
		record kernel-doc pass
	fi
}

host_checks() {
	local start=$SECONDS
	kernel_doc_check
	clean_build_check kernel-w1-6.1 6.1-w1 '' W=1
	clean_build_check kernel-sparse-6.1 6.1-sparse '^ *CHECK ' C=1
	exports_check exports-no-clash "$BUILD_DIR/obj/6.1-w1/kernel/Module.symvers"
	exports_check exports-selftest --self-test
	make_check daemon-unit -C "$REPO_ROOT/daemon" check
	make_check ctl-tmux -C "$REPO_ROOT/ctl" check
	make_check monitoring -C "$REPO_ROOT/monitoring" check
	log "host checks took $((SECONDS - start))s"
}

# Field of a run.sh result file.
result_field() {
	sed -n "s/^$2=//p" "$1" | tr -d '"' | head -n1
}

# The names of a suite's failed tests, from its output ("FAIL name: why"
# or "TAG: FAIL name"), on one line.
failed_names() { # run.log
	grep -oE '(^|: )FAIL [^:]+' "$1" 2>/dev/null | sed -E 's/^(: )?FAIL //' |
		sort -u | head -n 10 | paste -sd, - | sed 's/,/, /g' || true
}

# One VM suite on one kernel: NAME is the result directory under
# build/vm/, the rest is the command that writes build/vm/NAME/result.
vm_check() {
	local id=$1 start=$SECONDS res p f rel
	shift
	res=$BUILD_DIR/vm/$id/result
	mkdir -p "$BUILD_DIR/vm/$id"
	log "VM run for $id"
	"$@" 2>&1 | tee "$BUILD_DIR/vm/$id/run.log" || true
	if [[ -f $res ]]; then
		p=$(result_field "$res" passed)
		f=$(result_field "$res" failed)
	else
		p=0 f=1
	fi
	[[ $p =~ ^[0-9]+$ && $f =~ ^[0-9]+$ ]] || p=0 f=1
	TOTAL_PASS=$((TOTAL_PASS + p))
	TOTAL_FAIL=$((TOTAL_FAIL + f))
	rel=$(result_field "$res" release 2>/dev/null || true)
	SUMMARY+=("$id: $p passed, $f failed (${rel:+$rel, }$((SECONDS - start))s)")
	# A CI log is often read from its tail: say there what failed and why.
	if ((f > 0)); then
		SUMMARY+=("  failed in $id: $(failed_names "$BUILD_DIR/vm/$id/run.log")")
		[[ ! -f $res ]] || SUMMARY+=("  reasons: $(result_field "$res" reasons)")
	fi
	log "$id took $((SECONDS - start))s"
	VM_SECONDS=$((SECONDS - start))
}

# Make the kernels available before any suite runs, so that their cost
# shows on its own line: the Debian 13 chroot's kernels (created or
# refreshed) and the debug kernel (built unless cached).  A debug kernel
# build is CPU-bound while making the chroot mostly waits for the network,
# so on a fresh machine the two run at the same time.
prepare_kernels() {
	local id start=$SECONDS rc log
	local -A pid=()
	for id in "$@"; do
		[[ ${K_SOURCE[$id]} == debug ]] || continue
		log "preparing kernel $id (in the background)"
		prepare_one "$id" "$CHECK_DIR/prepare-$id.log" &
		pid[$id]=$!
	done
	for id in "$@"; do
		case ${K_SOURCE[$id]} in
		trixie | trixie-backports) ;;
		*) continue ;;
		esac
		log "preparing kernel $id"
		log=$CHECK_DIR/prepare-$id.log rc=0
		prepare_one "$id" "$log" || rc=$?
		prepared "$id" "$rc" "$log" "$start"
	done
	for id in "${!pid[@]}"; do
		rc=0
		wait "${pid[$id]}" || rc=$?
		prepared "$id" "$rc" "$CHECK_DIR/prepare-$id.log" "$start"
	done
}

prepare_one() { # id log
	STEP=prepare bash -c '. "$1/lib.sh" && kernel_prepare "$2"' _ "$VM_LIB_DIR" "$1" >"$2" 2>&1
}

# Record how preparing one kernel went.
prepared() { # id rc log start
	local id=$1 rc=$2 log=$3 start=$4 dir how
	if ((rc)); then
		tail -n 30 "$log"
		record "kernel-$id" fail "could not be prepared, see $log"
		BROKEN_KERNELS+=" $id "
	elif [[ ${K_SOURCE[$id]} == debug ]]; then
		dir=$(debug_kernel_dir)
		if grep -q 'cached:' "$log"; then
			how="cached, built in $(cat "$dir/build-seconds" 2>/dev/null || echo '?')s"
		else
			how="built in $(cat "$dir/build-seconds" 2>/dev/null || echo '?')s"
		fi
		[[ ! -s $dir/build-cpu-seconds ]] || how+=", $(cat "$dir/build-cpu-seconds")s of CPU"
		record "kernel-$id" pass "$(cat "$dir/release"), $how"
	fi
	log "kernel $id ready after $((SECONDS - start))s"
}

main() {
	local deps=0 host=0 vm=0 packaging=0 kernels=() id
	while (($#)); do
		case $1 in
		--deps) deps=1 ;;
		--host) host=1 ;;
		--vm) vm=1 ;;
		--packaging) packaging=1 ;;
		-*) die "unknown option $1" ;;
		*) kernels+=("$1") ;;
		esac
		shift
	done
	((${#kernels[@]})) || kernels=("${KERNEL_IDS[@]}")
	for id in "${kernels[@]}"; do
		valid_kernel_id "$id" || die "unknown kernel id '$id' (known: ${KERNEL_IDS[*]})"
	done
	mkdir -p "$CHECK_DIR"
	if ((deps)); then
		local start=$SECONDS
		"$VM_LIB_DIR/deps.sh" || record host-packages fail "tests/vm/deps.sh failed"
		log "deps took $((SECONDS - start))s"
	fi
	((host == 0)) || host_checks
	if ((vm)); then
		local suite kstart skipped=() times=()
		BROKEN_KERNELS=""
		prepare_kernels "${kernels[@]}"
		for id in "${kernels[@]}"; do
			[[ $BROKEN_KERNELS != *" $id "* ]] || continue
			kstart=$SECONDS
			local t=""
			for suite in vm genl daemon12 daemon13; do
				if [[ " $(kernel_suites "$id") " != *" $suite "* ]]; then
					skipped+=("$suite on $id")
					continue
				fi
				case $suite in
				vm) vm_check "$id" "$VM_LIB_DIR/run.sh" "$id" ;;
				genl) vm_check "genl-$id" "$REPO_ROOT/tests/genl/run-vm.sh" "$id" ;;
				# Debian 12's systemd (252) or Debian 13's (257).
				daemon12) vm_check "daemon-$id" "$REPO_ROOT/tests/daemon/run-vm.sh" "$id" ;;
				daemon13) vm_check "daemon-$id-deb13" "$REPO_ROOT/tests/daemon/run-vm.sh" --rootfs 13 "$id" ;;
				esac
				t+=" $suite ${VM_SECONDS}s"
			done
			times+=("$id: $((SECONDS - kstart))s ($t )")
		done
		SUMMARY+=("---- time per kernel (build + boot + judge) ----" "${times[@]}")
		((${#skipped[@]} == 0)) ||
			SUMMARY+=("not run (tests/vm/kernels.list): $(printf '%s, ' "${skipped[@]}" | sed 's/, $//')")
	fi
	if ((packaging)); then
		vm_check packaging "$REPO_ROOT/tests/packaging/static.sh" bookworm trixie
		# The packages static.sh just built (tools built in each release).
		vm_check journey-bookworm "$REPO_ROOT/tests/packaging/journey.sh" --no-build bookworm
		vm_check journey-trixie "$REPO_ROOT/tests/packaging/journey.sh" --no-build trixie
	fi
	{
		echo "==== summary ($SECONDS s) ===="
		printf '%s\n' "${SUMMARY[@]}"
		echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
	} | tee "$CHECK_DIR/summary"
	((TOTAL_FAIL == 0 && TOTAL_PASS > 0))
}

main "$@"
