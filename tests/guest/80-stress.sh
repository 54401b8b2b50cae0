#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Concurrency stress (nvgrace-stress run): threads doing region read/write
# into plain memory and (nvgrace.copyfaults=1) into fresh pages, a
# userfaultfd buffer and a mapping of the same device, mmap/touch/munmap, memory-enable toggles, FLR and hot
# reset, poison injection, second device fds, sessions closed and reopened,
# while a shell loop unbinds and binds the device. Then the device must work,
# every process must have exited, and (where the kernel has fault injection)
# every allocation of our modules' paths is failed one by one (nvgrace-stress
# faults), and kmemleak (where present) finds no leak from our modules.
#
# Form, from the kernel command line:
#   nvgrace.stress=quick   >= 30 s and >= 3000 operations (default on */7.3)
#   nvgrace.stress=full    >= 300 s and >= 10000 operations (debug kernels)
#   nvgrace.stress=off     skipped (default on other kernels)
#   nvgrace.copyfaults=1   I/O whose user copy faults: fresh buffers, a
#                          userfaultfd buffer, a mapping of the same device
#                          (deadlocks a driver that copies under memory_lock
#                          while other threads mmap/munmap and toggle/reset);
#                          the default in both forms, =0 turns it off
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

form='' copyfaults='' lane=''
read -r _cmdline </proc/cmdline
for _a in $_cmdline; do
	case $_a in
	nvgrace.stress=*) form=${_a#*=} ;;
	nvgrace.copyfaults=*) copyfaults=${_a#*=} ;;
	nvgrace.lane=*) lane=${_a#*=} ;;
	esac
done
# make check (nvgrace.lane=check) runs the quick form on arm64 7.3 only,
# for its time budget; make check-full on every 7.3.
if [ -z "$form" ]; then
	case $lane:$NG_KNAME in
	check:arm64/7.3 | full:*/7.3 | :*/7.3) form=quick ;;
	*) form=off ;;
	esac
fi
case $form in
quick) secs=30 ops=3000 session=8 hang=60 budget=30 ;;
full) secs=300 ops=10000 session=20 hang=90 budget=60 ;;
off)
	skip "stress" "quick form runs on */7.3 kernels (make check: arm64/7.3 only); nvgrace.stress=quick|full to run it here"
	exit 0
	;;
*)
	nok "nvgrace.stress=$form is quick, full or off"
	exit 1
	;;
esac
args="--seconds $secs --ops $ops --session $session --hang $hang"
[ "${copyfaults:-1}" = 1 ] && args="$args --copy-faults"
diag "stress form $form: $args"

# Reports of the kernel's checkers (lockdep, KASAN, UBSAN, KFENCE, object
# debugging, hung tasks, lockups, kmemleak, WARN/BUG/oops).
CHECKERS='BUG:|WARNING:|Oops|Internal error|Unable to handle|kernel BUG|KASAN|UBSAN|KFENCE|ODEBUG|refcount_t|list_(add|del) corruption|blocked for more than|soft lockup|rcu: INFO|self-detected stall|circular locking|recursive locking|inconsistent lock state|suspicious RCU usage|non-static key|lockdep|kmemleak'

# A checker report (lockdep's, say) raises the console log level; the
# driver's per-reset lines would then crawl out of the emulated serial port.
dmesg -n 1 2>/dev/null

# shellcheck disable=SC2119 # no extra firmware parameters
if ! bind_with_props; then
	nok "bind the stand-in with firmware properties"
	exit 1
fi
ok "bind the stand-in with firmware properties"

KML=/sys/kernel/debug/kmemleak
[ -w $KML ] && echo clear >$KML

# The unbind/bind loop: an unbind waits until the stress program closes the
# device at the end of a session, then the program waits until it is back.
rm -f stop binds
(
	n=0
	sleep 2
	while [ ! -e stop ]; do
		echo "$GPU" >"$NG_DRVDIR/unbind" 2>/dev/null || true
		n=$((n + 1))
		echo $n >binds
		sleep 0.5
		echo "$GPU" >/sys/bus/pci/drivers_probe 2>/dev/null || true
		sleep 3
	done
) &
looper=$!

t0=$(cut -d' ' -f1 /proc/uptime)
# shellcheck disable=SC2086
"$NG_BIN/nvgrace-stress" run "$GPU" $args &
stress=$!
wait $stress
rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
diag "nvgrace-stress run exited $rc after $(awk "BEGIN{print $t1 - $t0}") s; unbind/bind cycles: $(cat binds 2>/dev/null || echo 0)"
touch stop
if [ $rc = 4 ]; then
	# a thread hung (the watchdog said where): the device is lost
	nok "no hang (the device is lost until reboot; not checking further)"
	exit 1
fi
n=0
while kill -0 $looper 2>/dev/null && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
check "the unbind/bind loop exits" sh -c "! kill -0 $looper 2>/dev/null"
check "the stress program exited" sh -c "! kill -0 $stress 2>/dev/null"
check "the unbind/bind loop ran at least once" test "$(cat binds 2>/dev/null || echo 0)" -ge 1
if [ "$(pci_driver "$GPU")" != "$NG_DRV" ]; then
	echo "$GPU" >/sys/bus/pci/drivers_probe 2>/dev/null
fi
expect_eq "the device is bound to $NG_DRV afterwards" "$(pci_driver "$GPU")" "$NG_DRV"
"$NG_BIN/nvgrace-stress" check "$GPU"

# Allocation failures on our modules' paths, one by one. The kernel logs
# each failed page allocation with a backtrace (expected, so the window is
# excluded from the runner's log check), but nothing else may show up.
if [ -e /proc/self/fail-nth ] && [ -d /sys/kernel/debug/failslab ]; then
	echo nvgrace-dmesg-ignore-begin >/dev/kmsg
	echo "nvgrace-stress: faults begin" >/dev/kmsg
	"$NG_BIN/nvgrace-stress" faults "$GPU" --budget $budget
	echo "nvgrace-stress: faults end" >/dev/kmsg
	echo nvgrace-dmesg-ignore-end >/dev/kmsg
	dmesg | awk '/nvgrace-stress: faults begin/ { on = 1; next }
		/nvgrace-stress: faults end/ { on = 0 } on' >faults.dmesg
	diag "page allocation failure reports while failing: $(grep -c 'page allocation failure' faults.dmesg)"
	# kmemleak's own metadata allocation may be the one that fails: a note
	if grep -v 'kmemleak: Cannot allocate a scan area' faults.dmesg |
		grep -E "$CHECKERS" >faults.bad; then
		nok "no checker report while allocations failed"
		head -n 40 faults.bad | sed 's/^/#   /'
	else
		ok "no checker report while allocations failed"
	fi
	"$NG_BIN/nvgrace-stress" check "$GPU"
else
	skip "allocation failure injection" "no fail-nth or failslab in this kernel"
fi

# kmemleak: objects allocated by our modules and no longer referenced
# (scanned while the modules are loaded, so the backtraces name them).
if [ -w $KML ]; then
	echo nvgrace-dmesg-ignore-begin >/dev/kmsg
	# objects younger than 5 s are never reported
	sleep 6
	echo scan >$KML
	echo scan >$KML
	echo nvgrace-dmesg-ignore-end >/dev/kmsg
	awk '/^unreferenced object/ { if (blk ~ /\[nvgrace_[a-z_]*\]/) n++; blk = "" }
		{ blk = blk "\n" $0 }
		END { if (blk ~ /\[nvgrace_[a-z_]*\]/) n++; print n + 0 }' $KML >leaks.n
	diag "kmemleak: $(grep -c '^unreferenced object' $KML) unreferenced objects in all, $(cat leaks.n) from our modules"
	if [ "$(cat leaks.n)" = 0 ]; then
		ok "kmemleak: no leak from nvgrace modules"
	else
		nok "kmemleak: no leak from nvgrace modules"
		awk '/^unreferenced object/ { if (blk ~ /\[nvgrace_[a-z_]*\]/) print blk; blk = "" }
			{ blk = blk "\n" $0 }
			END { if (blk ~ /\[nvgrace_[a-z_]*\]/) print blk }' $KML | head -n 60 | sed 's/^/#   /'
	fi
else
	skip "kmemleak" "no kmemleak in this kernel"
fi

unbind_all
check "unbound and unloaded" test ! -e "/sys/bus/pci/devices/$GPU/nvgrace"
