#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# smoke-boot.sh VERSION PAGESIZE | smoke-boot.sh BUILDDIR
#
# Sanity boot of a custom kernel (build-kernel.sh) under QEMU TCG with the
# tier's machine: arm64 virt, GICv3, SMMUv3, EL2, a bochs-display and an
# ivshmem-plain device. A busybox-static initramfs checks that the config
# works (PCI enumeration, /dev/vfio/vfio, /dev/iommu, /dev/kvm, KUnit debugfs,
# hwpoison injector, THP, page size; vfio-pci bound to the ivshmem device gets
# an SMMUv3 IOMMU group, /dev/vfio/N and a /dev/vfio/devices cdev) and powers
# off. Run guests one at a time (2 cores).
#
# No QEMU network or firmware: -nodefaults (else virt wants efi-virtio.rom) and
# bochs-display,romfile= (its VGA BIOS is in seabios, not qemu-system-data).
#
# Prints timings; exit status 0 only if every check passed.
#
# Environment:
#   NVGRACE_QEMU      qemu-system-aarch64 to use; "host" for Debian bookworm's
#                     (7.2). Default: newest QEMU of bookworm-backports (10.0.x),
#                     extracted into the cache with dpkg -x.
#   NVGRACE_TIMEOUT   seconds before QEMU is killed (default 180)
#   NVGRACE_SMOKE_MODULES  space-separated .ko files (built against BUILDDIR)
#                     to insmod in the guest; any KUnit suite they carry runs at
#                     load, and a "not ok" KTAP line fails the boot

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$HERE/../lib/common.sh"

case $# in
1) B=$(cd "$1" && pwd) ;;
2) B=$("$HERE/build-kernel.sh" "$1" "$2") ;;
*)
	msg "usage: $0 VERSION PAGESIZE | $0 BUILDDIR"
	exit 2
	;;
esac
IMAGE=$B/arch/arm64/boot/Image
[ -f "$IMAGE" ] || die "$IMAGE does not exist (not a build-kernel.sh build dir?)"
if grep -qx 'CONFIG_ARM64_64K_PAGES=y' "$B/.config"; then PAGEKB=64; else PAGEKB=4; fi
TMO=${NVGRACE_TIMEOUT:-180}

ng_need cpio gzip coreutils util-linux

# --- QEMU --------------------------------------------------------------------

# Sets QEMU: the boot tier's QEMU 10 (tests/boot/qemu-setup.sh), unless
# NVGRACE_QEMU names another one ("host" for bookworm's QEMU 7.2).
setup_qemu() {
	case ${NVGRACE_QEMU:-} in
	host)
		ng_need qemu-system-arm
		QEMU=/usr/bin/qemu-system-aarch64
		;;
	?*)
		QEMU=$NVGRACE_QEMU
		;;
	*)
		QEMU=$("$NVGRACE_TOP/tests/boot/qemu-setup.sh" |
			sed -n "s/^NG_QEMU_AARCH64='\(.*\)'$/\1/p")
		;;
	esac
}
setup_qemu
[ -x "$QEMU" ] || die "no QEMU at $QEMU"

# --- initramfs ---------------------------------------------------------------

ng_apt_setup
BBROOT=$NVGRACE_CACHE/busybox-arm64
ng_extract "$(ng_download busybox-static:arm64)" "$BBROOT"
BUSYBOX=$BBROOT/usr/bin/busybox            # trixie and later (merged /usr)
[ -f "$BUSYBOX" ] || BUSYBOX=$BBROOT/bin/busybox  # bookworm
[ -f "$BUSYBOX" ] || die "busybox-static:arm64 has no busybox binary"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ngsmoke.XXXXXX")
SHM=/dev/shm/ngsmoke-$$
QPID=
cleanup() {
	if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
		kill "$QPID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
	rm -f "$SHM"
}
trap cleanup EXIT

mkdir -p "$WORK/root/bin" "$WORK/root/dev" "$WORK/root/proc" "$WORK/root/sys" \
	"$WORK/root/tmp"
cp "$BUSYBOX" "$WORK/root/bin/busybox"
mkdir -p "$WORK/root/modules"
for ko in ${NVGRACE_SMOKE_MODULES:-}; do
	[ -f "$ko" ] || die "NVGRACE_SMOKE_MODULES: no file $ko"
	cp "$ko" "$WORK/root/modules/"
done
cat >"$WORK/root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
echo "NGSMOKE init"
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
echo "NGSMOKE uptime at init $(cut -d' ' -f1 /proc/uptime)"
fail=
check() { # check DESCRIPTION TEST...
	d=$1; shift
	if "$@"; then echo "NGSMOKE ok   $d"; else echo "NGSMOKE FAIL $d"; fail="$fail $d"; fi
}
has_pci() { # has_pci VENDOR DEVICE
	for dv in /sys/bus/pci/devices/*; do
		[ "$(cat "$dv/vendor")" = "$1" ] && [ "$(cat "$dv/device")" = "$2" ] && return 0
	done
	return 1
}
cat /proc/version
ls /sys/bus/pci/devices
for dv in /sys/bus/pci/devices/*; do
	g=-; [ -e "$dv/iommu_group" ] && g=$(basename "$(readlink "$dv/iommu_group")")
	echo "  ${dv##*/} $(cat "$dv/vendor"):$(cat "$dv/device") class $(cat "$dv/class") iommu_group $g"
done
check "bochs-display 1234:1111" has_pci 0x1234 0x1111
check "ivshmem 1af4:1110" has_pci 0x1af4 0x1110
check /dev/vfio/vfio test -c /dev/vfio/vfio
check /dev/iommu test -c /dev/iommu
check /dev/kvm test -c /dev/kvm
check /sys/kernel/debug/kunit test -d /sys/kernel/debug/kunit
check /sys/kernel/debug/hwpoison test -d /sys/kernel/debug/hwpoison
# Bind vfio-pci to the ivshmem device: needs a working SMMUv3 (the IOMMU group
# is created at boot from 6.13 on, at driver bind before) and gives both the
# group node /dev/vfio/N and the cdev /dev/vfio/devices/vfioX.
iv=
for dv in /sys/bus/pci/devices/*; do
	[ "$(cat "$dv/vendor"):$(cat "$dv/device")" = 0x1af4:0x1110 ] && iv=$dv
done
if [ -n "$iv" ]; then
	echo vfio-pci >"$iv/driver_override"
	echo "${iv##*/}" >/sys/bus/pci/drivers_probe
	drv=$(readlink "$iv/driver" || true)
	check "vfio-pci bound to ivshmem" test "${drv##*/}" = vfio-pci
	grp=$(readlink "$iv/iommu_group" || true)
	check "ivshmem in IOMMU group ${grp##*/} (SMMUv3)" test -n "$grp"
	check "/dev/vfio/${grp##*/}" test -c "/dev/vfio/${grp##*/}"
	check "/dev/vfio/devices/vfio* (cdev)" test -n "$(ls /dev/vfio/devices 2>/dev/null)"
fi
check "transparent hugepage" test -d /sys/kernel/mm/transparent_hugepage
pk=$(awk '/^KernelPageSize/ {print $2; exit}' /proc/self/smaps)
check "page size ${pk}k = @PAGEKB@k" test "$pk" = @PAGEKB@
dmesg | grep -i -E 'smmu|kvm|iommufd' | head -n 12
for ko in /modules/*.ko; do
	[ -e "$ko" ] || continue
	check "insmod ${ko##*/}" insmod "$ko"
done
if [ -n "$(ls /modules)" ]; then
	dmesg | grep -E '^[[:space:]]*(# |(not )?ok [0-9])' | tail -n 20
	check "KUnit: no failed case" sh -c "! dmesg | grep -q -E '^[[:space:]]*not ok [0-9]'"
fi
if [ -z "$fail" ]; then echo "NGSMOKE PASS"; else echo "NGSMOKE FAILED:$fail"; fi
echo "NGSMOKE done uptime $(cut -d' ' -f1 /proc/uptime)"
poweroff -f
EOF
sed -i "s/@PAGEKB@/$PAGEKB/g" "$WORK/root/init"
chmod 755 "$WORK/root/init"
(cd "$WORK/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$WORK/initrd.gz"

# --- boot ----------------------------------------------------------------------

KEYDIR=$(dirname "$B")
LOG=$KEYDIR/smoke.log
msg "smoke boot of $B ($PAGEKB KiB pages) with $("$QEMU" --version | head -n1)"
msg "  serial log $LOG"

: >"$LOG" # truncate now: the poll below must not see the previous boot's log
t0=$(date +%s%N)
timeout -k 5 "$TMO" "$QEMU" \
	-M virt,gic-version=3,iommu=smmuv3,virtualization=on \
	-cpu max,pauth-impdef=on -smp 2 -m 2G \
	-nodefaults -display none -monitor none -serial stdio -no-reboot \
	-kernel "$IMAGE" -initrd "$WORK/initrd.gz" \
	-append "console=ttyAMA0 panic=1" \
	-device bochs-display,romfile= \
	-object memory-backend-file,id=m,share=on,mem-path="$SHM",size=2G \
	-device ivshmem-plain,memdev=m \
	</dev/null >"$LOG" 2>&1 &
QPID=$!
t_shell=
while kill -0 "$QPID" 2>/dev/null; do
	if [ -z "$t_shell" ] && grep -q '^NGSMOKE init' "$LOG"; then
		t_shell=$(date +%s%N)
	fi
	sleep 0.05
done
rc=0
wait "$QPID" || rc=$?
QPID=
t1=$(date +%s%N)
[ -n "$t_shell" ] || { grep -q '^NGSMOKE init' "$LOG" && t_shell=$t1; } || true

ms() { echo "$((($1 - t0) / 1000000))"; }
grep '^NGSMOKE' "$LOG" >&2 || true
guest_init=$(awk '/^NGSMOKE uptime at init/ {u=$5} END {print u}' "$LOG")
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	msg "---- last lines of $LOG ----"
	tail -n 40 "$LOG" >&2
	die "QEMU timed out after ${TMO}s and was killed"
fi
msg "timing: host wall to /init ${t_shell:+$(ms "$t_shell")} ms, to power off $(ms "$t1") ms;" \
	"guest uptime at /init ${guest_init:-?} s"
if ! grep -q '^NGSMOKE PASS' "$LOG"; then
	msg "---- last lines of $LOG ----"
	tail -n 40 "$LOG" >&2
	die "smoke boot failed (QEMU exit $rc)"
fi
msg "smoke boot PASS"
