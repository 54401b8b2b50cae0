#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# nvgrace-vfio-pci tells what KVM does with cacheable PFNMAP memory on this
# kernel and CPU: kvm_cacheable_pfnmap (native, patched, absent, n/a), and
# on arm64 cpu_fwb and cpu_dic, in its driver directory and in one line at
# load; doctor reports the same.
#
# What is expected: from nvgrace.kvm= on the command line when the custom
# tier sets it (patched, unpatched, native, nodic); else Debian's kernels,
# which carry no companion patches: native from 6.17 on arm64, absent
# before, n/a elsewhere. The CPU features against the kernel's own boot log
# ("CPU features: detected: ..."), and QEMU's cortex-a710 (nodic) has no DIC.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

expect=$(kvm_expect)
kv=$(uname -r)
case $expect in
patched | nodic) want=patched ;;
unpatched) want=absent ;;
native) want=native ;;
*)
	if [ "$NG_ARCH" != arm64 ]; then
		want=n/a
	elif [ "$(printf '%s\n' 6.17 "${kv%%-*}" | sort -V | head -n1)" = 6.17 ]; then
		want=native
	else
		want=absent
	fi
	;;
esac
diag "kernel $kv, ${expect:+nvgrace.kvm=$expect, }expecting $want"

# The kernel's own view of the CPU, from its boot log (before the ring
# buffer fills up with the tests' messages).
feats=$(dmesg | grep 'CPU features: detected')
rmmod nvgrace_vfio_pci 2>/dev/null
msg='nvgrace_vfio_pci: KVM cacheable PFNMAP: '
n0=$(dmesg | grep -c "$msg")
check "modprobe nvgrace-vfio-pci" modprobe nvgrace-vfio-pci
expect_eq "kvm_cacheable_pfnmap" "$(cat "$NG_DRVDIR/kvm_cacheable_pfnmap" 2>&1)" "$want"
expect_eq "one load message" "$(dmesg | grep -c "$msg")" $((n0 + 1))
line=$(dmesg | grep "$msg" | tail -n 1)
diag "$line"
case $line in
*"$msg$want"*) ok "load message says $want" ;;
*) nok "load message says $want" ;;
esac

if echo native >"$NG_DRVDIR/kvm_cacheable_pfnmap" 2>/dev/null; then
	nok "kvm_cacheable_pfnmap refuses a write"
else
	ok "kvm_cacheable_pfnmap refuses a write"
fi
expect_eq "kvm_cacheable_pfnmap unchanged by the write" \
	"$(cat "$NG_DRVDIR/kvm_cacheable_pfnmap")" "$want"

if [ "$NG_ARCH" = arm64 ]; then
	fwb=$(cat "$NG_DRVDIR/cpu_fwb")
	dic=$(cat "$NG_DRVDIR/cpu_dic")
	diag "cpu_fwb $fwb, cpu_dic $dic"
	if [ -z "$feats" ]; then
		skip "cpu_fwb and cpu_dic against the boot log" "no 'CPU features: detected' lines kept"
	else
		kfwb=0 kdic=0
		echo "$feats" | grep -q 'Stage-2 Force Write-Back' && kfwb=1
		echo "$feats" | grep -q 'Instruction cache invalidation not required' && kdic=1
		expect_eq "cpu_fwb matches the kernel's detected features" "$fwb" "$kfwb"
		expect_eq "cpu_dic matches the kernel's detected features" "$dic" "$kdic"
	fi
	case $expect in
	nodic)
		expect_eq "cortex-a710: no DIC" "$dic" 0
		case $line in
		*"but the CPU lacks what it needs (FEAT_S2FWB yes, CTR_EL0.DIC no)"*)
			ok "load message: KVM refuses memslots without DIC" ;;
		*) nok "load message: KVM refuses memslots without DIC" ;;
		esac
		;;
	patched | native)
		expect_eq "-cpu max: FWB" "$fwb" 1
		expect_eq "-cpu max: DIC" "$dic" 1
		;;
	esac
	for f in cpu_fwb cpu_dic; do
		if echo 1 >"$NG_DRVDIR/$f" 2>/dev/null; then
			nok "$f refuses a write"
		else
			ok "$f refuses a write"
		fi
	done
else
	check "no cpu_fwb/cpu_dic off arm64" sh -c "! test -e $NG_DRVDIR/cpu_fwb && ! test -e $NG_DRVDIR/cpu_dic"
fi

T=/nvgrace/tools/nvgrace-vfio
if [ -x "$T" ]; then
	out=$("$T" doctor 2>&1)
	case $want in
	n/a) pat="kvm-cacheable-pfnmap   not applicable" ;;
	*) pat="kvm-cacheable-pfnmap   $want (reported by $NG_DRV)" ;;
	esac
	case $out in
	*"$pat"*) ok "doctor: $pat" ;;
	*)
		nok "doctor: $pat"
		printf '%s\n' "$out" | grep -E 'kvm|cpu-' | sed 's/^/#   /'
		;;
	esac
else
	skip "doctor's KVM line" "no tool in the initramfs (/nvgrace/tools)"
fi

check "rmmod nvgrace-vfio-pci" rmmod nvgrace_vfio_pci
