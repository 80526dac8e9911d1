#!/usr/bin/env bash
# Packaging checks that need no VM: one version everywhere, dkms.conf,
# the DKMS source tree, the Debian packages (dpkg-buildpackage + lintian,
# for each release) and the RPMs (rpmbuild, rpmspec, rpmlint).
#
# usage: static.sh [RELEASE...]      (default: bookworm trixie)
# Output: "PASS name" / "FAIL name: reason" lines, a summary, and
# build/vm/packaging/result (as tests/vm/run.sh's); exit 0 on a pass.
# The packages stay in build/deb and build/rpm for journey.sh --no-build.
set -euo pipefail
# shellcheck disable=SC2034  # STEP is read by lib.sh
STEP=packaging
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../vm/lib.sh
. "$HERE/../vm/lib.sh"

OUT=$BUILD_DIR/vm/packaging
# shellcheck source=results.sh
. "$HERE/results.sh"

check_versions() {
	local out
	if out=$("$SRC/packaging/check-versions.sh" "$SRC" 2>&1); then
		pass "versions: $out"
	else
		fail "versions" "$(tr '\n' ' ' <<<"$out")"
	fi
}

# dkms.conf as dkms reads it (sourced by bash, with the variables dkms sets).
check_dkms_conf() {
	local conf=$SRC/dkms.conf vals bad rel
	vals=$(bash -c 'kernelver=6.1.0-56-amd64 kernel_source_dir=/lib/modules/6.1.0-56-amd64/build
		. "$1" && printf "%s|%s|%s|%s|%s|%s|%s|%s\n" "$PACKAGE_NAME" "$PACKAGE_VERSION" \
		"${MAKE[0]}" "${BUILT_MODULE_NAME[0]}" "${BUILT_MODULE_LOCATION[0]}" \
		"${DEST_MODULE_LOCATION[0]}" "$AUTOINSTALL" "$CLEAN"' _ "$conf" 2>&1) || true
	if [[ $vals == "spl-kmem|#MODULE_VERSION#|make -C kernel KDIR=/lib/modules/6.1.0-56-amd64/build|spl_kmem|kernel/|/updates/dkms|yes|true" ]]; then
		pass "dkms.conf: name, version placeholder, MAKE with the kernel's build dir, module, AUTOINSTALL"
	else
		fail "dkms.conf" "sourced as: $vals"
	fi
	# Directives dkms 3.1+ warns about (CLEAN is allowed as "true" only).
	bad=$(grep -nE '^[[:space:]]*(REMAKE_INITRD|MODULES_CONF|MODULES_CONF_OBSOLETES|MODULES_CONF_ALIAS_TYPE|MODULES_CONF_OBSOLETE_ONLY|BUILD_EXCLUSIVE_KERNEL_MIN|BUILD_EXCLUSIVE_KERNEL_MAX)' "$conf" || true)
	bad+=$(grep -nE '^[[:space:]]*CLEAN=' "$conf" | grep -v 'CLEAN="true"' || true)
	if [[ -z $bad ]]; then
		pass "dkms.conf: no deprecated directive"
	else
		fail "dkms.conf: deprecated directives" "$bad"
	fi
	# The kernels it builds for: 6.1 and later only.
	bad=""
	for rel in 6.1.0-56-amd64 6.1.0-56-rt-amd64 6.12.95+deb12-amd64 6.12.57+deb13-amd64 \
		7.3.4+deb13-amd64 6.10.0 10.0.1-1-default; do
		bash -c '. "$1"; [[ $2 =~ $BUILD_EXCLUSIVE_KERNEL ]]' _ "$conf" "$rel" || bad+="$rel excluded; "
	done
	for rel in 5.10.0-30-amd64 6.0.0-1-amd64 4.19.0-27-amd64 5.15.0-100-generic; do
		bash -c '. "$1"; [[ $2 =~ $BUILD_EXCLUSIVE_KERNEL ]]' _ "$conf" "$rel" && bad+="$rel accepted; "
	done
	if [[ -z $bad ]]; then
		pass "dkms.conf: BUILD_EXCLUSIVE_KERNEL takes 6.1 and later, skips older"
	else
		fail "dkms.conf: BUILD_EXCLUSIVE_KERNEL" "$bad"
	fi
}

# The DKMS tree is exactly the module's sources, VERSION and dkms.conf.
check_dkms_tree() {
	local tree=$OUT/dkms-tree want got
	rm -rf "$tree"
	"$SRC/packaging/dkms-source.sh" "$SRC" "$tree/spl-kmem"
	got=$(cd "$tree/spl-kmem" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
	if git -C "$SRC" rev-parse >/dev/null 2>&1; then
		want=$({ (cd "$SRC" && git ls-files kernel); printf '%s\n' VERSION dkms.conf; } | LC_ALL=C sort)
	else
		want=$got
	fi
	if [[ $got == "$want" ]] && grep -qx "PACKAGE_VERSION=\"$(cat "$SRC/VERSION")\"" "$tree/spl-kmem/dkms.conf"; then
		pass "dkms tree: $(wc -l <<<"$got") files, the module's sources only, version from VERSION"
	else
		fail "dkms tree" "differs from git ls-files kernel + VERSION + dkms.conf: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | head -n 5 | tr '\n' ' ')"
	fi
	rm -rf "$tree"
}

check_deb() {
	local log=$OUT/build-deb.log rel f e w
	if "$SRC/packaging/build-deb.sh" "$@" >"$log" 2>&1; then
		pass "make deb: dpkg-buildpackage for $*, lintian without errors"
	else
		tail -n 30 "$log"
		fail "make deb" "packaging/build-deb.sh $* failed (see $log)"
	fi
	for f in "$BUILD_DIR"/deb/lintian-*.txt; do
		[[ -f $f ]] || continue
		e=$(grep -c '^E: ' "$f" || true)
		w=$(grep -E '^W: ' "$f" | sed 's/^W: //' | tr '\n' ';' || true)
		echo "  lintian $(basename "$f" .txt | sed 's/^lintian-//'): $e error(s)${w:+, warnings: $w}"
	done
}

check_rpm() {
	local log=$OUT/build-rpm.log
	if "$SRC/packaging/build-rpm.sh" >"$log" 2>&1; then
		pass "make rpm: noarch spl-kmem-dkms built, tools part of the spec builds, rpmlint without errors"
	else
		tail -n 30 "$log"
		fail "make rpm" "packaging/build-rpm.sh failed (see $log)"
	fi
}

# spl-kmem-monitoring, .deb and .rpm: the rules and the dashboard where the
# README says, and the installed rules still load in Prometheus.
check_monitoring_pkg() {
	local kind=$1 pkg=$2 x=$OUT/monitoring-$1 want got
	want=$'/usr/share/spl-kmem/grafana/spl-kmem.json\n/usr/share/spl-kmem/prometheus/spl-kmem.rules.yml'
	rm -rf "$x"
	mkdir -p "$x"
	if [[ ! -f $pkg ]]; then
		fail "spl-kmem-monitoring $kind" "no package ($pkg)"
		return
	fi
	if [[ $kind == deb ]]; then
		dpkg-deb -x "$pkg" "$x"
	else
		rpm2cpio "$pkg" | (cd "$x" && cpio -idm --quiet)
	fi
	got=$(cd "$x" && find . -type f -path './usr/share/spl-kmem/*' | sed 's|^\.||' | LC_ALL=C sort)
	if [[ $got != "$want" ]]; then
		fail "spl-kmem-monitoring $kind" "holds $(tr '\n' ' ' <<<"$got"), not $(tr '\n' ' ' <<<"$want")"
	elif ! promtool check rules "$x/usr/share/spl-kmem/prometheus/spl-kmem.rules.yml" >"$x.promtool" 2>&1; then
		fail "spl-kmem-monitoring $kind" "promtool check rules: $(tr '\n' ' ' <"$x.promtool" | head -c 300)"
	elif ! python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$x/usr/share/spl-kmem/grafana/spl-kmem.json"; then
		fail "spl-kmem-monitoring $kind" "the dashboard is not JSON"
	else
		pass "spl-kmem-monitoring $kind: rules ($(grep -o 'SUCCESS: [0-9]* rules' "$x.promtool")) and dashboard in /usr/share/spl-kmem"
	fi
	rm -rf "$x" "$x.promtool"
}

write_result() {
	local verdict=pass why=""
	((FAILED == 0 && PASSED > 0)) || verdict=fail
	((${#REASONS[@]} == 0)) || why=$(printf '%s; ' "${REASONS[@]}")
	why=${why//[\"\$\`\\]/}
	cat >"$OUT/result" <<EOF
kernel=packaging
release=$(cat "$SRC/VERSION")
passed=$PASSED
failed=$FAILED
verdict=$verdict
reasons="$why"
seconds=$SECONDS
EOF
	echo "==== packaging ($SECONDS s) ===="
	printf '%s\n' "${RESULTS[@]}"
	echo "packaging: $PASSED passed, $FAILED failed"
	[[ $verdict == pass ]]
}

main() {
	local releases=("$@")
	((${#releases[@]})) || releases=(bookworm trixie)
	mkdir -p "$OUT"
	rm -f "$OUT/result"
	check_versions
	check_dkms_conf
	check_dkms_tree
	check_deb "${releases[@]}"
	check_rpm
	check_monitoring_pkg deb "$(ls "$BUILD_DIR"/deb/spl-kmem-monitoring_*_all.deb 2>/dev/null | sort -V | tail -n1)"
	check_monitoring_pkg rpm "$(ls "$BUILD_DIR"/rpm/spl-kmem-monitoring-*.noarch.rpm 2>/dev/null | sort -V | tail -n1)"
	write_result
}

main "$@"
