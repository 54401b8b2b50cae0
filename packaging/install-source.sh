#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# install-source.sh DEST: install what DKMS needs to build the modules (and
# nothing else: no tests, no tools) into DEST, e.g.
# $DESTDIR/usr/src/nvgrace-dkms-<version>. The one list of DKMS source
# files, used by the Debian and RPM packaging and the DKMS tests. A
# relative DEST is relative to the current directory.
set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: ${0##*/} DEST   (e.g. /usr/src/nvgrace-dkms-<version>)" >&2
	exit 2
fi
top=$(cd "$(dirname "$0")/.." && pwd)
dest=$1
case $dest in
/*) ;;
*) dest=$(pwd)/$dest ;;
esac
mkdir -p "$dest"
cd "$top"
for f in Kbuild Makefile dkms.conf; do
	install -D -m 0644 "$f" "$dest/$f"
done
find compat src -type f \( -name '*.c' -o -name '*.h' -o -name '*.mk' -o -name '*.sh' \) \
	! -path '*/.compat/*' ! -name '*.mod.c' | LC_ALL=C sort |
	while IFS= read -r f; do
		case $f in
		*.sh) install -D -m 0755 "$f" "$dest/$f" ;;
		*) install -D -m 0644 "$f" "$dest/$f" ;;
		esac
	done
