#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# dkms.conf under the real dkms (Debian 12's 3.0.10, or the dkms script
# given with --dkms, e.g. 2.8 from 21-dkms-2.8.sh): add, build, install,
# status, remove against a Debian kernel header tree from the test cache
# (the host's own kernel has no headers here), in a private DKMS tree,
# source tree and install tree, so nothing lands in /lib/modules or
# /var/lib/dkms. Also: probe and feature lines in make.log, the build
# facts in modinfo (nvgrace_kernel, nvgrace_probes), MODULE_VERSION =
# PACKAGE_VERSION, DKMS's own module signing, and the skip reason for
# kernels the pack cannot support.
#
#   tests/tools/20-dkms.sh [--dkms SCRIPT] [SERIES ARCH]   (default: dkms, 6.1 amd64)

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
top=$NVGRACE_TOP

dkms=dkms
if [ "${1:-}" = --dkms ]; then
	dkms=$2
	shift 2
fi
diag() { sed 's/^/# /'; }

series=${1:-6.1}
karch=${2:-amd64}
ng_need dkms openssl kmod gcc-12 make
# "dkms-3.0.10", "dkms:2.8": the major version decides what differs below
dver=$("$dkms" --version 2>/dev/null | sed -n 's/^dkms[-: ]*//p')
dmajor=${dver%%.*}
TAP_PREFIX="dkms $dver: "
[ -n "$dmajor" ] || {
	tap_not_ok "$dkms --version"
	tap_finish
	exit 1
}
kdir=$("$top/tests/matrix/kernels.sh" headers "$series" "$karch") || {
	tap_not_ok "kernel headers $series/$karch"
	tap_finish
	exit 1
}
kver=$("$top/tests/matrix/kernels.sh" release "$series" "$karch")
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
march=$(uname -m)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvgrace-dkms-test.XXXXXX")
fw=/etc/dkms/framework.conf.d/zz-nvgrace-dkms-test-$$.conf
cleanup() {
	rm -f "$fw"
	rm -rf "$tmp"
}
trap cleanup EXIT

# DKMS 3 signs with the key in framework.conf; point it at a throwaway key
# (dkms generates it) and the header tree's sign-file, for this run only.
# DKMS 2.8 runs framework.conf's sign_tool (an environment variable does
# too) with the kernel and the module: a throwaway key made here.
if [ "$dmajor" -ge 3 ]; then
	mkdir -p /etc/dkms/framework.conf.d
	cat >"$fw" <<EOF
sign_file="$kdir/scripts/sign-file"
mok_signing_key="$tmp/mok.key"
mok_certificate="$tmp/mok.pub"
EOF
	signer_want="DKMS module signing key"
else
	signer_want="nvgrace-dkms test key"
	openssl req -new -x509 -newkey rsa:2048 -nodes -days 1 -outform DER \
		-subj "/CN=$signer_want/" -keyout "$tmp/mok.key" -out "$tmp/mok.der" \
		>/dev/null 2>&1 || tap_not_ok "openssl: a signing key"
	# shellcheck disable=SC2016 # $2 is the tool's argument
	printf '#!/bin/sh\nexec "%s" sha512 "%s" "%s" "$2"\n' \
		"$kdir/scripts/sign-file" "$tmp/mok.key" "$tmp/mok.der" >"$tmp/sign-tool"
	chmod +x "$tmp/sign-tool"
	export sign_tool=$tmp/sign-tool
fi

D=("$dkms" --dkmstree "$tmp/dkms" --sourcetree "$tmp/src" --installtree "$tmp/modules" --no-depmod)
# dkms 2.8 "prepares" a tree given with --kernelsourcedir (make mrproper,
# oldconfig, prepare) and cleans it after the build: never the cache's.
[ "$dmajor" -ge 3 ] || D+=(--no-prepare-kernel --no-clean-kernel)
touch "$tmp/stamp"
mkdir -p "$tmp/dkms" "$tmp/modules/$kver"
"$top/packaging/install-source.sh" "$tmp/src/nvgrace-dkms-$ver"

run() { # run LOG CMD...: output kept in $tmp/LOG
	local log=$1
	shift
	"$@" >"$tmp/$log" 2>&1
}

tap_check "add nvgrace-dkms/$ver" run add.log "${D[@]}" add "nvgrace-dkms/$ver"
start=$(date +%s)
if run build.log nice -n 10 "${D[@]}" build "nvgrace-dkms/$ver" -k "$kver" --kernelsourcedir "$kdir"; then
	tap_ok "build for $kver ($(($(date +%s) - start)) s)"
else
	tap_not_ok "build for $kver"
	diag <"$tmp/build.log"
	tail -n 40 "$tmp/dkms/nvgrace-dkms/$ver/build/make.log" 2>/dev/null | diag
	tap_finish
	exit 1
fi
base=$tmp/dkms/nvgrace-dkms/$ver/$kver/$march
log=$base/log/make.log
tap_check "make.log has a PROBE line per compat probe" \
	test "$(grep -c '^ *PROBE .*HAVE_' "$log")" -eq "$(find "$top/compat/probes" -name '*.c' | wc -l)"
tap_check "make.log has the COMPAT summary" grep -q "COMPAT  $kver: [0-9]* of [0-9]* probes present" "$log"
tap_check "make.log has a FEATURE line per declared feature" \
	test "$(grep -c '^ *FEATURE ' "$log")" -eq "$(grep -rh --include='*.[ch]' 'nvgrace-feature:' "$top/src" "$top/compat" | wc -l)"
for m in nvgrace-vfio-pci nvgrace-poison; do
	f=$(compgen -G "$base/module/$m.ko*" | head -n 1)
	if [ -z "$f" ]; then
		tap_not_ok "$m built"
		continue
	fi
	tap_ok "$m built (${f##*/})"
	mv_=$(modinfo -F version "$f")
	tap_check "$m: MODULE_VERSION $mv_ = PACKAGE_VERSION $ver" test "$mv_" = "$ver"
	signer=$(modinfo -F signer "$f")
	tap_check "$m: signed by DKMS's key ('$signer')" test "$signer" = "$signer_want"
	tap_check "$m: vermagic is $kver" test "$(modinfo -F vermagic "$f" | cut -d' ' -f1)" = "$kver"
	tap_check "$m: modinfo nvgrace_kernel is $kver" test "$(modinfo -F nvgrace_kernel "$f")" = "$kver"
	# the probes that fired, as the make.log's PROBE lines say
	want=$(sed -n 's/^ *PROBE *HAVE_\([A-Z0-9_]*\) *yes$/\1/p' "$log" | tr '[:upper:]' '[:lower:]' | sort | tr '\n' ' ')
	got=$(modinfo -F nvgrace_probes "$f" | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ')
	tap_check "$m: modinfo nvgrace_probes = the make.log's PROBE ... yes lines (${got:-none})" test "$got" = "$want"
done

tap_check "install" run install.log "${D[@]}" install "nvgrace-dkms/$ver" -k "$kver" --kernelsourcedir "$kdir"
for m in nvgrace-vfio-pci nvgrace-poison; do
	f=$(compgen -G "$tmp/modules/$kver/updates/dkms/$m.ko*")
	tap_check "$m installed in updates/dkms" test -n "$f"
done
st=$("${D[@]}" status 2>&1)
# dkms 2.8: "name, version, kernel, arch: installed"
want="nvgrace-dkms/$ver, $kver, $march: installed"
[ "$dmajor" -ge 3 ] || want="nvgrace-dkms, $ver, $kver, $march: installed"
tap_check "dkms status: installed" grep -qx "$want" <<<"$st" ||
	diag <<<"$st"

# A second install: "already installed", no error.
tap_check "install again is harmless" run install2.log "${D[@]}" install "nvgrace-dkms/$ver" -k "$kver" --kernelsourcedir "$kdir"

tap_check "remove --all" run remove.log "${D[@]}" remove "nvgrace-dkms/$ver" --all
st=$("${D[@]}" status 2>&1)
tap_check "dkms status empty after remove" test -z "$st"
left=$(find "$tmp/modules" "$tmp/dkms" -type f 2>/dev/null)
tap_check "no module or DKMS file left behind" test -z "$left"
[ -z "$left" ] || diag <<<"$left"

left=$(find "$kdir/" -newer "$tmp/stamp" 2>/dev/null | head -n 5)
tap_check "the kernel header tree is left untouched" test -z "$left"
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
# dkms 3 exits 77 (skipped) for a BUILD_EXCLUSIVE mismatch, dkms 2.8 exits 9
skip_rc=77
[ "$dmajor" -ge 3 ] || skip_rc=9
tap_check "kernel without CONFIG_VFIO_PCI_CORE: skipped (dkms exit $rc)" test "$rc" = "$skip_rc"
tap_check "the skip says why" grep -q 'not building for kernel 6.12.0-novfio: REQUIRES CONFIG_VFIO_PCI_CORE' "$tmp/skip.log" ||
	diag <"$tmp/skip.log"
"${D[@]}" build "nvgrace-dkms/$ver" -k 5.15.0-old --kernelsourcedir "$fake" >"$tmp/skip.log" 2>&1
rc=$?
tap_check "5.15 kernel: skipped (dkms exit $rc) with the reason" \
	grep -q 'not building for kernel 5.15.0-old: REQUIRES a 6.1 or newer kernel' "$tmp/skip.log"
"${D[@]}" remove "nvgrace-dkms/$ver" --all >/dev/null 2>&1

if [ "$dkms" = dkms ] && command -v shellcheck >/dev/null; then
	# dkms.conf is bash sourced by dkms; the variables are dkms's
	if o=$(shellcheck -s bash -e SC2034,SC2154 "$top/dkms.conf" 2>&1); then
		tap_ok "shellcheck dkms.conf"
	else
		tap_not_ok "shellcheck dkms.conf"
		diag <<<"$o"
	fi
fi
tap_finish
