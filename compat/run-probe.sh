#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# run-probe.sh NAME SOURCE OUTDIR MODULE_SYMVERS -- CC FLAGS...
# run-probe.sh --disabled NAME - OUTDIR -
#
# Compiles one probe and writes OUTDIR/NAME.h with HAVE_<NAME> defined or
# not. Keeps the compiler output in OUTDIR/NAME.log and the exact command in
# OUTDIR/NAME.cmd so "make probe P=NAME" can run it again. Prints one line
# for the build log. With --disabled (NVGRACE_PROBE_DISABLE) the probe is
# not compiled and counts as failed.

disabled=
if [ "$1" = --disabled ]; then
	disabled=1
	shift
fi
name=$1
src=$2
dir=$3
symvers=$4
shift 4
[ "$#" -gt 0 ] && shift

macro=HAVE_$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')
log=$dir/$name.log
out=$dir/$name.h

if [ -n "$disabled" ]; then
	printf '/* %s is not set (disabled by NVGRACE_PROBE_DISABLE) */\n' "$macro" >"$out"
	echo "disabled by NVGRACE_PROBE_DISABLE" >"$log"
	printf 'echo "probe %s is disabled by NVGRACE_PROBE_DISABLE"; false\n' "$name" >"$dir/$name.cmd"
	printf '  PROBE   %-44s no (disabled)\n' "$macro"
	exit 0
fi

{
	printf 'cd %s &&' "$(pwd)"
	for arg in "$@"; do
		printf " '%s'" "$(printf '%s' "$arg" | sed "s/'/'\\\\''/g")"
	done
	printf " -c -o '%s' '%s'\n" "$dir/$name.o" "$src"
} >"$dir/$name.cmd"

result=yes
if "$@" -c -o "$dir/$name.o" "$src" >"$log" 2>&1; then
	syms=$(sed -n 's/.*nvgrace-probe: symbol \([A-Za-z0-9_]*\).*/\1/p' "$src")
	for sym in $syms; do
		if ! grep -q "^0x[0-9a-f]*	$sym	" "$symvers" 2>/dev/null; then
			echo "symbol $sym is not exported by this kernel ($symvers)" >>"$log"
			result=no
		fi
	done
else
	result=no
fi
rm -f "$dir/$name.o"

if [ "$result" = yes ]; then
	printf '#define %s 1\n' "$macro" >"$out.tmp"
else
	printf '/* %s is not set */\n' "$macro" >"$out.tmp"
fi
mv -f "$out.tmp" "$out"
printf '  PROBE   %-44s %s\n' "$macro" "$result"
