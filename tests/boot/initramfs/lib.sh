# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0-only
# /nvgrace/lib.sh: optional helpers for guest test scripts (busybox sh).
# Use: . /nvgrace/lib.sh

# TAP output: the test bed's one TAP library (tests/lib/tap.sh, copied
# into the initramfs); the runner numbers the lines of all scripts and
# prints the plan, so a script need not call tap_finish.
# shellcheck source=tests/lib/tap.sh
. /nvgrace/tap.sh
ok() { tap_ok "$*"; }
not_ok() { tap_not_ok "$*"; }
skip() { _d=$1; shift; tap_skip "$_d" "$*"; }
diag() { echo "# $*"; }
# check DESC CMD...: ok if CMD succeeds, else not ok (its output as diagnostics)
check() {
	_d=$1
	shift
	if _out=$("$@" 2>&1); then
		ok "$_d"
	else
		_rc=$?
		[ -n "$_out" ] && printf '%s\n' "$_out" | sed 's/^/# /'
		not_ok "$_d (rc=$_rc: $*)"
	fi
}

# ng_pci_find VENDOR DEVICE [N]: print the sysfs path of the Nth (default 1st)
# PCI function with those IDs (hex without 0x), or fail.
ng_pci_find() {
	_i=0
	for _d in /sys/bus/pci/devices/*; do
		[ "$(cat "$_d/vendor")" = "0x$1" ] || continue
		[ "$(cat "$_d/device")" = "0x$2" ] || continue
		_i=$((_i + 1))
		[ "$_i" -ge "${3:-1}" ] && { echo "$_d"; return 0; }
	done
	return 1
}
# The two stand-in devices QEMU provides.
ng_ivshmem() { ng_pci_find 1af4 1110; }
ng_bochs() { ng_pci_find 1234 1111; }

# ng_bar DEVPATH BAR: print "START SIZE" (hex start, decimal size) of a BAR
# from the sysfs resource file; fails for an unassigned BAR.
ng_bar() {
	_l=$(sed -n "$(($2 + 1))p" "$1/resource")
	# shellcheck disable=SC2086
	set -- $_l
	[ "$1" != 0x0000000000000000 ] || return 1
	printf '%s %d\n' "$1" $(($2 - $1 + 1))
}

# ng_load MOD [PARAMS...]: modprobe, falling back to insmod from /nvgrace/modules.
ng_load() {
	modprobe "$@" 2>/dev/null && return 0
	_m=$1
	shift
	for _f in "/nvgrace/modules/$_m.ko" "/nvgrace/modules/$(echo "$_m" | tr _ -).ko" \
		"/nvgrace/modules/$(echo "$_m" | tr - _).ko"; do
		[ -e "$_f" ] && { insmod "$_f" "$@"; return; }
	done
	modprobe "$_m" "$@"
}

# ng_bind DEVPATH DRIVER: bind a PCI device to DRIVER via driver_override.
ng_bind() {
	_dev=$1 _drv=$2
	[ -e "$_dev/driver" ] && echo "${_dev##*/}" >"$_dev/driver/unbind"
	echo "$_drv" >"$_dev/driver_override"
	echo "${_dev##*/}" >/sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "$_dev/driver" 2>/dev/null)")" = "$_drv" ]
}
