#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The custom kernel tier: minimal arm64 kernels built from Debian's
# linux-source (IOMMUFD, VFIO cdev, KUnit, KVM, MEMORY_FAILURE; 4K and 64K
# pages), the pack built against each, and the guest tests plus the
# custom-only ones (tests/custom/guest: KUnit, cdev) booted on each.
#
#   tier.sh [KEY...]      KEY: VERSION-PAGESIZE (default: 6.12-4k 6.12kp-4k
#                         6.12tr-4k 7.3-4k 7.3ua-4k 7.3-64k 7.3-debug
#                         6.12-debug 6.1-debug);
#                         VERSION 6.12kp: 6.12 with the
#                         companion KVM series packaging/kernel-patches/6.12
#                         (6.1kp, not in the default set: 6.1 with its series);
#                         VERSION-debug (7.3-debug, 6.12-debug, 6.1-debug):
#                         4K pages plus config/debug.fragment (lockdep, KASAN,
#                         UBSAN, KFENCE, ...), booted with panic_on_warn, the
#                         stress test in its full form (NVGRACE_STRESS=quick
#                         for the short one); VERSION 6.12tr (6.12tr-4k,
#                         6.12tr-debug): the pack built as for a kernel
#                         before v6.10 (NVGRACE_PROBE_DISABLE=vfio_device_inode:
#                         the driver's own inode for its mappings,
#                         src/vfio/mapinode.c) on a kernel with the VFIO cdev,
#                         booted with the driver's mapping, reset and poison
#                         tests only ($NG_TRACKER_TESTS), then once more with
#                         a sibling function on the GPU's bus (boot.sh
#                         --sibling) for 47-sibling-reset: the driver's zap
#                         from reset_prepare() under memory_lock; the
#                         debug keys take that sibling boot too;
#                         VERSION 7.3ua: 7.3 with the companion VFIO patch
#                         packaging/kernel-patches/7.3-vfio (get_unmapped_area
#                         for the device fd), booted with the mapping tests
#                         and 63-mmap-place ($NG_PLACE_TESTS)
#
# Output: TAP lines ("ok - custom/7.3-4k: ..."); exit 0 when nothing failed.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"
top=$NVGRACE_TOP

keys=("$@")
[ ${#keys[@]} -gt 0 ] || keys=(6.12-4k 6.12kp-4k 6.12tr-4k 7.3-4k 7.3ua-4k 7.3-64k 7.3-debug 6.12-debug 6.1-debug)
# What the pre-6.10 keys (6.12tr) run: every test of the driver's mappings.
NG_TRACKER_TESTS='20-*,40-*,43-*,45-*,46-*,61-*,62-*'
# What the keys with the companion VFIO patch (7.3ua) run: the mapping tests
# and where mmap(NULL) puts a mapping.
NG_PLACE_TESTS='10-*,20-*,40-*,41-*,43-*,63-*'

failed=0
# The companion KVM series still apply to their Debian trees (no build).
"$here/patches.sh" || failed=1
bins=$("$top/tests/boot/build-guest-bins.sh" --arch arm64)
for key in "${keys[@]}"; do
	ver=${key%-*} psz=${key#*-} name=custom/$key variant=''
	# Debug kernels: any WARN panics, KASAN reports panic, a task blocked
	# for 30 s panics, a soft lockup panics (with the stuck CPU's stack on
	# the console; unchecked, one wedged a 6.12-debug guest for minutes);
	# the stress test runs in its full form. A 16 MiB log buffer: with
	# tinyconfig's 128 KiB a lockdep report from 40-regions had been
	# overwritten before the runner's log check read it.
	dbg_append='' ttimeout=300 btimeout=900
	if [ "$psz" = debug ]; then
		psz=4k variant=debug ttimeout=1800 btimeout=5400
		dbg_append="panic_on_warn=1 kasan.fault=panic hung_task_panic=1 softlockup_panic=1 kfence.sample_interval=10 log_buf_len=16M nvgrace.stress=${NVGRACE_STRESS:-full}"
	fi
	# What KVM does with cacheable PFNMAP (tests/custom/guest/70-*): the
	# series' own kernel, mainline from 6.17, or neither.
	kp=${NVGRACE_KPATCHES:-} kvm=unpatched packargs=() only=() sibling=0
	case $ver in
	*kp)
		ver=${ver%kp}
		kp=$top/packaging/kernel-patches/$ver
		kvm=patched
		;;
	*tr)
		ver=${ver%tr}
		packargs=(NVGRACE_PROBE_DISABLE=vfio_device_inode)
		only=(--only "$NG_TRACKER_TESTS")
		sibling=1
		;;
	*ua)
		# The companion VFIO patch (get_unmapped_area): the mapping tests.
		ver=${ver%ua}
		kp=$top/packaging/kernel-patches/$ver-vfio
		only=(--only "$NG_PLACE_TESTS")
		;;
	esac
	[ "$(printf '%s\n' 6.17 "$ver" | sort -V | head -n1)" = 6.17 ] && [ "$kvm" = unpatched ] &&
		kvm=native
	# Debug kernels boot with the sibling too: the checkers watch the zap
	# a sibling's hot reset makes (from reset_prepare() before v6.10).
	if [ "$variant" = debug ]; then
		sibling=1
	fi
	if ! kdir=$(NVGRACE_KPATCHES=$kp "$here/build-kernel.sh" "$ver" "$psz" $variant); then
		echo "not ok - $name: kernel builds"
		failed=1
		continue
	fi
	echo "ok - $name: kernel builds ($kdir)"

	build=${NVGRACE_BUILD_ROOT:-$NVGRACE_CACHE/build}/custom-$key
	log=$NVGRACE_CACHE/logs/custom-$key-pack.log
	mkdir -p "$build"
	(cd "$top" && git ls-files -co --exclude-standard -- Makefile Kbuild dkms.conf src compat tests/modules |
		tar -cf - -T -) | tar -xf - -C "$build"
	if make -C "$build" -j2 KDIR="$kdir" ARCH=arm64 \
		CROSS_COMPILE=aarch64-linux-gnu- W=1 NVGRACE_TESTS=y "${packargs[@]}" >"$log" 2>&1 &&
		[ -e "$build/nvgrace-kunit.ko" ]; then
		echo "ok - $name: pack and KUnit module build"
	else
		echo "not ok - $name: pack and KUnit module build"
		tail -n 30 "$log" | sed 's/^/# /'
		failed=1
		continue
	fi

	"$top/tests/boot/boot.sh" --arch arm64 --name "$name" \
		--kernel "$kdir/arch/arm64/boot/Image" --modules "$build" \
		--bin "$bins" --tests "$top/tests/guest" --tests "$here/guest" \
		--timeout "$btimeout" --test-timeout "$ttimeout" "${only[@]}" \
		--append "nvgrace.kvm=$kvm${dbg_append:+ $dbg_append}" ||
		failed=1

	# A hot reset through a sibling's fd: the pre-6.10 code zaps from its
	# reset_prepare() under the memory_lock the core holds (47-*).
	if [ "$sibling" = 1 ]; then
		"$top/tests/boot/boot.sh" --arch arm64 --name "$name+sibling" \
			--kernel "$kdir/arch/arm64/boot/Image" --modules "$build" \
			--bin "$bins" --tests "$top/tests/guest" --sibling \
			--timeout "$btimeout" --test-timeout "$ttimeout" --only '47-*' \
			--append "nvgrace.kvm=$kvm${dbg_append:+ $dbg_append}" ||
			failed=1
	fi

	# The patched kernel on a CPU with FWB but without DIC (QEMU's
	# cortex-a710, like QEMU 7.2's max): no capability, usemem refused.
	if [ "$kvm" = patched ]; then
		"$top/tests/boot/boot.sh" --arch arm64 --name "$name/nodic" \
			--kernel "$kdir/arch/arm64/boot/Image" --modules "$build" \
			--bin "$bins" --tests "$top/tests/guest" --tests "$here/guest" \
			--only '70-kvm*,44-kvm*' --append "nvgrace.kvm=nodic" \
			--qemu-arg -cpu --qemu-arg cortex-a710 ||
			failed=1
	fi
done
exit "$failed"
