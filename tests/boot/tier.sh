#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: GPL-2.0-only
#
# tier.sh: the QEMU boot tier. For each boot kernel: fetch its image
# (tests/matrix/kernels.sh image SERIES ARCH), find the pack's modules built
# for it, build the static guest programs (tests/guest/*.c), boot it with
# boot.sh and run the guest tests. Kernels boot one after another, or
# --jobs N at once.
#
# Usage: tier.sh [options]
#   --kernels "LIST"     ARCH/SERIES words (default: $NG_BOOT_KERNELS below);
#                        ARCH arm64-16k: Debian's 16 KiB-page arm64 kernel;
#                        ARCH/SERIES+sibling: that kernel booted with a
#                        sibling function on the GPU's bus (boot.sh
#                        --sibling), running only the tests made for it
#                        ($NG_SIBLING_TESTS)
#   --set check|full     the make check set ($NG_BOOT_CHECK_KERNELS) or the
#                        make check-full one ($NG_BOOT_KERNELS, the default)
#   --modules-root DIR   pack modules in DIR/<series>-<arch>/*.ko
#                        (default $NVGRACE_BUILD_ROOT, else $NVGRACE_CACHE/build)
#   --modules-from CMD   instead: run "CMD SERIES ARCH"; its last stdout line
#                        is the directory of that kernel's *.ko
#   --extra-modules-root DIR  more modules (e.g. test-only ones) from
#                        DIR/<series>-<arch>/*.ko when present (repeatable)
#   --no-modules         boot without the pack's modules (harness checks)
#   --tests DIR          guest tests (repeatable; default tests/guest)
#   --selftest           add tests/boot/selftest (the harness self-test)
#   --jobs N             boot N kernels at once (default 1; give boot.sh
#                        as many guest slots: NG_GUEST_SLOTS=N); the output
#                        still comes kernel by kernel, in order
#   --mem-dir DIR        keep each kernel's ivshmem backing file as
#                        DIR/<arch>-<series>.mem (recreated per boot)
#   --qemu 10|host, --timeout SEC, --test-timeout SEC, --only PATTERNS,
#   --append ARGS, --context N, --mem-size SIZE, --sibling, -v
#                        passed to boot.sh
# Stdout: boot.sh's lines for every kernel, numbered across the tier
# ("ok 1 - arm64/6.12: ...", "BOOT-SUMMARY ..."), then a "# " summary
# table, the line "BOOT-TIER-SUMMARY kernels=K passed=N failed=N
# skipped=N" and the plan.
# Exit status 0 only if nothing failed.
set -euo pipefail

# shellcheck source=bootlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bootlib.sh"
# shellcheck source=../lib/tap.sh
. "$NVGRACE_TOP/tests/lib/tap.sh"

# Every boot kernel (make check-full), and the make check subset: the two
# Debian stable kernels, the newest, and the newest on the other arch; the
# sibling boots (a hot reset through another function's fd) on 6.1, where
# the driver zaps its own mappings, and on the newest, where the core does.
NG_BOOT_KERNELS="arm64/6.1 arm64/6.12 arm64/6.17 arm64/6.19 arm64/7.3 arm64-16k/7.3 amd64/6.1 amd64/7.3 arm64/6.1+sibling arm64/7.3+sibling amd64/6.1+sibling"
NG_BOOT_CHECK_KERNELS="arm64/6.1 arm64/6.12 arm64/7.3 amd64/7.3 arm64/6.1+sibling"
# What a +sibling boot runs.
NG_SIBLING_TESTS='47-*'

jobs=1 kernels=$NG_BOOT_KERNELS modroot=${NVGRACE_BUILD_ROOT:-$NVGRACE_CACHE/build} modfrom='' extraroots=() nomods=0 memdir=''
tests=() bootargs=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernels) kernels=$2; shift ;;
	--set)
		case $2 in
		check) kernels=$NG_BOOT_CHECK_KERNELS ;;
		full) kernels=$NG_BOOT_KERNELS ;;
		*) die "tier.sh: --set takes check or full" ;;
		esac
		shift
		;;
	--jobs)
		[[ $2 =~ ^[1-9][0-9]*$ ]] || die "tier.sh: --jobs takes a positive number"
		jobs=$2
		shift
		;;
	--modules-root) modroot=$2; shift ;;
	--extra-modules-root) extraroots+=("$2"); shift ;;
	--modules-from) modfrom=$2; shift ;;
	--no-modules) nomods=1 ;;
	--tests) tests+=("$2"); shift ;;
	--selftest) tests+=("$NG_BOOT_DIR/selftest") ;;
	--mem-dir) memdir=$2; shift ;;
	--qemu | --timeout | --test-timeout | --only | --append | --context | --mem-size) bootargs+=("$1" "$2"); shift ;;
	--sibling) bootargs+=(--sibling) ;;
	-v | --verbose) bootargs+=(-v) ;;
	-h | --help) sed -n '/^# SPDX/,/^[^#]/{/^#/p}' "$0" | sed '1d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "tier.sh: unknown argument: $1" ;;
	esac
	shift
done
[ ${#tests[@]} -gt 0 ] || tests=("$NVGRACE_TOP/tests/guest")
[ "${tests[0]}" != "$NG_BOOT_DIR/selftest" ] || [ ${#tests[@]} -gt 1 ] ||
	tests=("$NVGRACE_TOP/tests/guest" "${tests[@]}")
kernels_sh=$NVGRACE_TOP/tests/matrix/kernels.sh
[ -n "$memdir" ] && mkdir -p "$memdir"

ng_qemu_env
mkdir -p "$NVGRACE_CACHE/tmp"
ierr=$(mktemp "$NVGRACE_CACHE/tmp/tier-image.XXXXXX")
start=$SECONDS
declare -A binset=()
rows=()
tp=0 tf=0 ts=0 nk=0
work=$(mktemp -d "$NVGRACE_CACHE/tmp/tier-boot.XXXXXX")
trap 'rm -f "$ierr"; rm -rf "$work"' EXIT

# prepare I NAME: everything a kernel needs before its guest boots (its
# image, the pack's modules, the static guest programs), done one kernel at
# a time. Leaves $work/args.I (boot.sh's arguments) or, when something is
# missing, $work/out.I with the failure and $work/res.I.
prepare() {
	local i=$1 k=$2 flav arch series name image mdir r t variant=''
	flav=${k%%/*}
	# ARCH may name a flavour: arm64-16k boots Debian's 16 KiB-page kernel
	arch=$(ng_arch_norm "${flav%%-*}")
	[ "$flav" = "${flav%%-*}" ] && flav=$arch
	series=${k#*/}
	case $series in
	*+sibling) series=${series%+sibling} variant=sibling ;;
	esac
	name=$flav/$series${variant:++$variant}
	echo "$name" >"$work/name.$i"
	# unprepared() WHY ROWNOTE: a kernel that cannot boot
	unprepared() {
		echo "not ok - $name: $1" >>"$work/out.$i"
		echo "0 1 0 $name 0 0 1 - $2" >"$work/res.$i"
	}
	if [ ! -x "$kernels_sh" ]; then
		unprepared "kernel image ($kernels_sh missing)" "no kernels.sh"
		return
	fi
	if ! image=$("$kernels_sh" image "$series" "$flav" 2>"$ierr" | tail -n1) ||
		[ -z "$image" ] || ! ng_image_kernel "$image" >/dev/null; then
		unprepared "kernel image (kernels.sh image $series $flav)" "no image"
		sed 's/^/# /' "$ierr" | tail -n 20 >>"$work/out.$i"
		return
	fi
	# the pack's modules for it
	args=(--arch "$arch" --image "$image" --name "$name" "${bootargs[@]}")
	[ "$variant" = sibling ] && args+=(--sibling --only "$NG_SIBLING_TESTS")
	if [ $nomods = 0 ]; then
		if [ -n "$modfrom" ]; then
			mdir=$($modfrom "$series" "$flav" | tail -n1) || mdir=''
		else
			mdir=$modroot/$series-$flav
		fi
		if [ -z "$mdir" ] || ! compgen -G "$mdir/*.ko" >/dev/null; then
			unprepared "pack modules built (no *.ko in ${mdir:-the --modules-from output})" "no pack modules"
			return
		fi
		args+=(--modules "$mdir")
		for r in "${extraroots[@]}"; do
			[ -d "$r/$series-$flav" ] && args+=(--modules "$r/$series-$flav")
		done
	fi
	for t in "${tests[@]}"; do args+=(--tests "$t"); done
	# static guest programs (once per arch)
	if [ -z "${binset[$arch]:-}" ]; then
		binset[$arch]=$("$NG_BOOT_DIR/build-guest-bins.sh" --arch "$arch" --src "$NVGRACE_TOP/tests/guest") ||
			binset[$arch]=FAILED
	fi
	if [ "${binset[$arch]}" = FAILED ]; then
		unprepared "static guest programs build" "guest programs failed to build"
		return
	fi
	args+=(--bin "${binset[$arch]}")
	if [ -n "$memdir" ]; then
		r=$memdir/$flav-$series${variant:+-$variant}.mem
		rm -f "$r"
		args+=(--mem-file "$r")
	fi
	printf '%s\0' "${args[@]}" >"$work/args.$i"
}

# boot I: boot kernel I with boot.sh; its lines go to $work/out.I and
# "PASSED FAILED SKIPPED ROW..." to $work/res.I.
boot() {
	local i=$1 t0=$SECONDS name rc=0 sum p f s a=()
	name=$(cat "$work/name.$i")
	mapfile -d '' -t a <"$work/args.$i"
	"$NG_BOOT_DIR/boot.sh" "${a[@]}" >"$work/out.$i" || rc=$?
	sum=$(grep '^BOOT-SUMMARY ' "$work/out.$i" | tail -n1) || sum=''
	if [ -z "$sum" ]; then
		echo "not ok - $name: boot.sh exited $rc without a summary" >>"$work/out.$i"
		p=0 f=1 s=0
	else
		[[ $sum =~ passed=([0-9]+)\ failed=([0-9]+)\ skipped=([0-9]+) ]]
		p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
			echo "not ok - $name: boot.sh exited $rc" >>"$work/out.$i"
			f=1
		fi
	fi
	echo "$p $f $s $name $p $s $f $((SECONDS - t0))s $(grep -o '/init at [0-9.]*s' "$work/out.$i" | head -n1 || true)" \
		>"$work/res.$i.tmp"
	mv "$work/res.$i.tmp" "$work/res.$i"
}

# Print the results of the kernels that have finished, in kernel order.
shown=0
flush() {
	local p f s row
	while [ $shown -lt $nk ] && [ -f "$work/res.$shown" ]; do
		# boot.sh's result lines, numbered for the whole tier
		while IFS= read -r line; do
			case $line in
			"ok - "*) tap_ok "${line#ok - }" ;;
			"not ok - "*) tap_not_ok "${line#not ok - }" ;;
			*) printf '%s\n' "$line" ;;
			esac
		done <"$work/out.$shown"
		read -r p f s row <"$work/res.$shown"
		tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
		rows+=("$row")
		shown=$((shown + 1))
	done
}

for k in $kernels; do
	prepare "$nk" "$k"
	nk=$((nk + 1))
done
# Boot them, $jobs at a time (boot.sh runs $NG_GUEST_SLOTS guests at once).
running=0
for ((i = 0; i < nk; i++)); do
	[ -f "$work/args.$i" ] || continue
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
		flush
	fi
	boot "$i" &
	running=$((running + 1))
done
wait
flush

echo "# boot tier summary (kernel passed skipped failed time):"
for r in "${rows[@]}"; do echo "#   $r"; done
echo "# boot tier: $nk kernels, $tp passed, $tf failed, $ts skipped in $((SECONDS - start))s"
echo "BOOT-TIER-SUMMARY kernels=$nk passed=$tp failed=$tf skipped=$ts"
# the plan; the exit status is boot.sh's count (a "# TODO" failure is none)
tap_finish || true
[ "$tf" = 0 ]
