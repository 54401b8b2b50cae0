#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Custom kernels only: which memory type KVM gives device memory at stage 2,
# proven by a nested guest. nvgrace-vmm runs a tiny L2 guest (MMU off, so
# with FWB the stage-2 type alone decides) that does aligned and unaligned
# loads and stores, LDADD, CAS, LDXR/STXR and a pattern on a memslot, on:
#   anon      anonymous memory (control: Normal at stage 2 on every kernel)
#   resource2 the ivshmem BAR through sysfs (control: Device at stage 2)
#   usemem    nvgrace-vfio-pci's usemem region (VFIO region 4, cacheable
#             PFNMAP): Normal cacheable on patched and native kernels,
#             Device on an unpatched one (unaligned accesses fault)
#   resmem    region 2 (write-combine): Normal-NC where the driver could
#             tell KVM so (VM_ALLOW_ANY_UNCACHED, 6.8 and later: the
#             driver's vm_allow_any_uncached probe), else Device (6.1)
# The tier says what the kernel is on the command line:
#   nvgrace.kvm=patched|unpatched|native|nodic
# (nodic: a patched or native kernel on a CPU without FWB+DIC).
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

VMM=$NG_BIN/nvgrace-vmm
OUT=/tmp/vmm.out
ACCESSES="aligned_load aligned_store unaligned_load unaligned_store atomic_ldadd atomic_cas exclusive_ldxr_stxr pattern"
TOUCH_MIB=64

expect=$(kvm_expect)

if [ ! -c /dev/kvm ]; then
	skip "nested KVM tests" "no /dev/kvm in $(uname -r)"
	exit 0
fi
if [ -z "$expect" ]; then
	skip "nested KVM tests" "no nvgrace.kvm= on the command line (run from tests/custom/tier.sh)"
	exit 0
fi
diag "kernel $(uname -r), expected stage-2 behaviour: $expect"

# vmm_run NAME ARGS...: run the VMM, keep its output in $OUT.NAME, show it
vmm_run() {
	_n=$1
	shift
	"$VMM" "$@" >"$OUT.$_n" 2>&1
	_rc=$?
	sed "s/^/# $_n: /" "$OUT.$_n"
	return $_rc
}
# field NAME KEY: value of KEY= in the run's output
field() { sed -n "s/^$2=//p" "$OUT.$1" | head -n1; }
# result NAME ACCESS: first word of access.ACCESS= (ok, fault, kvm-error, wrong)
result() { field "$1" "access.$2" | cut -d' ' -f1; }

# all_ok NAME DESC: every access ok
all_ok() {
	_bad=
	for _a in $ACCESSES; do
		[ "$(result "$1" "$_a")" = ok ] || _bad="$_bad $_a=$(result "$1" "$_a")"
	done
	if [ -z "$_bad" ] && [ "$(field "$1" result)" = "done" ]; then
		ok "$2"
	else
		nok "$2"
		diag "not ok:$_bad result=$(field "$1" result)"
	fi
}

# faulted NAME ACCESS: the access faulted (in the guest or as a KVM_RUN error)
faulted() {
	case $(result "$1" "$2") in fault | kvm-error) return 0 ;; esac
	return 1
}

# device_like NAME DESC: aligned accesses work, unaligned ones fault
device_like() {
	if [ "$(result "$1" aligned_load)" = ok ] && [ "$(result "$1" aligned_store)" = ok ] &&
		faulted "$1" unaligned_load && faulted "$1" unaligned_store; then
		ok "$2"
	else
		nok "$2"
	fi
	for _a in atomic_ldadd atomic_cas exclusive_ldxr_stxr; do
		diag "$1 on Device memory: $_a: $(field "$1" "access.$_a")"
	done
}

# --- the capability ---------------------------------------------------------
vmm_run cap --cap-only
case $expect in
patched | native) want=1 ;;
*) want=0 ;;
esac
expect_eq "KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED ($expect kernel)" \
	"$(field cap cap.cacheable_pfnmap)" "$want"

# --- controls ---------------------------------------------------------------
vmm_run anon anon
all_ok anon "L2 accesses to anonymous memory all succeed (Normal at stage 2)"

MEMDEV=/sys/bus/pci/devices/$MEM
echo 1 >"$MEMDEV/enable" 2>/dev/null
vmm_run bar --size 0x200000 "file:$MEMDEV/resource2"
device_like bar "L2 on the BAR through sysfs (Device): aligned ok, unaligned faults"
echo 0 >"$MEMDEV/enable" 2>/dev/null

# --- usemem and resmem through nvgrace-vfio-pci ------------------------------
bind_gpu() {
	if command -v bind_with_props >/dev/null 2>&1; then
		# shellcheck disable=SC2119 # no extra fwprops parameters
		bind_with_props
	else
		modprobe nvgrace-vfio-pci &&
			insmod /nvgrace/modules/nvgrace-test-fwprops.ko &&
			pci_bind_override "$GPU" "$NG_DRV"
	fi
}
unbind_gpu() {
	pci_unbind "$GPU"
	pci_clear_override "$GPU"
	rmmod nvgrace_test_fwprops 2>/dev/null
	rmmod nvgrace_vfio_pci 2>/dev/null
	return 0
}

if ! bind_gpu; then
	nok "bind the stand-in GPU to $NG_DRV"
	unbind_gpu
	exit 1
fi

vmm_run usemem --touch "$TOUCH_MIB" "vfio:$GPU:4"
if [ $? -eq 3 ]; then
	skip "L2 on usemem" "VFIO region 4 cannot be mapped by this driver version"
elif [ "$expect" = nodic ]; then
	case $(field usemem memslot) in
	"error errno=22"*) ok "usemem memslot refused (EINVAL) without FWB+DIC" ;;
	*) nok "usemem memslot refused (EINVAL) without FWB+DIC"
		diag "memslot=$(field usemem memslot)" ;;
	esac
elif [ "$expect" = unpatched ]; then
	expect_eq "usemem memslot accepted" "$(field usemem memslot)" ok
	device_like usemem "L2 on usemem, unpatched: Device at stage 2 (unaligned accesses fault)"
else
	expect_eq "usemem memslot accepted" "$(field usemem memslot)" ok
	all_ok usemem "L2 on usemem, $expect: all accesses succeed (Normal cacheable at stage 2)"
fi
# The host checks the backing file after the run: the L2 guest's pattern
# word at usemem + 0x1008 (the VMM writes PATTERN ^ guest address, and the
# touch passes only write at multiples of 4 KiB). usemem starts at the
# device memory, which the stand-in puts at the start of the ivshmem BAR.
if [ "$(result usemem pattern)" = ok ] &&
	[ "$(cat "/sys/bus/pci/devices/$GPU/nvgrace/mem_phys" 2>/dev/null)" = \
		"$(printf '0x%x' "$(pci_bar_start "$MEM" 2)")" ]; then
	echo "# NVGRACE-HOSTCHECK 0x1008 u64:$(printf '0x%x' $((0x4e56475256000000 ^ 0x40001008)))"
fi

f=$(field usemem touch.stage2_faults)
if [ -n "$f" ]; then
	per=-
	[ "$f" -gt 0 ] && per=$((TOUCH_MIB * 1024 / f))
	diag "usemem: $f stage-2 faults for $TOUCH_MIB MiB touched from L2 ($(field usemem touch.exits_first)), $per KiB per fault"
	echo "# NVGRACE-METRIC kvm_s2_faults_usemem kernel=$expect mib=$TOUCH_MIB faults=$f"
	# Page by page would be TOUCH_MIB * 256 faults; the count includes
	# timer exits, so only check that blocks were used (>= 16 KiB each).
	# An unpatched KVM sizes a PFNMAP block from the host's leaf: where
	# the host maps the memory with PTEs only (huge_orders "pte", 6.1's
	# mm), it maps L2 page by page, the cost the series' 6.1 patch 0008
	# removes. Check that too, so the block count above stays meaningful.
	orders=$(cat "/sys/bus/pci/devices/$GPU/nvgrace/huge_orders" 2>/dev/null)
	if [ "$expect" = unpatched ] && [ "$orders" = pte ]; then
		check "usemem mapped at stage 2 page by page, as an unpatched KVM does over host PTEs ($f faults for $TOUCH_MIB MiB)" \
			test "$f" -ge $((TOUCH_MIB * 256))
	else
		check "usemem mapped at stage 2 in blocks, not 4 KiB pages ($f faults for $TOUCH_MIB MiB)" \
			test "$f" -lt $((TOUCH_MIB * 64))
	fi
fi

vmm_run resmem "vfio:$GPU:2"
rc=$?
ko=$(find /lib/modules/"$(uname -r)" -name 'nvgrace-vfio-pci.ko*' | head -n1)
if [ $rc -eq 3 ]; then
	skip "L2 on resmem" "VFIO region 2 cannot be mapped by this driver version"
else
	case " $(modinfo -F nvgrace_probes "$ko" 2>/dev/null) " in
	*" vm_allow_any_uncached "*)
		all_ok resmem "L2 on resmem: all accesses succeed (Normal-NC at stage 2)" ;;
	*)
		device_like resmem "L2 on resmem, no VM_ALLOW_ANY_UNCACHED in this kernel: Device at stage 2 (unaligned accesses fault)" ;;
	esac
fi

unbind_gpu
check "GPU stand-in unbound" test -z "$(pci_driver "$GPU")"
