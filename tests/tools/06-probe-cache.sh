#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# compat/run-probe.sh's result cache (NVGRACE_PROBE_CACHE_DIR, set by
# compat/probe.mk when NVGRACE_PROBE_CACHE is): a result is reused only for
# the same probe source and the same cache directory (probe.mk's key of
# kernel trees, compiler and flags), a compiler that crashed is never
# remembered, and a cached run gives the same header and log as a compiled
# one. Driven with a fake compiler that counts its calls. TAP on stdout.

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lib/tap.sh
. "$top/tests/lib/tap.sh"
TAP_PREFIX="probe cache: "
probe=$top/compat/run-probe.sh

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/out" "$t/cache"
: >"$t/Module.symvers"

# The fake compiler: "cc -c -o OBJ SRC" succeeds when SRC holds "works",
# fails (exit 1) when it holds "broken", crashes (exit 139) on "crash".
cat >"$t/cc" <<'CC'
#!/bin/sh
echo x >>"${0%/*}/calls"
while [ $# -gt 1 ]; do shift; done
if grep -q crash "$1"; then exit 139; fi
if grep -q broken "$1"; then echo "$1: error: no such API" >&2; exit 1; fi
: >"${0%/*}/out/obj.o"
CC
chmod +x "$t/cc"

calls() { if [ -f "$t/calls" ]; then wc -l <"$t/calls"; else echo 0; fi; }
# run NAME CACHE: one probe run; prints run-probe.sh's line
run() {
	NVGRACE_PROBE_CACHE_DIR=$2 sh "$probe" "$1" "$t/$1.c" "$t/out" \
		"$t/Module.symvers" -- "$t/cc"
}

echo works >"$t/api_a.c"
echo broken >"$t/api_b.c"
line=$(run api_a "$t/cache/k1")
tap_check "a first run compiles" [ "$(calls)" = 1 ]
tap_check "and finds the API" [ "${line##* }" = yes ]
cp "$t/out/api_a.h" "$t/a.h.compiled"
line=$(run api_a "$t/cache/k1")
tap_check "the same probe again is taken from the cache" [ "$(calls)" = 1 ]
tap_check "the cached run says so" [ "$line" != "${line%(cached)}" ]
tap_check "the cached header equals the compiled one" cmp -s "$t/out/api_a.h" "$t/a.h.compiled"

run api_b "$t/cache/k1" >/dev/null
run api_b "$t/cache/k1" >/dev/null
tap_check "a failing probe compiles once, then comes from the cache" [ "$(calls)" = 2 ]
tap_check "the cached failure keeps the compiler's log" grep -q 'no such API' "$t/out/api_b.log"
tap_check "the cached failure is not set" grep -q 'HAVE_API_B is not set' "$t/out/api_b.h"

run api_a "$t/cache/k2" >/dev/null
tap_check "another kernel, compiler or flag set (cache key) compiles again" [ "$(calls)" = 3 ]

echo broken >"$t/api_a.c"
line=$(run api_a "$t/cache/k1")
tap_check "an edited probe compiles again" [ "$(calls)" = 4 ]
tap_check "and gets the new answer" [ "${line##* }" = no ]

echo crash >"$t/api_c.c"
run api_c "$t/cache/k1" >/dev/null
run api_c "$t/cache/k1" >/dev/null
tap_check "a crashed compiler is not remembered" [ "$(calls)" = 6 ]

: >"$t/calls"
run api_a "" >/dev/null
run api_a "" >/dev/null
tap_check "without NVGRACE_PROBE_CACHE_DIR every run compiles" [ "$(calls)" = 2 ]
tap_finish
