#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# dkms-post-build.sh DEST KERNELRELEASE: DKMS's POST_BUILD step, run in the
# build directory after a successful build. Keeps the generated compat
# header (the HAVE_* results of the probes for that kernel) in DEST/module/,
# next to the modules DKMS keeps, so "nvgrace-vfio doctor" and bug reports
# can tell which probes fired. DKMS removes it with the rest of DEST.

dest=$1
kver=$2
hdr=
for f in .compat/"$kver"-*/nvgrace-config.h; do
	[ -f "$f" ] && hdr=$f
done
if [ -z "$hdr" ]; then
	echo "nvgrace-dkms: no compat header for $kver under $(pwd)/.compat" >&2
	exit 0
fi
mkdir -p "$dest/module" || exit 1
cp -f "$hdr" "$dest/module/nvgrace-config.h" || exit 1
echo "nvgrace-dkms: $(grep -c '^#define HAVE_' "$hdr") compat probes present for $kver; header kept as $dest/module/nvgrace-config.h"
