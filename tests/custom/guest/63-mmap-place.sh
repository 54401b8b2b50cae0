#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Where mmap(NULL) puts usemem and resmem. With the companion VFIO patch
# (packaging/kernel-patches/7.3-vfio: vfio_device_ops.get_unmapped_area,
# the build's vfio_device_ops_get_unmapped_area probe) the driver places
# the mapping at a VA congruent with the memory's PA modulo 1 GiB (regions
# of 1 GiB or more) or a PMD, so first touch takes the faults of an aligned
# mapping (PMD or PUD); without it only the other checks run. Every boot
# also checks: a MAP_FIXED mapping one page off still works (PTE faults
# only), a free hint is kept, one page maps, offsets past the memory are
# EINVAL. The PLACE lines give first-touch times of the three placements,
# after an unmeasured warm-up pass (the host allocates the backing file),
# in the same boot (issue 16's measurement of the patch).
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

# shellcheck disable=SC2119
if ! bind_with_props; then
	nok "bind the stand-in with firmware properties"
	exit 1
fi
ok "bind the stand-in with firmware properties"
hook=0
case " $(modinfo -F nvgrace_probes /nvgrace/modules/nvgrace-vfio-pci.ko 2>/dev/null) " in
*" vfio_device_ops_get_unmapped_area "*) hook=1 ;;
esac
diag "driver places mappings (vfio_device_ops_get_unmapped_area): $hook"
"$NG_BIN/vfio-mem" place "$GPU" "$hook"
rc=$?
[ "$rc" -le 1 ] || nok "vfio-mem place ran (exit $rc)"
unbind_all
