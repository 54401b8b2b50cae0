#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# install-tool.sh DIR [MANDIR]: install the operator tool as DIR/nvgrace-vfio
# with the pack's version (PACKAGE_VERSION of dkms.conf) written into it, so
# that the installed copy knows its version away from this tree; with
# MANDIR, also its man page as MANDIR/man8/nvgrace-vfio.8. Used by the
# Debian and RPM packaging and for installs by hand:
#
#   packaging/install-tool.sh /usr/sbin /usr/share/man
#
# Relative paths are relative to the current directory.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
	echo "usage: ${0##*/} DIR [MANDIR]   (e.g. /usr/sbin /usr/share/man)" >&2
	exit 2
fi
top=$(cd "$(dirname "$0")/.." && pwd)
ver=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$top/dkms.conf")
if [ -z "$ver" ]; then
	echo "${0##*/}: no PACKAGE_VERSION in $top/dkms.conf" >&2
	exit 1
fi
dir=$1
mkdir -p "$dir"
sed "s/@NVGRACE_VERSION@/$ver/" "$top/tools/nvgrace-vfio" >"$dir/nvgrace-vfio.tmp"
chmod 0755 "$dir/nvgrace-vfio.tmp"
mv -f "$dir/nvgrace-vfio.tmp" "$dir/nvgrace-vfio"
if [ $# -eq 2 ]; then
	install -D -m 0644 "$top/tools/man/nvgrace-vfio.8" "$2/man8/nvgrace-vfio.8"
fi
