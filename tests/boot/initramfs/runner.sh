#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# /nvgrace/runner.sh: TAP runner of the nvgrace boot tier (busybox sh).
#
# Runs every /nvgrace/tests/NN-*.sh (two digits, a dash; sorted) with a
# per-script timeout, numbers the test lines the scripts print, prefixes them
# with the script name, and prints TAP on the console. See tests/boot/README.md
# for the script contract.
#
# Kernel command line knobs:
#   nvgrace.timeout=SEC    per-script timeout (default 300)
#   nvgrace.only=PATTERNS  comma-separated shell patterns on script names
#   nvgrace.name=NAME      kernel name shown to scripts ($NG_KNAME)

TESTS=/nvgrace/tests
S=/tmp/.ngrun
mkdir -p "$S"
echo 0 >"$S/n"
echo 0 >"$S/pass"
echo 0 >"$S/fail"
echo 0 >"$S/skip"

timeout=300
only=
NG_KNAME=
read -r cmdline </proc/cmdline
# shellcheck disable=SC2086
for w in $cmdline; do
	case $w in
	nvgrace.timeout=*) timeout=${w#*=} ;;
	nvgrace.only=*) only=${w#*=} ;;
	nvgrace.name=*) NG_KNAME=${w#*=} ;;
	esac
done
NG_ARCH=$(cat /nvgrace/arch 2>/dev/null)
NG_RELEASE=$(uname -r)
export NG_ARCH NG_RELEASE NG_KNAME
export NG_BIN=/nvgrace/bin NG_MODULES=/nvgrace/modules NG_TESTS=$TESTS
export NG_TIMEOUT="$timeout"

kmsg() { echo "nvgrace-runner: $*" >/dev/kmsg 2>/dev/null; }

# tap STATUS DESC: print one numbered test line and count it.
# STATUS is "ok" or "not ok"; the counters live in files because the output
# filter runs in a pipeline subshell.
tap() {
	_n=$(($(cat "$S/n") + 1))
	echo "$_n" >"$S/n"
	case $2 in
	*"# "[Ss][Kk][Ii][Pp]* | *"# "[Tt][Oo][Dd][Oo]*) _k=skip ;;
	*) if [ "$1" = ok ]; then _k=pass; else _k=fail; fi ;;
	esac
	echo $(($(cat "$S/$_k") + 1)) >"$S/$_k"
	echo "$1 $_n - $2"
}

# filter NAME: turn a script's output into TAP lines of the whole run.
filter() {
	_nok=0
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%"$(printf '\r')"}
		case $line in
		"not ok" | "not ok "*) st="not ok"; rest=${line#not ok} ;;
		"ok" | "ok "*) st=ok; rest=${line#ok} ;;
		"#"*) echo "$line"; continue ;;
		1..[0-9]*) echo "# $1: plan $line (ignored, the runner numbers tests)"; continue ;;
		*) echo "# $line"; continue ;;
		esac
		rest=${rest#" "}
		case $rest in
		[0-9]*) rest=${rest#"${rest%%[!0-9]*}"}; rest=${rest#" "} ;;
		esac
		case $rest in
		"-") rest= ;;
		"- "*) rest=${rest#- } ;;
		esac
		if [ "$st" = "not ok" ]; then
			case $rest in
			*"# "[Tt][Oo][Dd][Oo]*) ;;
			*) _nok=$((_nok + 1)) ;;
			esac
		fi
		tap "$st" "$1: ${rest:-(no description)}"
	done
	echo "$_nok" >"$S/nok"
}

# run NAME SCRIPT: run one script in its own session with a watchdog;
# leaves the exit code in $S/rc and "1" in $S/timedout on timeout.
run() {
	rm -f "$S/timedout"
	NG_TMP=/tmp/ng/$1
	rm -rf "$NG_TMP"
	mkdir -p "$NG_TMP"
	export NG_TMP NG_TEST_NAME="$1"
	(cd "$NG_TMP" && exec setsid sh "$2" </dev/null 2>&1) &
	pid=$!
	(
		sleep "$timeout" &
		sp=$!
		trap 'kill $sp 2>/dev/null; exit 0' TERM
		wait $sp
		if kill -0 "$pid" 2>/dev/null; then
			echo 1 >"$S/timedout"
			kill -TERM -"$pid" 2>/dev/null
			sleep 2
			kill -KILL -"$pid" 2>/dev/null
		fi
	) >/dev/null 2>&1 &
	wd=$!
	wait $pid
	echo $? >"$S/rc"
	kill $wd 2>/dev/null
	wait $wd 2>/dev/null
	# Whatever the script left running goes with it (and releases the pipe).
	kill -KILL -"$pid" 2>/dev/null
	return 0
}

selected() {
	[ -z "$only" ] && return 0
	_old=$IFS
	IFS=,
	for p in $only; do
		# shellcheck disable=SC2254
		case $1 in $p) IFS=$_old; return 0 ;; esac
	done
	IFS=$_old
	return 1
}

echo "TAP version 13"
echo "NVGRACE-TAP-BEGIN"
kmsg "tests begin"
ran=0
for t in "$TESTS"/[0-9][0-9]-*.sh; do
	[ -f "$t" ] || continue
	name=${t##*/}
	name=${name%.sh}
	selected "$name" || continue
	ran=$((ran + 1))
	echo "# ---- $name (timeout ${timeout}s)"
	kmsg "begin $name"
	echo 0 >"$S/nok"
	t0=$(cut -d' ' -f1 /proc/uptime)
	run "$name" "$t" | filter "$name"
	t1=$(cut -d' ' -f1 /proc/uptime)
	kmsg "end $name"
	rc=$(cat "$S/rc")
	nok=$(cat "$S/nok")
	if [ -e "$S/timedout" ]; then
		tap "not ok" "$name: timed out after ${timeout}s"
	elif [ "$rc" != 0 ] && [ "$nok" = 0 ]; then
		tap "not ok" "$name: script $name.sh exited $rc"
	fi
	echo "# ---- $name done rc=$rc in $(awk "BEGIN{print $t1 - $t0}")s"
done
kmsg "tests end"
[ $ran -gt 0 ] || echo "# no test scripts (NN-*.sh) in $TESTS${only:+ matching $only}"

# Kernel log check: offending lines logged since "tests begin", except between
# "nvgrace-dmesg-ignore-begin" and "nvgrace-dmesg-ignore-end" (a script writes
# those to /dev/kmsg around something expected to warn).
dmesg >"$S/dmesg" 2>/dev/null
awk '
	/nvgrace-runner: tests begin/ { on = 1; next }
	!on { next }
	/nvgrace-runner: begin / { cur = $NF }
	/nvgrace-dmesg-ignore-begin/ { ign = 1 }
	/nvgrace-dmesg-ignore-end/ { ign = 0 }
	ign { next }
	/BUG:|WARNING:|Oops|general protection|Call [Tt]race|kmemleak|UBSAN|KASAN|KFENCE|ODEBUG|refcount_t|list_add corruption|list_del corruption|hung_task|blocked for more than|soft lockup|rcu_sched self-detected|rcu: INFO|kernel BUG at|Unable to handle kernel|trying to register non-static key|lockdep is turned off/ {
		print "#   [" (cur == "" ? "runner" : cur) "] " $0
	}' "$S/dmesg" >"$S/bad"
if [ -s "$S/bad" ]; then
	echo "# kernel log: offending lines (script in brackets):"
	head -n 60 "$S/bad"
	tap "not ok" "kernel log clean"
else
	tap ok "kernel log clean"
fi
echo "# tainted: $(cat /proc/sys/kernel/tainted)"

n=$(cat "$S/n")
echo "1..$n"
echo "NVGRACE-TAP-END passed=$(cat "$S/pass") failed=$(cat "$S/fail") skipped=$(cat "$S/skip")"
echo "NVGRACE-DMESG-BEGIN"
cat "$S/dmesg"
echo "NVGRACE-DMESG-END"
