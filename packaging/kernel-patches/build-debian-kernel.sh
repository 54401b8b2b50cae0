#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-debian-kernel.sh: build installable Debian kernel packages of a
# Debian 12 (bookworm) kernel series with the companion KVM patches, so
# that guests get the Grace GPU memory as cacheable Normal memory on 6.1
# and 6.12 (stock Debian kernels before 6.17 map it as Device memory).
#
#   build-debian-kernel.sh [options]
#
#   --series 6.1|6.12     the kernel series (default: the running kernel's)
#   --arch arm64|amd64    the packages' architecture (default: the host's;
#                         arm64 on another host cross-compiles with
#                         aarch64-linux-gnu-gcc)
#   --source-deb FILE     Debian's linux-source-<series> package (default:
#                         apt-get download linux-source-<series>, from the
#                         machine's own apt sources)
#   --config FILE         the Debian kernel configuration to start from
#                         (default: /boot/config-$(uname -r) when it is a
#                         <series> kernel of that architecture; else give
#                         one: /boot/config-<release>, or the .config in
#                         /usr/src/linux-headers-<release>)
#   --workdir DIR         where the tree is unpacked (default:
#                         ./nvgrace-kernel-<series>-<arch>; 1.5 GB, plus
#                         10-20 GB for the build)
#   --out DIR             where the .deb files go (default: the workdir)
#   --localversion STR    appended to the release (default: -nvgrace)
#   --jobs N              make -j (default: the number of CPUs)
#   --prepare-only        unpack, patch and configure, print the build
#                         command, stop (no compiler run)
#
# What it does: unpacks linux-source-<series> (Debian's patched tree),
# applies the series with apply.sh (all patches or none), takes the Debian
# configuration, drops what only Debian's own build has (its signing
# certificates, debug info: no multi-GB -dbg package), keeps everything
# else (make olddefconfig), and runs the kernel's own "make bindeb-pkg":
# linux-image-<release>-nvgrace, linux-headers-... and linux-libc-dev
# packages that "apt install ./linux-image-*.deb" installs next to Debian's
# kernels (the DKMS hook then builds nvgrace-dkms for it). Unsigned: with
# Secure Boot on, sign the image or enrol a key (see the README).
# A full build takes hours on 2 cores, about 20-40 minutes on a Grace host.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=${0##*/}

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}
usage() {
	sed -n '/^#   build-debian-kernel.sh/,/^#   --prepare-only/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

series='' arch='' srcdeb='' config='' workdir='' out='' localversion=-nvgrace
jobs=$(nproc 2>/dev/null || echo 2) prepare=0
while [ $# -gt 0 ]; do
	case $1 in
	--series | --arch | --source-deb | --config | --workdir | --out | --localversion | --jobs)
		[ $# -ge 2 ] || { say "$1 needs a value" >&2; usage; }
		case $1 in
		--series) series=$2 ;;
		--arch) arch=$2 ;;
		--source-deb) srcdeb=$2 ;;
		--config) config=$2 ;;
		--workdir) workdir=$2 ;;
		--out) out=$2 ;;
		--localversion) localversion=$2 ;;
		--jobs) jobs=$2 ;;
		esac
		shift
		;;
	--prepare-only) prepare=1 ;;
	-h | --help) usage ;;
	*) say "unknown argument '$1'" >&2; usage ;;
	esac
	shift
done

kver=$(uname -r)
if [ -z "$series" ]; then
	case $kver in
	6.1.*) series=6.1 ;;
	6.12.*) series=6.12 ;;
	*) die "the running kernel $kver is no 6.1 or 6.12 kernel: say --series 6.1 or --series 6.12" ;;
	esac
fi
case $series in
6.1 | 6.12) ;;
*) die "--series $series: only 6.1 and 6.12 (Debian 12's kernels) are built here; 6.17 and later need no patches" ;;
esac
hostarch=$(dpkg --print-architecture 2>/dev/null || uname -m)
case $hostarch in aarch64) hostarch=arm64 ;; x86_64) hostarch=amd64 ;; esac
arch=${arch:-$hostarch}
case $arch in
arm64 | amd64) ;;
*) die "--arch $arch: arm64 (Grace) or amd64" ;;
esac
case $jobs in '' | *[!0-9]*) die "--jobs wants a number" ;; esac
case $localversion in
-*) ;;
*) die "--localversion must start with '-' (it is appended to the release)" ;;
esac

cross=''
if [ "$arch" != "$hostarch" ]; then
	[ "$arch" = arm64 ] || die "cross-building for $arch from $hostarch is not supported"
	command -v aarch64-linux-gnu-gcc >/dev/null ||
		die "cross-building arm64 on $hostarch needs aarch64-linux-gnu-gcc (apt install gcc-aarch64-linux-gnu)"
	cross=aarch64-linux-gnu-
fi

workdir=$(realpath -m "${workdir:-./nvgrace-kernel-$series-$arch}")
out=$(realpath -m "${out:-$workdir}")
mkdir -p "$workdir" "$out"

# --- the configuration -----------------------------------------------------
if [ -z "$config" ]; then
	c=/boot/config-$kver
	case $kver in
	"$series".*-"$arch" | "$series".*-"$arch"-*) [ -r "$c" ] && config=$c ;;
	esac
	[ -n "$config" ] || die "no Debian $series $arch configuration found (the running kernel is $kver): give --config /boot/config-<release> or the .config of linux-headers-<release>"
fi
[ -r "$config" ] || die "--config $config: not readable"
grep -q '^CONFIG_KVM=' "$config" || say "warning: $config has no CONFIG_KVM: the patches change nothing without KVM"
cfgarch=$(sed -n 's/^CONFIG_\(ARM64\|X86_64\)=y$/\1/p' "$config" | head -n 1)
case $arch:$cfgarch in
arm64:ARM64 | amd64:X86_64) ;;
*) die "$config is not an $arch configuration (CONFIG_ARM64/CONFIG_X86_64)" ;;
esac

# --- the source --------------------------------------------------------------
if [ -z "$srcdeb" ]; then
	say "downloading linux-source-$series with apt-get (the machine's apt sources)"
	(cd "$workdir" && apt-get download "linux-source-$series") ||
		die "apt-get download linux-source-$series failed (bookworm has it; 6.12 in bookworm-security: is it in the apt sources?)"
	for f in "$workdir"/linux-source-"$series"_*.deb; do
		[ -e "$f" ] && srcdeb=$f
	done
fi
[ -r "$srcdeb" ] || die "--source-deb $srcdeb: not readable"
pkg=$(dpkg-deb -f "$srcdeb" Package)
srcver=$(dpkg-deb -f "$srcdeb" Version)
[ "$pkg" = "linux-source-$series" ] || die "$srcdeb is $pkg, not linux-source-$series"
# The packages "make bindeb-pkg" needs (the Build-Depends its generated
# debian/control declares, and the compiler): checked before anything is
# unpacked, so a missing one costs seconds, not the minute of unpacking.
if [ $prepare = 0 ]; then
	missing=''
	for p in make gcc bc bison flex cpio kmod rsync dpkg-dev libelf-dev libssl-dev; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] || die "missing build dependencies:$missing (apt-get install$missing)"
fi

tree=$workdir/linux-source-$series
if [ -e "$tree/.nvgrace-prepared" ] && [ "$(cat "$tree/.nvgrace-prepared")" = "$srcver" ]; then
	say "reusing $tree ($pkg $srcver, already patched)"
else
	rm -rf "$tree"
	say "unpacking $pkg $srcver into $tree"
	dpkg-deb --fsys-tarfile "$srcdeb" |
		tar -xOf - "./usr/src/linux-source-$series.tar.xz" |
		tar -xJf - -C "$workdir" ||
		die "unpacking $srcdeb failed"
	[ -f "$tree/Makefile" ] || die "$srcdeb did not give $tree/Makefile"
	"$HERE/apply.sh" "$tree" || die "the companion series does not apply to $pkg $srcver"
	echo "$srcver" >"$tree/.nvgrace-prepared"
fi

# --- configure -----------------------------------------------------------------
kmake=(make -C "$tree" ARCH="$arch" LOCALVERSION="$localversion")
[ -n "$cross" ] && kmake+=(CROSS_COMPILE="$cross")
cp "$config" "$tree/.config"
# Debian's build signs with its own certificates and makes -dbg packages;
# neither exists here.
"$tree/scripts/config" --file "$tree/.config" \
	--set-str SYSTEM_TRUSTED_KEYS "" \
	--set-str SYSTEM_REVOCATION_KEYS "" \
	--set-str MODULE_SIG_KEY "certs/signing_key.pem" \
	--disable DEBUG_INFO --disable DEBUG_INFO_DWARF5 \
	--disable DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT --disable DEBUG_INFO_BTF \
	--enable DEBUG_INFO_NONE \
	--set-str BUILD_SALT "" \
	--set-str LOCALVERSION ""
"${kmake[@]}" olddefconfig >"$workdir/olddefconfig.log" 2>&1 ||
	die "make olddefconfig failed: $workdir/olddefconfig.log"
release=$("${kmake[@]}" -s kernelrelease 2>/dev/null)
grep -q 'KVM_ARM_CACHEABLE_PFNMAP_BACKPORT' "$tree/arch/arm64/include/asm/kvm_mmu.h" ||
	die "the tree lacks the series' marker after apply.sh"
say "prepared: $pkg $srcver + the companion series ($(grep -vc '^#' "$HERE/$series/series") patches), release $release"

# From 6.12 on, the linux-headers package's scripts are built for the
# target, so a cross build needs the target's libssl-dev too (the
# nokernelheaders build profile of the kernel's debian/control). Without
# it, build the image package only and say so.
profiles=''
if [ -n "$cross" ] && grep -q nokernelheaders "$tree/scripts/package/mkdebian" &&
	! dpkg-query -W -f='${Status}\n' "libssl-dev:$arch" 2>/dev/null | grep -q ' installed$'; then
	profiles=nokernelheaders
	say "warning: no libssl-dev:$arch here, so no linux-headers package (DKMS on the target needs one: install libssl-dev:$arch, or build on an $arch host)"
fi

pkgver="${srcver}+nvgrace1"
build=("${kmake[@]}" -j"$jobs" bindeb-pkg KDEB_PKGVERSION="$pkgver" KDEB_SOURCENAME="linux-nvgrace-$series")
[ -z "$profiles" ] || build=(env DEB_BUILD_PROFILES="pkg.linux-nvgrace-$series.$profiles" "${build[@]}")
if [ $prepare = 1 ]; then
	say "build with (--prepare-only stops here):"
	printf '  %q' "${build[@]}"
	echo
	exit 0
fi

say "building (make bindeb-pkg -j$jobs; log $workdir/build.log)"
start=$SECONDS
"${build[@]}" >"$workdir/build.log" 2>&1 || {
	tail -n 30 "$workdir/build.log" >&2
	die "the build failed: $workdir/build.log"
}
# bindeb-pkg writes the packages next to the tree
debs=''
for f in "$workdir"/linux-*_"$pkgver"_"$arch".deb; do
	[ -e "$f" ] || continue
	[ "$out" = "$workdir" ] || mv -f "$f" "$out/"
	debs="$debs ${f##*/}"
done
[ -n "$debs" ] || die "no packages for $pkgver in $workdir after the build"
say "built in $(((SECONDS - start) / 60)) min:$debs"
say "install: apt install $out/linux-image-${release}_${pkgver}_$arch.deb $out/linux-headers-${release}_${pkgver}_$arch.deb"
