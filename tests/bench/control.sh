# shellcheck shell=sh disable=SC2013,SC2086  # word lists, split on purpose
# Stage "control" of tests/bench/run.sh: the control-plane benchmarks
# (BENCHMARKS.md section 4).  Sourced by the guest's /init (busybox sh),
# which defines h() (a HARNESS line in the kernel log); the files it reads
# are written by add_stage_control in run.sh.  Results are "R ctl" lines
# that ctltime prints into the kernel log.
ctl_dir=/bench/ctl
ctl_reps=$(cat $ctl_dir/reps)
ctl_events=$(cat $ctl_dir/events)
ctl_split=$(cat $ctl_dir/split)

ctl_count() {
	splkmemctl -j list | grep -o '"name"' | wc -l
}

# --- 1. splkmemctl -j list with 1, 100 and 10,000 caches -------------------
for ctl_n in $(cat $ctl_dir/ncaches); do
	if ! insmod /modules/spl_kmem_genl_test.ko ncaches="$ctl_n"; then
		h "insmod spl_kmem_genl_test ncaches=$ctl_n FAILED"
		continue
	fi
	ctl_have=$(ctl_count)
	h "control: list with $ctl_have caches (the test module made $ctl_n)"
	ctltime run "$ctl_reps" what=list caches="$ctl_have" -- splkmemctl -j list >/dev/null
	# Where the time goes: the same dump as a table, and raw (nldump: one
	# recv() buffer of 4 KiB like libnl's, no library, no output).
	if [ "$ctl_n" = "$ctl_split" ]; then
		ctltime run "$ctl_reps" what=list-text caches="$ctl_have" -- splkmemctl list >/dev/null
		ctltime run "$ctl_reps" what=raw-dump caches="$ctl_have" -- nldump >/dev/null
	fi
	rmmod spl_kmem_genl_test || h "rmmod spl_kmem_genl_test FAILED"
done

# --- 2. PSI event -> the daemon's reap finished -----------------------------
# A memory hog in a cgroup whose memory.high is a third of its size is
# throttled in reclaim (there is no swap), which PSI counts as memory stall;
# spl-kmemd watches /proc/pressure/memory ("some 100ms in 500ms", no
# cooldown) and reaps every cache on each event.
ctl_cg=/sys/fs/cgroup
ctl_log=/tmp/spl-kmemd.log
if ! mount -t cgroup2 cgroup2 $ctl_cg ||
	! echo +memory >$ctl_cg/cgroup.subtree_control ||
	! mkdir -p $ctl_cg/hog || ! echo 64M >$ctl_cg/hog/memory.high; then
	h "control: cgroup2 with memory.high FAILED"
elif ! insmod /modules/spl_kmem_genl_test.ko ncaches=100 demo=1; then
	h "insmod spl_kmem_genl_test ncaches=100 demo=1 FAILED"
else
	ctl_have=$(ctl_count)
	h "control: spl-kmemd with $ctl_have caches, until $ctl_events reaps"
	: >$ctl_log
	LD_LIBRARY_PATH=/lib/x86_64-linux-gnu spl-kmemd -c $ctl_dir/spl-kmemd.conf 2>$ctl_log &
	ctl_dpid=$!
	ctl_t=0
	until grep -q 'watching memory pressure' $ctl_log || [ $ctl_t -ge 60 ] ||
		! kill -0 $ctl_dpid 2>/dev/null; do
		sleep 1
		ctl_t=$((ctl_t + 1))
	done
	# Episodes of 2 s of pressure, 1 s apart, until enough reaps or 4x as
	# many episodes as reaps wanted.
	ctl_ep=0
	while [ "$(grep -c ' returned in ' $ctl_log)" -lt "$ctl_events" ] &&
		[ $ctl_ep -lt $((ctl_events * 4)) ] && kill -0 $ctl_dpid 2>/dev/null; do
		ctl_ep=$((ctl_ep + 1))
		sh -c "echo \$\$ >$ctl_cg/hog/cgroup.procs && exec hog 192 2" ||
			h "control: hog episode $ctl_ep FAILED"
		sleep 1
	done
	kill $ctl_dpid 2>/dev/null
	wait $ctl_dpid
	ctl_bytes=$(sed -n 's/.*every cache: .* (\([0-9]*\) bytes) returned in .*/\1/p' $ctl_log |
		awk 'NR == 1 { f = $1 } { s += $1 } END { printf "bytes=%d first_bytes=%d", s, f }')
	h "control: $ctl_ep hog episodes; spl-kmemd's log:"
	head -n 80 $ctl_log | while read -r ctl_l; do h "  $ctl_l"; done
	ctl_first=$(sed -n 's/.* returned in \([0-9.]*\) ms.*/\1/p' $ctl_log | head -n 1)
	sed -n 's/.* returned in \([0-9.]*\) ms.*/\1/p' $ctl_log |
		ctltime stats what=psi caches="$ctl_have" episodes=$ctl_ep $ctl_bytes \
			first="${ctl_first:-0}" >/dev/null
	rmmod spl_kmem_genl_test || h "rmmod spl_kmem_genl_test FAILED"
fi
rmdir $ctl_cg/hog 2>/dev/null
umount $ctl_cg 2>/dev/null
