#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# dkms.conf under the oldest dkms it supports: Debian 11's dkms 2.8.4 (the
# dkms of Ubuntu 22.04 and EPEL 8 is 2.8 too). Its script is extracted from
# the .deb into the cache, never installed, and runs 20-dkms.sh's tests.
#
#   tests/tools/21-dkms-2.8.sh [SERIES ARCH]     (default: 6.1 amd64)

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"

deb=dkms_2.8.4-3_all.deb
# from bullseye's main/binary-all/Packages
sha=34f45872c4c164e838092ddfb098b800d9fd38c25aaf7a262481d6c8b87dffdf
dir=$NVGRACE_CACHE/dkms-2.8.4
f=$NVGRACE_CACHE/debs/$deb
ng_need curl
mkdir -p "$NVGRACE_CACHE/debs"
if ! echo "$sha  $f" | sha256sum -c --status 2>/dev/null; then
	ok=
	for url in "$NVGRACE_MIRROR/pool/main/d/dkms/$deb" \
		"https://snapshot.debian.org/archive/debian/20230101T000000Z/pool/main/d/dkms/$deb"; do
		if curl -fsSL --retry 3 -o "$f.tmp" "$url" &&
			echo "$sha  $f.tmp" | sha256sum -c --status; then
			mv "$f.tmp" "$f"
			ok=1
			break
		fi
	done
	rm -f "$f.tmp"
	if [ -z "$ok" ]; then
		echo "not ok - dkms 2.8: download $deb"
		exit 1
	fi
fi
ng_extract "$f" "$dir"
exec "$here/20-dkms.sh" --dkms "$dir/usr/sbin/dkms" "$@"
