#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The pack's build must stop early, with one clear sentence, on a host or
# kernel it cannot support. Each case builds against a doctored copy of the
# Debian 6.1 amd64 header tree (a symlink farm with one file replaced) and
# checks the exit status and the message. One TAP line per case.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"

series=6.1 arch=amd64
kdir=$("$here/kernels.sh" headers "$series" "$arch")
work=${NVGRACE_BUILD_ROOT:-$NVGRACE_CACHE/build}/errors
src=$work/src
rm -rf "$work"
mkdir -p "$src"
(cd "$NVGRACE_TOP" && git ls-files -co --exclude-standard -- Makefile Kbuild dkms.conf src compat |
	tar -cf - -T -) | tar -xf - -C "$src"

# fake_kdir NAME SED-EXPR: a copy of the header tree whose auto.conf is
# edited by SED-EXPR (or removed when SED-EXPR is "remove").
fake_kdir() {
	local d=$work/$1
	mkdir -p "$d"
	cp -as "$(realpath "$kdir")/." "$d/"
	rm "$d/include/config/auto.conf"
	if [ "$2" != remove ]; then
		sed "$2" "$(realpath "$kdir")/include/config/auto.conf" >"$d/include/config/auto.conf"
	fi
	printf '%s\n' "$d"
}

# expect_fail DESC MESSAGE-REGEX MAKE-ARGS...
expect_fail() {
	local desc=$1 re=$2 out rc=0
	shift 2
	out=$("$here/kernels.sh" run "$series" "$arch" -- make -C "$src" "$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] && grep -qE "$re" <<<"$out"; then
		tap_ok "build error: $desc"
	else
		tap_not_ok "build error: $desc"
		echo "# exit $rc, wanted a failure saying /$re/; output:"
		tail -n 15 <<<"$out" | sed 's/^/#   /'
	fi
}

expect_fail "missing headers name the package to install" \
	'no kernel build tree at /nonexistent: install the headers' KDIR=/nonexistent
expect_fail "unconfigured tree says to run modules_prepare" \
	'not a configured kernel build tree' KDIR="$(fake_kdir noconf remove)"
expect_fail "kernel without VFIO PCI core" \
	'has no VFIO PCI core \(CONFIG_VFIO_PCI_CORE\)' \
	KDIR="$(fake_kdir novfio '/^CONFIG_VFIO_PCI_CORE=/d')"
expect_fail "kernel without MEMORY_FAILURE" \
	'built without CONFIG_MEMORY_FAILURE' \
	KDIR="$(fake_kdir nomf '/^CONFIG_MEMORY_FAILURE=/d')"
expect_fail "32-bit kernel" \
	'is 32-bit; the pack supports 64-bit kernels only' \
	KDIR="$(fake_kdir no64 '/^CONFIG_64BIT=/d')"
expect_fail "probe listing before any build" \
	'no probe results for .* yet' probes KDIR="$kdir"
expect_fail "re-running an unknown probe" \
	"make probe P=NAME" probe KDIR="$kdir"
rm -rf "$work"
tap_finish
