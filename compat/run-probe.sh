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
#
# NVGRACE_PROBE_CACHE_DIR (set by probe.mk from NVGRACE_PROBE_CACHE): a
# directory that holds the results of earlier runs for this kernel, compiler
# and flag set (probe.mk's key). A result found there under the hash of the
# probe source and of this script is used instead of compiling; a result
# computed here is stored there.

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

cache=${NVGRACE_PROBE_CACHE_DIR:-}
centry=
if [ -n "$cache" ]; then
	centry=$cache/$name-$(cat "$src" "$0" | md5sum | cut -c1-16)
fi

{
	printf 'cd %s &&' "$(pwd)"
	for arg in "$@"; do
		printf " '%s'" "$(printf '%s' "$arg" | sed "s/'/'\\\\''/g")"
	done
	printf " -c -o '%s' '%s'\n" "$dir/$name.o" "$src"
} >"$dir/$name.cmd"

if [ -n "$centry" ] && [ -f "$centry.h" ] && [ -f "$centry.log" ] &&
	cp "$centry.log" "$log" && cp "$centry.h" "$out.tmp"; then
	mv -f "$out.tmp" "$out"
	if grep -q '^#define' "$out"; then result=yes; else result=no; fi
	printf '  PROBE   %-44s %s (cached)\n' "$macro" "$result"
	exit 0
fi

result=yes
"$@" -c -o "$dir/$name.o" "$src" >"$log" 2>&1
rc=$?
# gcc exits 1 on a compile error; anything else (a signal, an internal
# compiler error) may not be this kernel's answer: do not store it.
[ "$rc" -le 1 ] || centry=
if [ "$rc" -eq 0 ]; then
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
# Store the result (a failure to store only costs the next build time).
if [ -n "$centry" ] && mkdir -p "$cache" 2>/dev/null; then
	cp "$log" "$centry.log.$$" 2>/dev/null && mv -f "$centry.log.$$" "$centry.log"
	cp "$out" "$centry.h.$$" 2>/dev/null && mv -f "$centry.h.$$" "$centry.h"
	rm -f "$centry.log.$$" "$centry.h.$$"
fi
printf '  PROBE   %-44s %s\n' "$macro" "$result"
