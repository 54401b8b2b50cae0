# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0-only
#
# TAP for host-side test scripts (POSIX sh, bash too), after the kernel's
# tools/testing/selftests/kselftest/ktap_helpers.sh: numbered result lines,
# counts, and the plan line at the end.
#
#   . tests/lib/tap.sh
#   TAP_PREFIX="probe cache: "        # put before every description
#   tap_check "DESC" CMD [ARG...]      ok when CMD succeeds
#   tap_none "DESC" [PROBLEM...]       ok when no problem is given; else
#                                      not ok, one "# PROBLEM" line each
#   tap_ok "DESC" / tap_not_ok "DESC" / tap_skip "DESC" "WHY"
#   tap_finish                         prints "1..N"; fails if a test failed
#
# tests/run.sh counts the "ok"/"not ok" lines of every tier.

TAP_PREFIX=${TAP_PREFIX:-}
tap_n=0
tap_failed=0

tap_ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $TAP_PREFIX$1"
}

tap_not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $TAP_PREFIX$1"
}

tap_skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $TAP_PREFIX$1 # SKIP $2"
}

tap_check() {
	_tap_desc=$1
	shift
	if "$@"; then tap_ok "$_tap_desc"; else tap_not_ok "$_tap_desc"; fi
}

tap_none() {
	_tap_desc=$1
	shift
	if [ $# -eq 0 ]; then
		tap_ok "$_tap_desc"
	else
		tap_not_ok "$_tap_desc"
		printf '# %s\n' "$@"
	fi
}

tap_finish() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}
