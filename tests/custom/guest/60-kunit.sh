#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Custom kernels only: run the pack's KUnit suites (they run when their
# module loads) and report each case; check the VFIO cdev/iommufd path.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

if [ ! -d /sys/kernel/debug/kunit ]; then
	skip "KUnit suites" "kernel $(uname -r) has no KUnit"
else
	modprobe nvgrace-poison
	check "load nvgrace-kunit (runs the suites)" \
		insmod /nvgrace/modules/nvgrace-kunit.ko
	check "load nvgrace-kunit-vfio (runs the driver logic suite)" \
		insmod /nvgrace/modules/nvgrace-kunit-vfio.ko
	for r in /sys/kernel/debug/kunit/nvgrace-*/results; do
		if [ ! -e "$r" ]; then
			nok "KUnit results in debugfs"
			continue
		fi
		suite=$(basename "$(dirname "$r")")
		ncases=0
		# Case lines are indented one level: "    ok 1 case_name".
		while read -r a b c d; do
			case "$a $b" in
			"ok "[0-9]*) ok "kunit $suite: $c"; ncases=$((ncases + 1)) ;;
			"not ok") nok "kunit $suite: $d"; ncases=$((ncases + 1)) ;;
			esac
		done <<-EOT
			$(grep -E '^[[:space:]]+(not )?ok [0-9]+ ' "$r")
		EOT
		[ "$ncases" -gt 0 ] || nok "kunit $suite: no test cases reported"
	done
	check "unload nvgrace-kunit" rmmod nvgrace_kunit
	check "unload nvgrace-kunit-vfio" rmmod nvgrace_kunit_vfio
	check "unload nvgrace-poison" rmmod nvgrace_poison
fi

if [ ! -c /dev/iommu ]; then
	skip "VFIO cdev" "kernel $(uname -r) has no IOMMUFD"
else
	gpu_ready
	modprobe nvgrace-vfio-pci ready_poll_ms=100
	insmod /nvgrace/modules/nvgrace-test-fwprops.ko
	check "bind for the cdev path" pci_bind_override "$GPU" "$NG_DRV"
	check "VFIO cdev node for the device" \
		sh -c "ls /sys/bus/pci/devices/$GPU/vfio-dev/vfio* >/dev/null"
	# usemem through iommufd and the cdev instead of the group
	"$NG_BIN/vfio-mem" cdev "$GPU"
	pci_unbind "$GPU"
	pci_clear_override "$GPU"
	rmmod nvgrace_test_fwprops
	check "unload nvgrace-vfio-pci" rmmod nvgrace_vfio_pci
fi
