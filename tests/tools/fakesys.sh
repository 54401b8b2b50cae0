#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A fake sysfs/procfs tree with a fake kernel behind it, for host-side tests
# of tools/nvgrace-vfio (which honours NVGRACE_ROOT). Source it from bash.
#
# The tool calls $NVGRACE_SYSFS_HOOK FILE VALUE after each sysfs write; the
# hook is fk_kernel, which applies the PCI core's rules to writes of
# drivers_probe, drivers/X/bind and drivers/X/unbind: driver_override names
# the only driver that may bind (sysfs takes any name, even a misspelled
# one); without it a device binds to its ID-matching driver (file .native in
# the device directory). A driver with a file .fail refuses every probe.
# Every write the kernel acts on is logged to $FK/kernel.log.
#
#   fk_init                      fresh tree in $FK (exported as NVGRACE_ROOT)
#   fk_driver NAME               register a PCI driver
#   fk_device BDF VEN DEV [GROUP [NATIVE [BOUND]]]
#                                add a device (GROUP "" = no IOMMU group)
# A device directory's .nvgrace/ becomes its nvgrace/ while it is bound to
# nvgrace_vfio_pci (the driver's sysfs attributes).
#   fk_write FILE VALUE          write as the tool does (file + kernel)
#   fk_open PID COMM PATH        a process holding PATH open (for "busy")
#   fk_cleanup                   remove the tree

fk_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

fk_init() {
	FK=$(mktemp -d "${TMPDIR:-/tmp}/nvgrace-fakesys.XXXXXX")
	export FK NVGRACE_ROOT=$FK NVGRACE_SYSFS_HOOK="$fk_here/fakesys.sh"
	mkdir -p "$FK"/sys/bus/pci/devices "$FK"/sys/bus/pci/drivers \
		"$FK"/sys/kernel/iommu_groups "$FK"/sys/module "$FK"/proc \
		"$FK"/dev/vfio "$FK"/etc "$FK"/run
	: >"$FK/kernel.log"
	: >"$FK/sys/bus/pci/drivers_probe"
}

fk_cleanup() {
	[ -n "${FK:-}" ] && [ -d "$FK" ] && rm -rf "$FK"
	return 0
}

# fk_kernel FILE VALUE: the kernel's reaction to a sysfs write
fk_kernel() {
	local p f v=$2
	# through symlinks (devices/BDF/driver/unbind is drivers/X/unbind)
	p=$(readlink -f "$1")
	f=${p#"$(readlink -f "$FK")"/sys/}
	case $f in
	bus/pci/drivers_probe | bus/pci/drivers/*/bind | bus/pci/drivers/*/unbind) ;;
	*) return 0 ;;
	esac
	echo "$f $v" >>"$FK/kernel.log"
	case $f in
	bus/pci/drivers_probe) fk_probe "$v" ;;
	*/bind) fk_bind_store "$(basename "$(dirname "$p")")" "$v" ;;
	*/unbind) fk_unbind_store "$(basename "$(dirname "$p")")" "$v" ;;
	esac
}

fk_write() {
	printf '%s\n' "$2" >"$1" && fk_kernel "$1" "$2"
}

fk_driver() {
	local d=$FK/sys/bus/pci/drivers/$1
	mkdir -p "$d"
	: >"$d/bind"
	: >"$d/unbind"
}

fk_device() {
	local bdf=$1 d=$FK/sys/bus/pci/devices/$1
	mkdir -p "$d"
	echo "0x$2" >"$d/vendor"
	echo "0x$3" >"$d/device"
	: >"$d/driver_override"
	if [ -n "${4:-}" ]; then
		mkdir -p "$FK/sys/kernel/iommu_groups/$4/devices"
		ln -s "../../../../kernel/iommu_groups/$4" "$d/iommu_group"
		ln -s "../../../../bus/pci/devices/$bdf" "$FK/sys/kernel/iommu_groups/$4/devices/$bdf"
	fi
	[ -n "${5:-}" ] && echo "$5" >"$d/.native"
	if [ -n "${6:-}" ]; then
		fk_link "$bdf" "$6"
	fi
	return 0
}

fk_link() {
	local d=$FK/sys/bus/pci/devices/$1
	ln -s "../../../../bus/pci/drivers/$2" "$d/driver"
	ln -s "../../../../bus/pci/devices/$1" "$FK/sys/bus/pci/drivers/$2/$1"
	if [ "$2" = nvgrace_vfio_pci ] && [ -d "$d/.nvgrace" ]; then
		cp -r "$d/.nvgrace" "$d/nvgrace"
	fi
}

fk_unlink() {
	local drv d=$FK/sys/bus/pci/devices/$1
	drv=$(basename "$(readlink "$d/driver")")
	rm -f "$d/driver" "$FK/sys/bus/pci/drivers/$drv/$1"
	[ -d "$d/.nvgrace" ] && rm -rf "$d/nvgrace"
	return 0
}

fk_override() {
	local o
	o=$(cat "$FK/sys/bus/pci/devices/$1/driver_override")
	[ "$o" = "(null)" ] && o=
	printf '%s\n' "$o"
}

# may DRIVER bind BDF? (override, else ID match; probe failure)
fk_match() {
	local bdf=$1 drv=$2 d=$FK/sys/bus/pci/devices/$1 o
	[ -d "$FK/sys/bus/pci/drivers/$drv" ] || return 1
	[ ! -e "$d/driver" ] || return 1
	o=$(fk_override "$bdf")
	if [ -n "$o" ]; then
		[ "$o" = "$drv" ] || return 1
	else
		[ "$(cat "$d/.native" 2>/dev/null)" = "$drv" ] || return 1
	fi
	[ ! -e "$FK/sys/bus/pci/drivers/$drv/.fail" ]
}

fk_probe() {
	local bdf=$1 o
	[ -d "$FK/sys/bus/pci/devices/$bdf" ] || return 0
	o=$(fk_override "$bdf")
	[ -n "$o" ] || o=$(cat "$FK/sys/bus/pci/devices/$bdf/.native" 2>/dev/null)
	[ -n "$o" ] && fk_match "$bdf" "$o" && fk_link "$bdf" "$o"
	return 0
}

fk_bind_store() {
	fk_match "$2" "$1" && fk_link "$2" "$1"
	return 0
}

fk_unbind_store() {
	[ -L "$FK/sys/bus/pci/drivers/$1/$2" ] && fk_unlink "$2"
	return 0
}

fk_open() {
	mkdir -p "$FK/proc/$1/fd"
	echo "$2" >"$FK/proc/$1/comm"
	ln -s "$3" "$FK/proc/$1/fd/7"
}

# Run as the tool's hook: fakesys.sh FILE VALUE (FK from the environment).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	fk_kernel "$1" "$2"
fi
