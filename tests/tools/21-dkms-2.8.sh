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
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
TAP_PREFIX="dkms 2.8: "

deb=dkms_2.8.4-3_all.deb
# from bullseye's main/binary-all/Packages
sha=34f45872c4c164e838092ddfb098b800d9fd38c25aaf7a262481d6c8b87dffdf
dir=$NVGRACE_CACHE/dkms-2.8.4
f=$NVGRACE_CACHE/debs/$deb
ng_need curl
mkdir -p "$NVGRACE_CACHE/debs"
# Only the machine's own Debian archive is asked (its pool keeps bullseye's
# packages while bullseye is on the mirror); where it is gone, say so.
if ! echo "$sha  $f" | sha256sum -c --status 2>/dev/null; then
	url=$NVGRACE_MIRROR/pool/main/d/dkms/$deb
	if ! curl -fsSL --retry 3 -o "$f.tmp" "$url"; then
		rm -f "$f.tmp"
		tap_skip "dkms.conf under dkms 2.8.4" "$url cannot be fetched"
		tap_finish
		exit
	fi
	if ! echo "$sha  $f.tmp" | sha256sum -c --status; then
		rm -f "$f.tmp"
		tap_not_ok "$url does not match bullseye's checksum"
		tap_finish
		exit
	fi
	mv "$f.tmp" "$f"
fi
ng_extract "$f" "$dir"
exec "$here/20-dkms.sh" --dkms "$dir/usr/sbin/dkms" "$@"
