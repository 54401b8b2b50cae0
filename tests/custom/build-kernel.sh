#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-kernel.sh VERSION PAGESIZE [debug]
#
# Custom kernel tier: build a minimal arm64 kernel (tinyconfig + the fragments
# in config/) from Debian's linux-source-VERSION package with the host cross
# compiler, in an O= build directory that is also usable as KDIR for our
# out-of-tree modules:
#   make -C <builddir> M=<dir> ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
#
#   VERSION   6.1  (linux-source-6.1 from bookworm-security)
#             6.12 (linux-source-6.12 from bookworm-security)
#             7.3  (linux-source-7.3 from trixie-backports)
#   PAGESIZE  4k | 64k
#   debug     also apply config/debug.fragment (lockdep, KASAN, UBSAN,
#             KFENCE, DEBUG_VM, DEBUG_OBJECTS, hung tasks, fault injection)
#             and, last, config/v<VERSION>-debug.fragment if there is one
#             (what that version needs for them: 6.1's tinyconfig picks SLOB,
#             which KASAN, KFENCE and failslab do not support)
#
# Prints on stdout only the build directory (it holds arch/arm64/boot/Image,
# vmlinux, Module.symvers, .config and, in _modinst/, the installed in-tree
# modules). Everything else goes to stderr; make output goes to the build log
# next to the build directory.
#
# Environment:
#   NVGRACE_CACHE        cache root (see tests/lib/common.sh)
#   NVGRACE_KPATCHES     directory of kernel patches (git format-patch series),
#                        applied with `patch -p1` to a fresh copy of the tree;
#                        order from a `series` file if present, else *.patch
#                        sorted by name. Empty/unset: no patches.
#   NVGRACE_KSRC_PKGVER  exact linux-source package version (default: newest
#                        in the suite named above)
#   NVGRACE_JOBS         make -j (default: nproc)
#
# Cache layout ($NVGRACE_CACHE/custom/):
#   src/linux-source-<VERSION>_<pkgver>/   pristine tree, extracted once
#   <VERSION>-<PAGESIZE>-<hash12>/         one build key:
#       build/      O= directory (KDIR)     src/   patched tree (only if patched)
#       build.log   make output             key.txt what the hash covers
#       complete    stamp: the build finished and passed the config check
# <hash12> covers: package name+version, page size, every fragment applied
# (name and contents), config/v<VERSION>.omit if there is one, every patch
# (name and contents), the cross compiler's version and this script's recipe
# revision.
#
# config/v<VERSION>.omit lists symbols whose base.fragment lines are left
# out for that version: symbols the tree does not have (6.1: no IOMMUFD,
# VFIO cdev, in-tree nvgrace-gpu, ...) or that config/v<VERSION>.fragment
# sets in another form. The build fails if a listed symbol is in the tree's
# Kconfig files and v<VERSION>.fragment has no line for it, so the list
# cannot hide a symbol olddefconfig dropped.

set -euo pipefail

# Bump when the build recipe changes in a way that must invalidate old builds.
RECIPE=1

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$HERE/../lib/common.sh"

usage() {
	msg "usage: $0 VERSION PAGESIZE [debug]   (VERSION: 6.1 | 6.12 | 7.3, PAGESIZE: 4k | 64k)"
	exit 2
}

[ $# -eq 2 ] || [ $# -eq 3 ] || usage
VERSION=$1
PAGESIZE=$2
VARIANT=${3:-}
case $VARIANT in
'' | debug) ;;
*) usage ;;
esac
case $VERSION in
6.1 | 6.12) SUITE=bookworm-security ;;
7.3) SUITE=trixie-backports ;;
*) usage ;;
esac
case $PAGESIZE in
4k | 64k) ;;
*) usage ;;
esac

PKG=linux-source-$VERSION
CROSS=aarch64-linux-gnu-
CFGDIR=$HERE/config
CUSTOM=$NVGRACE_CACHE/custom
JOBS=${NVGRACE_JOBS:-$(nproc)}

# Host tools. patch only matters with NVGRACE_KPATCHES but is tiny.
ng_need gcc-aarch64-linux-gnu make bc bison flex libelf-dev libssl-dev \
	cpio kmod xz-utils patch util-linux

# --- which source package version -------------------------------------------

# Newest version of $PKG that the given suite carries (apt-cache madison prints
# "pkg | version | url suite/component arch Packages").
newest_in_suite() {
	local v best=
	while read -r v; do
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
			best=$v
		fi
	done < <(ng_apt_cache madison "$PKG" 2>/dev/null |
		awk -F'|' -v s=" $SUITE/" 'index($3, s) { gsub(/ /, "", $2); print $2 }')
	printf '%s\n' "$best"
}

ng_apt_setup
PKGVER=${NVGRACE_KSRC_PKGVER:-$(newest_in_suite)}
[ -n "$PKGVER" ] || die "$PKG not found in $SUITE"

# --- pristine source tree, once per package version -------------------------

SRC=$CUSTOM/src/${PKG}_${PKGVER//[:~]/_}
prepare_source() {
	local deb tmp
	mkdir -p "$CUSTOM/src"
	exec 8>"$SRC.lock"
	flock 8
	if [ ! -e "$SRC/.nvgrace-extracted" ]; then
		deb=$(ng_download "$PKG=$PKGVER")
		msg "extracting $PKG $PKGVER into $SRC"
		tmp=$SRC.tmp
		rm -rf "$tmp" "$SRC"
		mkdir -p "$tmp"
		# Stream the tarball out of the .deb: no 160 MB intermediate file.
		dpkg-deb --fsys-tarfile "$deb" |
			tar -xO "./usr/src/$PKG.tar.xz" |
			tar -xJ -C "$tmp" || die "could not unpack $deb"
		[ -f "$tmp/$PKG/Makefile" ] || die "$deb: no $PKG/ tree inside"
		mv "$tmp/$PKG" "$SRC"
		rmdir "$tmp"
		printf '%s %s\n' "$PKG" "$PKGVER" >"$SRC/.nvgrace-extracted"
	fi
	flock -u 8
	exec 8>&-
}

# --- inputs: fragments and patches ------------------------------------------

FRAGMENTS=("$CFGDIR/base.fragment")
[ -f "$CFGDIR/v$VERSION.fragment" ] && FRAGMENTS+=("$CFGDIR/v$VERSION.fragment")
FRAGMENTS+=("$CFGDIR/$PAGESIZE.fragment")
[ -n "$VARIANT" ] && FRAGMENTS+=("$CFGDIR/$VARIANT.fragment")
[ -n "$VARIANT" ] && [ -f "$CFGDIR/v$VERSION-$VARIANT.fragment" ] &&
	FRAGMENTS+=("$CFGDIR/v$VERSION-$VARIANT.fragment")
for f in "${FRAGMENTS[@]}"; do
	[ -f "$f" ] || die "missing config fragment $f"
done
OMIT=$CFGDIR/v$VERSION.omit
[ -f "$OMIT" ] || OMIT=
# omit_syms: the symbols config/v<VERSION>.omit lists (CONFIG_ prefix
# optional, '#' comments).
omit_syms() {
	sed -e 's/#.*//' -e 's/^[[:space:]]*CONFIG_//' -e 's/[[:space:]]//g' "$OMIT" | grep -v '^$'
}

PATCHES=()
if [ -n "${NVGRACE_KPATCHES:-}" ]; then
	[ -d "$NVGRACE_KPATCHES" ] || die "NVGRACE_KPATCHES=$NVGRACE_KPATCHES is not a directory"
	KPDIR=$(cd "$NVGRACE_KPATCHES" && pwd)
	if [ -f "$KPDIR/series" ]; then
		while read -r p _; do
			case $p in '' | '#'*) continue ;; esac
			[ -f "$KPDIR/$p" ] || die "series names missing patch $KPDIR/$p"
			PATCHES+=("$KPDIR/$p")
		done <"$KPDIR/series"
	else
		while IFS= read -r -d '' p; do
			PATCHES+=("$p")
		done < <(find "$KPDIR" -maxdepth 1 -type f -name '*.patch' -print0 | sort -z)
	fi
fi

CCVER=$("${CROSS}gcc" --version | head -n1)

# Everything the build depends on, in a stable text form; the key hashes it.
key_inputs() {
	local f
	printf 'recipe %s\npackage %s %s\npagesize %s\ncompiler %s\n' \
		"$RECIPE" "$PKG" "$PKGVER" "$PAGESIZE" "$CCVER"
	for f in "${FRAGMENTS[@]}"; do
		printf 'fragment %s %s\n' "$(basename "$f")" "$(sha256sum <"$f" | cut -d' ' -f1)"
	done
	[ -z "$OMIT" ] ||
		printf 'omit %s %s\n' "$(basename "$OMIT")" "$(sha256sum <"$OMIT" | cut -d' ' -f1)"
	for f in ${PATCHES[@]+"${PATCHES[@]}"}; do
		printf 'patch %s %s\n' "$(basename "$f")" "$(sha256sum <"$f" | cut -d' ' -f1)"
	done
}

HASH=$(key_inputs | sha256sum | cut -c1-12)
KEY=$VERSION-$PAGESIZE${VARIANT:+-$VARIANT}-$HASH
KEYDIR=$CUSTOM/$KEY
B=$KEYDIR/build
LOG=$KEYDIR/build.log

mkdir -p "$KEYDIR"
exec 9>"$KEYDIR/.lock"
flock 9

if [ -e "$KEYDIR/complete" ] && [ -f "$B/arch/arm64/boot/Image" ]; then
	msg "custom kernel $KEY: already built"
	printf '%s\n' "$B"
	exit 0
fi

key_inputs >"$KEYDIR/key.txt"
prepare_source

# --- source tree for this key: pristine, or a patched copy ------------------

if [ ${#PATCHES[@]} -eq 0 ]; then
	S=$SRC
else
	S=$KEYDIR/src
	if [ ! -e "$KEYDIR/.patched" ]; then
		msg "copying the tree and applying ${#PATCHES[@]} patch(es) from $KPDIR"
		rm -rf "$S"
		cp -a --reflink=auto "$SRC" "$S"
		for p in "${PATCHES[@]}"; do
			msg "  $(basename "$p")"
			patch -d "$S" -p1 --batch --forward --no-backup-if-mismatch -s <"$p" ||
				die "patch $(basename "$p") does not apply to $PKG $PKGVER"
		done
		touch "$KEYDIR/.patched"
	fi
fi

# --- configure, check, build -------------------------------------------------

MAKEARGS=(-C "$S" O="$B" ARCH=arm64 CROSS_COMPILE="$CROSS"
	KBUILD_BUILD_USER=nvgrace KBUILD_BUILD_HOST=testbed)

run() {
	printf '+ %s\n' "$*" >>"$LOG"
	if ! "$@" >>"$LOG" 2>&1; then
		msg "FAILED: $*"
		msg "---- last lines of $LOG ----"
		tail -n 60 "$LOG" >&2
		exit 1
	fi
}

# Every CONFIG_X=v and "# CONFIG_X is not set" line of the fragments must be in
# the final .config exactly as requested. Prints the dropped ones.
check_config() {
	local cfg=$1 f line sym bad=()
	shift
	for f in "$@"; do
		while IFS= read -r line; do
			case $line in
			CONFIG_*=*)
				grep -qxF -- "$line" "$cfg" ||
					bad+=("$line  (got: $(grep -E "^(# )?${line%%=*}[= ]" "$cfg" || echo 'absent'))")
				;;
			'# CONFIG_'*' is not set')
				sym=${line#\# }
				sym=${sym%% *}
				if grep -q "^$sym=" "$cfg"; then
					bad+=("$line  (got: $(grep "^$sym=" "$cfg"))")
				fi
				;;
			esac
		done <"$f"
	done
	if [ ${#bad[@]} -gt 0 ]; then
		msg "config check failed: olddefconfig dropped or changed ${#bad[@]} symbol(s):"
		printf '  %s\n' "${bad[@]}" >&2
		return 1
	fi
}

rm -f "$KEYDIR/complete"
mkdir -p "$B"
: >"$LOG"

# base.fragment lines this version leaves out: each symbol missing from the
# tree's Kconfig files or set by v<VERSION>.fragment.
if [ -n "$OMIT" ]; then
	alt=$(omit_syms | paste -sd'|')
	[ -n "$alt" ] || die "$OMIT lists no symbol"
	vfrag=$CFGDIR/v$VERSION.fragment
	present=$(find "$S" -name 'Kconfig*' -type f -print0 |
		xargs -0 grep -hE "^[[:space:]]*(menu)?config[[:space:]]+($alt)[[:space:]]*$" |
		awk '{print $2}' | sort -u) || true # grep: no match
	for sym in $present; do
		grep -qE "^(# )?CONFIG_${sym}[= ]" "$vfrag" 2>/dev/null ||
			die "$(basename "$OMIT"): $PKG $PKGVER has $sym and $(basename "$vfrag") does not set it"
	done
	grep -vE "^(# )?CONFIG_($alt)[= ]" "$CFGDIR/base.fragment" >"$KEYDIR/base.fragment"
	FRAGMENTS[0]=$KEYDIR/base.fragment
fi
msg "custom kernel $KEY: $PKG $PKGVER, $PAGESIZE pages${PATCHES[0]:+, ${#PATCHES[@]} patch(es)}"
msg "  build dir $B"
msg "  log       $LOG"
start=$(date +%s)

run make "${MAKEARGS[@]}" tinyconfig
cat "${FRAGMENTS[@]}" >>"$B/.config"
run make "${MAKEARGS[@]}" olddefconfig
check_config "$B/.config" "${FRAGMENTS[@]}" || die "fix config/*.fragment (see above)"

msg "  building Image and modules with -j$JOBS"
run make "${MAKEARGS[@]}" -j"$JOBS" Image modules
run make "${MAKEARGS[@]}" modules_prepare
rm -rf "$B/_modinst"
run make "${MAKEARGS[@]}" INSTALL_MOD_PATH="$B/_modinst" INSTALL_MOD_STRIP=1 modules_install

[ -f "$B/arch/arm64/boot/Image" ] || die "no Image after the build (see $LOG)"
[ -f "$B/Module.symvers" ] || die "no Module.symvers after the build (see $LOG)"
printf '%s %s %s\n' "$KEY" "$(make -s "${MAKEARGS[@]}" kernelrelease 2>/dev/null)" \
	"$(($(date +%s) - start))s" >"$KEYDIR/complete"
msg "custom kernel $KEY: built in $(($(date +%s) - start)) s"
printf '%s\n' "$B"
