#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The emulated device-memory regions through the VFIO uAPI: region info and
# sparse cap, BAR sizing in config space, read()/write() bounds, bad mmaps,
# IOEVENTFD refused, memory-decode zapping, and the whole of usemem and
# resmem mapped, written and read back (the host then checks the backing
# file). Fault counters show huge mappings where the kernel has them.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

# shellcheck disable=SC2119 # no extra firmware parameters
if ! bind_with_props; then
	nok "bind the stand-in with firmware properties"
	exit 1
fi
ok "bind the stand-in with firmware properties"

"$NG_BIN/vfio-mem" regions "$GPU"
"$NG_BIN/vfio-mem" barsize "$GPU"
"$NG_BIN/vfio-mem" rw "$GPU"
"$NG_BIN/vfio-mem" ioeventfd "$GPU"
"$NG_BIN/vfio-mem" memdisable "$GPU"
# dma-buf export: resmem only; the stand-in has no real BAR4 behind usemem,
# which vfio-pci-core requires before exporting a region
"$NG_BIN/vfio-mem" dmabuf "$GPU"

pte0=$(nv_attr faults_pte) pmd0=$(nv_attr faults_pmd) pud0=$(nv_attr faults_pud)
"$NG_BIN/vfio-mem" mmap "$GPU" 4
pte=$(($(nv_attr faults_pte) - pte0))
pmd=$(($(nv_attr faults_pmd) - pmd0))
pud=$(($(nv_attr faults_pud) - pud0))
orders=$(nv_attr huge_orders)
diag "usemem 1 GiB first touch: $pte PTE-block faults, $pmd PMD faults, $pud PUD faults; kernel maps: $orders"
echo "# NVGRACE-METRIC faults_usemem pte=$pte pmd=$pmd pud=$pud orders=$orders"
pmdsz=$("$NG_BIN/vfio-mem" pmdsize)
blocks=$((1073741824 / pmdsz))
gib=$(($(nv_attr usemem | cut -d' ' -f2) >> 30))
case $orders in
*pud*)
	# usemem mapped at a 1 GiB-aligned VA: one PUD mapping per GiB
	check "usemem mapped with PUD (1 GiB) mappings: $gib faults for $gib GiB" \
		test "$pud" -eq "$gib" -a "$pte" -eq 0 -a "$pmd" -eq 0
	;;
*pmd*)
	check "usemem mapped with PMD ($((pmdsz >> 20)) MiB) mappings: $blocks faults for 1 GiB" \
		test "$pmd" -eq "$blocks" -a "$pte" -eq 0
	;;
*)
	# no huge PFN mappings: one fault maps a PMD-sized block of PTEs
	check "usemem mapped in $((pmdsz >> 20)) MiB blocks of PTEs: $blocks faults for 1 GiB" \
		test "$pte" -eq "$blocks" -a "$pmd" -eq 0
	;;
esac
"$NG_BIN/vfio-mem" mmap "$GPU" 2

unbind_all
check "unbound and unloaded" test ! -e "/sys/bus/pci/devices/$GPU/nvgrace"
