#!/bin/sh
# Control-plane tests, run inside the VM guest (busybox sh) by run-vm.sh.
# Every command and its output goes to the console; verdicts go through
# the kernel log as "GENL: PASS name" / "GENL: FAIL name: why", then
# "GENL: DONE N passed, N failed".
#
# usage: guest.sh [NCACHES] [FUZZ]
NCACHES=${1:-5000}
FUZZ=${2:-12000}
# How many times slower than a production kernel this one runs (4 for the
# debug kernel: KASAN, lockdep, kmemleak): loops shrink, time bounds grow.
SLOW=${3:-1}
T=/tmp/genl
mkdir -p $T
TEST=/modules/spl_kmem_genl_test.ko
P=/sys/module/spl_kmem_genl_test/parameters
SP=/sys/module/spl_kmem/parameters
NOBODY=65534
PASSED=0
FAILED=0

h() { echo "<5>GENL: $*" >/dev/kmsg; }
pass() { PASSED=$((PASSED + 1)); h "PASS $1"; }
fail() { FAILED=$((FAILED + 1)); h "FAIL $1: $2"; }

# run CMD...: output to $T/out and $T/err (both echoed), status in $RC.
run() {
	echo "\$ $*"
	"$@" >$T/out 2>$T/err
	RC=$?
	cat $T/out $T/err
	[ $RC = 0 ] || echo "(exit $RC)"
}

# ok NAME CMD...: CMD must succeed.  false (and a FAIL) otherwise.
ok() {
	n=$1
	shift
	run "$@"
	[ $RC = 0 ] && return 0
	fail "$n" "exit $RC: $(head -c 300 $T/err)"
	return 1
}

# refused NAME STATUS TEXT CMD...: CMD must exit STATUS with one line of
# error mentioning TEXT (a grep -E pattern).
refused() {
	n=$1 st=$2 txt=$3
	shift 3
	run "$@"
	if [ $RC != "$st" ]; then
		fail "$n" "exit $RC, wanted $st"
		return 1
	fi
	if [ "$st" = 1 ] && [ "$(wc -l <$T/err)" != 1 ]; then
		fail "$n" "error is not one line"
		return 1
	fi
	if ! grep -qE -- "$txt" $T/err; then
		fail "$n" "error does not say '$txt'"
		return 1
	fi
	return 0
}

# js NAME [-l] ASSERTION...: the JSON in $T/out satisfies every assertion.
js() {
	n=$1
	shift
	l=
	[ "$1" = -l ] && { l=-l; shift; }
	jcheck $l $T/out "$@" 2>$T/jerr && return 0
	fail "$n" "$(head -c 300 $T/jerr)"
	return 1
}

jget() { jcheck $T/out -p "$1"; }

# Every request of the family while the kernel fails one allocation after
# another (the debug kernel's fault injection, /proc/thread-self/fail-nth):
# each ends in a reply or an error, the family still answers, and the
# suite's final kmemleak scan finds nothing left behind.
t_alloc_fail() {
	n=netlink_alloc_fail
	. /lib/guest-lib.sh
	fault_injection_setup
	run nlfail demo_4k
	case $RC in
	0) pass $n ;;
	77) h "SKIP $n: kernel without fault injection (run on the debug kernel)" ;;
	*) fail $n "exit $RC: $(grep -v '^nlfail: .*failure points' $T/out | head -c 300)" ;;
	esac
	splkmemctl -j show demo_4k >/dev/null || fail $n "demo_4k unreadable afterwards"
}

# ---------------------------------------------------------------------------

t_not_loaded() {
	refused not_loaded 1 'spl_kmem module not loaded' splkmemctl list &&
		pass not_loaded
}

t_usage() {
	n=usage
	run splkmemctl --help
	[ $RC = 0 ] && grep -q '^Usage: splkmemctl' $T/out || { fail $n "--help"; return; }
	refused $n 2 'unknown command' splkmemctl frobnicate || return
	refused $n 2 'missing cache name' splkmemctl show || return
	refused $n 2 'cannot sort by' splkmemctl list -s nosuchfield || return
	refused $n 2 'not a number' splkmemctl set max_size lots || return
	refused $n 2 'not a size' splkmemctl magazine demo_4k huge || return
	run splkmemctl magazine --help
	[ $RC = 0 ] || { fail $n "magazine --help"; return; }
	pass $n
}

t_list() {
	n=list_text
	ok $n splkmemctl list || return
	grep -q '^NAME ' $T/out && grep -qE '^demo_4k +kvmem' $T/out &&
		grep -qE '^demo_small +slab' $T/out &&
		grep -qE 'slabs.*objects.*magazine' $T/out ||
		{ fail $n "header or rows missing"; return; }
	pass $n

	n=list_json
	ok $n splkmemctl -j list || return
	js $n '.:array' '.length>=4' '.@unique:name' \
		'.[name=demo_small].backing==slab' '.[name=demo_small].live_objs==1500' \
		'.[name=demo_small].obj_size==192' '.[name=demo_4k].backing==kvmem' \
		'.[name=demo_4k].obj_size==4096' '.[name=demo_4k].live_objs==300' \
		'.[name=demo_4k].obj_alloc>=300' '.[name=demo_4k].slab_total>0' \
		'.[name=demo_4k].bytes>0' '.[name=demo_1m_reclaim].flags.1==reclaimable' \
		'.[name=demo_128k].slab_objs>0' || return
	pass $n

	n=list_pretty
	ok $n splkmemctl -j -p list 'demo_1*' || return
	[ "$(wc -l <$T/out)" -gt 10 ] || { fail $n "not indented"; return; }
	js $n '.length==2' '.0.name==demo_128k' '.1.name==demo_1m_reclaim' || return
	pass $n

	n=list_filter_sort
	ok $n splkmemctl -j list -s bytes || return
	a=$(jget .0.bytes) b=$(jget .1.bytes) c=$(jget .2.bytes)
	[ "$a" -ge "$b" ] && [ "$b" -ge "$c" ] || { fail $n "not sorted by bytes: $a $b $c"; return; }
	ok $n splkmemctl -j list -s name -r 'demo_*' || return
	js $n '.length==4' '.0.name==demo_small' '.3.name==demo_128k' || return
	ok $n splkmemctl -j list 'nomatch*' || return
	js $n '.length==0' || return
	ok $n splkmemctl list -s obj_size 'demo_*' || return
	[ "$(sed -n 3p $T/out | cut -d' ' -f1)" = demo_1m_reclaim ] ||
		{ fail $n "text not sorted by obj_size"; return; }
	pass $n
}

t_show() {
	n=show
	ok $n splkmemctl show demo_4k || return
	grep -q '^cache demo_4k' $T/out && grep -qE '^  object size +4096' $T/out &&
		grep -qE '^  objects in use +300$' $T/out ||
		{ fail $n "text lacks fields"; return; }
	ok $n splkmemctl -j show demo_4k || return
	js $n '.:object' '.name==demo_4k' '.backing==kvmem' '.flags.0==kvmem' \
		'.flags.length==1' '.obj_size==4096' '.obj_align==8' '.live_objs==300' \
		'.mag_auto==true' '.mag_size>=2' '.slab_size>0' '.slab_objs>0' \
		'.slab_create>0' '.slab_destroy?' '.grow?' '.reap?' '.obj_deadlock?' \
		'.obj_emergency==0' '.linux_objs==0' '.bytes>0' || return
	ok $n splkmemctl -j show demo_small || return
	js $n '.backing==slab' '.linux_objs==1500' '.slab_total==0' || return
	refused $n 1 'no such cache.*attribute cache.name' splkmemctl show nosuch || return
	refused $n 1 'longer than 31' splkmemctl show a_name_that_is_far_too_long_for_a_cache || return
	pass $n
}

t_tunables() {
	n="get"
	ok $n splkmemctl get || return
	grep -qE '^magazine_size +0 +\(0 or 2\.\.256\)' $T/out || { fail $n "text"; return; }
	ok $n splkmemctl -j get || return
	js $n '.length==5' '.@unique:name' '.[name=magazine_size].zero_ok==true' \
		'.[name=magazine_size].max==256' '.[name=slab_limit].value==16384' \
		'.[name=kmem_threads].min==1' '.[name=kmem_threads].max==64' || return
	ok $n splkmemctl -j get slab_limit || return
	# One shape per command: an array, of one tunable here.
	js $n '.length==1' '.[name=slab_limit].value==16384' || return
	refused $n 1 'no such tunable.*attribute tunable.name' splkmemctl get nosuch || return
	pass $n

	n="set"
	ok $n splkmemctl -j set obj_per_slab 16 || return
	js $n '.name==obj_per_slab' '.value==16' || return
	[ "$(cat $SP/obj_per_slab)" = 16 ] || { fail $n "sysfs does not see netlink's value"; return; }
	echo 8 >$SP/obj_per_slab
	ok $n splkmemctl -j get obj_per_slab || return
	js $n '.[name=obj_per_slab].value==8' || return
	refused $n 1 'magazine_size must be 0 or 2\.\.256.*attribute tunable.value' \
		splkmemctl set magazine_size 1 || return
	refused $n 1 'kmem_threads must be 1\.\.64' splkmemctl set kmem_threads 65 || return
	refused $n 1 'no such tunable' splkmemctl set nosuch 1 || return
	# sysfs refuses what netlink refuses, and keeps the value.
	echo 1 >$SP/magazine_size 2>/dev/null && { fail $n "sysfs took magazine_size=1"; return; }
	[ "$(cat $SP/magazine_size)" = 0 ] || { fail $n "sysfs value changed"; return; }
	pass $n
}

t_magazine() {
	n=magazine
	ok $n splkmemctl -j magazine demo_4k 16 || return
	js $n '.name==demo_4k' '.mag_size==16' '.mag_auto==false' '.mag_refill==8' || return
	ok $n splkmemctl magazine demo_4k 256 || return
	grep -q 'cache demo_4k: magazine size 256, refill 128' $T/out || { fail $n "text"; return; }
	ok $n splkmemctl -j show demo_4k || return
	js $n '.mag_size==256' '.mag_auto==false' || return
	ok $n splkmemctl -j magazine demo_4k auto || return
	js $n '.mag_auto==true' '.mag_size>=2' || return
	ok $n splkmemctl -j magazine demo_128k 2 || return
	js $n '.mag_size==2' || return
	refused $n 1 'must be 0 \(automatic\) or 2\.\.256.*attribute cache.mag_size' \
		splkmemctl magazine demo_4k 1 || return
	refused $n 1 'attribute cache.mag_size, valid: 0\.\.256' splkmemctl magazine demo_4k 257 || return
	refused $n 1 'no magazines' splkmemctl magazine demo_small 8 || return
	refused $n 1 'no such cache' splkmemctl magazine nosuch 8 || return
	pass $n
}

t_reap() {
	n=reap
	ok $n splkmemctl -j show demo_4k || return
	before=$(jget .bytes)
	ok $n splkmemctl -j reap demo_4k || return
	js $n '.cache==demo_4k' '.slabs>0' '.bytes>0' || return
	freed=$(jget .bytes)
	ok $n splkmemctl -j show demo_4k || return
	after=$(jget .bytes)
	[ $((before - freed)) = "$after" ] ||
		{ fail $n "held $before, reaped $freed, now holds $after"; return; }
	ok $n splkmemctl reap demo_128k || return
	grep -qE '^reaped demo_128k: [0-9]+ slabs, .* \([0-9]+ bytes\)$' $T/out || { fail $n "text"; return; }
	ok $n splkmemctl -j reap || return
	js $n '.slabs>=0' '.bytes>=0' '.cache!' || return
	refused $n 1 'no such cache' splkmemctl reap nosuch || return
	pass $n
}

t_top() {
	n=top
	ok $n splkmemctl top -n 2 -d 0.2 -l 3 || return
	[ "$(grep -c '^spl_kmem: ' $T/out)" = 2 ] || { fail $n "two refreshes wanted"; return; }
	ok $n splkmemctl -j top -n 2 -d 0.2 -s obj_size -l 2 || return
	js $n -l '.length==2' '.0.caches>=4' '.0.caches_top.length==2' \
		'.0.caches_top.0.name==demo_1m_reclaim' '.1.bytes>0' || return
	pass $n
}

# As nobody: statistics and events are refused (they are as telling as
# /proc/slabinfo), the tunables can be read, every change is refused, and
# nothing changed.
t_unprivileged() {
	n=unprivileged
	perm='Operation not permitted: needs CAP_NET_ADMIN \(run as root\)'
	refused $n 1 "$perm" asuser $NOBODY splkmemctl -j list || return
	refused $n 1 "$perm" asuser $NOBODY splkmemctl show demo_4k || return
	refused $n 1 "$perm" asuser $NOBODY splkmemctl top -n 1 || return
	refused $n 1 "$perm" asuser $NOBODY splkmemctl monitor -c 1 || return
	ok $n asuser $NOBODY splkmemctl -j get magazine_size || return
	js $n '.length==1' '.[name=magazine_size].value==0' || return
	refused $n 1 "$perm" asuser $NOBODY splkmemctl set magazine_size 64 || return
	refused $n 1 "$perm" asuser $NOBODY splkmemctl magazine demo_4k 8 || return
	refused $n 1 "$perm" asuser $NOBODY splkmemctl reap || return
	refused $n 1 "$perm" asuser $NOBODY splkmemctl reap demo_4k || return
	ok $n splkmemctl -j show demo_4k || return
	js $n '.mag_auto==true' || return
	[ "$(cat $SP/magazine_size)" = 0 ] || { fail $n "magazine_size changed"; return; }
	pass $n
}

# A cache whose growths are late: deadlock and emergency objects (events
# checked by t_monitor).
t_emergency() {
	n=emergency
	insmod $TEST emergency=1 || { fail $n "insmod emergency=1"; return; }
	ok $n splkmemctl -j show genl_emerg || { rmmod spl_kmem_genl_test; return; }
	js $n '.obj_deadlock>=1' '.obj_emergency>=1' '.obj_emergency_max>=1' ||
		{ rmmod spl_kmem_genl_test; return; }
	ok $n splkmemctl show genl_emerg
	rmmod spl_kmem_genl_test || { fail $n "rmmod"; return; }
	pass $n
}

monitor_start() {
	splkmemctl -j monitor >$T/mon.json 2>$T/mon.err &
	MON_J=$!
	splkmemctl monitor >$T/mon.txt 2>$T/mon.err2 &
	MON_T=$!
	i=0
	while { ! grep -q listening $T/mon.err || ! grep -q listening $T/mon.err2; } &&
		[ $i -lt 50 ]; do
		usleep 100000
		i=$((i + 1))
	done
}

t_monitor() {
	n=monitor
	sleep 1
	kill $MON_J $MON_T
	wait $MON_J $MON_T 2>/dev/null
	echo "--- monitor (text):"
	grep -v '^reap' $T/mon.txt
	cp $T/mon.json $T/out
	js $n -l '.length>=12' '.[event=cache-new,cache=demo_4k].backing==kvmem' \
		'.[event=cache-new,cache=demo_4k].obj_size==4096' \
		'.[event=cache-new,cache=demo_small].backing==slab' \
		'.[event=reap,cache=demo_4k].bytes>0' '.[event=reap,cache=demo_4k].slabs>0' \
		'.[event=cache-del,cache=demo_4k]?' '.[event=cache-del,cache=demo_small]?' \
		'.[event=cache-del,cache=demo_1m_reclaim]?' || return
	# Emergency events are rate-limited (10 a second) and count the rest.
	js $n -l '.[event=deadlock,cache=genl_emerg].obj_deadlock>=1' \
		'.[event=emergency,cache=genl_emerg].obj_emergency>=1' || return
	# genl_emerg's only: on a loaded host the demo caches' growths can be
	# late too, and their emergency events are not this test's.
	ne=$(grep '"event":"emergency"' $T/mon.json | grep -c '"cache":"genl_emerg"')
	# At most 10 a second over the test's few seconds (longer when slow).
	[ "$ne" -ge 2 ] && [ "$ne" -le $((20 * SLOW)) ] || { fail $n "$ne emergency events"; return; }
	grep -qE '"event":"emergency".*"missed":[1-9]' $T/mon.json ||
		{ fail $n "no emergency event counts missed ones"; return; }
	# Each line starts with a local timestamp, milliseconds and zone.
	ts='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}[+-][0-9]{4} '
	grep -qE "${ts}cache-new +demo_4k kvmem objsize 4\.0K$" $T/mon.txt &&
		grep -qE "${ts}reap +demo_4k [0-9]+ slabs " $T/mon.txt &&
		grep -qE "${ts}cache-del +demo_4k$" $T/mon.txt || { fail $n "text events"; return; }
	pass $n
}

# Magazine resizes while every CPU allocates and frees tagged objects.
t_resize_load() {
	n=resize_under_load
	insmod $TEST load=1 || { fail $n "insmod load=1"; return; }
	sizes="2 3 5 8 13 32 64 100 128 200 256 auto 7 2 256 16"
	count=0
	rounds=$((12 / SLOW))
	[ "$rounds" -ge 2 ] || rounds=2
	r=0
	while [ $r -lt $rounds ]; do
		r=$((r + 1))
		for s in $sizes; do
			splkmemctl magazine genl_load $s >$T/out 2>$T/err ||
				{ cat $T/err; fail $n "magazine genl_load $s"; rmmod spl_kmem_genl_test; return; }
			count=$((count + 1))
		done
	done
	ops_mid=$(cat $P/load_ops)
	run splkmemctl -j show genl_load
	echo 1 >$P/load_stop
	errors=$(cat $P/load_errors)
	ops=$(cat $P/load_ops)
	dmesg | grep 'spl_kmem_genl_test: load:'
	rmmod spl_kmem_genl_test
	echo "$count resizes, $ops objects allocated and freed ($ops_mid during the resizes), $errors errors"
	[ "$errors" = 0 ] || { fail $n "$errors errors (see the log)"; return; }
	[ "$ops_mid" -gt 10000 ] || { fail $n "only $ops_mid objects during the resizes"; return; }
	dmesg | grep -q 'spl_kmem_genl_test: load: PASS' || { fail $n "no PASS line"; return; }
	pass $n
}

t_big_dump() {
	n=dump_${NCACHES}
	start=$(date +%s)
	insmod $TEST ncaches=$NCACHES || { fail $n "insmod ncaches=$NCACHES"; return; }
	echo "created $NCACHES caches in $(($(date +%s) - start))s"
	run nldump
	last=$(printf 'genl_t%05d' $((NCACHES - 1)))
	grep -qE "^caches=$NCACHES first=genl_t00000 last=$last unique=$NCACHES datagrams=[0-9]+ intr=0$" $T/out ||
		{ fail $n "raw dump incomplete"; rmmod spl_kmem_genl_test; return; }
	dg=$(sed 's/.*datagrams=\([0-9]*\).*/\1/' $T/out)
	[ "$dg" -ge 100 ] || { fail $n "only $dg datagrams"; rmmod spl_kmem_genl_test; return; }
	echo "\$ splkmemctl -j list >$T/out"
	splkmemctl -j list >$T/out || { fail $n "list"; rmmod spl_kmem_genl_test; return; }
	js $n ".length==$NCACHES" '.@unique:name' '.0.name==genl_t00000' \
		".$((NCACHES - 1)).name==$last" || { rmmod spl_kmem_genl_test; return; }
	pass $n

	n=dump_interrupted
	run nldump -t $P/churn
	grep -qE 'intr=1$' $T/out || { fail $n "no NLM_F_DUMP_INTR"; rmmod spl_kmem_genl_test; return; }
	run nldump
	grep -qE "^caches=$NCACHES .* intr=0$" $T/out || { fail $n "later dump"; rmmod spl_kmem_genl_test; return; }
	pass $n
	start=$(date +%s)
	rmmod spl_kmem_genl_test
	echo "destroyed them in $(($(date +%s) - start))s"
}

t_fuzz() {
	n=fuzz
	insmod $TEST demo=1 || { fail $n "insmod demo=1"; return; }
	saved=
	for t in magazine_size obj_per_slab max_size slab_limit kmem_threads; do
		saved="$saved $t=$(cat $SP/$t)"
	done
	dmesg -c >/dev/null
	ok $n nlfuzz -n "$FUZZ" -s 1 || { rmmod spl_kmem_genl_test; return; }
	ok $n asuser $NOBODY nlfuzz -n 3000 -s 2 || { rmmod spl_kmem_genl_test; return; }
	for kv in $saved; do
		echo "${kv#*=}" >$SP/${kv%%=*}
	done
	ok $n splkmemctl -j list || { rmmod spl_kmem_genl_test; return; }
	js $n '.length>=4' || { rmmod spl_kmem_genl_test; return; }
	ok $n splkmemctl get || { rmmod spl_kmem_genl_test; return; }
	rmmod spl_kmem_genl_test || { fail $n "rmmod"; return; }
	if dmesg | grep -E 'BUG:|WARNING:|Oops|Call Trace|general protection'; then
		fail $n "kernel log not clean"
		return
	fi
	pass $n
}

# A consumer that frees an object twice and frees foreign pointers: one
# error line per kind, naming the cache; the cache is not corrupted.
t_misuse() {
	n=misuse
	dmesg -c >/dev/null
	insmod $TEST misuse=1 || { fail $n "insmod misuse=1"; return; }
	rmmod spl_kmem_genl_test
	dmesg | grep -E 'spl_kmem|misuse' >$T/out
	cat $T/out
	grep -q 'spl_kmem_genl_test: misuse: PASS' $T/out || { fail $n "no PASS line"; return; }
	[ "$(grep -c 'spl_kmem: cache genl_misuse: object .* freed twice' $T/out)" = 1 ] ||
		{ fail $n "not one double-free line naming the cache"; return; }
	[ "$(grep -c 'spl_kmem: cache genl_misuse: freeing .* not an allocated object of this cache' $T/out)" = 1 ] ||
		{ fail $n "not one foreign-free line naming the cache"; return; }
	pass $n
}

# Creations and destructions of one name, racing in two threads: a
# listener sees them alternate, a destruction before the next creation.
t_race_events() {
	n=race_events
	N=300
	insmod $TEST || { fail $n "insmod"; return; }
	splkmemctl -j monitor >$T/race.json 2>$T/race.err &
	mon=$!
	i=0
	while ! grep -q listening $T/race.err 2>/dev/null && [ $i -lt 50 ]; do
		usleep 100000
		i=$((i + 1))
	done
	echo $N >$P/race_events || { kill $mon; fail $n "race_events"; rmmod spl_kmem_genl_test; return; }
	sleep 1
	kill $mon
	wait $mon 2>/dev/null
	rmmod spl_kmem_genl_test
	if grep -q 'lost' $T/race.err; then
		fail $n "the monitor lost events"
		return
	fi
	seq=$(grep '"cache":"genl_race"' $T/race.json | grep -oE '"event":"cache-(new|del)"' |
		sed 's/.*cache-//; s/"//' | tr '\n' ' ')
	want=$(i=0; while [ $i -lt $N ]; do printf 'new del '; i=$((i + 1)); done)
	if [ "$seq" != "$want" ]; then
		echo "events: $(echo "$seq" | head -c 600)"
		fail $n "creations and destructions of genl_race do not alternate ($(echo "$seq" | wc -w) events)"
		return
	fi
	echo "$N creations and destructions, in order"
	pass $n
}

# A consumer unloaded without destroying its caches, then rmmod spl_kmem:
# one line per cache, none of its code called, no timer left behind.
t_leak_unload() {
	n=leak_unload
	insmod $TEST leak=1 || { fail $n "insmod leak=1"; return 1; }
	rmmod spl_kmem_genl_test || { fail $n "rmmod spl_kmem_genl_test"; return 1; }
	dmesg -c >/dev/null
	rmmod spl_kmem || { fail $n "rmmod spl_kmem"; return 1; }
	# The idle cache's trim was due 5 s after its last free.
	sleep 6
	dmesg >$T/out
	cat $T/out
	for c in genl_leak_kvmem genl_leak_slab genl_leak_idle; do
		[ "$(grep -c "spl_kmem: cache $c was never destroyed by its owner" $T/out)" = 1 ] ||
			{ fail $n "not one line for $c"; return 0; }
	done
	grep -qE 'spl_kmem: cache genl_leak_kvmem was never destroyed by its owner: leaking its 10 objects' $T/out &&
		grep -qE 'spl_kmem: cache genl_leak_slab was never destroyed by its owner: leaking its 10 objects' $T/out &&
		grep -qE 'spl_kmem: cache genl_leak_idle was never destroyed by its owner: destroyed it at unload' $T/out ||
		{ fail $n "wrong account of the objects left"; return 0; }
	[ "$(grep -c 'spl_kmem' $T/out)" = 3 ] || { fail $n "more than one line per cache"; return 0; }
	pass $n
}

# ---------------------------------------------------------------------------

t_not_loaded
insmod /modules/spl_kmem.ko || { fail insmod "spl_kmem"; h "DONE $PASSED passed, $FAILED failed"; exit 1; }
monitor_start
insmod $TEST demo=1 || fail insmod "demo=1"
t_usage
t_list
t_show
t_tunables
t_magazine
t_reap
t_top
t_unprivileged
t_alloc_fail
rmmod spl_kmem_genl_test
t_emergency
t_monitor
t_resize_load
t_big_dump
t_fuzz
t_misuse
t_race_events
t_leak_unload || { rmmod spl_kmem || fail rmmod "spl_kmem"; }
refused not_loaded_after 1 'module not loaded' splkmemctl reap && pass not_loaded_after
h "DONE $PASSED passed, $FAILED failed"
