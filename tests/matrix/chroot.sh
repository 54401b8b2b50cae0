#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: GPL-2.0-only
#
# The Debian trixie build chroot (gcc-14) for kernels built with gcc-14.
#
# Usage:
#   chroot.sh create            build it once (no-op when it exists)
#   chroot.sh path              print its directory (creating it if needed)
#   chroot.sh run -- CMD...     run CMD inside it (see ng_chroot_run)
#   chroot.sh sparse            retry installing sid's sparse (ng_chroot_sparse)
#   chroot.sh remove            delete it
#
# Bookworm has no gcc-14, and trixie/trixie-backports kernels pass flags
# gcc-12 rejects, so those kernels are built inside a minimal trixie tree
# made by mmdebstrap (about 35 s and ~550 MB, once). Commands run there in a
# private mount namespace (unshare), so /proc, /dev and the bind mounts vanish
# with the command whatever happens to it: nothing can leak onto the host.
#
# The file can also be sourced (after tests/lib/common.sh) for its functions.

# Packages of the chroot. "gcc" and "gcc-aarch64-linux-gnu" are trixie's
# default compilers, i.e. gcc-14: they provide plain `gcc` and
# `aarch64-linux-gnu-gcc`, so a kernel Makefile's $(CROSS_COMPILE)gcc is the
# right compiler without any symlink. sparse is for `make C=2`, pahole for BTF
# (6.12+), kmod for modpost/depmod, python3 for W=1's kernel-doc (6.16-6.18
# run it on external modules), the rest for Kbuild itself. Changing this list
# updates an existing chroot on its next use (the stamp holds the list).
NG_CHROOT_PACKAGES=gcc-14,gcc,make,libc6-dev,bc,bison,flex,libelf-dev,pahole,\
gcc-14-aarch64-linux-gnu,gcc-aarch64-linux-gnu,kmod,sparse,xz-utils,zstd,python3,ccache
# Where it lives; NG_CHROOT may override (set when the functions first run,
# so that sourcing this file before common.sh is harmless).
ng_chroot_dir() {
	: "${NG_CHROOT:=$NVGRACE_CACHE/chroot/trixie-gcc14}"
}

# ng_chroot_create: build the chroot once. It is made in a temporary
# directory and renamed into place only when complete, so an interrupted run
# leaves no half-made chroot behind (the leftover is removed by the trap, or
# by the next run).
ng_chroot_create() {
	ng_chroot_dir
	local tmp stamp=$NG_CHROOT/.nvgrace-complete
	if [ -e "$stamp" ]; then
		[ "$(cat "$stamp")" = "$NG_CHROOT_PACKAGES" ] || ng_chroot_sync
		return 0
	fi
	ng_need mmdebstrap debian-archive-keyring
	mkdir -p "$(dirname "$NG_CHROOT")"
	tmp=$NG_CHROOT.tmp
	rm -rf "$tmp"
	# shellcheck disable=SC2064 # expand $tmp now, the trap runs later
	trap "rm -rf '$tmp'" EXIT
	msg "chroot: creating $NG_CHROOT with mmdebstrap (trixie, gcc-14)"
	mmdebstrap --quiet --variant=apt --architectures=amd64 \
		--include="$NG_CHROOT_PACKAGES" \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--aptopt='Acquire::Languages "none"' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		trixie "$tmp" "deb $NVGRACE_MIRROR trixie main" >&2 ||
		die "mmdebstrap failed"
	printf '%s\n' "$NG_CHROOT_PACKAGES" >"$tmp/.nvgrace-complete"
	rm -rf "$NG_CHROOT"
	mv "$tmp" "$NG_CHROOT"
	trap - EXIT
	msg "chroot: ready ($(du -sh "$NG_CHROOT" | cut -f1))"
}

# ng_chroot_sync: install what NG_CHROOT_PACKAGES gained since the chroot
# was made (with the chroot's own apt), then record the list in the stamp.
ng_chroot_sync() {
	msg "chroot: installing new packages: $NG_CHROOT_PACKAGES"
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --mount --propagation private -- sh -c \
		'mount -t proc proc "$0/proc" && exec chroot "$0" /bin/sh -c "$1" sh "$2"' \
		"$NG_CHROOT" '
		set -e
		export DEBIAN_FRONTEND=noninteractive
		apt-get -qq -o Acquire::Check-Valid-Until=false update
		apt-get -qq install -y --no-install-recommends $(echo "$1" | tr , " ") >/dev/null
		apt-get clean
	' "$NG_CHROOT_PACKAGES" >&2 || die "chroot: could not install $NG_CHROOT_PACKAGES"
	printf '%s\n' "$NG_CHROOT_PACKAGES" >"$NG_CHROOT/.nvgrace-complete"
}

# ng_chroot_sparse: give the chroot a sparse that parses __typeof_unqual__.
# Kernels from 7.0 on check for it (scripts/checker-valid.sh, if the header
# tree has it) and silently drop C=2 otherwise; Debian's sparse 0.6.4
# (bookworm, trixie) cannot, sid's 0.6.5~rc1 can. Its /usr/bin/sparse needs
# only glibc >= 2.38, so that one binary is taken from sid's package (fetched
# with the chroot's own apt and a separate, sid-only list directory) and put
# in /usr/local/bin, ahead of trixie's in PATH. If that fails, or the binary
# does not pass the kernel's own test, trixie's sparse stays and C=2 is
# skipped on 7.0+ (matrix.sh reports "sparse skipped"). Done once (stamp).
ng_chroot_sparse() {
	local stamp=$NG_CHROOT/.nvgrace-sparse
	[ -e "$stamp" ] && return 0
	msg "chroot: installing sid's sparse binary (for __typeof_unqual__, kernels 7.0+)"
	# shellcheck disable=SC2016 # expanded by the inner shell
	if unshare --mount --propagation private -- sh -c \
		'mount -t proc proc "$0/proc" && exec chroot "$0" /bin/sh -c "$1" sh "$2"' \
		"$NG_CHROOT" '
		set -e
		d=/var/cache/nvgrace-sid
		rm -rf "$d"
		trap "rm -rf $d" EXIT
		mkdir -p "$d/lists/partial" "$d/archives/partial"
		echo "deb $1 sid main" >"$d/sources.list"
		o="-o Dir::Etc::SourceList=$d/sources.list -o Dir::Etc::SourceParts=/dev/null
		   -o Dir::State::Lists=$d/lists -o Dir::Cache=$d -o Acquire::Languages=none
		   -o Acquire::Check-Valid-Until=false -o APT::Sandbox::User=root"
		apt-get $o -qq update
		cd "$d"
		apt-get $o -qq download sparse
		dpkg-deb --fsys-tarfile sparse_*.deb | tar -xO ./usr/bin/sparse >/usr/local/bin/sparse.new
		chmod 755 /usr/local/bin/sparse.new
		printf "static inline int u(const int *q)\n{\n\t__typeof_unqual__(*q) v = *q;\n\treturn v;\n}\n" >t.c
		out=$(/usr/local/bin/sparse.new t.c 2>&1)
		[ -z "$out" ] || { echo "$out"; exit 1; }
		mv /usr/local/bin/sparse.new /usr/local/bin/sparse
	' "$NVGRACE_MIRROR" >&2; then
		msg "chroot: sparse $(chroot "$NG_CHROOT" /usr/local/bin/sparse --version)"
	else
		rm -f "$NG_CHROOT/usr/local/bin/sparse.new"
		msg "chroot: warning: no newer sparse; C=2 will be skipped on kernels 7.0+"
	fi
	touch "$stamp"
}

# ng_chroot_prepare: the chroot made (once) and its sparse tool built,
# under the setup lock (tests/lib/common.sh)
ng_chroot_prepare() {
	local held=${NG_SETUP_LOCKED:-}
	ng_setup_lock
	ng_chroot_create
	ng_chroot_sparse
	[ -n "$held" ] || ng_setup_unlock
}

# ng_chroot_run CMD...: run CMD in the chroot as root, with /proc (objtool
# reads it), /dev, /sys and the given host directories bind-mounted at the
# same paths inside, and the current directory preserved. The directories
# bound are $NVGRACE_TOP, $NVGRACE_CACHE, /work (when it exists), the current
# directory, and any in $NG_CHROOT_BINDS (space separated). The environment
# is passed through as is, with a PATH that suits the chroot.
ng_chroot_run() {
	ng_chroot_prepare
	local binds=("$NVGRACE_TOP" "$NVGRACE_CACHE" "$PWD") d
	[ -d /work ] && binds+=(/work)
	# shellcheck disable=SC2206 # word splitting wanted
	[ -n "${NG_CHROOT_BINDS:-}" ] && binds+=($NG_CHROOT_BINDS)
	# Parents before children, so a child mount is not hidden by its parent.
	# "/" and paths inside the chroot itself cannot be bound.
	mapfile -t binds < <(printf '%s\n' "${binds[@]}" | sort -u |
		grep -v -x -e / -e "$NG_CHROOT" | grep -v -F "$NG_CHROOT/")
	for d in "${binds[@]}"; do
		[ -d "$d" ] || die "chroot: cannot bind $d: not a directory"
		mkdir -p "$NG_CHROOT$d"
	done
	# The inner script gets: root, cwd, number of binds, binds..., command...
	# shellcheck disable=SC2016 # expanded by the inner bash
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		unshare --mount --propagation private -- bash -c '
		set -e
		root=$1 cwd=$2 n=$3
		shift 3
		mount -t proc proc "$root/proc"
		mount --rbind /dev "$root/dev"
		mount --rbind /sys "$root/sys"
		while [ "$n" -gt 0 ]; do
			mount --bind "$1" "$root$1"
			shift
			n=$((n - 1))
		done
		exec chroot "$root" /bin/sh -c "cd \"\$1\" && shift && exec \"\$@\"" sh "$cwd" "$@"
	' bash "$NG_CHROOT" "$PWD" "${#binds[@]}" "${binds[@]}" "$@"
}

ng_chroot_main() {
	case ${1:-} in
	create) ng_chroot_create ;;
	path)
		ng_chroot_create
		printf '%s\n' "$NG_CHROOT"
		;;
	run)
		shift
		[ "${1:-}" = -- ] && shift
		[ $# -gt 0 ] || die "usage: chroot.sh run -- CMD..."
		ng_chroot_run "$@"
		;;
	sparse)
		ng_chroot_create
		rm -f "$NG_CHROOT/.nvgrace-sparse"
		ng_chroot_sparse
		;;
	remove)
		ng_chroot_dir
		rm -rf "$NG_CHROOT" "$NG_CHROOT.tmp" ;;
	*) die "usage: chroot.sh create|path|sparse|remove|run -- CMD..." ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	# shellcheck source=../lib/common.sh
	. "$(dirname "$0")/../lib/common.sh"
	ng_chroot_main "$@"
fi
