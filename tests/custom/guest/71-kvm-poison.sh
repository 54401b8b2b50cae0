#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Custom kernels only: a poisoned page of usemem touched from an L2 guest.
# nvgrace-poison records the poison (debugfs inject). With the companion
# series (patch 0006, "KVM: Report a poisoned VM_PFNMAP page as a memory
# error": nvgrace.kvm=patched) it zaps the page, the driver's fault
# handler refuses KVM's refault (VM_FAULT_HWPOISON) and KVM sends the VMM
# SIGBUS BUS_MCEERR_AR. Without it (unpatched 6.12, mainline 7.3) a refused
# refault would fail KVM_RUN with EFAULT and the VMM would stop the VM, so
# by default (zap=auto) the page stays mapped and KVM's fault is served, as
# mainline's in-tree driver does: the L2 load completes (on hardware the
# memory error itself would reach the VMM as an abort). zap=always shows
# what the default avoids: EFAULT. Expectation from nvgrace.kvm= as in
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
	want_zap=0
	[ "$expect" = patched ] && want_zap=1
	expect_eq "nvgrace-poison zaps only with patch 0006 ($expect)" \
		"$(cat /sys/kernel/nvgrace_poison/zap)" $want_zap
	# run_poke MODE OFF WANT: the VMM maps usemem, the page at OFF is
	# injected while it runs, then L2 loads from it.
	run_poke() {
		_pfn=$(printf '0x%x' $(((phys + $2) / page)))
		"$VMM" --write-file "$INJECT=$_pfn" --poke "$2" "vfio:$GPU:4" >"$OUT" 2>&1
		sed 's/^/# poison: /' "$OUT"
		if [ "$(sed -n 's/^write_file=//p' "$OUT")" != ok ]; then
			nok "$1: poison injected at usemem + $2 (pfn $_pfn) with the device open"
			return
		fi
		ok "$1: poison injected at usemem + $2 (pfn $_pfn) with the device open"
		_got=$(sed -n 's/^access.poke=//p' "$OUT")
		case $_got in
		"${3%% (*}"*) ok "$1: L2 load of the poisoned page, $expect: $3" ;;
		*)
			nok "$1: L2 load of the poisoned page, $expect: $3"
			diag "got: ${_got:-nothing}"
			;;
		esac
	}
	case $expect in
	patched) run_poke "zap=auto" "$OFF" "sigbus code=4 (BUS_MCEERR_AR)" ;;
	*)
		run_poke "zap=auto" "$OFF" "ok (page left mapped, no EFAULT)"
		# The same with zapping forced: the VM would be lost.
		echo always >/sys/module/nvgrace_poison/parameters/zap
		run_poke "zap=always" $((OFF + 0x200000)) "kvm-error errno=14 (EFAULT)"
		echo auto >/sys/module/nvgrace_poison/parameters/zap
		;;
	esac
	# The records outlive the VMM's close of the device.
	expect_eq "the device keeps its poison records after the VMM exits" \
		"$(cat "/sys/bus/pci/devices/$GPU/nvgrace/poisoned")" \
		"$([ "$expect" = patched ] && echo 1 || echo 2)"
fi

pci_unbind "$GPU"
pci_clear_override "$GPU"
rmmod nvgrace_test_fwprops 2>/dev/null
rmmod nvgrace_vfio_pci 2>/dev/null
rmmod nvgrace_poison 2>/dev/null
check "GPU stand-in unbound" test -z "$(pci_driver "$GPU")"
