#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: GPL-2.0-only
#
# The compat layer speaks up: builds of the pack against one kernel of the
# matrix (default 7.3 arm64) with probes switched off through
# NVGRACE_PROBE_DISABLE, as if the kernel lacked the API:
#   1. no huge-mapping probe fires: the build succeeds, prints a WARNING
#      line naming what is lost, and the modules say so in modinfo
#      (nvgrace_features_lost); the build facts name the kernel release;
#   2. the same tree with other compiler flags (KCFLAGS): the probes run
#      again in a results directory of their own (the cache key covers the
#      flags), with no warning; a third build with the same flags reuses
#      them (no probe runs);
#   3. no form of get_dmabuf_phys() compiles where vfio-pci-core has the
#      dma-buf ops: the build stops with the one-sentence #error.
# TAP on stdout; build logs in $NVGRACE_LOGDIR (default $NVGRACE_CACHE/logs).
#
#   compat-warn.sh [--series 7.3] [--arch arm64]

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=../lib/tap.sh
. "$here/../lib/tap.sh"

series=7.3 arch=arm64
while [ $# -gt 0 ]; do
	case $1 in
	--series) series=$2; shift ;;
	--arch) arch=$2; shift ;;
	*) die "usage: compat-warn.sh [--series SERIES] [--arch ARCH]" ;;
	esac
	shift
done

is() {
	if [ "$2" = "$3" ]; then tap_ok "$1"; else tap_not_ok "$1"; echo "# got '$2', want '$3'"; fi
}

kdir=$("$here/kernels.sh" headers "$series" "$arch") || die "no headers for $series/$arch"
rel=$("$here/kernels.sh" release "$series" "$arch")
build=${NVGRACE_BUILD_ROOT:-$NVGRACE_CACHE/build}/compat-warn-$series-$arch
logdir=${NVGRACE_LOGDIR:-$NVGRACE_CACHE/logs}
mkdir -p "$logdir"
rm -rf "$build"
mkdir -p "$build"
(cd "$NVGRACE_TOP" && git ls-files -co --exclude-standard -- Makefile Kbuild dkms.conf src compat |
	while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done |
	cpio -pdm --quiet "$build") || die "cannot copy the source to $build"

# mk LOG MAKE-ARGS...: build in $build with the kernel's compiler
mk() {
	local log=$logdir/compat-warn-$series-$arch-$1.log
	shift
	(cd "$build" && "$here/kernels.sh" run "$series" "$arch" -- \
		make -j2 "KDIR=$kdir" "$@") >"$log" 2>&1
}
logof() { echo "$logdir/compat-warn-$series-$arch-$1.log"; }
field() { modinfo -F "$1" "$build/nvgrace-vfio-pci.ko"; }

# 1. No huge PMD mapping probe.
nopmd="vmf_insert_pfn_pmd_ulong vmf_insert_pfn_pmd_pfn_t"
tap_check "build without the PMD insert probes succeeds" mk nopmd "NVGRACE_PROBE_DISABLE=$nopmd"
w=$(grep 'WARNING nvgrace-dkms:' "$(logof nopmd)")
printf '%s\n' "$w" | sed 's/^/# /'
case $w in
*"$rel: huge mappings disabled"*"feature huge-pmd"*) tap_ok "the build prints a WARNING: huge mappings disabled (huge-pmd)" ;;
*) tap_not_ok "the build prints a WARNING: huge mappings disabled (huge-pmd)" ;;
esac
tap_check "modinfo nvgrace_features_lost names huge-pmd" grep -qw huge-pmd <<<"$(field nvgrace_features_lost)"
tap_check "modinfo nvgrace_probes lacks the disabled probes" \
	test -z "$(field nvgrace_probes | tr ' ' '\n' | grep -x -e vmf_insert_pfn_pmd_ulong -e vmf_insert_pfn_pmd_pfn_t)"
is "modinfo nvgrace_kernel is the release built against" "$(field nvgrace_kernel)" "$rel"
is "nvgrace-poison carries the same build facts" \
	"$(modinfo -F nvgrace_probes "$build/nvgrace-poison.ko")" "$(field nvgrace_probes)"

# 2. Other flags: other results; the same flags again: cached.
tap_check "build with KCFLAGS=-DNVGRACE_KEY_TEST succeeds" mk flags KCFLAGS=-DNVGRACE_KEY_TEST
nprobes=$(grep -c '^  PROBE ' "$(logof flags)")
ndecl=$(grep -c '^  PROBE ' "$(logof nopmd)")
is "other flags: every probe runs again ($ndecl)" "$nprobes" "$ndecl"
is "two results directories, one per flag set" "$(find "$build/.compat" -mindepth 1 -maxdepth 1 -type d | wc -l)" 2
tap_check "no WARNING with every probe enabled" test -z "$(grep 'WARNING nvgrace-dkms:' "$(logof flags)")"
is "nothing lost in modinfo" "$(field nvgrace_features_lost)" ""
tap_check "same flags again succeeds" mk cached KCFLAGS=-DNVGRACE_KEY_TEST
is "same flags: no probe runs (cached)" "$(grep -c '^  PROBE ' "$(logof cached)")" 0

# 3. A required probe group that does not fire.
if grep -q '^#define HAVE_VFIO_PCI_CORE_PCI_OPS' "$build"/.compat/*/vfio_pci_core_pci_ops.h 2>/dev/null; then
	(cd "$build" && "$here/kernels.sh" run "$series" "$arch" -- make -C "$kdir" "M=$build" \
		"NVGRACE_PROBE_DISABLE=vfio_pci_device_ops_phys_vec vfio_pci_device_ops_dma_buf_phys_vec" \
		src/vfio/main.o) >"$(logof required)" 2>&1
	rc=$?
	grep 'error:' "$(logof required)" | head -n 3 | sed 's/^/# /'
	if [ $rc -ne 0 ] && grep -q '#error "nvgrace-dkms: get_dmabuf_phys() takes an unknown range type' "$(logof required)"; then
		tap_ok "required probes missing: the build stops with the #error sentence"
	else
		tap_not_ok "required probes missing: the build stops with the #error sentence (rc $rc)"
	fi
else
	tap_skip "required probes missing: #error" "$rel has no dma-buf ops in vfio-pci-core"
fi
tap_finish
