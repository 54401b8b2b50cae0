#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# PID 1 of the install test VM (tests/install/install-vm.sh): a Debian rootfs
# booted with init=/nvgrace-init, which mounts the payload and execs this.
# The payload disk (/dev/vdb) brings the .deb, vfio-info, vfio-mem, the TAP
# library (tests/lib/tap.sh) and a second kernel's header packages. Prints
# TAP on the console between NVGRACE-TAP-BEGIN and NVGRACE-TAP-END, where
# the boot tier's boot.sh reads it, then powers off.

PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH LC_ALL=C DEBIAN_FRONTEND=noninteractive HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
# (the rootfs's /nvgrace-init mounted /dev and this disk on /payload)
hostname nvgrace-install
# keep kernel messages off the console: the host parses these lines
echo 1 >/proc/sys/kernel/printk
exec </dev/console >/dev/console 2>&1

# shellcheck source=tests/lib/tap.sh
. /payload/tap.sh
diag() { sed 's/^/# /'; }
# stamp: each line prefixed with the guest's uptime, for the timings
stamp() {
	while IFS= read -r _l; do
		read -r _u _ </proc/uptime
		echo "[$_u] $_l"
	done
}
# step DESC CMD...: run CMD; its output, stamped, goes to the console (not
# TAP: the host reads only numbered "ok"/"not ok" lines) and, on failure,
# as diagnostics
step() {
	_d=$1
	shift
	_t0=$(cut -d. -f1 /proc/uptime)
	echo "[$_t0] step: $_d"
	{
		"$@"
		echo $? >/tmp/step.rc
	} 2>&1 | stamp >/tmp/step.log
	cat /tmp/step.log
	_rc=$(cat /tmp/step.rc)
	if [ "$_rc" = 0 ]; then
		tap_ok "$_d ($(($(cut -d. -f1 /proc/uptime) - _t0)) s)"
	else
		tap_not_ok "$_d (rc=$_rc)"
		tail -n 40 /tmp/step.log | diag
	fi
}

echo "NVGRACE-INIT: started"
echo "NVGRACE-TAP-BEGIN"
kver=$(uname -r)
deb=$(ls /payload/nvgrace-dkms_*_all.deb)
ver=$(dpkg-deb -f "$deb" Version)
echo "# kernel $kver, package $ver"

step "apt install ./${deb##*/} (DKMS builds for $kver)" apt-get install -y "$deb"
tap_check "dkms status: installed for $kver" sh -c "dkms status nvgrace-dkms | grep -q '$kver.*installed'"
dkms status 2>&1 | diag
tap_check "modules installed in updates/dkms" test -e "/lib/modules/$kver/updates/dkms/nvgrace-vfio-pci.ko" -o \
	-e "/lib/modules/$kver/updates/dkms/nvgrace-vfio-pci.ko.xz"
tap_check "the installed module names the kernel it was built for (modinfo nvgrace_kernel)" \
	test "$(modinfo -F nvgrace_kernel nvgrace-vfio-pci)" = "$kver"
tap_check "nvgrace-vfio doctor reads the build's compat probes from modinfo" \
	sh -c "nvgrace-vfio doctor | grep -q '^ok *compat-probes .*built for $kver'"
# signed KVER: DKMS signed both modules with the MOK key it made
signed() {
	for _m in nvgrace-vfio-pci nvgrace-poison; do
		_s=$(modinfo -F signer "$(ls /lib/modules/"$1"/updates/dkms/$_m.ko*)" 2>&1)
		tap_check "$_m for $1 signed by DKMS's key ('$_s')" test "$_s" = "DKMS module signing key"
	done
}
signed "$kver"
step "modprobe vfio_iommu_type1 allow_unsafe_interrupts=1" modprobe vfio_iommu_type1 allow_unsafe_interrupts=1
step "modprobe nvgrace-vfio-pci" modprobe nvgrace-vfio-pci
tap_check "module version is the package version" test "$(cat /sys/module/nvgrace_vfio_pci/version)" = "$ver"
tap_check "nvgrace-poison loaded too (softdep or dependency)" test -d /sys/module/nvgrace_poison

gpu=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x1234:0x1111" ] && gpu=${d##*/}
done
# the stand-in's readiness registers say "ready" (the driver waits for them)
step "stand-in GPU made ready" /payload/vfio-mem regs "$gpu" 0xff
step "nvgrace-vfio bind --force $gpu (the stand-in)" nvgrace-vfio bind --force "$gpu"
tap_check "bound to nvgrace_vfio_pci" test "$(basename "$(readlink "/sys/bus/pci/devices/$gpu/driver")")" = nvgrace_vfio_pci
step "VFIO smoke test: the device opens through the group uAPI" /payload/vfio-info "$gpu"
echo "NVGRACE-DOCTOR-JSON $(NVGRACE_VFIO_IDS=1234:1111 nvgrace-vfio doctor --json)"
NVGRACE_VFIO_IDS=1234:1111 nvgrace-vfio doctor | diag
step "nvgrace-vfio unbind" nvgrace-vfio unbind "$gpu"
step "rmmod" rmmod nvgrace_vfio_pci

# A second kernel and its headers: DKMS builds for it on its own.
if ls /payload/debs/linux-headers-*.deb >/dev/null 2>&1; then
	for f in /payload/debs/linux-headers-*-amd64_*.deb; do
		k2=$(dpkg-deb -f "$f" Package)
	done
	k2=${k2#linux-headers-}
	# No initramfs for it (minutes under TCG, and it is never booted): the
	# DKMS hooks in /etc/kernel/*.d still run.
	chmod -x /etc/kernel/postinst.d/initramfs-tools
	step "dpkg -i kernel $k2 and its headers (DKMS autoinstall hook)" dpkg -i /payload/debs/*.deb
	tap_check "dkms status: installed for $k2, automatically" sh -c "dkms status nvgrace-dkms | grep -q '$k2.*installed'"
	signed "$k2"
	dkms status 2>&1 | diag
fi

step "apt purge nvgrace-dkms" apt-get purge -y nvgrace-dkms
tap_check "dkms status: nothing left" test -z "$(dkms status nvgrace-dkms 2>&1)"
left=$(find /lib/modules /var/lib/dkms /usr/src /etc/modprobe.d /usr/lib/modprobe.d /usr/sbin /usr/share/man \
	\( -name 'nvgrace*' -o -name 'nvgrace-dkms*' \) 2>/dev/null)
tap_check "no module, DKMS tree or file left behind" test -z "$left"
[ -z "$left" ] || echo "$left" | diag
tap_finish
echo "NVGRACE-TAP-END"
sync
echo o >/proc/sysrq-trigger
sleep 10
