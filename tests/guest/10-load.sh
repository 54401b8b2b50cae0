#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The pack's modules load, register and unload cleanly; the VFIO driver binds
# nothing on its own (every ID is override-only).
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

check "modprobe nvgrace-poison" modprobe nvgrace-poison
check "nvgrace-poison exports its registration API" \
	grep -q ' nvgrace_poison_register' /proc/kallsyms
check "modprobe nvgrace-vfio-pci" modprobe nvgrace-vfio-pci
check "PCI driver $NG_DRV registered" test -d "$NG_DRVDIR"
check "module version is set" grep -q . /sys/module/nvgrace_vfio_pci/version
# Identity: the five Grace GPUs, as override-only (vfio_pci:) aliases.
ko=$(find /lib/modules/"$(uname -r)" -name 'nvgrace-vfio-pci.ko*' | head -n1)
aliases=$(modinfo -F alias "$ko" 2>/dev/null)
for id in 2342 2345 2348 2941 31C2; do
	case $aliases in
	*"vfio_pci:v000010DEd0000${id}sv"*) ok "override-only alias for GPU 10de:$id" ;;
	*) nok "override-only alias for GPU 10de:$id" ;;
	esac
done
expect_eq "no other aliases" "$(echo "$aliases" | grep -vc '^vfio_pci:')" 0
expect_eq "module description" "$(modinfo -F description "$ko")" \
	"VFIO PCI variant driver for NVIDIA Grace GPUs with coherent device memory"
expect_eq "module license" "$(modinfo -F license "$ko")" GPL
# Build facts (MODULE_INFO from the compat layer): the kernel built
# against, and each probe either fired or not, never both or neither.
for m in nvgrace-vfio-pci nvgrace-poison; do
	f=$(find /lib/modules/"$(uname -r)" -name "$m.ko*" | head -n1)
	expect_eq "$m: modinfo nvgrace_kernel is the running kernel" \
		"$(modinfo -F nvgrace_kernel "$f")" "$(uname -r)"
done
fired=$(modinfo -F nvgrace_probes "$ko")
absent=$(modinfo -F nvgrace_probes_absent "$ko")
diag "probes fired: ${fired:-none}; lost: $(modinfo -F nvgrace_features_lost "$ko")"
both=$(printf '%s\n%s\n' "$fired" "$absent" | tr ' ' '\n' | sed '/^$/d' | sort | uniq -d)
expect_eq "modinfo: no probe both fired and absent" "$both" ""
case " $fired $absent " in
*" vm_flags_set "*) ok "modinfo nvgrace_probes/_absent cover the probes (vm_flags_set)" ;;
*) nok "modinfo nvgrace_probes/_absent cover the probes (vm_flags_set)" ;;
esac
bound=0
for d in "$NG_DRVDIR"/*:*; do
	[ -e "$d" ] && bound=$((bound + 1))
done
expect_eq "no device bound without driver_override" "$bound" 0
check "stand-in GPU (bochs-display 1234:1111) present" test -n "$GPU"
check "stand-in memory (ivshmem 1af4:1110) present" test -n "$MEM"
check "rmmod nvgrace-vfio-pci" rmmod nvgrace_vfio_pci
check "rmmod nvgrace-poison" rmmod nvgrace_poison
check "modules gone" sh -c '! grep -q "^nvgrace_" /proc/modules'
