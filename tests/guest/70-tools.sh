#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The operator tool, tools/nvgrace-vfio, on a real kernel: bad input is
# refused with a clear message, bind/unbind of the GPU stand-in (forced: it
# is no Grace GPU) with the previous state restored, a device in use is not
# taken away, doctor reports the GPU's firmware memory.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

T=/nvgrace/tools/nvgrace-vfio
if [ ! -x "$T" ]; then
	skip "nvgrace-vfio tool" "not in the initramfs (/nvgrace/tools)"
	exit 0
fi

# vt ARGS...: run the tool; $out holds stdout+stderr, $rc the exit status
vt() {
	out=$("$T" "$@" 2>&1)
	rc=$?
}

# expect DESC RC TEXT: the last vt exited RC and its output contains TEXT
expect() {
	case $out in
	*"$3"*) _m=1 ;;
	*) _m=0 ;;
	esac
	if [ "$rc" = "$2" ] && [ $_m = 1 ]; then
		ok "$1"
	else
		nok "$1"
		diag "want rc=$2 and '$3', got rc=$rc:"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

grp=$(basename "$(readlink "/sys/bus/pci/devices/$GPU/iommu_group")")
before=$(pci_driver "$GPU")
diag "stand-in GPU $GPU, IOMMU group ${grp:-none}, driver ${before:-none}"

vt --version
expect "tool runs under busybox sh" 0 "nvgrace-vfio "

vt bind 0000:7f:1f.7
expect "unknown BDF refused" 1 "0000:7f:1f.7: no such PCI device"
vt bind not-a-bdf
expect "malformed BDF refused" 2 "'not-a-bdf' is not a PCI address"
vt bind "$GPU"
expect "non-Grace device refused without --force" 1 "is not a Grace GPU"
expect_eq "refused device untouched" "$(pci_driver "$GPU")" "$before"
vt bind
expect "bind without arguments finds no Grace GPU here" 1 "no Grace GPU found"
# the Grace IDs are the driver's table, read with the guest's modinfo
# (busybox's finds a module by its underscored name)
ids=$(modinfo -F alias nvgrace_vfio_pci | sed -n 's/^vfio_pci:v0000\(....\)d0000\(....\).*/\1:\2/p' |
	tr 'A-F' 'a-f' | sort -u | tr '\n' ' ')
expect "the Grace IDs come from modinfo's aliases (${ids% })" 1 "no Grace GPU found (${ids% })"

# Module not installed: hide it from modprobe for a moment.
rmmod nvgrace_vfio_pci 2>/dev/null
ko=$(find "/lib/modules/$(uname -r)" -name 'nvgrace-vfio-pci.ko*' | head -n 1)
if [ -n "$ko" ]; then
	mv "$ko" /tmp/hidden.ko
	vt bind --force "$GPU"
	expect "module missing: clear error" 1 "module nvgrace-vfio-pci is not loaded and cannot be loaded"
	mv /tmp/hidden.ko "$ko"
else
	nok "nvgrace-vfio-pci.ko in the module tree"
fi

# No IOMMU: only testable when the guest has none.
if [ -z "$grp" ]; then
	vt bind --force "$GPU"
	expect "IOMMU off: clear error" 1 "IOMMU off"
	exit 0
fi
skip "IOMMU off error" "this guest has an IOMMU (covered by tests/tools)"

# The stand-in's readiness registers say "ready" (the driver waits for them).
check "stand-in GPU made ready" gpu_ready
check "firmware properties attached (nvgrace-test-fwprops)" \
	insmod /nvgrace/modules/nvgrace-test-fwprops.ko

# The module is not loaded: bind loads it.
vt bind --force "$GPU"
expect "bind --force loads the module and binds" 0 "$GPU: bound to nvgrace_vfio_pci"
expect_eq "bound driver" "$(pci_driver "$GPU")" nvgrace_vfio_pci
expect_eq "override set" "$(cat "/sys/bus/pci/devices/$GPU/driver_override")" nvgrace_vfio_pci
vt bind --force "$GPU"
expect "bind again: idempotent" 0 "$GPU: already bound to nvgrace_vfio_pci"
NVGRACE_VFIO_IDS=1234:1111 vt bind
expect "NVGRACE_VFIO_IDS: no --force needed, default list" 0 "already bound"

vt status "$GPU"
expect "status: driver, group, memory" 0 \
	"driver=nvgrace_vfio_pci override=nvgrace_vfio_pci iommu_group=$grp previous=${before:-none} mem=ok"

if "$NG_BIN/vfio-info" "$GPU" >/dev/null 2>&1; then
	ok "VFIO device opens after the tool's bind"
else
	nok "VFIO device opens after the tool's bind"
fi

# A VMM holding the group: unbind refuses.
(exec 3<>"/dev/vfio/$grp" && exec sleep 60) &
holder=$!
sleep 1
vt unbind "$GPU"
expect "unbind of a device in use: device busy" 1 "device busy: open by $holder"
expect_eq "busy device stays bound" "$(pci_driver "$GPU")" nvgrace_vfio_pci
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# doctor
vt doctor --json
case $out in
'{"tool":"nvgrace-vfio",'*'"summary":{"ok":'*'}}') ok "doctor --json: one JSON object" ;;
*) nok "doctor --json: one JSON object"; printf '%s\n' "$out" | sed 's/^/#   /' ;;
esac
n=$(printf '%s' "$out" | grep -o '"status":"[a-z]*"' | wc -l)
s=$(printf '%s' "$out" | sed 's/.*"summary":{"ok":\([0-9]*\),"warn":\([0-9]*\),"fail":\([0-9]*\)}}/\1 \2 \3/')
# shellcheck disable=SC2086
set -- $s
expect_eq "doctor --json: summary counts every check" "$n" "$(($1 + $2 + $3))"
NVGRACE_VFIO_IDS=1234:1111 vt doctor
printf '%s\n' "$out" | sed 's/^/#   /'
expect "doctor: GPU memory from the firmware properties" "$rc" \
	"ok    gpu $GPU"
expect "doctor: module loaded" "$rc" "ok    module "
expect "doctor: IOMMU on" "$rc" "ok    iommu "
expect "doctor: compat probes from the module's modinfo" "$rc" \
	"ok    compat-probes"
expect "doctor: ... of the build for the running kernel" "$rc" "built for $(uname -r))"
if [ "$NG_ARCH" = arm64 ]; then
	expect "doctor: arm64 KVM cacheable PFNMAP line" "$rc" "kvm-cacheable-pfnmap"
	expect "doctor: FWB of QEMU's -cpu max seen in the boot log" "$rc" "ok    cpu-fwb"
fi

vt unbind "$GPU"
expect "unbind" 0 "$GPU: unbound from nvgrace_vfio_pci"
expect_eq "previous driver restored" "$(pci_driver "$GPU")" "$before"
ov=$(cat "/sys/bus/pci/devices/$GPU/driver_override")
expect_eq "override cleared" "${ov#(null)}" ""
vt unbind "$GPU"
expect "unbind again: nothing to do" 0 "nothing to do"

check "rmmod nvgrace-vfio-pci" rmmod nvgrace_vfio_pci
check "rmmod nvgrace-test-fwprops" rmmod nvgrace_test_fwprops
