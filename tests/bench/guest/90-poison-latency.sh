#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark (not a test): injection -> SIGBUS latency of nvgrace-poison with
# 1, 100 and 10,000 registered ranges. The range that is mapped and
# injected is the ivshmem BAR (nvgrace-test-poison.ko); the others are
# small dummy ranges registered by the same module. One "BENCH" line per
# range count.
# shellcheck source=tests/guest/lib.inc
. /nvgrace/tests/lib.inc

T=/sys/kernel/debug/nvgrace-poison-test
# Samples per range count: nvgrace.bench_samples=N on the kernel command line.
samples=$(sed -n 's/.*nvgrace\.bench_samples=\([0-9]*\).*/\1/p' /proc/cmdline)
samples=${samples:-200}

modprobe nvgrace-poison
for n in 1 100 10000; do
	if ! insmod /nvgrace/modules/nvgrace-test-poison.ko \
		extra_ranges=$((n - 1)); then
		nok "load nvgrace-test-poison with $n ranges"
		continue
	fi
	ranges=$(cat /sys/kernel/nvgrace_poison/ranges)
	base=$(cat $T/base_pfn)
	len=$(pci_bar_len "$MEM" 2)
	out=$("$NG_BIN/poison-test" --dev /dev/nvgrace-poison-test --off 0 \
		--len "$len" --pfn "$base" --label "$n ranges: " bench "$samples")
	printf '%s\n' "$out" | grep -v '^BENCH'
	line=$(printf '%s\n' "$out" | grep '^BENCH')
	echo "# BENCH kernel=$NG_KNAME ranges=$((ranges + 1)) ${line#BENCH }"
	rmmod nvgrace_test_poison
done
rmmod nvgrace_poison
