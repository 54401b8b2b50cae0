#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The real client: QEMU (Debian's arm64 build, from the disk image of
# tests/vmm/qemu-image.sh) runs in this guest with -accel kvm and gives the
# stand-in GPU, bound to nvgrace-vfio-pci, to an L2 Linux guest with
# -device vfio-pci. The L2 guest (tests/vmm/l2/init) enumerates the GPU,
# writes usemem and resmem, tries Normal-memory accesses on usemem, times
# first touches, resets the device; this script checks what it reports
# against what the driver says, and what the host finds in the backing file.
#
# Kernel command line (tests/vmm/tier.sh): nvgrace.kvm=native|unpatched|patched
# (what KVM should make of cacheable PFNMAP memory at stage 2),
# nvgrace.vmm=smoke|full (full adds a UEFI + ACPI L2 boot).
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc
# shellcheck source=tests/vmm/guest/l2vm.inc
. /nvgrace/tests/l2vm.inc

USE_OFF=0x10008
USE_VAL=0x4e5655534531a5a5
RES_OFF=0x20010
RES_VAL=0x4e565245533172c3
EFI_USE_OFF=0x50008
EFI_USE_VAL=0x4e56454649310101
EFI_RES_OFF=0x60010
EFI_RES_VAL=0x4e56454649320202
TOUCH=256,768

expect=$(kvm_expect)
mode=smoke
read -r _cl </proc/cmdline
for _w in $_cl; do
	case $_w in nvgrace.vmm=*) mode=${_w#*=} ;; esac
done
[ -n "$expect" ] || expect=unknown
diag "kernel $(uname -r), KVM stage 2 for cacheable PFNMAP expected: $expect, run: $mode"

if [ ! -c /dev/kvm ]; then
	skip "real VMM" "no /dev/kvm in $(uname -r) (the guest must boot at EL2)"
	exit 0
fi
l2_setup || exit 1

# --- the GPU, as the operator binds it --------------------------------------
# (full run: nvgrace-poison first, so that the device's poison table exists
# from the first open on, for the poison step of the UEFI L2)
INJECT=/sys/kernel/debug/nvgrace-poison/inject
[ "$mode" = full ] && modprobe nvgrace-poison 2>/dev/null
# shellcheck disable=SC2119 # no extra fwprops parameters
if ! bind_with_props; then
	nok "bind the stand-in GPU to $NG_DRV"
	unbind_all
	l2_cleanup
	exit 1
fi
ATTR=/sys/bus/pci/devices/$GPU/nvgrace
"$NG_BIN/vfio-info" "$GPU" >/tmp/info 2>&1
region() { sed -n "s/^region$1_size=//p" /tmp/info; }
R2=$(region 2)
R4=$(region 4)
diag "VFIO regions as L1 reads them: 2 (resmem) $R2, 4 (usemem) $R4"
# usemem/resmem: "PHYS LEN BARSIZE"; file offset = PHYS - ivshmem BAR2 start
BASE=$(pci_bar_start "$MEM" 2)
read -r USE_PHYS _ USE_BAR <"$ATTR/usemem"
read -r RES_PHYS _ RES_BAR <"$ATTR/resmem"
USE_FOFF=$((USE_PHYS - BASE))
RES_FOFF=$((RES_PHYS - BASE))
expect_eq "VFIO region 4 size is the driver's usemem BAR size" "$R4" "$(printf '0x%x' "$USE_BAR")"
expect_eq "VFIO region 2 size is the driver's resmem BAR size" "$R2" "$(printf '0x%x' "$RES_BAR")"

# --- stage-2 fault counting ---------------------------------------------------
[ "$mode" = full ] && s2_start
dfaults() { echo "$(cat "$ATTR/faults_pte" 2>/dev/null)/$(cat "$ATTR/faults_pmd" 2>/dev/null)/$(cat "$ATTR/faults_pud" 2>/dev/null)"; }
resets0=$(cat "$ATTR/resets" 2>/dev/null)
faults0=$(dfaults)

# --- run L2 -------------------------------------------------------------------
# bar_check NAME BAR WHAT SIZE: 64-bit prefetchable memory BAR of SIZE bytes
# (IORESOURCE_MEM 0x200, PREFETCH 0x2000, MEM_64 0x100000 in the flags)
bar_check() {
	# shellcheck disable=SC2046 # START SIZE FLAGS as three words
	set -- "$1" "$2" "$3" "$4" $(kvf "$1" "bar$2")
	if [ $# -eq 7 ] && [ $(($7 & 0x102200)) -eq $((0x102200)) ] && [ "$6" = $(($4)) ]; then
		ok "$1: L2 sees BAR$2 ($3) as a 64-bit prefetchable BAR of $(($4 >> 20)) MiB at $5"
	else
		nok "$1: L2 sees BAR$2 ($3) as a 64-bit prefetchable BAR of $(($4 >> 20)) MiB"
		diag "L2 bar$2: '$(kvf "$1" "bar$2")'"
	fi
}

# rw_check NAME KEY WHAT FOFF OFF VAL: L2 wrote and read back; host check
rw_check() {
	expect_eq "$1: L2 writes $3 at $5 and reads it back" "$(kvf "$1" "$2.rw")" ok
	echo "# NVGRACE-HOSTCHECK $(printf '0x%x' $(($4 + $5))) u64:$6"
}

if [ "$mode" = full ]; then
	l2args="l2.tests=all l2.touch=$TOUCH"
else
	l2args=l2.tests=basic
fi
run_l2 l2 virt,gic-version=3 "$l2args l2.use=$USE_OFF:$USE_VAL l2.res=$RES_OFF:$RES_VAL"
if ! l2_ran l2 "QEMU gives the GPU to an L2 guest that runs to its end"; then
	unbind_all
	l2_cleanup
	exit 1
fi
diag "L2 reached its init after $(kvf l2 uptime)s of L2 uptime"
if [ "$(kvf l2 gpu)" = none ] || [ -z "$(kvf l2 gpu)" ]; then
	nok "L2 enumerates the GPU (1234:1111)"
	show_l2 l2
else
	ok "L2 enumerates the GPU (1234:1111) at $(kvf l2 gpu)"
fi
bar_check l2 4 usemem "$USE_BAR"
bar_check l2 2 resmem "$RES_BAR"
diag "L2 maps usemem through $(kvf l2 usemem_file), resmem through $(kvf l2 resmem_file)"
rw_check l2 use usemem "$USE_FOFF" "$USE_OFF" "$USE_VAL"
rw_check l2 res resmem "$RES_FOFF" "$RES_OFF" "$RES_VAL"

# Items 2 and 3 and the reset: full run only (make check's smoke checks that
# L2 gets the GPU and that its writes land in the host's backing file).
if [ "$mode" = full ]; then
	# Item 2: usemem mapped Normal-NC at stage 1 in L2; stage 2 decides.
	acc() { kvf l2 "usemem.access.$1"; }
	ALL="aligned_load aligned_store unaligned_load unaligned_store atomic_ldadd atomic_cas exclusive_ldxr_stxr"
	row=
	for a in $ALL; do
		row="$row $a=$(acc "$a" | cut -d' ' -f1)"
		diag "usemem $a: $(acc "$a")   resmem: $(kvf l2 "resmem.access.$a")"
	done
	echo "# VMM-RESULT access kvm=$expect$row"
	case $expect in
	native | patched)
		bad=
		for a in $ALL; do [ "$(acc "$a")" = ok ] || bad="$bad $a"; done
		if [ -z "$bad" ]; then
			ok "usemem in L2 is Normal memory ($expect KVM): unaligned accesses, atomics and exclusives work"
		else
			nok "usemem in L2 is Normal memory ($expect KVM): unaligned accesses, atomics and exclusives work"
			diag "failed:$bad"
		fi
		;;
	unpatched)
		if [ "$(acc aligned_load)" = ok ] && [ "$(acc aligned_store)" = ok ] &&
			[ "$(acc unaligned_load)" = "sigbus code=1 (BUS_ADRALN)" ] &&
			[ "$(acc unaligned_store)" = "sigbus code=1 (BUS_ADRALN)" ]; then
			ok "usemem in L2 behaves as Device memory (unpatched KVM): aligned accesses work, unaligned ones get SIGBUS BUS_ADRALN"
		else
			nok "usemem in L2 behaves as Device memory (unpatched KVM): aligned accesses work, unaligned ones get SIGBUS BUS_ADRALN"
		fi
		;;
	*) skip "usemem memory type in L2" "no nvgrace.kvm= on the command line" ;;
	esac

	# Item 3: first-touch timings and stage-2 faults.
	t1=$(kvf l2 "touch256.touch.ns")
	t2=$(kvf l2 "touch768.touch.ns")
	terr="$(kvf l2 touch256.touch.error)$(kvf l2 touch768.touch.error)"
	if [ -n "$t1" ] && [ -n "$t2" ] && [ -z "$terr" ]; then
		ok "L2 first-touches 1 GiB of usemem (256 MiB in $((t1 / 1000000)) ms, 1 GiB in $(((t1 + t2) / 1000000)) ms)"
	else
		nok "L2 first-touches 1 GiB of usemem"
		diag "touch256: '$t1' touch768: '$t2' errors: '$terr'"
	fi
	if s2_stop l2; then
		diag "stage-2 faults (kvm_guest_fault) in usemem: first 256 MiB $s2_256m, all 1 GiB $s2_1g (over the whole L2 run: the first touch plus the few re-touches after reset)"
		if [ "$s2_1g" -gt 0 ]; then
			ok "stage-2 faults on usemem counted ($s2_1g for 1 GiB)"
		else
			nok "stage-2 faults on usemem counted"
			sed 's/^/#   /' /tmp/l2.hist | head -n 20
		fi
	else
		skip "stage-2 fault count" "no kvm_guest_fault hist trigger on this kernel"
	fi
	echo "# VMM-RESULT touch kvm=$expect t256_ns=${t1:--} t1g_ns=$(( ${t1:-0} + ${t2:-0} )) s2f256=$s2_256m s2f1g=$s2_1g driver_faults=$faults0,$(dfaults)"

	# Reset from L2 reaches the driver; the memory is there again afterwards.
	resets1=$(cat "$ATTR/resets" 2>/dev/null)
	diag "L2 reset method: $(kvf l2 reset_method); driver resets $resets0 -> $resets1"
	if [ "$(kvf l2 reset)" = ok ] && [ -n "$resets1" ] && [ "$resets1" -gt "${resets0:-0}" ]; then
		ok "L2 resets the GPU and the reset reaches $NG_DRV (resets $resets0 -> $resets1)"
	else
		nok "L2 resets the GPU and the reset reaches $NG_DRV"
		diag "L2: reset=$(kvf l2 reset)"
	fi
	expect_eq "after the reset L2 reads usemem's earlier write back" \
		"$(kvf l2 after_reset.old.read)" "$USE_VAL"
	rw_check l2 after_reset "usemem after the reset" "$USE_FOFF" 0x40008 "$USE_VAL"
fi

# --- powering L2 off releases the device --------------------------------------
check "no QEMU left after L2 powered off" sh -c '! pidof qemu-system-aarch64'
check "the group is free: VFIO opens the GPU again" "$NG_BIN/vfio-info" "$GPU"
pci_unbind "$GPU"
gpu_ready
check "rebind to $NG_DRV after the VM" pci_bind_override "$GPU" "$NG_DRV"

# --- UEFI + ACPI L2 (full run), with the poison step ---------------------------
# Issue 15: the host poisons a usemem page (the pack's debugfs injection)
# while L2 maps it, then rings a doorbell in resmem; L2 loads the page.
# With patch 0006 (nvgrace.kvm=patched) the page is zapped, KVM's refault is
# refused, QEMU gets SIGBUS BUS_MCEERR_AR and, with ras=on, injects an SEA
# with a CPER record through its GHES: L2's kernel logs the memory error,
# the L2 process gets SIGBUS, the VM runs on. Without 0006 (zap=auto) the
# page stays mapped: the load completes (under TCG nothing raises a hardware
# error; on hardware the access itself would) and the VM runs on.
P_OFF=0x8000000
P_BELL=0x70000
P_BELLVAL=0x4e5642454c4c2121
P_WAIT=120
p_inj='not tried' p_bell='not rung' p_pfn=-
# poison_during NAME PID: wait for L2's ready line, inject, ring the doorbell
poison_during() {
	while ! grep -q '^L2KV poison.ready=1' "$ROOT/tmp/$1.log" 2>/dev/null; do
		kill -0 "$2" 2>/dev/null || return 0
		sleep 0.5
	done
	p_pfn=$(printf '0x%x' $(((USE_PHYS + P_OFF) / PAGE)))
	if echo "$p_pfn" >"$INJECT" 2>/tmp/inject.err; then
		p_inj=ok
	else
		p_inj="error: $(cat /tmp/inject.err)"
	fi
	if "$NG_BIN/vfio-mem" store "$MEM" 2 $((RES_FOFF + P_BELL)) "$P_BELLVAL" 2>/tmp/bell.err; then
		p_bell=ok
	else
		p_bell="error: $(cat /tmp/bell.err)"
	fi
}
# poison_check: the TAP lines of the poison step (after the efi run)
poison_check() {
	_gpa=$(printf '0x%016x' $(($(kvf efi bar4 | cut -d' ' -f1) + P_OFF)))
	_read=$(kvf efi poison.read)
	_zap=$(cat /sys/kernel/nvgrace_poison/zap 2>/dev/null)
	diag "poison: pfn $p_pfn, inject $p_inj, doorbell $p_bell; L2: doorbell $(kvf efi poison.bell), load: $_read, neighbour: $(kvf efi poison.neighbour)"
	sed -n 's/^poison.klog=/#   L2 log: /p' /tmp/efi.kv | head -n 20
	_hw=no
	grep -q '^poison.klog=.*Hardware Error.*physical_address: '"$_gpa" /tmp/efi.kv && _hw=yes
	_vm=stopped
	if grep -q 'kvm run failed' /tmp/efi.err; then
		diag "QEMU: $(grep -m1 'kvm run failed' /tmp/efi.err)"
	elif [ "$l2rc" = 0 ] && [ "$(kvf efi 'done')" = 1 ]; then
		_vm=ran-on
	fi
	echo "# VMM-RESULT poison kvm=$expect zap=$_zap load=$(echo "$_read" | cut -d' ' -f1-3 | tr ' ' _) l2_memory_error=$_hw vm=$_vm"
	expect_eq "poison: the pack's injection records usemem + $P_OFF (pfn $p_pfn) while L2 maps it" "$p_inj" ok
	expect_eq "poison: L2 sees the host's doorbell after the injection" \
		"$p_bell/$(kvf efi poison.bell | cut -d' ' -f1)" ok/ok
	_ok=1
	case $expect in
	patched)
		_d="poison, patch 0006 (zap=$_zap): L2's load of the page gets a memory error"
		case $_read in sigbus*) ok "$_d (L2 process: $_read)" ;; *) nok "$_d"; _ok=0 ;; esac
		expect_eq "poison, patch 0006: L2's kernel logs a hardware memory error (GHES, CPER) at the page's guest address $_gpa" "$_hw" yes
		;;
	native | unpatched)
		_d="poison, no patch 0006 (zap=$_zap): the page stays mapped, L2's load completes and no memory error reaches L2 (under TCG nothing raises one)"
		case $_read/$_hw in pattern*/no) ok "$_d" ;; *) nok "$_d"; _ok=0 ;; esac
		;;
	*) skip "poison outcome" "no nvgrace.kvm= on the command line"; return 0 ;;
	esac
	[ $_ok = 1 ] || diag "L2 load: '$_read', memory error logged in L2: $_hw"
	_d="poison: the VM survives (neighbour page intact, no KVM_RUN error, L2 runs to a clean exit)"
	if [ "$_vm" = ran-on ] && [ "$(kvf efi poison.neighbour)" = intact ]; then
		ok "$_d"
	else
		nok "$_d"
		diag "vm: $_vm, neighbour: '$(kvf efi poison.neighbour)'"
	fi
}
if [ "$mode" = full ]; then
	PAGE=$("$NG_BIN/nvgrace-vmm" --cap-only 2>/dev/null | sed -n 's/^page_size=//p')
	poison=''
	if [ -w "$INJECT" ] && [ -n "$PAGE" ]; then
		poison="l2.poison=$P_OFF:$P_BELL:$P_WAIT"
		L2_DURING=poison_during
		diag "poison step: nvgrace-poison zap=$(cat /sys/kernel/nvgrace_poison/zap 2>/dev/null)"
	fi
	run_l2 efi virt,gic-version=3,ras=on \
		"acpi=force l2.tests=basic l2.use=$EFI_USE_OFF:$EFI_USE_VAL l2.res=$EFI_RES_OFF:$EFI_RES_VAL $poison" \
		-bios /usr/share/qemu-efi-aarch64/QEMU_EFI.fd
	L2_DURING=
	if l2_ran efi "UEFI + ACPI L2 (QEMU_EFI.fd, virt,ras=on) runs with the GPU"; then
		expect_eq "efi: L2 booted through ACPI" "$(kvf efi boot)" acpi
		bar_check efi 4 usemem "$USE_BAR"
		bar_check efi 2 resmem "$RES_BAR"
		rw_check efi use usemem "$USE_FOFF" "$EFI_USE_OFF" "$EFI_USE_VAL"
		rw_check efi res resmem "$RES_FOFF" "$EFI_RES_OFF" "$EFI_RES_VAL"
		diag "efi: L2 init after $(kvf efi uptime)s of L2 uptime"
	fi
	if [ -z "$poison" ]; then
		skip "poison end to end through QEMU" "no nvgrace-poison debugfs injection ($INJECT) or page size"
	else
		poison_check
	fi
	check "the group is free after the UEFI VM" "$NG_BIN/vfio-info" "$GPU"

	# The operator's recipe: the arguments nvgrace-vfio vm prints (the GPU
	# memory as 8 NUMA nodes through ACPI generic initiators, the high MMIO
	# window, the backend), with node 0 holding L2's CPU and RAM.
	VM_USE_OFF=0x70008
	VM_USE_VAL=0x4e56564d31010303
	VM_RES_OFF=0x78010
	VM_RES_VAL=0x4e56564d32020404
	if vmargs=$(NVGRACE_QEMU="chroot $ROOT /usr/bin/qemu-system-aarch64" \
		/nvgrace/tools/nvgrace-vfio vm "$GPU" 2>/tmp/vm.report); then
		ok "nvgrace-vfio vm: QEMU arguments for the GPU, nothing missing"
	else
		nok "nvgrace-vfio vm: QEMU arguments for the GPU, nothing missing"
	fi
	sed 's/^/#   /' /tmp/vm.report
	vmargs=$(printf '%s\n' "$vmargs" | sed 's/ *\\$//' | tr '\n' ' ')
	diag "nvgrace-vfio vm: $vmargs"
	L2_GPUARGS="-object memory-backend-ram,id=ram0,size=256M -numa node,nodeid=0,cpus=0,memdev=ram0 $vmargs"
	run_l2 vm virt,gic-version=3,ras=on \
		"acpi=force l2.tests=basic l2.use=$VM_USE_OFF:$VM_USE_VAL l2.res=$VM_RES_OFF:$VM_RES_VAL" \
		-bios /usr/share/qemu-efi-aarch64/QEMU_EFI.fd
	L2_GPUARGS=
	if l2_ran vm "UEFI + ACPI L2 on nvgrace-vfio vm's arguments runs with the GPU"; then
		expect_eq "vm: L2 has NUMA nodes 0-8 (its own node 0, the GPU's 8)" "$(kvf vm nodes.possible)" 0-8
		expect_eq "vm: nodes 1-8 are the GPU's generic-initiator nodes" "$(kvf vm nodes.gi)" 1-8
		bar_check vm 4 usemem "$USE_BAR"
		bar_check vm 2 resmem "$RES_BAR"
		rw_check vm use usemem "$USE_FOFF" "$VM_USE_OFF" "$VM_USE_VAL"
		rw_check vm res resmem "$RES_FOFF" "$VM_RES_OFF" "$VM_RES_VAL"
	fi
	check "the group is free after the nvgrace-vfio vm VM" "$NG_BIN/vfio-info" "$GPU"
fi

unbind_all
check "GPU unbound and the driver unloads after the VMs" test ! -e "$NG_DRVDIR"
l2_cleanup
