#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Custom kernels only: a poisoned page of usemem touched from an L2 guest.
# nvgrace-poison records the poison (debugfs inject), nvgrace-vfio-pci's
# fault handler refuses the page (VM_FAULT_HWPOISON), and KVM's stage-2
# fault either sends the VMM SIGBUS BUS_MCEERR_AR (patched kernels: the
# series' "mm: Add poison error check in fixup_user_fault() for mapped
# PFN") or fails KVM_RUN with EFAULT (unpatched 6.12 and mainline 7.3,
# which do not have that patch). Expectation from nvgrace.kvm= as in
# 70-kvm-pfnmap.sh.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

VMM=$NG_BIN/nvgrace-vmm
OUT=/tmp/vmm-poison.out
INJECT=/sys/kernel/debug/nvgrace-poison/inject
OFF=0x8000000	# 128 MiB into usemem

expect=$(kvm_expect)

if [ ! -c /dev/kvm ]; then
	skip "L2 on a poisoned usemem page" "no /dev/kvm in $(uname -r)"
	exit 0
fi
case $expect in
patched | unpatched | native) ;;
*)
	skip "L2 on a poisoned usemem page" "nvgrace.kvm=${expect:-unset} (needs patched, unpatched or native)"
	exit 0
	;;
esac

if ! modprobe nvgrace-poison 2>/dev/null || [ ! -e "$INJECT" ]; then
	skip "L2 on a poisoned usemem page" "no nvgrace-poison debugfs injection"
	exit 0
fi
bound=0
if command -v bind_with_props >/dev/null 2>&1; then
	# shellcheck disable=SC2119 # no extra fwprops parameters
	bind_with_props && bound=1
else
	modprobe nvgrace-vfio-pci &&
		insmod /nvgrace/modules/nvgrace-test-fwprops.ko &&
		pci_bind_override "$GPU" "$NG_DRV" && bound=1
fi
if [ $bound -ne 1 ]; then
	nok "bind the stand-in GPU to $NG_DRV"
	exit 1
fi

phys=$(cat "/sys/bus/pci/devices/$GPU/nvgrace/mem_phys" 2>/dev/null)
page=$("$VMM" --cap-only 2>/dev/null | sed -n 's/^page_size=//p')
if [ -z "$phys" ] || [ -z "$page" ]; then
	nok "usemem address and page size known (mem_phys='$phys' page='$page')"
else
	pfn=$(printf '0x%x' $(((phys + OFF) / page)))
	# The driver registers usemem with nvgrace-poison while the device is
	# open: the VMM injects once it has the region open and mapped.
	"$VMM" --write-file "$INJECT=$pfn" --poke "$OFF" "vfio:$GPU:4" >"$OUT" 2>&1
	sed 's/^/# poison: /' "$OUT"
	if [ "$(sed -n 's/^write_file=//p' "$OUT")" = ok ]; then
		ok "poison injected at usemem + $OFF (pfn $pfn) with the device open"
		got=$(sed -n 's/^access.poke=//p' "$OUT")
		case $expect in
		patched) want="sigbus code=4 (BUS_MCEERR_AR)" ;;
		*) want="kvm-error errno=14 (EFAULT)" ;;
		esac
		case $got in
		"${want%% (*}"*) ok "L2 load of the poisoned page, $expect: $want" ;;
		*)
			nok "L2 load of the poisoned page, $expect: $want"
			diag "got: ${got:-nothing}"
			;;
		esac
	else
		nok "poison injected at usemem + $OFF (pfn $pfn) with the device open"
	fi
fi

pci_unbind "$GPU"
pci_clear_override "$GPU"
rmmod nvgrace_test_fwprops 2>/dev/null
rmmod nvgrace_vfio_pci 2>/dev/null
rmmod nvgrace_poison 2>/dev/null
check "GPU stand-in unbound" test -z "$(pci_driver "$GPU")"
