#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# dkms.conf under the real dkms (Debian 12's 3.0.10): add, build, install,
# status, remove against a Debian kernel header tree from the test cache
# (the host's own kernel has no headers here), in a private DKMS tree,
# source tree and install tree, so nothing lands in /lib/modules or
# /var/lib/dkms. Also: probe lines in make.log, the compat header next to
# the built modules, MODULE_VERSION = PACKAGE_VERSION, DKMS's own module
# signing, and the skip reason for kernels the pack cannot support.
#
#   tests/tools/20-dkms.sh [SERIES ARCH]     (default: 6.1 amd64)

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"
top=$NVGRACE_TOP

ok() { echo "ok - dkms: $*"; }
nok() { echo "not ok - dkms: $*"; }
diag() { sed 's/^/# /'; }
t() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}

series=${1:-6.1}
karch=${2:-amd64}
ng_need dkms openssl kmod gcc-12 make
kdir=$("$top/tests/kernels/kernels.sh" headers "$series" "$karch") || {
	nok "kernel headers $series/$karch"
	exit 1
}
kver=$("$top/tests/kernels/kernels.sh" release "$series" "$karch")
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
march=$(uname -m)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvgrace-dkms-test.XXXXXX")
fw=/etc/dkms/framework.conf.d/zz-nvgrace-dkms-test-$$.conf
cleanup() {
	rm -f "$fw"
	rm -rf "$tmp"
}
trap cleanup EXIT

# DKMS signs with the key in framework.conf; point it at a throwaway key
# (dkms generates it) and the header tree's sign-file, for this run only.
mkdir -p /etc/dkms/framework.conf.d
cat >"$fw" <<EOF
sign_file="$kdir/scripts/sign-file"
mok_signing_key="$tmp/mok.key"
mok_certificate="$tmp/mok.pub"
EOF

D=(dkms --dkmstree "$tmp/dkms" --sourcetree "$tmp/src" --installtree "$tmp/modules" --no-depmod)
mkdir -p "$tmp/dkms" "$tmp/modules/$kver"
"$top/packaging/install-source.sh" "$tmp/src/nvgrace-dkms-$ver"

run() { # run LOG CMD...: output kept in $tmp/LOG
	local log=$1
	shift
	"$@" >"$tmp/$log" 2>&1
}

t "add nvgrace-dkms/$ver" run add.log "${D[@]}" add "nvgrace-dkms/$ver"
start=$(date +%s)
if run build.log nice -n 10 "${D[@]}" build "nvgrace-dkms/$ver" -k "$kver" --kernelsourcedir "$kdir"; then
	ok "build for $kver ($(($(date +%s) - start)) s)"
else
	nok "build for $kver"
	diag <"$tmp/build.log"
	tail -n 40 "$tmp/dkms/nvgrace-dkms/$ver/build/make.log" 2>/dev/null | diag
	exit 1
fi
base=$tmp/dkms/nvgrace-dkms/$ver/$kver/$march
log=$base/log/make.log
t "make.log has a PROBE line per compat probe" \
	test "$(grep -c '^ *PROBE .*HAVE_' "$log")" -eq "$(find "$top/compat/probes" -name '*.c' | wc -l)"
t "make.log has the COMPAT summary" grep -q "COMPAT  $kver: [0-9]* of [0-9]* probes present" "$log"
t "compat header kept next to the built modules" grep -q '^#define NVGRACE_PROBES_DONE' "$base/module/nvgrace-config.h"
t "build output names the kept header" grep -q "header kept as $base/module/nvgrace-config.h" "$tmp/build.log"
for m in nvgrace-vfio-pci nvgrace-poison; do
	f=$(compgen -G "$base/module/$m.ko*" | head -n 1)
	if [ -z "$f" ]; then
		nok "$m built"
		continue
	fi
	ok "$m built (${f##*/})"
	mv_=$(modinfo -F version "$f")
	t "$m: MODULE_VERSION $mv_ = PACKAGE_VERSION $ver" test "$mv_" = "$ver"
	signer=$(modinfo -F signer "$f")
	t "$m: signed by DKMS's key ('$signer')" test "$signer" = "DKMS module signing key"
	t "$m: vermagic is $kver" test "$(modinfo -F vermagic "$f" | cut -d' ' -f1)" = "$kver"
done

t "install" run install.log "${D[@]}" install "nvgrace-dkms/$ver" -k "$kver" --kernelsourcedir "$kdir"
for m in nvgrace-vfio-pci nvgrace-poison; do
	f=$(compgen -G "$tmp/modules/$kver/updates/dkms/$m.ko*")
	t "$m installed in updates/dkms" test -n "$f"
done
st=$("${D[@]}" status 2>&1)
t "dkms status: installed" grep -q "^nvgrace-dkms/$ver, $kver, $march: installed\$" <<<"$st" ||
	diag <<<"$st"

# A second install: "already installed", no error.
t "install again is harmless" run install2.log "${D[@]}" install "nvgrace-dkms/$ver" -k "$kver" --kernelsourcedir "$kdir"

t "remove --all" run remove.log "${D[@]}" remove "nvgrace-dkms/$ver" --all
st=$("${D[@]}" status 2>&1)
t "dkms status empty after remove" test -z "$st"
left=$(find "$tmp/modules" "$tmp/dkms" -type f 2>/dev/null)
t "no module or DKMS file left behind" test -z "$left"
[ -z "$left" ] || diag <<<"$left"

# Kernels the pack cannot support: skipped with the reason.
fake=$tmp/fake-kernel
mkdir -p "$fake/include/config"
: >"$fake/Makefile"
printf 'CONFIG_64BIT=y\nCONFIG_MEMORY_FAILURE=y\n' >"$fake/include/config/auto.conf"
cp "$fake/include/config/auto.conf" "$fake/.config"
"${D[@]}" add "nvgrace-dkms/$ver" >/dev/null 2>&1
"${D[@]}" build "nvgrace-dkms/$ver" -k 6.12.0-novfio --kernelsourcedir "$fake" >"$tmp/skip.log" 2>&1
rc=$?
t "kernel without CONFIG_VFIO_PCI_CORE: skipped (dkms exit $rc)" test "$rc" = 77
t "the skip says why" grep -q 'not building for kernel 6.12.0-novfio: REQUIRES CONFIG_VFIO_PCI_CORE' "$tmp/skip.log" ||
	diag <"$tmp/skip.log"
"${D[@]}" build "nvgrace-dkms/$ver" -k 5.15.0-old --kernelsourcedir "$fake" >"$tmp/skip.log" 2>&1
rc=$?
t "5.15 kernel: skipped (dkms exit $rc) with the reason" \
	grep -q 'not building for kernel 5.15.0-old: REQUIRES a 6.1 or newer kernel' "$tmp/skip.log"
"${D[@]}" remove "nvgrace-dkms/$ver" --all >/dev/null 2>&1

if command -v shellcheck >/dev/null; then
	# dkms.conf is bash sourced by dkms; the variables are dkms's
	if o=$(shellcheck -s bash -e SC2034,SC2154 "$top/dkms.conf" 2>&1); then
		ok "shellcheck dkms.conf"
	else
		nok "shellcheck dkms.conf"
		diag <<<"$o"
	fi
fi
