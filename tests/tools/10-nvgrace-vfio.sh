#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Host-side tests of tools/nvgrace-vfio against a fake sysfs tree and fake
# kernel (tests/tools/fakesys.sh), under every POSIX shell available here
# (dash, busybox sh, bash). TAP lines on stdout.
#
#   tests/tools/10-nvgrace-vfio.sh [SHELL...]

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tool=$top/tools/nvgrace-vfio
# shellcheck source=tests/tools/fakesys.sh
. "$here/fakesys.sh"
# shellcheck source=tests/lib/tap.sh
. "$top/tests/lib/tap.sh"

diag() { sed 's/^/# /'; }

shells=("$@")
if [ ${#shells[@]} -eq 0 ]; then
	command -v dash >/dev/null && shells+=(dash)
	command -v busybox >/dev/null && shells+=("busybox sh")
	shells+=(bash)
fi

export NVGRACE_BIND_WAIT=0 NVGRACE_KVER=7.3.4+deb13-arm64
kver_re='7\.3\.4\+deb13-arm64'
export NVGRACE_DMESG=true NVGRACE_MODPROBE=false
# no driverctl unless a test asks for the fake one
export NVGRACE_DRIVERCTL=
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
unset NVGRACE_VFIO_IDS NVGRACE_SYSFS NVGRACE_STATE_DIR

# vt ARGS...: run the tool under $sh; sets out, err, rc
vt() {
	local e
	e=$(mktemp)
	# shellcheck disable=SC2086 # $sh may be "busybox sh"
	out=$($sh "$tool" "$@" 2>"$e")
	rc=$?
	err=$(cat "$e")
	rm -f "$e"
}

# expect DESC RC PATTERN: last vt exited RC and its output matches PATTERN
# (extended regex, on stdout+stderr)
expect() {
	# (a here-string, not a pipe: grep -q may close it early, and
	# pipefail would count printf's SIGPIPE as a mismatch)
	if [ "$rc" = "$2" ] && grep -Eq -- "$3" <<<"$out
$err"; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		{
			echo "want rc=$2 and /$3/, got rc=$rc"
			echo "stdout:"
			printf '%s\n' "$out"
			echo "stderr:"
			printf '%s\n' "$err"
		} | diag
	fi
}


# is DESC GOT WANT
is() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
	else
		tap_not_ok "$1"
		echo "got '$2', want '$3'" | diag
	fi
}

drv_of() {
	local l
	l=$(readlink "$FK/sys/bus/pci/devices/$1/driver" 2>/dev/null) || return 0
	echo "${l##*/}"
}
ovr_of() { cat "$FK/sys/bus/pci/devices/$1/driver_override"; }

# A host: two Grace GPUs (one bound to its host driver "nvidia", one
# unbound), a NIC, the stand-in device of the QEMU tests, a GPU without
# IOMMU group.
GPU1=0009:01:00.0
GPU2=0019:01:00.0
NIC=0000:03:00.0
BOCHS=0000:00:02.0
NOIOMMU=0029:01:00.0
setup() {
	fk_init
	fk_driver nvidia
	fk_driver e1000e
	fk_driver vfio-pci
	fk_driver bochs-drm
	fk_device $GPU1 10de 2342 12 nvidia nvidia
	fk_device $GPU2 10de 2941 13 nvidia
	fk_device $NIC 8086 10d3 3 e1000e e1000e
	fk_device $BOCHS 1234 1111 4 bochs-drm bochs-drm
	fk_device $NOIOMMU 10de 2348 "" nvidia
	cat >"$FK/modprobe" <<EOF
#!/bin/bash
. "$here/fakesys.sh"
[ -e "\$FK/module-available" ] || { echo "modprobe: FATAL: Module \$1 not found in directory /lib/modules/$NVGRACE_KVER" >&2; exit 1; }
fk_driver nvgrace_vfio_pci
echo nvgrace-vfio-pci.ko >"\$FK/module-loaded"
EOF
	chmod +x "$FK/modprobe"
	# modinfo of the installed nvgrace-vfio-pci: $FK/modinfo.d/FIELD (the
	# directory missing: not installed). Its aliases come from the
	# driver's own ID table, as modpost makes them.
	mkdir -p "$FK/modinfo.d"
	sed -n 's/.*PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_NVIDIA, 0x\([0-9A-Fa-f]\{4\}\)).*/\1/p' \
		"$top/src/vfio/main.c" | tr 'a-f' 'A-F' |
		sed 's/.*/vfio_pci:v000010DEd0000&sv*sd*bc*sc*i*/' >"$FK/modinfo.d/alias"
	sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf" >"$FK/modinfo.d/version"
	mkdir -p "$FK/modinfo-poison.d"
	cp "$FK/modinfo.d/version" "$FK/modinfo-poison.d/version"
	cat >"$FK/modinfo" <<EOF
#!/bin/bash
while [ \$# -gt 0 ]; do
	case \$1 in -k) shift ;; -F) field=\$2; shift ;; *) mod=\$1 ;; esac
	shift
done
case \$mod in
nvgrace_vfio_pci) d=$FK/modinfo.d ;;
nvgrace_poison) d=$FK/modinfo-poison.d ;;
nvgrace_gpu_vfio_pci) d=$FK/modinfo-intree.d ;;
*) d=/nonexistent ;;
esac
if [ ! -d "\$d" ]; then
	echo "modinfo: ERROR: Module \$mod not found." >&2
	exit 1
fi
cat "\$d/\$field" 2>/dev/null
exit 0
EOF
	chmod +x "$FK/modinfo"
	export NVGRACE_MODINFO=$FK/modinfo
}

one_shell() {
	sh=$1
	TAP_PREFIX="$sh: "
	setup
	trap fk_cleanup EXIT

	vt --version
	expect "--version prints the pack version" 0 "^nvgrace-vfio $(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")\$"
	vt frobnicate
	expect "unknown command: usage, exit 2" 2 "unknown command 'frobnicate'"
	vt bind 0009:01:00
	expect "malformed BDF refused" 2 "'0009:01:00' is not a PCI address"
	vt bind 0009:77:00.0
	expect "unknown BDF: clear error" 1 "0009:77:00.0: no such PCI device"

	# The Grace GPU IDs are the driver's: from modinfo's aliases.
	vt status
	expect "status: Grace GPUs found by the driver's IDs" 0 "^$GPU1 10de:2342 driver=nvidia"
	expect "status: the second Grace GPU" 0 "^$GPU2 10de:2941 driver=none"
	tap_check "status: the NIC is no Grace GPU" test "$(grep -c "^$NIC" <<<"$out")" = 0
	mv "$FK/modinfo.d" "$FK/modinfo.off"
	vt bind $GPU1
	expect "module not installed: cannot tell a Grace GPU, says why" 1 \
		"$GPU1: cannot tell whether 10de:2342 is a Grace GPU: module nvgrace-vfio-pci is not installed for kernel $kver_re"
	expect "module not installed: the fix" 1 "fix: install nvgrace-dkms for kernel $kver_re \\(or bind with --force\\)"
	vt bind
	expect "module not installed: bind without BDF says why no GPU is found" 1 \
		"no Grace GPU found \\(IDs unknown: module nvgrace-vfio-pci is not installed"
	vt doctor --json
	is "doctor: module not installed: GPUs cannot be looked for" "$(printf '%s' "$out" | python3 -c "import json,sys; print(*[c['status']+' '+c['detail'][:25] for c in json.load(sys.stdin)['checks'] if c['name']=='gpu'])")" \
		"warn cannot look for Grace GPU"
	mv "$FK/modinfo.off" "$FK/modinfo.d"

	# The module is missing: modprobe fails.
	NVGRACE_MODPROBE=$FK/modprobe vt bind $GPU1
	expect "module not loaded and not installed: clear error" 1 \
		"module nvgrace-vfio-pci is not loaded and cannot be loaded for kernel $kver_re: modprobe: FATAL: Module nvgrace-vfio-pci not found"
	is "GPU untouched when the module is missing" "$(drv_of $GPU1)/$(ovr_of $GPU1)" nvidia/
	tap_check "missing module error names the fix (dkms status, make.log)" \
		grep -q 'dkms status.*make.log' <<<"$err"

	# Not a Grace GPU.
	touch "$FK/module-available"
	export NVGRACE_MODPROBE=$FK/modprobe
	vt bind $NIC
	expect "non-Grace device refused without --force" 1 "$NIC: 8086:10d3 is not a Grace GPU .*refusing without --force"
	is "non-Grace device untouched" "$(drv_of $NIC)/$(ovr_of $NIC)" e1000e/
	tap_check "nothing loaded for a refused device" test ! -e "$FK/module-loaded"

	# IOMMU off for that device.
	vt bind $NOIOMMU
	expect "no IOMMU group: IOMMU off error" 1 "$NOIOMMU: IOMMU off: the device has no IOMMU group"

	# bind all Grace GPUs: the one without IOMMU fails, the others bind.
	vt bind
	expect "bind (all): fails because one GPU has no IOMMU group" 1 "$NOIOMMU: IOMMU off"
	expect "bind (all): GPU1 bound, previous driver reported" 1 "$GPU1: bound to nvgrace_vfio_pci \\(was: nvidia\\)"
	expect "bind (all): GPU2 bound" 1 "$GPU2: bound to nvgrace_vfio_pci \\(was: no driver\\)"
	tap_check "bind loads the module" test -e "$FK/module-loaded"
	is "GPU1 driver and override" "$(drv_of $GPU1)/$(ovr_of $GPU1)" nvgrace_vfio_pci/nvgrace_vfio_pci
	is "GPU2 driver and override" "$(drv_of $GPU2)/$(ovr_of $GPU2)" nvgrace_vfio_pci/nvgrace_vfio_pci
	is "previous driver remembered" "$(cat "$FK/run/nvgrace-vfio/$GPU1")" "driver=nvidia
override="

	# Idempotent: nothing is written to the kernel again.
	before=$(wc -l <"$FK/kernel.log")
	vt status 03:00.0
	expect "short BDF form names domain 0000" 0 "^$NIC 8086:10d3 driver=e1000e"
	vt bind 0009:01:00.0
	expect "bind again: exit 0" 0 "already bound"
	is "bind again: no sysfs writes" "$(wc -l <"$FK/kernel.log")" "$before"

	vt status
	expect "status lists both GPUs with driver and previous" 0 \
		"^$GPU1 10de:2342 driver=nvgrace_vfio_pci override=nvgrace_vfio_pci iommu_group=12 previous=nvidia users=none"
	expect "status: unbound-capable GPU2" 0 "^$GPU2 10de:2941 driver=nvgrace_vfio_pci .*previous=none"
	expect "status: GPU without IOMMU" 0 "^$NOIOMMU 10de:2348 driver=none override= iommu_group=none"

	# Busy: a VMM holds the VFIO group open.
	fk_open 4242 qemu-system-aar /dev/vfio/12
	vt unbind $GPU1
	expect "unbind of a device in use: device busy" 1 "$GPU1: device busy: open by 4242\\(qemu-system-aar\\)"
	is "busy device stays bound" "$(drv_of $GPU1)" nvgrace_vfio_pci
	vt status $GPU1
	expect "status shows the user" 0 "users=4242\\(qemu-system-aar\\)"
	rm -rf "$FK/proc/4242"

	# unbind restores what was there.
	vt unbind
	expect "unbind (all): GPU1 back to nvidia" 0 "$GPU1: unbound from nvgrace_vfio_pci, now nvidia"
	expect "unbind (all): GPU2 without a driver" 0 "$GPU2: unbound from nvgrace_vfio_pci, now without a driver"
	is "GPU1 restored: driver and empty override" "$(drv_of $GPU1)/$(ovr_of $GPU1)" nvidia/
	is "GPU2 restored: no driver, empty override" "$(drv_of $GPU2)/$(ovr_of $GPU2)" /
	tap_check "state record removed" test ! -e "$FK/run/nvgrace-vfio/$GPU1"
	vt unbind $GPU1
	expect "unbind again: nothing to do" 0 "$GPU1: not bound to nvgrace_vfio_pci \\(nvidia\\); nothing to do"

	# --force for the QEMU stand-in, or extra IDs from the environment.
	vt bind --force $BOCHS
	expect "--force binds a non-Grace device" 0 "$BOCHS: bound to nvgrace_vfio_pci \\(was: bochs-drm\\)"
	vt unbind $BOCHS
	expect "and unbind gives it back" 0 "now bochs-drm"
	NVGRACE_VFIO_IDS=1234:1111 vt bind $BOCHS
	expect "NVGRACE_VFIO_IDS makes it a Grace GPU" 0 "$BOCHS: bound to nvgrace_vfio_pci"
	NVGRACE_VFIO_IDS=1234:1111 vt unbind $BOCHS
	expect "unbind it" 0 "now bochs-drm"

	# A failed probe (sysfs accepts any override; the device stays unbound):
	# reported, and the device goes back to its driver.
	touch "$FK/sys/bus/pci/drivers/nvgrace_vfio_pci/.fail"
	vt bind $GPU1
	expect "failed probe is detected, not trusted" 1 "$GPU1: bind failed: the device is unbound after the probe"
	is "after a failed probe the previous driver is back" "$(drv_of $GPU1)/$(ovr_of $GPU1)" nvidia/
	rm -f "$FK/sys/bus/pci/drivers/nvgrace_vfio_pci/.fail"

	# driverctl: a persistent override of someone else is not fought.
	mkdir -p "$FK/etc/driverctl.d"
	echo vfio-pci >"$FK/etc/driverctl.d/pci-$GPU1"
	vt bind $GPU1
	expect "driverctl override to another driver: refused with the fix" 1 \
		"driverctl keeps a persistent override to 'vfio-pci'.*|driverctl set-override $GPU1 nvgrace_vfio_pci"
	echo nvgrace_vfio_pci >"$FK/etc/driverctl.d/pci-$GPU1"
	vt bind $GPU1
	expect "driverctl override to us: binds" 0 "$GPU1: bound to nvgrace_vfio_pci"
	vt unbind $GPU1
	expect "unbind warns that driverctl rebinds at boot" 0 "driverctl unset-override $GPU1"
	rm -rf "$FK/etc/driverctl.d"

	# Coming from vfio-pci through an override (libvirt managed mode,
	# driverctl): the override is restored too.
	vt unbind $GPU1 >/dev/null
	fk_write "$FK/sys/bus/pci/drivers/nvidia/unbind" $GPU1
	fk_write "$FK/sys/bus/pci/devices/$GPU1/driver_override" vfio-pci
	fk_write "$FK/sys/bus/pci/drivers_probe" $GPU1
	is "setup: GPU1 on vfio-pci through an override" "$(drv_of $GPU1)/$(ovr_of $GPU1)" vfio-pci/vfio-pci
	fk_open 4343 qemu-system-aar /dev/vfio/12
	vt bind $GPU1
	expect "bind from vfio-pci while a VM uses it: device busy" 1 "$GPU1: device busy: bound to vfio-pci and open by 4343"
	rm -rf "$FK/proc/4343"
	vt bind $GPU1
	expect "bind from vfio-pci" 0 "was: vfio-pci"
	vt unbind $GPU1
	is "unbind restores vfio-pci and its override" "$(drv_of $GPU1)/$(ovr_of $GPU1)" vfio-pci/vfio-pci

	# The in-tree nvgrace_gpu_vfio_pci (kernels built with
	# CONFIG_NVGRACE_GPU_VFIO_PCI): same aliases, plus here a GPU ID the
	# pack does not know.
	jsn() { printf '%s\n' "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); print(*[c['status']+' '+c['detail'] for c in d['checks'] if c['name']=='$1'])"; }
	vt doctor --json
	is "doctor: no in-tree driver for the kernel" "$(jsn in-tree-driver | cut -d' ' -f1-2)" "ok none"
	fk_driver nvgrace_gpu_vfio_pci
	mkdir -p "$FK/modinfo-intree.d"
	{
		cat "$FK/modinfo.d/alias"
		echo 'vfio_pci:v000010DEd00003FFFsv*sd*bc*sc*i*'
	} >"$FK/modinfo-intree.d/alias"
	GPU3=0039:01:00.0
	fk_device $GPU3 10de 3fff 14
	fk_write "$FK/sys/bus/pci/devices/$GPU2/driver_override" nvgrace_gpu_vfio_pci
	fk_write "$FK/sys/bus/pci/drivers_probe" $GPU2
	is "setup: GPU2 on the in-tree driver (as libvirt or driverctl would)" "$(drv_of $GPU2)" nvgrace_gpu_vfio_pci
	vt status
	expect "status: the GPU on the in-tree driver" 0 "^$GPU2 10de:2941 driver=nvgrace_gpu_vfio_pci override=nvgrace_gpu_vfio_pci"
	expect "status: the GPU only the in-tree driver knows" 0 "^$GPU3 10de:3fff driver=none"
	vt doctor --json
	is "doctor: the in-tree driver is reported" "$(jsn in-tree-driver | cut -d' ' -f1-4)" "ok nvgrace-gpu-vfio-pci installed for"
	expect "doctor: ... with who wins" 1 "nvgrace-vfio bind, driverctl overrides and libvirt's <driver model='nvgrace_vfio_pci'/> choose nvgrace_vfio_pci"
	is "doctor: a GPU on the in-tree driver is a warning" "$(jsn "gpu $GPU2")" \
		"warn bound to the in-tree nvgrace_gpu_vfio_pci (mainline's driver, without the pack's fixes)"
	is "doctor: a GPU only the in-tree driver knows is a warning" "$(jsn "gpu $GPU3" | cut -d' ' -f1-9)" \
		"warn 10de:3fff, bound to no driver: a Grace GPU"
	fk_open 4444 qemu-system-aar /dev/vfio/13
	vt bind $GPU2
	expect "bind from the in-tree driver while a VM uses it: busy" 1 "$GPU2: device busy: bound to nvgrace_gpu_vfio_pci and open by 4444"
	rm -rf "$FK/proc/4444"
	vt bind $GPU2
	expect "bind takes the GPU over from the in-tree driver" 0 "$GPU2: taken over from the in-tree nvgrace_gpu_vfio_pci"
	is "GPU2 on nvgrace_vfio_pci" "$(drv_of $GPU2)/$(ovr_of $GPU2)" nvgrace_vfio_pci/nvgrace_vfio_pci
	vt unbind
	expect "unbind gives it back to the in-tree driver" 0 "$GPU2: unbound from nvgrace_vfio_pci, now nvgrace_gpu_vfio_pci"
	is "... with the in-tree override restored" "$(drv_of $GPU2)/$(ovr_of $GPU2)" nvgrace_gpu_vfio_pci/nvgrace_gpu_vfio_pci
	vt unbind
	tap_check "unbind (all) leaves GPUs on the in-tree driver alone" test "$(drv_of $GPU2)" = nvgrace_gpu_vfio_pci
	vt bind $GPU3
	expect "a GPU only the in-tree driver knows: refused, saying so" 1 \
		"$GPU3: 10de:3fff is a Grace GPU that only the in-tree nvgrace_gpu_vfio_pci of kernel $kver_re knows"
	expect "... with the fix" 1 "driverctl --nosave set-override $GPU3 nvgrace_gpu_vfio_pci"
	vt bind --force $GPU3
	expect "... --force binds it to nvgrace_vfio_pci" 0 "$GPU3: bound to nvgrace_vfio_pci"
	vt unbind $GPU3
	fk_write "$FK/sys/bus/pci/drivers/nvgrace_gpu_vfio_pci/unbind" $GPU2
	fk_write "$FK/sys/bus/pci/devices/$GPU2/driver_override" ""
	rm -rf "$FK/modinfo-intree.d" "$FK/sys/bus/pci/devices/$GPU3" "$FK/sys/kernel/iommu_groups/14"

	# IOMMU group viability: another device of GPU2's group bound to a
	# host driver makes the group unusable for VFIO; a bridge does not.
	AUD2=0019:01:00.1
	BR2=0019:00:00.0
	fk_driver snd_hda_intel
	fk_driver pcieport
	fk_device $AUD2 10de 22bb 13 snd_hda_intel snd_hda_intel
	fk_device $BR2 10de 22b1 13 pcieport pcieport
	vt bind $GPU2
	expect "group not viable: bind refused with the reason" 1 \
		"$GPU2: IOMMU group 13 is not viable for VFIO: it also holds $AUD2\\(snd_hda_intel\\);"
	expect "group not viable: the fix" 1 "fix: bind those devices to vfio-pci too"
	is "group not viable: GPU2 untouched" "$(drv_of $GPU2)/$(ovr_of $GPU2)" /
	tap_check "group not viable: the bridge (pcieport) is no blocker" test "$(grep -c "$BR2" <<<"$err")" = 0
	vt status $GPU2
	expect "status: group not viable, with the blocker" 0 "group_not_viable=$AUD2\\(snd_hda_intel\\)"
	vt bind --force $GPU2
	expect "group not viable: --force binds anyway, saying so" 0 "not viable for VFIO\\); continuing because of --force"
	vt unbind $GPU2
	fk_write "$FK/sys/bus/pci/drivers/snd_hda_intel/unbind" $AUD2
	fk_write "$FK/sys/bus/pci/devices/$AUD2/driver_override" vfio-pci
	fk_write "$FK/sys/bus/pci/drivers_probe" $AUD2
	vt bind $GPU2
	expect "group viable: the other device on vfio-pci" 0 "$GPU2: bound to nvgrace_vfio_pci"
	vt unbind $GPU2
	fk_write "$FK/sys/bus/pci/drivers/vfio-pci/unbind" $AUD2
	vt bind $GPU2
	expect "group viable: the other device without a driver" 0 "$GPU2: bound to nvgrace_vfio_pci"
	vt unbind $GPU2

	# The GPU memory online as host System RAM (the host driver's NUMA
	# mode): refused, from the device tree's properties before the bind.
	mem=$FK/sys/devices/system/memory
	mkdir -p "$mem/memory131072" "$mem/memory131263" "$mem/memory131264"
	echo 20000000 >"$mem/block_size_bytes"
	# 0x400000000000 / 512 MiB = block 131072; 96 GiB = 192 blocks
	for b in 131072 131263; do echo offline >"$mem/memory$b/state"; done
	echo online >"$mem/memory131264/state"
	of=$FK/sys/bus/pci/devices/$GPU2/of_node
	mkdir -p "$of"
	printf '\000\000\100\000\000\000\000\000' >"$of/nvidia,gpu-mem-base-pa"
	printf '\000\000\000\030\000\000\000\000' >"$of/nvidia,gpu-mem-size"
	vt bind $GPU2
	expect "memory offline (a block past its end online): binds" 0 "$GPU2: bound to nvgrace_vfio_pci"
	vt unbind $GPU2
	echo online >"$mem/memory131263/state"
	vt bind $GPU2
	expect "memory online as System RAM: refused with the reason" 1 \
		"$GPU2: the GPU memory \\(base 0x400000000000, 103079215104 bytes\\) is online as host System RAM .*1 blocks, memory131263"
	expect "memory online: the fix" 1 "fix: stop the host from onlining it"
	is "memory online: GPU2 untouched" "$(drv_of $GPU2)/$(ovr_of $GPU2)" /
	vt doctor --json
	expect "doctor: memory online is a failure" 1 "\"name\":\"gpu $GPU2 memory\",\"status\":\"fail\",\"detail\":\"the GPU memory"
	vt status $GPU2
	expect "status: memory online" 0 "mem_online_as_ram=yes"
	# ACPI firmware: no device-tree properties; the bound driver tells,
	# and the GPU goes back.
	rm -rf "$of"
	nv=$FK/sys/bus/pci/devices/$GPU2/.nvgrace
	mkdir -p "$nv"
	echo ok >"$nv/mem_status"
	echo 0x400000000000 >"$nv/mem_phys"
	echo 103079215104 >"$nv/mem_length"
	vt bind $GPU2
	expect "memory online, known only once bound: refused after the bind" 1 "is online as host System RAM"
	expect "... and the GPU given back" 1 "$GPU2: not bound: given back to no driver"
	is "... GPU2 unbound, no override" "$(drv_of $GPU2)/$(ovr_of $GPU2)" /
	echo offline >"$mem/memory131263/state"
	vt bind $GPU2
	expect "memory offline, known once bound: binds" 0 "$GPU2: bound to nvgrace_vfio_pci"
	vt unbind $GPU2
	rm -rf "$nv" "$FK/sys/devices/system/memory"

	# driverctl installed: bind and unbind delegate to driverctl --nosave
	# (nothing persistent), with the same checks before and after.
	cat >"$FK/driverctl" <<EOF
#!/bin/bash
. "$here/fakesys.sh"
echo "\$*" >>"\$FK/driverctl.calls"
[ "\$1" = --nosave ] || { echo "fake driverctl: no --nosave" >&2; exit 1; }
d=\$FK/sys/bus/pci/devices/\$3
drv=
[ "\$2" = set-override ] && drv=\$4
[ -L "\$d/driver" ] && fk_write "\$d/driver/unbind" "\$3"
printf '%s\n' "\$drv" >"\$d/driver_override"
fk_write "\$FK/sys/bus/pci/drivers_probe" "\$3"
exit 0
EOF
	chmod +x "$FK/driverctl"
	NVGRACE_DRIVERCTL=$FK/driverctl vt bind --force $NIC
	expect "driverctl: bind delegates to driverctl --nosave" 0 \
		"$NIC: bound to nvgrace_vfio_pci through driverctl --nosave \\(was: e1000e\\)"
	is "driverctl: called as set-override, not saved" "$(cat "$FK/driverctl.calls")" "--nosave set-override $NIC nvgrace_vfio_pci"
	is "driverctl: NIC on nvgrace_vfio_pci" "$(drv_of $NIC)/$(ovr_of $NIC)" nvgrace_vfio_pci/nvgrace_vfio_pci
	NVGRACE_DRIVERCTL=$FK/driverctl vt unbind $NIC
	expect "driverctl: unbind delegates too" 0 "$NIC: unbound from nvgrace_vfio_pci, now e1000e"
	is "driverctl: unset-override" "$(tail -n 1 "$FK/driverctl.calls")" "--nosave unset-override $NIC"
	is "driverctl: NIC back on e1000e, no override" "$(drv_of $NIC)/$(ovr_of $NIC)" e1000e/
	NVGRACE_DRIVERCTL=$FK/driverctl vt bind $NIC
	expect "driverctl: the checks stay (no Grace GPU without --force)" 1 "is not a Grace GPU"
	is "driverctl: not called for a refused device" "$(wc -l <"$FK/driverctl.calls")" 2
	rm -f "$FK/driverctl.calls"

	# doctor
	vt doctor --json
	if printf '%s\n' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["checks"] and "summary" in d' 2>/dev/null; then
		tap_ok "doctor --json is valid JSON with checks and a summary"
	else
		tap_not_ok "doctor --json is valid JSON with checks and a summary"
		printf '%s\n' "$out" | diag
	fi
	js() { printf '%s\n' "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); print(*[c['status']+' '+c['detail'] for c in d['checks'] if c['name']=='$1'])"; }
	is "doctor: nvgrace module installed but not loaded is a warning" "$(js module | cut -d' ' -f1-4)" "warn nvgrace-vfio-pci $(cat "$FK/modinfo.d/version") installed"
	is "doctor: a build without facts in modinfo: compat probes unknown" "$(js compat-probes | cut -d' ' -f1-2)" "warn unknown:"
	expect "doctor: ... because an older nvgrace-dkms built it" 1 "carries no build facts"
	mv "$FK/modinfo.d" "$FK/modinfo.off"
	vt doctor --json
	is "doctor: nvgrace module missing is a failure" "$(js module | cut -d' ' -f1)" fail
	is "doctor: no module, no compat probes" "$(js compat-probes)" "warn unknown: nvgrace-vfio-pci is not installed for 7.3.4+deb13-arm64"
	mv "$FK/modinfo.off" "$FK/modinfo.d"
	vt doctor --json
	is "doctor: GPU without IOMMU group is a failure" "$(js "gpu $NOIOMMU iommu" | cut -d' ' -f1)" fail
	is "doctor: exit 1 when a check fails" "$rc" 1
	vt doctor
	expect "doctor: human output ends with counts" 1 "^[0-9]+ ok, [0-9]+ warn, [0-9]+ fail\$"
	expect "doctor: failures carry a fix" 1 "fix: "

	# nvgrace-poison: modprobe only where it is installed.
	vt doctor --json
	is "doctor: poison module installed, not loaded: modprobe it" "$(js poison-module | cut -d' ' -f1-3)" "warn nvgrace-poison not"
	expect "doctor: ... the fix is modprobe nvgrace-poison" 1 '"fix":"modprobe nvgrace-poison"'
	mv "$FK/modinfo-poison.d" "$FK/modinfo-poison.off"
	vt doctor --json
	tap_check "doctor: poison module not installed: no modprobe suggested" \
		test "$(grep -c 'modprobe nvgrace-poison' <<<"$out")" = 0
	expect "doctor: ... but the rebuild" 1 "nvgrace-poison is not installed for $kver_re: rebuild the pack \\(dkms install --force nvgrace-dkms/$ver -k"
	mv "$FK/modinfo-poison.off" "$FK/modinfo-poison.d"

	# Secure Boot: unknown is no "ok"; the key to enrol is where DKMS
	# keeps it on this distribution.
	is "doctor: no /sys/firmware (a container): Secure Boot unknown, a warning" "$(js secure-boot | cut -d' ' -f1-2)" "warn unknown:"
	expect "doctor: ... the fix checks with mokutil" 1 "mokutil --sb-state"
	mkdir -p "$FK/sys/firmware"
	vt doctor --json
	is "doctor: not booted through UEFI: no Secure Boot" "$(js secure-boot)" "ok off (not booted through UEFI)"
	mkdir -p "$FK/sys/firmware/efi/efivars"
	vt doctor --json
	is "doctor: UEFI, efivarfs not mounted: unknown" "$(js secure-boot | cut -d' ' -f1-2)" "warn unknown:"
	sbvar=$FK/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c
	printf '\006\000\000\000\000' >"$sbvar"
	vt doctor --json
	is "doctor: SecureBoot variable 0: off" "$(js secure-boot)" "ok off"
	printf '\006\000\000\000\001' >"$sbvar"
	vt doctor --json
	is "doctor: Secure Boot on, module unsigned: a failure" "$(js secure-boot | cut -d' ' -f1-2)" "fail on,"
	expect "doctor: ... Debian's DKMS key by default" 1 "mokutil --import /var/lib/dkms/mok.pub"
	echo 'ID=ubuntu' >"$FK/etc/os-release"
	vt doctor --json
	expect "doctor: ... Ubuntu's shim-signed key on Ubuntu" 1 "mokutil --import /var/lib/shim-signed/mok/MOK.der"
	mkdir -p "$FK/etc/dkms"
	printf '# local key\nmok_certificate="/root/mok/cert.der"\n' >"$FK/etc/dkms/framework.conf"
	echo 'nvgrace-dkms key' >"$FK/modinfo.d/signer"
	vt doctor --json
	is "doctor: Secure Boot on, module signed: ok" "$(js secure-boot)" "ok on; nvgrace-vfio-pci signed by 'nvgrace-dkms key'"
	expect "doctor: ... framework.conf's mok_certificate wins" 1 "mokutil --import /root/mok/cert.der"
	rm -rf "$FK/sys/firmware" "$FK/etc/dkms" "$FK/etc/os-release" "$FK/modinfo.d/signer"

	# A tool copied by hand has no version: its fixes take the installed
	# module's, never "unknown".
	mkdir -p "$FK/copy"
	cp "$tool" "$FK/copy/nvgrace-vfio"
	tool_save=$tool
	tool=$FK/copy/nvgrace-vfio
	vt --version
	expect "a hand-copied tool: version unknown" 0 "^nvgrace-vfio unknown\$"
	mv "$FK/modinfo-poison.d" "$FK/modinfo-poison.off"
	vt doctor --json
	tap_check "a hand-copied tool: no /unknown/ path in doctor's fixes" test "$(grep -c 'nvgrace-dkms/unknown' <<<"$out")" = 0
	expect "a hand-copied tool: the module's version in the fixes" 1 "nvgrace-dkms/$ver "
	mv "$FK/modinfo-poison.off" "$FK/modinfo-poison.d"
	"$top/packaging/install-tool.sh" "$FK/copy" >/dev/null
	vt --version
	expect "packaging/install-tool.sh: the installed tool knows its version" 0 "^nvgrace-vfio $ver\$"
	tool=$tool_save

	# doctor on an arm64 Grace-like host.
	export NVGRACE_ARCH=aarch64
	mkdir -p "$FK/sys/module/nvgrace_vfio_pci" "$FK/sys/module/nvgrace_poison"
	sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf" >"$FK/sys/module/nvgrace_vfio_pci/version"
	: >"$FK/dev/kvm"
	: >"$FK/dev/vfio/vfio"
	printf 'processor\t: 0\nFeatures\t: fp asimd evtstrm aes sve\n' >"$FK/proc/cpuinfo"
	cat >"$FK/dmesg" <<'EOF'
[    0.000000] CPU features: detected: Stage-2 Force Write-Back
[    0.000000] CPU features: detected: Instruction cache invalidation not required for I/D coherence
EOF
	export NVGRACE_DMESG="cat $FK/dmesg"
	vt bind $GPU2
	mkdir -p "$FK/sys/bus/pci/devices/$GPU2/nvgrace"
	echo ok >"$FK/sys/bus/pci/devices/$GPU2/nvgrace/mem_status"
	echo 0x400000000000 >"$FK/sys/bus/pci/devices/$GPU2/nvgrace/mem_phys"
	echo 102005473280 >"$FK/sys/bus/pci/devices/$GPU2/nvgrace/mem_length"
	mi=$FK/modinfo.d
	echo 7.3.4+deb13-arm64 >"$mi/nvgrace_kernel"
	echo "vm_flags_set kvm_supports_cacheable_pfnmap" >"$mi/nvgrace_probes"
	echo "huge-pmd memory-error-sources" >"$mi/nvgrace_features"
	: >"$mi/nvgrace_features_lost"
	vt doctor --json
	is "doctor: module loaded at the tools' version" "$(js module | cut -d' ' -f1)" ok
	is "doctor: probes listed from modinfo" "$(js compat-probes)" "ok vm_flags_set kvm_supports_cacheable_pfnmap (2 fired; built for 7.3.4+deb13-arm64)"
	is "doctor: no feature lost" "$(js compat-features | cut -d' ' -f1-3)" "ok nothing lost"
	echo huge-pmd >"$mi/nvgrace_features_lost"
	vt doctor --json
	is "doctor: a lost feature is a warning" "$(js compat-features | cut -d' ' -f1-5)" "warn lost on 7.3.4+deb13-arm64: huge-pmd"
	: >"$mi/nvgrace_features_lost"
	is "doctor: 7.3 has native cacheable PFNMAP" "$(js kvm-cacheable-pfnmap | cut -d' ' -f1-2)" "ok native"
	is "doctor: FWB from the boot log" "$(js cpu-fwb | cut -d' ' -f1)" ok
	is "doctor: DIC from the boot log" "$(js cpu-dic | cut -d' ' -f1)" ok
	is "doctor: no MTE" "$(js mte | cut -d' ' -f1)" ok
	is "doctor: bound GPU reports its memory" "$(js "gpu $GPU2")" \
		"ok bound to nvgrace_vfio_pci; device memory 0x400000000000 length 102005473280"
	is "doctor: unbound GPU is a warning with the bind fix" "$(js "gpu $GPU1" | cut -d' ' -f1-5)" "warn bound to vfio-pci; memory"
	is "doctor: poison sources unknown when not exposed" "$(js poison-sources | cut -d' ' -f1-2)" "warn unknown:"
	mkdir -p "$FK/sys/kernel/nvgrace_poison"
	echo "inject ghes" >"$FK/sys/kernel/nvgrace_poison/sources"
	vt doctor --json
	is "doctor: poison sources from nvgrace-poison's sysfs" "$(js poison-sources)" "ok inject ghes"
	echo "inject" >"$FK/sys/kernel/nvgrace_poison/sources"
	vt doctor --json
	is "doctor: injection only is a warning" "$(js poison-sources | cut -d' ' -f1-2)" "warn inject:"
	# no driver attributes: from the build's probes (modinfo)
	echo "vm_flags_set" >"$mi/nvgrace_probes"
	NVGRACE_KVER=6.12.57+deb13-arm64 vt doctor --json
	is "doctor: 6.12 build without the KVM probes: absent" "$(js kvm-cacheable-pfnmap | cut -d' ' -f1-2)" "fail absent"
	echo "kvm_supports_cacheable_pfnmap kvm_arm_cacheable_pfnmap_backport" >>"$mi/nvgrace_probes"
	NVGRACE_KVER=6.12.57+deb13-arm64 vt doctor --json
	is "doctor: the backport marker probe: patched" "$(js kvm-cacheable-pfnmap | cut -d' ' -f1-2)" "ok patched"
	expect "doctor: says the probes told" 1 "compat probes of the build"
	echo "vm_flags_set kvm_supports_cacheable_pfnmap" >"$mi/nvgrace_probes"
	NVGRACE_KVER=6.12.57+deb13-arm64 vt doctor --json
	is "doctor: kvm_supports_cacheable_pfnmap without the marker: native" "$(js kvm-cacheable-pfnmap | cut -d' ' -f1-2)" "ok native"
	echo "vm_flags_set" >"$mi/nvgrace_probes"
	NVGRACE_KVER=6.1.0-56-arm64 vt doctor --json
	is "doctor: 6.1 build without the probes: absent, a failure" "$(js kvm-cacheable-pfnmap | cut -d' ' -f1-2)" "fail absent"
	rm "$mi/nvgrace_kernel"
	NVGRACE_KVER=6.1.0-56-arm64 vt doctor --json
	is "doctor: no build facts and no driver: unknown" "$(js kvm-cacheable-pfnmap | cut -d' ' -f1-2)" "warn unknown"
	NVGRACE_KVER=7.3.4+deb13-arm64 vt doctor --json
	is "doctor: no build facts on 7.3: native from the version" "$(js kvm-cacheable-pfnmap | cut -d' ' -f1-6)" "ok native (from the kernel version"
	echo 7.3.4+deb13-arm64 >"$mi/nvgrace_kernel"
	sed -i '/Instruction cache/d' "$FK/dmesg"
	vt doctor --json
	is "doctor: no DIC in the boot log is a failure (KVM refuses the memslot)" "$(js cpu-dic | cut -d' ' -f1)" fail
	# the driver's attributes win over the probes and the boot log
	dd=$FK/sys/bus/pci/drivers/nvgrace_vfio_pci
	echo patched >"$dd/kvm_cacheable_pfnmap"
	echo 1 >"$dd/cpu_fwb"
	echo 1 >"$dd/cpu_dic"
	NVGRACE_KVER=6.1.0-56-arm64 vt doctor --json
	is "doctor: the driver's kvm_cacheable_pfnmap wins" "$(js kvm-cacheable-pfnmap | cut -d' ' -f1-4)" "ok patched (reported by"
	is "doctor: the driver's cpu_dic wins over the boot log" "$(js cpu-dic | cut -d' ' -f1-4)" "ok CTR_EL0.DIC set (reported"
	echo 0 >"$dd/cpu_dic"
	vt doctor --json
	is "doctor: patched but no DIC: a failure" "$(js kvm-cacheable-pfnmap | cut -d' ' -f1-2)" "fail patched"
	is "doctor: the driver's cpu_dic 0: a failure" "$(js cpu-dic | cut -d' ' -f1)" fail
	echo absent >"$dd/kvm_cacheable_pfnmap"
	vt doctor --json
	is "doctor: the driver says absent: a failure with the fix" "$(js kvm-cacheable-pfnmap | cut -d' ' -f1-2)" "fail absent"
	expect "doctor: the absent fix names the patches" 1 "kernel-patches/apply.sh"
	rm -f "$dd/kvm_cacheable_pfnmap" "$dd/cpu_fwb" "$dd/cpu_dic"
	: >"$FK/dmesg"
	sed -i 's/sve$/sve mte/' "$FK/proc/cpuinfo"
	vt doctor --json
	is "doctor: FWB unknown without a boot log" "$(js cpu-fwb | cut -d' ' -f1-2)" "warn unknown:"
	is "doctor: MTE is a warning" "$(js mte | cut -d' ' -f1)" warn
	rmdir "$FK/sys/kernel/iommu_groups"/* 2>/dev/null
	rm -rf "$FK/sys/kernel/iommu_groups"/*
	vt doctor --json
	is "doctor: no IOMMU groups is a failure" "$(js iommu | cut -d' ' -f1-3)" "fail IOMMU off:"
	unset NVGRACE_ARCH
	export NVGRACE_DMESG=true

	# vm: QEMU arguments for bound GPUs. GPU2 is bound (above): a Hopper
	# with 96 GiB (usemem BAR 128 GiB, resmem 1 GiB) and a 16 MiB BAR0.
	nv=$FK/sys/bus/pci/devices/$GPU2/nvgrace
	echo "0x400000000000 101468602368 137438953472" >"$nv/usemem"
	echo "0x4017a0000000 1073741824 1073741824" >"$nv/resmem"
	res() { # BAR0 64-bit 16 MiB, the rest empty
		printf '0x0000000020000000 0x0000000020ffffff 0x0000000000140204\n'
		for _ in 1 2 3 4 5 6; do printf '0x0 0x0 0x0\n'; done
	}
	res >"$FK/sys/bus/pci/devices/$GPU2/resource"
	export NVGRACE_VIRSH=/nonexistent/virsh
	NVGRACE_QEMU="echo QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2)" vt vm
	expect "vm: the bound GPU, nothing missing" 0 "^-device vfio-pci,host=$GPU2,bus=nvgrace-rp0,id=nvgrace-gpu0 \\\\\$"
	is "vm: 8 memory-less NUMA nodes for the GPU, from node 1" "$(grep -o 'nodeid=[0-9]*' <<<"$out" | tr '\n' ' ')" \
		"nodeid=1 nodeid=2 nodeid=3 nodeid=4 nodeid=5 nodeid=6 nodeid=7 nodeid=8 "
	is "vm: each tied to the GPU by an ACPI generic initiator" "$(grep -c "^-object acpi-generic-initiator,id=nvgrace-gi[1-8],pci-dev=nvgrace-gpu0,node=[1-8]" <<<"$out")" 8
	expect "vm: the high MMIO window holds the 129 GiB of BARs" 0 "^-machine highmem-mmio-size=512G"
	expect "vm: the report says QEMU is new enough" 0 "# ok +QEMU 10.0"
	expect "vm: ... and that node 0 is the guest's own" 0 "# note +guest NUMA nodes 0-0 are yours"
	expect "vm: no iommufd without /dev/iommu and a VFIO cdev" 0 "iommufd: not available here"
	tap_check "vm: the last argument ends the list (no trailing backslash)" test "$(tail -n 1 <<<"$out" | grep -c '\\$')" = 0
	tap_check "vm: the arguments go to stdout, the report to stderr" test "$(grep -c '^#' <<<"$out")" = 0
	NVGRACE_QEMU="echo QEMU emulator version 9.2.1" vt vm $GPU2
	expect "vm: QEMU 9.2 lacks highmem-mmio-size: missing, exit 1" 1 "# missing QEMU 9.2: highmem-mmio-size needs 10.0"
	NVGRACE_QEMU="echo QEMU emulator version 8.2.2" vt vm $GPU2
	expect "vm: QEMU 8.2 lacks acpi-generic-initiator" 1 "# missing QEMU 8.2: acpi-generic-initiator needs 9.0"
	NVGRACE_VIRSH="echo 9.0.0" vt vm $GPU2
	expect "vm: libvirt 9.0: managed='yes' would bind vfio-pci, says so" 0 "# note +libvirt 9.0.0: managed='yes' binds vfio-pci there .<driver model='nvgrace_vfio_pci'/> needs libvirt 10.0.: keep managed='no'"
	NVGRACE_VIRSH="echo 10.0.0" vt vm $GPU2
	t "vm: libvirt 10.0 takes <driver model>: no such note" test "$(grep -c "managed='yes' binds vfio-pci" <<<"$out$err")" = 0
	expect "vm: ... and libvirt is reported" 0 "# ok +libvirt 10.0.0: the fragment"
	NVGRACE_QEMU=/nonexistent/qemu vt vm $GPU2
	expect "vm: no QEMU here: a warning with the versions needed" 0 "# warn +QEMU: /nonexistent/qemu not found here; the arguments need QEMU 10.0"
	export NVGRACE_QEMU="echo QEMU emulator version 10.0.2"
	vt vm --first-node 2 $GPU2
	is "vm --first-node 2: nodes 2-9" "$(grep -o 'nodeid=[0-9]*' <<<"$out" | sed -n '1p;$p' | tr '\n' ' ')" "nodeid=2 nodeid=9 "
	vt vm --first-node 0 $GPU2
	expect "vm --first-node 0 refused (node 0 holds the CPUs)" 2 "first-node must be 1 or more"
	vt vm --bogus
	expect "vm: unknown option" 2 "vm: unknown option --bogus"
	vt vm $GPU1
	expect "vm: a GPU not bound to nvgrace_vfio_pci: bind it first" 1 "vm: $GPU1 is bound to vfio-pci, not nvgrace_vfio_pci: nvgrace-vfio bind $GPU1 first"
	# iommufd where the kernel has it
	: >"$FK/dev/iommu"
	mkdir -p "$FK/sys/bus/pci/devices/$GPU2/vfio-dev/vfio0"
	vt vm $GPU2
	expect "vm: /dev/iommu and the VFIO cdev: the iommufd backend" 0 "^-object iommufd,id=iommufd0"
	expect "vm: ... used by the device" 0 "^-device vfio-pci,host=$GPU2,bus=nvgrace-rp0,id=nvgrace-gpu0,iommufd=iommufd0"
	vt vm --iommufd off $GPU2
	tap_check "vm --iommufd off: the legacy container" test "$(grep -c iommufd <<<"$out")" = 0
	rm -f "$FK/dev/iommu"
	vt vm --iommufd on $GPU2
	expect "vm --iommufd on without /dev/iommu: missing" 1 "# missing iommufd: asked for"
	rm -rf "$FK/sys/bus/pci/devices/$GPU2/vfio-dev"
	# two GPUs with 256 GiB BARs: 1 TiB of high MMIO, nodes 1-8 and 9-16
	vt bind $GPU1
	mkdir -p "$FK/sys/bus/pci/devices/$GPU1/nvgrace"
	echo ok >"$FK/sys/bus/pci/devices/$GPU1/nvgrace/mem_status"
	echo "0x800000000000 154618822656 274877906944" >"$FK/sys/bus/pci/devices/$GPU1/nvgrace/usemem"
	echo "0x8024000000 1073741824 1073741824" >"$FK/sys/bus/pci/devices/$GPU1/nvgrace/resmem"
	res >"$FK/sys/bus/pci/devices/$GPU1/resource"
	vt vm
	expect "vm: two GPUs (every one bound by default)" 0 "^-device vfio-pci,host=$GPU1,bus=nvgrace-rp0,id=nvgrace-gpu0"
	expect "vm: ... the second behind its own root port" 0 "^-device vfio-pci,host=$GPU2,bus=nvgrace-rp1,id=nvgrace-gpu1"
	expect "vm: ... 257 GiB + 129 GiB of BARs: a 1 TiB window" 0 "^-machine highmem-mmio-size=1024G"
	expect "vm: ... the second GPU's nodes 9-16" 0 "acpi-generic-initiator,id=nvgrace-gi16,pci-dev=nvgrace-gpu1,node=16\$"
	vt vm --libvirt
	if printf '%s\n' "$out" | python3 -c '
import sys, xml.etree.ElementTree as ET
x = "<domain xmlns:qemu=\"http://libvirt.org/schemas/domain/qemu/1.0\">" + sys.stdin.read() + "</domain>"
d = ET.fromstring(x)
q = "{http://libvirt.org/schemas/domain/qemu/1.0}"
hd = d.findall("hostdev")
assert [h.find("source/address").get("domain") for h in hd] == ["0x0009", "0x0019"], hd
assert [h.get("managed") for h in hd] == ["no", "no"]
args = [a.get("value") for a in d.find(q + "commandline").findall(q + "arg")]
gi = [a for a in args if a.startswith("acpi-generic-initiator,")]
assert len(gi) == 16 and gi[15].endswith("pci-dev=ua-nvgrace-gpu1,node=16"), gi
assert "highmem-mmio-size=1024G" in args
' 2>"$FK/vm-xml.err"; then
		tap_ok "vm --libvirt: well-formed hostdevs (managed=no) and qemu:commandline with 16 generic initiators"
	else
		tap_not_ok "vm --libvirt: well-formed hostdevs (managed=no) and qemu:commandline with 16 generic initiators"
		{ cat "$FK/vm-xml.err"; printf '%s\n' "$out"; } | diag
	fi
	rm -f "$FK/vm-xml.err"
	vt unbind $GPU1
	unset NVGRACE_QEMU NVGRACE_VIRSH

	fk_cleanup
	trap - EXIT
}

if command -v shellcheck >/dev/null; then
	if o=$(shellcheck -s sh "$tool" 2>&1); then
		tap_ok "shellcheck -s sh tools/nvgrace-vfio"
	else
		tap_not_ok "shellcheck -s sh tools/nvgrace-vfio"
		printf '%s\n' "$o" | diag
	fi
else
	tap_skip "shellcheck -s sh tools/nvgrace-vfio" "shellcheck not installed"
fi
command -v python3 >/dev/null || {
	tap_not_ok "python3 needed to check doctor --json"
	tap_finish
	exit
}
for s in "${shells[@]}"; do
	one_shell "$s"
done
TAP_PREFIX=
tap_finish
