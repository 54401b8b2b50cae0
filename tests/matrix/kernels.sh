#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: GPL-2.0-only
#
# The kernel matrix: which Debian kernels we build and test against, their
# header trees, boot images and compilers.
#
# Usage:
#   kernels.sh list [SERIES/ARCH...]     SERIES ARCH RELEASE TOOLCHAIN, one a line
#                                        (every entry, or the named ones)
#   kernels.sh series                    the series of the matrix, one a line
#   kernels.sh headers SERIES ARCH       print KDIR (for make -C), fetching it
#   kernels.sh image SERIES ARCH         print the image dir (<dir>/vmlinuz,
#                                        <dir>/lib/modules/<release>/)
#   kernels.sh release SERIES ARCH       print the kernel release (uname -r)
#   kernels.sh toolchain SERIES ARCH     print gcc-12 or gcc-14
#   kernels.sh run SERIES ARCH -- CMD... run CMD with that kernel's compiler
#                                        (host gcc-12 or the trixie chroot),
#                                        KDIR exported, ARCH/CROSS_COMPILE set
#   kernels.sh refresh                   forget the resolved list (re-resolve)
#
# SERIES is one of $NG_SERIES (6.1 ... 7.3), ARCH amd64 or arm64, the plain
# flavours the matrix and the boot tier use, or a flavour of $NG_FLAVOURS
# used only when named: arm64-16k (Debian's 16 KiB-page arm64 kernel, the
# arm64 packages linux-image-<abi>-arm64-16k...). Everything goes under
# $NVGRACE_CACHE; stdout carries only the answer, messages go to stderr.
#
# Where kernels come from: the newest Debian kernel of each series in the
# suites of ng_apt_setup, found by the linux-image-<abi>-<arch> package names
# (the signed images stay in trixie-backports for every series, while the
# headers of superseded series have left the package indexes; those are
# fetched from the pool by exact name and version, see ng_k_fetch).

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	shopt -s inherit_errexit
	# shellcheck source=../lib/common.sh
	. "$(dirname "$0")/../lib/common.sh"
	# shellcheck source=chroot.sh
	. "$(dirname "$0")/chroot.sh"
fi

NG_SERIES="6.1 6.12 6.16 6.17 6.18 6.19 7.0 7.1 7.2 7.3"
NG_ARCHES="amd64 arm64"
NG_FLAVOURS="arm64-16k"

# Host packages for kernels built with bookworm's gcc-12. Debian's header
# Makefiles set CC = $(CROSS_COMPILE)gcc-12, so the versioned cross compiler
# (gcc-12-aarch64-linux-gnu) is what arm64 builds call.
NG_HOST_BUILD_PACKAGES="make gcc gcc-12 gcc-aarch64-linux-gnu gcc-12-aarch64-linux-gnu
bc bison flex libelf-dev pahole sparse kmod xz-utils ccache"

NG_K_CACHE=$NVGRACE_CACHE/kernels

# ---------------------------------------------------------------------------
# Downloads

# ng_k_index: print the path of a small index of the kernel packages in the
# apt lists ("PACKAGE ARCH VERSION" lines), rebuilt when the lists change.
# apt-cache takes seconds per call on these lists (no binary cache is kept
# for the private configuration); one pass over the lists takes one second.
# linux-source-* is in it too (tests/custom/patches.sh fetches exact
# versions; bookworm-security's are not under the pool paths tried below).
# The file name carries the format's revision, so a cache made by an older
# filter is not reused.
ng_k_index() {
	local idx=$NG_K_CACHE/packages-2.idx f
	if [ ! -s "$idx" ] || [ -n "$(find "$NG_APT_DIR/lists" -maxdepth 1 -name '*_Packages*' -newer "$idx")" ]; then
		mkdir -p "$NG_K_CACHE"
		for f in "$NG_APT_DIR"/lists/*_Packages*; do
			/usr/lib/apt/apt-helper cat-file "$f"
			echo
		done | awk '
			/^Package: / { p = $2 }
			/^Architecture: / { a = $2 }
			/^Version: / { v = $2 }
			/^$/ {
				if (p ~ /^linux-(image|headers|kbuild|modules|binary|base|source)-[0-9]/)
					print p, a, v
				p = ""
			}' | sort -u >"$idx.tmp.$$"
		[ -s "$idx.tmp.$$" ] || die "no kernel packages in the apt lists of $NG_APT_DIR"
		mv "$idx.tmp.$$" "$idx"
	fi
	printf '%s\n' "$idx"
}

# ng_k_in_index PKG ARCH VERSION: true if the apt lists know that version.
ng_k_in_index() {
	awk -v p="$1" -v a="$2" -v v="$3" '
		$1 == p && ($2 == a || $2 == "all") && $3 == v { f = 1 }
		END { exit !f }' "$(ng_k_index)"
}

# ng_k_fetch PKG ARCH VERSION: print the path of the .deb, downloading it if
# needed. ARCH is the architecture of the .deb (arch:all packages are
# fetched as amd64 and land as _all.deb). Packages known to the apt lists go
# through apt (checksummed). Packages that left the indexes but are still in
# the archive's pool (headers of superseded backports kernels, whose signed
# images are still indexed) are fetched from the pool by exact file name;
# there is no index checksum for those, so the file is checked to be a .deb
# of the expected name and version.
ng_k_fetch() {
	local pkg=$1 arch=$2 ver=$3 dir=$NVGRACE_CACHE/debs f a url base tmp
	if ng_k_in_index "$pkg" "$arch" "$ver"; then
		# apt wants arch:all packages named with the native arch.
		ng_k_in_index "$pkg" all "$ver" && arch=amd64
		ng_download "$pkg:$arch=$ver"
		return
	fi
	for a in "$arch" all; do
		f=$dir/${pkg}_${ver//:/%3a}_$a.deb
		[ -s "$f" ] && { printf '%s\n' "$f"; return; }
	done
	ng_need curl
	mkdir -p "$dir"
	for a in "$arch" all; do
		base=${pkg}_${ver#*:}_$a.deb
		for url in "$NVGRACE_MIRROR"/pool/main/l/{linux,"linux-signed-$arch"} \
			"$NVGRACE_SECURITY_MIRROR"/pool/main/l/linux; do
			url=$url/${base//+/%2B}
			f=$dir/${pkg}_${ver//:/%3a}_$a.deb
			tmp=$f.part
			if curl -fsSL --retry 3 -o "$tmp" "$url" 2>/dev/null; then
				if [ "$(dpkg-deb -f "$tmp" Package 2>/dev/null)" != "$pkg" ] ||
					[ "$(dpkg-deb -f "$tmp" Version)" != "$ver" ]; then
					rm -f "$tmp"
					die "$url is not $pkg $ver"
				fi
				mv "$tmp" "$f"
				msg "fetched $base from the pool (not in the package indexes)"
				printf '%s\n' "$f"
				return
			fi
			rm -f "$tmp"
		done
	done
	die "$pkg $ver ($arch) is neither in the package indexes nor in the pool"
}

# ng_k_pool_has PKG ARCH VERSION: true if PKG is indexed or in the pool.
ng_k_pool_has() {
	local pkg=$1 arch=$2 ver=$3 a url
	ng_k_in_index "$pkg" "$arch" "$ver" && return 0
	ng_need curl
	for a in "$arch" all; do
		url=$NVGRACE_MIRROR/pool/main/l/linux/${pkg}_${ver#*:}_$a.deb
		curl -fsIL -o /dev/null "${url//+/%2B}" 2>/dev/null && return 0
	done
	return 1
}

# ---------------------------------------------------------------------------
# Resolving the matrix

# ng_k_toolchain_of_config FILE: gcc-12 or gcc-14 from CONFIG_CC_VERSION_TEXT
# (e.g. "gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0" or
# "aarch64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0").
ng_k_toolchain_of_config() {
	local text major
	text=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$1")
	case $text in
	*gcc*) ;;
	*) die "unsupported kernel compiler '$text' in $1" ;;
	esac
	major=$(sed -n 's/^CONFIG_GCC_VERSION=\([0-9]*\)$/\1/p' "$1")
	major=$((major / 10000))
	case $major in
	12 | 14) printf 'gcc-%s\n' "$major" ;;
	*) die "no build environment for gcc $major ('$text', $1)" ;;
	esac
}

# ng_k_resolve_one SERIES ARCH: print "SERIES ARCH RELEASE TOOLCHAIN VERSION"
# for the newest kernel of SERIES and flavour ARCH whose headers can be had.
# ABIs look like 6.1.0-56 or 6.12.117+deb12; the release adds the flavour.
# The packages of flavour arm64-16k are arm64 packages.
ng_k_resolve_one() {
	local series=$1 arch=$2 pkgarch=${2%%-*} abi release ver deb cfg tc idx
	local re="^linux-image-(${series//./\\.}\\.[0-9.]+(-[0-9]+)?(\\+deb[0-9.]+)?)-${arch}\$"
	idx=$(ng_k_index)
	while read -r abi; do
		release=$abi-$arch
		ver=$(awk -v p="linux-image-$release" -v a="$pkgarch" '$1 == p && $2 == a { print $3 }' "$idx" |
			sort -V | tail -n1)
		[ -n "$ver" ] || continue
		if ! ng_k_pool_has "linux-headers-$release" "$pkgarch" "$ver"; then
			msg "kernels: $release: no headers anywhere, trying an older one"
			continue
		fi
		deb=$(ng_k_fetch "linux-headers-$release" "$pkgarch" "$ver")
		cfg=$(mktemp)
		dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards "./usr/src/*/.config" >"$cfg"
		tc=$(ng_k_toolchain_of_config "$cfg")
		rm -f "$cfg"
		printf '%s %s %s %s %s\n' "$series" "$arch" "$release" "$tc" "$ver"
		return 0
	done < <(awk -v a="$pkgarch" '$2 == a { print $1 }' "$idx" | sed -nE "s/$re/\\1/p" | sort -u -rV)
	die "no Debian kernel of series $series for $arch in the configured suites"
}

# ng_k_list: print the path of $NG_K_CACHE/matrix.list, the resolved
# entries ("SERIES ARCH RELEASE TOOLCHAIN VERSION"), after dropping it when
# the apt lists were refreshed since it was written, or this script changed.
# Entries are resolved one at a time, when first asked for (ng_k_line):
# a run that needs one kernel fetches the headers of that kernel only.
ng_k_list() {
	local list=$NG_K_CACHE/matrix.list
	ng_apt_setup
	mkdir -p "$NG_K_CACHE"
	if [ -e "$list" ] && { [ "$list" -ot "$NG_APT_DIR/updated" ] ||
		[ "$list" -ot "${BASH_SOURCE[0]}" ]; }; then
		rm -f "$list"
	fi
	printf '%s\n' "$list"
}

# ng_k_line SERIES ARCH: print the resolved entry of SERIES/ARCH, resolving
# and recording it first if needed.
ng_k_line() {
	local list line=''
	list=$(ng_k_list)
	[ -e "$list" ] &&
		line=$(awk -v s="$1" -v a="$2" '$1 == s && $2 == a { print; exit }' "$list")
	if [ -z "$line" ]; then
		msg "kernels: resolving the newest kernel of $1 for $2"
		line=$(ng_k_resolve_one "$1" "$2")
		# one short line, appended at once: safe beside other runs
		printf '%s\n' "$line" >>"$list"
	fi
	printf '%s\n' "$line"
}

# ng_k_entry SERIES ARCH: set K_FLAVOUR (ARCH) K_ARCH (its package
# architecture: arm64 for arm64-16k) K_RELEASE K_TOOLCHAIN K_VERSION.
ng_k_entry() {
	local line
	case " $NG_SERIES " in *" $1 "*) ;; *) die "unknown series '$1' (one of: $NG_SERIES)" ;; esac
	case " $NG_ARCHES $NG_FLAVOURS " in *" $2 "*) ;; *) die "unknown arch '$2' (one of: $NG_ARCHES $NG_FLAVOURS)" ;; esac
	line=$(ng_k_line "$1" "$2")
	read -r _ K_FLAVOUR K_RELEASE K_TOOLCHAIN K_VERSION <<<"$line"
	K_ARCH=${K_FLAVOUR%%-*}
}

# ---------------------------------------------------------------------------
# Header trees

# ng_k_headers SERIES ARCH: assemble the header tree, print KDIR.
# Layout: $NVGRACE_CACHE/headers/<release>/ is a root into which
# linux-headers-<release>, linux-headers-<abi>-common and the AMD64
# linux-kbuild-<ver> (host tools: fixdep, modpost... must run here, and
# modpost handles aarch64 objects) are extracted; KDIR is
# <root>/usr/src/linux-headers-<release>. The Debian Makefile and
# .kernelvariables name /usr/src/... absolutely: rewritten into the root.
ng_k_headers() {
	ng_k_entry "$1" "$2"
	local root=$NVGRACE_CACHE/headers/$K_RELEASE hdeb deb dep name f
	local kdir=$root/usr/src/linux-headers-$K_RELEASE
	if [ ! -e "$root/.nvgrace-ready" ]; then
		msg "headers: assembling $K_RELEASE ($K_VERSION)"
		hdeb=$(ng_k_fetch "linux-headers-$K_RELEASE" "$K_ARCH" "$K_VERSION")
		ng_extract "$hdeb" "$root"
		# The -common and linux-kbuild package names come from the
		# flavour package's own Depends (linux-kbuild-6.1 vs
		# linux-kbuild-6.12.117+deb12); all share its version.
		while read -r dep; do
			name=${dep%% *}
			case $name in
			linux-headers-*-common)
				deb=$(ng_k_fetch "$name" "$K_ARCH" "$K_VERSION")
				# The amd64 and arm64 trees share this arch:all
				# package (~80 MB unpacked): hard-link the other
				# tree's copy when there is one.
				ng_k_link_common "$deb" "$root" "$name" ;;
			linux-kbuild-*)
				deb=$(ng_k_fetch "$name" amd64 "$K_VERSION") ;;
			*) continue ;;
			esac
			ng_extract "$deb" "$root"
		done < <(dpkg-deb -f "$hdeb" Depends | tr ',' '\n' | sed 's/^ *//')
		[ -e "$kdir/scripts/basic/fixdep" ] || die "headers: $kdir: no linux-kbuild (scripts/basic/fixdep)"
		ls -d "$root"/usr/src/linux-headers-*-common >/dev/null 2>&1 ||
			die "headers: $root: no -common tree"
		for f in "$kdir/Makefile" "$kdir/.kernelvariables"; do
			[ -e "$f" ] && sed -i "s|\\([ =]\\)/usr/src/linux-headers-|\\1$root/usr/src/linux-headers-|g" "$f"
		done
		touch "$root/.nvgrace-ready"
	fi
	ng_k_checker_valid "$root"
	printf '%s\n' "$kdir"
}

# ng_k_link_common DEB ROOT NAME: if another header root has DEB extracted,
# hard-link its usr/src/NAME into ROOT and mark DEB extracted there.
ng_k_link_common() {
	local stamp other
	stamp=.extracted-$(basename "$1")
	[ -e "$2/$stamp" ] && return 0
	for other in "$NVGRACE_CACHE"/headers/*/"$stamp"; do
		other=$(dirname "$other")
		if [ ! -d "$other/usr/src/$3" ] || [ "$other" = "$2" ]; then continue; fi
		mkdir -p "$2/usr/src"
		rm -rf "$2/usr/src/$3"
		cp -al "$other/usr/src/$3" "$2/usr/src/$3" || return 0
		touch "$2/$stamp"
		return 0
	done
}

# ng_k_checker_valid ROOT: kernels from 7.0 on run scripts/checker-valid.sh
# from their Makefile before honouring C=1/C=2, but Debian's header packages
# do not ship that script: make silently skips sparse ("C=2 specified, but
# sparse is not available or not up to date"). Provide an equivalent: print
# 1 if the checker parses __typeof_unqual__, else 0 (the kernel then skips
# sparse, as it would with the real script).
ng_k_checker_valid() {
	local common f
	for common in "$1"/usr/src/linux-headers-*-common; do
		f=$common/scripts/checker-valid.sh
		[ -e "$f" ] && continue
		grep -q 'scripts/checker-valid.sh' "$common/Makefile" || continue
		cat >"$f" <<'EOS'
#!/bin/sh
# Stand-in for the kernel's scripts/checker-valid.sh, which Debian's header
# packages lack (written by nvgrace-dkms tests/matrix/kernels.sh).
# Usage: checker-valid.sh CHECK [CHECKFLAGS...]; prints 1 if CHECK can parse
# __typeof_unqual__ (needed by the kernel's headers under __CHECKER__).
command -v "$1" >/dev/null 2>&1 || exit 1
t=$(mktemp --suffix=.c) || exit 1
trap 'rm -f "$t"' EXIT
printf 'static inline int f(const int *p)\n{\n\t__typeof_unqual__(*p) x = *p;\n\treturn x;\n}\n' >"$t"
if "$@" "$t" 2>&1 | grep -q error; then echo 0; else echo 1; fi
EOS
		chmod 755 "$f"
	done
}

# ---------------------------------------------------------------------------
# Boot images

# ng_k_image SERIES ARCH: extract the kernel image, print its directory.
# It holds <dir>/vmlinuz (a symlink to the real file) and
# <dir>/lib/modules/<release>/ (a lib -> usr/lib symlink is added for
# packages that ship usr/lib/modules), plus the config and System.map
# (boot/ before 6.19, lib/modules/<release>/ after).
# Up to 6.18 linux-image-<release>[-unsigned] holds everything; the
# -unsigned one is preferred when indexed (the build output as is; the signed
# one has the same files, signed). From 6.19 on, linux-image-<release> is a
# small package that depends on linux-binary- (vmlinuz), linux-modules- and
# linux-base-<release> (config, System.map, dtbs) of the same version: those
# are followed and extracted into the same directory.
ng_k_image() {
	ng_k_entry "$1" "$2"
	local dir=$NVGRACE_CACHE/images/$K_RELEASE pkg deb dep name v
	if [ ! -e "$dir/.nvgrace-ready" ]; then
		pkg=linux-image-$K_RELEASE-unsigned
		ng_k_in_index "$pkg" "$K_ARCH" "$K_VERSION" || pkg=linux-image-$K_RELEASE
		msg "image: extracting $pkg ($K_VERSION)"
		deb=$(ng_k_fetch "$pkg" "$K_ARCH" "$K_VERSION")
		ng_extract "$deb" "$dir"
		while read -r dep; do
			name=${dep%% *}
			v=${dep#*(= }
			v=${v%)}
			case $name in
			linux-binary-"$K_RELEASE"* | linux-modules-"$K_RELEASE"* | linux-base-"$K_RELEASE"*)
				ng_extract "$(ng_k_fetch "$name" "$K_ARCH" "$v")" "$dir" ;;
			esac
		done < <(dpkg-deb -f "$deb" Depends | sed 's/[,|]/\n/g' | sed 's/^ *//')
		if [ ! -e "$dir/lib" ] && [ -d "$dir/usr/lib/modules" ]; then
			ln -s usr/lib "$dir/lib"
		fi
		[ -d "$dir/lib/modules/$K_RELEASE/kernel" ] || die "image: no lib/modules/$K_RELEASE/kernel from $deb"
		for v in "boot/vmlinuz-$K_RELEASE" "lib/modules/$K_RELEASE/vmlinuz" ""; do
			[ -n "$v" ] || die "image: no vmlinuz from $deb"
			[ -e "$dir/$v" ] && break
		done
		ln -sfn "$v" "$dir/vmlinuz"
		touch "$dir/.nvgrace-ready"
	fi
	printf '%s\n' "$dir"
}

# ---------------------------------------------------------------------------
# Build environments

# ng_k_run SERIES ARCH CMD...: run CMD with the kernel's compiler. Exports
# KDIR (the header tree), NG_KERNEL_RELEASE, and for arm64 ARCH=arm64
# CROSS_COMPILE=aarch64-linux-gnu- (6.1's headers do not set it themselves);
# for amd64 ARCH and CROSS_COMPILE are unset. gcc-12 kernels build on the
# host, gcc-14 ones inside the trixie chroot (chroot.sh) where the repo,
# /work and $NVGRACE_CACHE have the same paths as outside.
ng_k_run() {
	local series=$1 arch=$2 kdir held
	shift 2
	# fetching is locked, the build is not
	held=${NG_SETUP_LOCKED:-}
	ng_setup_lock
	kdir=$(ng_k_headers "$series" "$arch")
	ng_k_entry "$series" "$arch"
	[ "$K_TOOLCHAIN" != gcc-14 ] || ng_chroot_prepare
	[ -n "$held" ] || ng_setup_unlock
	export KDIR=$kdir NG_KERNEL_RELEASE=$K_RELEASE
	if [ "$K_ARCH" = arm64 ]; then
		export ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
	else
		unset ARCH CROSS_COMPILE
	fi
	case $K_TOOLCHAIN in
	gcc-12)
		# shellcheck disable=SC2086 # a list of names
		ng_need $NG_HOST_BUILD_PACKAGES
		"$@"
		;;
	gcc-14)
		ng_chroot_run "$@"
		;;
	*) die "unknown toolchain $K_TOOLCHAIN" ;;
	esac
}

ng_k_usage() {
	sed -n '/^# Usage:/,/^# SERIES/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

ng_k_main() {
	local cmd=${1:-}
	[ $# -gt 0 ] && shift
	case $cmd in
	list)
		# every entry, or those of the given SERIES/ARCH words (a
		# flavour of $NG_FLAVOURS only when named)
		local s a want=" $* "
		ng_setup_lock
		for s in $NG_SERIES; do
			for a in $NG_ARCHES $NG_FLAVOURS; do
				if [ $# -eq 0 ]; then
					[[ " $NG_FLAVOURS " != *" $a "* ]] || continue
				else
					[[ $want == *" $s/$a "* ]] || continue
				fi
				ng_k_line "$s" "$a" | cut -d' ' -f1-4
			done
		done
		;;
	series)
		[ $# -eq 0 ] || ng_k_usage
		# shellcheck disable=SC2086 # a list of words
		printf '%s\n' $NG_SERIES
		;;
	refresh)
		rm -f "$NG_K_CACHE/matrix.list"
		;;
	headers | image | toolchain | release)
		[ $# -eq 2 ] || ng_k_usage
		ng_setup_lock
		case $cmd in
		headers) ng_k_headers "$1" "$2" ;;
		image) ng_k_image "$1" "$2" ;;
		toolchain) ng_k_entry "$1" "$2" && printf '%s\n' "$K_TOOLCHAIN" ;;
		release) ng_k_entry "$1" "$2" && printf '%s\n' "$K_RELEASE" ;;
		esac
		;;
	run)
		if [ $# -lt 4 ] || [ "$3" != -- ]; then ng_k_usage; fi
		local series=$1 arch=$2
		shift 3
		ng_k_run "$series" "$arch" "$@"
		;;
	*) ng_k_usage ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	ng_k_main "$@"
fi
