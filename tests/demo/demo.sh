#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The demo: build the pack for the Debian arm64 7.3 kernel, boot that kernel
# under QEMU with the emulated Grace GPU (bochs-display + ivshmem memory),
# bind the GPU to nvgrace-vfio-pci and open it through VFIO; then the user's
# real job: inside that guest, QEMU with -device vfio-pci gives the GPU to
# an L2 Linux VM, which writes to its memory (tests/vmm/tier.sh, arm64).
#
#   tests/demo/demo.sh [SERIES [ARCH]]     default: 7.3 arm64
#
# Needs root on a Debian bookworm machine; downloads what it needs into
# $NVGRACE_CACHE (~/.cache/nvgrace-dkms) on the first run.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"

series=${1:-7.3}
arch=${2:-arm64}
top=$NVGRACE_TOP

echo "==> building the pack for Debian $series/$arch (W=1, sparse)"
"$top/tests/matrix/matrix.sh" --series "$series" --arch "$arch" --strict |
	grep -E '^(ok|not ok)'
echo "==> booting Debian $series/$arch under QEMU with the Grace GPU stand-in"
image=$("$top/tests/matrix/kernels.sh" image "$series" "$arch")
bins=$("$top/tests/boot/build-guest-bins.sh" --arch "$arch")
log=${NVGRACE_LOGDIR:-$NVGRACE_CACHE/logs}/demo-$series-$arch.log
mkdir -p "${log%/*}"
rc=0
"$top/tests/boot/boot.sh" --arch "$arch" --image "$image" \
	--modules "${NVGRACE_BUILD_ROOT:-$NVGRACE_CACHE/build}/$series-$arch" --bin "$bins" \
	--tests "$top/tests/guest" --only '50-demo*' --tests "$here/guest" \
	--context 0 --log "$log" >"$log.tap" || rc=$?
# What the guest printed, steps and all, from its serial console; then
# what the host adds (the kernel log check, a boot that failed).
[ -e "$log" ] && sed -n '/^# ---- 50-demo (/,/^# ---- 50-demo done/p' "$log" | tr -d '\r'
grep -E '^(not )?ok - ' "$log.tap" | grep -v ': 50-demo: ' || true
sed -n 's/^BOOT-SUMMARY/demo:/p' "$log.tap"
[ "$rc" = 0 ] || echo "demo: failed (boot.sh exit $rc); serial log: $log"

# The VM: the real-VMM tier's run on this kernel (its 7.3 smoke form).
if [ "${arch%%-*}" = arm64 ]; then
	echo "==> giving the GPU to a VM: QEMU -device vfio-pci in the guest, an L2 Linux VM uses its memory"
	vmmargs=(--kernels "$arch/$series" --no-efi)
	[ "$series/$arch" = 7.3/arm64 ] && vmmargs=(--smoke)
	vrc=0
	"$top/tests/vmm/tier.sh" "${vmmargs[@]}" >"$log.vmm" || vrc=$?
	grep -E '^((not )?ok - |# +L2|VMM-TIER-SUMMARY)' "$log.vmm" || true
	if [ "$vrc" != 0 ]; then
		echo "demo: the VM step failed (tests/vmm/tier.sh exit $vrc); output: $log.vmm"
		rc=$vrc
	fi
fi
exit "$rc"
