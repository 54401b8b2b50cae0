#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# packaging/kernel-patches/build-debian-kernel.sh: bad input gets a clear
# error before anything is unpacked; with NVGRACE_KBUILD_TEST=1 also a real
# --prepare-only run for Debian 12's arm64 6.1 from the cached
# linux-source-6.1 and headers (unpack 1.5 GB, apply the series, make
# olddefconfig: about a minute), checking the patched, configured tree.
# The full build (make bindeb-pkg) takes hours on 2 cores and is not run.
# TAP lines on stdout.

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
TAP_PREFIX="build-debian-kernel: "
bdk=$top/packaging/kernel-patches/build-debian-kernel.sh

diag() { sed 's/^/# /'; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvgrace-bdk.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# expect DESC RC PATTERN ARGS...: the script exits RC saying PATTERN
expect() {
	local d=$1 want=$2 pat=$3 o rc
	shift 3
	o=$("$bdk" "$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ] && grep -Eq -- "$pat" <<<"$o"; then
		tap_ok "$d"
	else
		tap_not_ok "$d"
		{
			echo "want rc=$want and /$pat/, got rc=$rc:"
			printf '%s\n' "$o"
		} | diag
	fi
}

arm_cfg=$tmp/config-arm64
amd_cfg=$tmp/config-amd64
printf 'CONFIG_ARM64=y\nCONFIG_KVM=y\n' >"$arm_cfg"
printf 'CONFIG_X86_64=y\nCONFIG_KVM=m\n' >"$amd_cfg"
# a package that is not linux-source-6.1
mkdir -p "$tmp/fake/DEBIAN"
printf 'Package: linux-source-6.12\nVersion: 6.12.1-1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n' >"$tmp/fake/DEBIAN/control"
dpkg-deb --build "$tmp/fake" "$tmp/fake.deb" >/dev/null 2>&1

expect "a series without companion patches for Debian 12 is refused" 1 \
	"--series 7.3: only 6.1 and 6.12" --series 7.3 --config "$arm_cfg" --workdir "$tmp/w"
expect "an unknown architecture is refused" 1 "--arch s390x: arm64 \\(Grace\\) or amd64" \
	--series 6.1 --arch s390x --workdir "$tmp/w"
expect "a configuration of the other architecture is refused" 1 \
	"is not an arm64 configuration" --series 6.1 --arch arm64 --config "$amd_cfg" --workdir "$tmp/w"
expect "a missing configuration file is refused" 1 "--config $tmp/none: not readable" \
	--series 6.1 --arch amd64 --config "$tmp/none" --workdir "$tmp/w"
expect "the source package must be linux-source-<series>" 1 \
	"fake.deb is linux-source-6.12, not linux-source-6.1" \
	--series 6.1 --arch amd64 --config "$amd_cfg" --source-deb "$tmp/fake.deb" --workdir "$tmp/w"
# missing build dependencies: named, with the apt-get line, before anything
# is unpacked (a dpkg-query that knows neither rsync nor libssl-dev)
mkdir -p "$tmp/fake61/DEBIAN" "$tmp/bin"
printf 'Package: linux-source-6.1\nVersion: 6.1.1-1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n' >"$tmp/fake61/DEBIAN/control"
dpkg-deb --build "$tmp/fake61" "$tmp/fake61.deb" >/dev/null 2>&1
cat >"$tmp/bin/dpkg-query" <<'EOF2'
#!/bin/sh
for a; do p=$a; done
case $p in
rsync | libssl-dev) echo 'unknown ok not-installed' ;;
*) echo 'install ok installed' ;;
esac
EOF2
chmod +x "$tmp/bin/dpkg-query"
PATH=$tmp/bin:$PATH expect "missing build dependencies are named with the apt-get line" 1 \
	"missing build dependencies: rsync libssl-dev \\(apt-get install rsync libssl-dev\\)" \
	--series 6.1 --arch amd64 --config "$amd_cfg" --source-deb "$tmp/fake61.deb" --workdir "$tmp/w2"
if [ ! -e "$tmp/w2/linux-source-6.1" ]; then
	ok "... and nothing is unpacked"
else
	nok "... and nothing is unpacked"
fi
expect "an unknown option: usage, exit 2" 2 "unknown argument '--bogus'" --bogus
expect "--jobs wants a number" 1 "--jobs wants a number" --series 6.1 --jobs many
expect "--localversion must start with -" 1 "must start with '-'" --series 6.1 --localversion nv

# The real preparation, from the cache (opt-in: 1.5 GB and a minute).
deb=$(find "$NVGRACE_CACHE/debs" -maxdepth 1 -name 'linux-source-6.1_*_all.deb' 2>/dev/null | sort | tail -n 1)
cfg=$(find "$NVGRACE_CACHE/headers" -path '*/linux-headers-6.1.0-*-arm64/.config' 2>/dev/null | sort | tail -n 1)
if [ "${NVGRACE_KBUILD_TEST:-0}" != 1 ]; then
	tap_skip "--prepare-only on Debian 12's arm64 6.1" "unpacks 1.5 GB and takes a minute; NVGRACE_KBUILD_TEST=1 runs it"
elif [ -z "$deb" ] || [ -z "$cfg" ]; then
	tap_skip "--prepare-only on Debian 12's arm64 6.1" "no cached linux-source-6.1 .deb or 6.1 arm64 headers in $NVGRACE_CACHE (the custom and matrix tiers fetch them)"
elif ! command -v aarch64-linux-gnu-gcc >/dev/null; then
	tap_skip "--prepare-only on Debian 12's arm64 6.1" "no aarch64-linux-gnu-gcc"
else
	w=$tmp/k
	start=$SECONDS
	o=$("$bdk" --series 6.1 --arch arm64 --source-deb "$deb" --config "$cfg" --workdir "$w" --prepare-only 2>&1)
	rc=$?
	t=$((SECONDS - start))
	tree=$w/linux-source-6.1
	if [ $rc = 0 ] && grep -q 'prepared: linux-source-6.1 .* + the companion series (7 patches)' <<<"$o"; then
		tap_ok "--prepare-only: linux-source-6.1 unpacked, patched, configured (${t} s, load $(cut -d' ' -f1 /proc/loadavg))"
	else
		tap_not_ok "--prepare-only: linux-source-6.1 unpacked, patched, configured (rc $rc)"
		printf '%s\n' "$o" | tail -n 20 | diag
	fi
	if grep -q KVM_ARM_CACHEABLE_PFNMAP_BACKPORT "$tree/arch/arm64/include/asm/kvm_mmu.h" 2>/dev/null &&
		grep -q 'KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED 243' "$tree/include/uapi/linux/kvm.h" 2>/dev/null; then
		tap_ok "--prepare-only: the tree has the series (marker, capability 243)"
	else
		tap_not_ok "--prepare-only: the tree has the series (marker, capability 243)"
	fi
	c=$tree/.config
	if grep -qx 'CONFIG_KVM=y' "$c" && grep -qx 'CONFIG_SYSTEM_TRUSTED_KEYS=""' "$c" &&
		grep -qx 'CONFIG_DEBUG_INFO_NONE=y' "$c"; then
		tap_ok "--prepare-only: Debian's configuration, KVM on, without Debian's certificates and debug info"
	else
		tap_not_ok "--prepare-only: Debian's configuration, KVM on, without Debian's certificates and debug info"
		grep -E '^CONFIG_(KVM|SYSTEM_TRUSTED_KEYS|DEBUG_INFO[A-Z0-9_]*)=' "$c" 2>&1 | diag
	fi
	if grep -q 'bindeb-pkg  *KDEB_PKGVERSION=6\.1\.[0-9]*-[0-9]*+nvgrace1' <<<"$o" &&
		grep -q 'CROSS_COMPILE=aarch64-linux-gnu-' <<<"$o"; then
		tap_ok "--prepare-only: prints the bindeb-pkg command (cross-compiling, version <debian>+nvgrace1)"
	else
		tap_not_ok "--prepare-only: prints the bindeb-pkg command"
		printf '%s\n' "$o" | tail -n 3 | diag
	fi
fi
tap_finish
