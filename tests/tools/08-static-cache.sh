#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/static.sh keeps the files that passed checkpatch or shellcheck and
# does not check them again while they and the checker are unchanged. A
# changed file must be checked again: in a clone of the tree, a C file and
# a shell script each get one defect, and static.sh must fail both and
# pass the rest. TAP on stdout.

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lib/tap.sh
. "$top/tests/lib/tap.sh"
TAP_PREFIX="static cache: "
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

git clone -q "$top" "$t/tree" || { tap_not_ok "clone the tree"; tap_finish; exit 1; }
# the work tree's uncommitted state too, as make check sees it
(cd "$top" && git ls-files -co --exclude-standard -z | tar --null -cf - -T - 2>/dev/null) |
	tar -xf - -C "$t/tree"

# run: static.sh in the clone; sets out and rc
run() {
	rc=0
	out=$("$t/tree/tests/static.sh" 2>&1) || rc=$?
}
run
if [ "$rc" -eq 0 ] && ! grep -q '^not ok' <<<"$out"; then
	tap_ok "the clean tree passes ($(grep -c 'unchanged since it passed' <<<"$out") of $(grep -c '^ok' <<<"$out") from the cache)"
else
	tap_not_ok "the clean tree passes"
	grep '^not ok' <<<"$out" | head -n 5 | sed 's/^/# /'
fi

# one defect each: a line with trailing whitespace, an unquoted expansion
# (the script is one no other script sources: a sourced one would make
# every script be checked again)
c=src/vfio/sysfs.c sh=tests/tools/05-mirrors.sh
printf '/* trailing blank */ \n' >>"$t/tree/$c"
# shellcheck disable=SC2016 # the unquoted $1 is the planted defect
printf '\nng_static_cache_check() {\n\tls $1\n}\n' >>"$t/tree/$sh"
run
for f in "checkpatch --strict $c" "shellcheck $sh"; do
	if grep '^not ok ' <<<"$out" | grep -qF -- "- $f"; then
		tap_ok "a changed file is checked again: $f fails"
	else
		tap_not_ok "a changed file is checked again: $f fails"
		grep -F "$f" <<<"$out" | sed 's/^/# /'
	fi
done
n=$(grep -c '^not ok' <<<"$out")
if [ "$rc" -ne 0 ] && [ "$n" -eq 2 ]; then
	tap_ok "static.sh fails with exactly those two"
else
	tap_not_ok "static.sh fails with exactly those two (exit $rc, $n failed)"
fi
tap_finish
