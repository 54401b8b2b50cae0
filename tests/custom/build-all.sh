#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-all.sh: build the custom kernel tier's set of kernels, one after the
# other (2 cores: parallel builds only fight), and print one `KEY PATH` line
# per kernel on stdout: KEY is VERSION-PAGESIZE (6.12-4k, 7.3-4k, 7.3-64k),
# PATH the build directory (KDIR, holds arch/arm64/boot/Image).
# VERSION "6.12kp" is 6.12 with the pack's companion KVM patch series
# (packaging/kernel-patches/6.12) applied; "7.3ua" is 7.3 with the companion
# VFIO patch (packaging/kernel-patches/7.3-vfio, get_unmapped_area).
# Already-built kernels cost nothing (see build-kernel.sh). Same environment
# as build-kernel.sh (NVGRACE_KPATCHES applies to every kernel of the set
# without its own series).
#
# Optional arguments restrict the set: build-all.sh 7.3-64k 6.12-4k

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

SET=(6.12-4k 6.12kp-4k 7.3-4k 7.3ua-4k 7.3-64k)
[ $# -gt 0 ] && SET=("$@")

for k in "${SET[@]}"; do
	case $k in
	*-4k | *-64k) ;;
	*)
		echo "error: bad kernel '$k' (want VERSION-PAGESIZE, e.g. 7.3-64k)" >&2
		exit 2
		;;
	esac
	ver=${k%-*} kp=${NVGRACE_KPATCHES:-}
	case $ver in
	*kp)
		ver=${ver%kp}
		kp=$HERE/../../packaging/kernel-patches/$ver
		;;
	*ua)
		ver=${ver%ua}
		kp=$HERE/../../packaging/kernel-patches/$ver-vfio
		;;
	esac
	dir=$(NVGRACE_KPATCHES=$kp "$HERE/build-kernel.sh" "$ver" "${k##*-}")
	printf '%s %s\n' "$k" "$dir"
done
