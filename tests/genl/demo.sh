#!/bin/sh
# `make demo`, inside the VM guest: load the module, give it a workload
# through the test module, and show what splkmemctl sees and does.
TEST=/modules/spl_kmem_genl_test.ko

# Keep kernel messages off the console: the demo output stays readable.
dmesg -n 1
say() { printf '\n### %s\n' "$*"; }
run() { echo "\$ $*"; "$@"; }

echo "GENL: DEMO BEGIN"
insmod /modules/spl_kmem.ko
say "Caches with objects in them (demo caches of each backing type)"
splkmemctl monitor >/tmp/events 2>/dev/null &
sleep 1
insmod $TEST demo=1
run splkmemctl list
say "One cache in full"
run splkmemctl show demo_4k
say "Its magazines: from automatic to 16 objects per CPU, and back"
run splkmemctl magazine demo_4k 16
run splkmemctl magazine demo_4k auto
say "Give its idle memory back"
run splkmemctl reap demo_4k
run splkmemctl -j -p show demo_4k
say "Tunables, and a bad value"
run splkmemctl get
run splkmemctl set magazine_size 1
echo "(exit $?)"
say "What monitor saw meanwhile"
sleep 1
cat /tmp/events
rmmod spl_kmem_genl_test
rmmod spl_kmem
echo "GENL: DEMO END"
