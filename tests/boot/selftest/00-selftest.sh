#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: GPL-2.0-only
# Boot-tier harness self-test (guest side). Run by tests/boot/selftest.sh,
# which checks on the host what this wrote into the ivshmem backing file.
#
# nvgrace.selftest=MODE on the kernel command line makes it misbehave on
# purpose: fail (a not ok), exit (exit 3, no not ok), hang (per-script
# timeout), panic (sysrq crash), warn (a WARNING: line in the kernel log).
# shellcheck source=../initramfs/lib.sh
. /nvgrace/lib.sh

mode=
read -r cmdline </proc/cmdline
# shellcheck disable=SC2086
for w in $cmdline; do
	case $w in nvgrace.selftest=*) mode=${w#*=} ;; esac
done
diag "kernel $(uname -r) arch $NG_ARCH name $NG_KNAME mode ${mode:-normal}"

check "modprobe vfio-pci" modprobe vfio-pci
check "modprobe vfio_iommu_type1" modprobe vfio_iommu_type1
check "modprobe hwpoison-inject" modprobe hwpoison-inject

if iv=$(ng_ivshmem); then ok "ivshmem 1af4:1110 present (${iv##*/})"; else not_ok "ivshmem 1af4:1110 present"; fi
if bo=$(ng_bochs); then ok "bochs-display 1234:1111 present (${bo##*/})"; else not_ok "bochs-display 1234:1111 present"; fi

# Write a pattern into the ivshmem BAR2 (the host file) through /dev/mem.
if [ -n "$iv" ] && bar=$(ng_bar "$iv" 2); then
	# shellcheck disable=SC2086
	set -- $bar
	base=$1 size=$2
	diag "ivshmem BAR2 at $base size $size; bochs BAR0 $(ng_bar "$bo" 0 || echo none)"
	echo 1 >"$iv/enable"
	good=1
	last=$((size - 4))
	for pair in 0:0x4e564752 0x100000:0x11223344 $last:0xdeadbeef; do
		off=${pair%%:*} val=${pair#*:}
		addr=$(printf '0x%x' $((base + off)))
		devmem "$addr" 32 "$val" || good=0
		got=$(devmem "$addr" 32)
		[ "$((got))" = "$((val))" ] || { diag "at $addr wrote $val read $got"; good=0; }
	done
	if [ $good = 1 ]; then ok "pattern written to ivshmem BAR2 via devmem"; else
		not_ok "pattern written to ivshmem BAR2 via devmem"; fi
	# Bind it to vfio-pci: proves an IOMMU group and /dev/vfio/N.
	if ng_bind "$iv" vfio-pci; then
		grp=$(basename "$(readlink "$iv/iommu_group")")
		if [ -e "/dev/vfio/$grp" ]; then ok "ivshmem bound to vfio-pci, /dev/vfio/$grp"; else not_ok "/dev/vfio/$grp missing"; fi
	else
		not_ok "ivshmem bound to vfio-pci"
	fi
else
	not_ok "ivshmem BAR2 assigned"
fi

skip "deliberately skipped test" "selftest of the SKIP directive"

case $mode in
fail) not_ok "deliberate failure (nvgrace.selftest=fail)" ;;
exit) echo "exiting 3 without a not ok"; exit 3 ;;
hang) diag "hanging (nvgrace.selftest=hang)"; sleep 100000 ;;
panic) diag "crashing (nvgrace.selftest=panic)"; echo c >/proc/sysrq-trigger ;;
warn) echo "WARNING: nvgrace selftest fake warning" >/dev/kmsg; ok "kernel log line written" ;;
esac
exit 0
