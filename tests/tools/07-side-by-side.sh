#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# What lets make check run tiers side by side: the cache's setup lock
# (tests/lib/common.sh ng_setup_lock) keeps two takers apart, lets the
# holder's own nested calls and children through, and is free again after
# ng_setup_unlock; boot.sh and tier.sh refuse bad guest-slot and job counts.
# TAP on stdout.

# shellcheck disable=SC2016 # the bash -c scripts expand their own arguments
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lib/tap.sh
. "$top/tests/lib/tap.sh"
TAP_PREFIX="side by side: "
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
export NVGRACE_CACHE=$t/cache
unset NG_SETUP_LOCKED


# taker NAME: hold the lock for a moment, logging when it had it
taker() {
	bash -c '
		. "$1/tests/lib/common.sh"
		ng_setup_lock
		echo "in $2" >>"$3"
		sleep 0.5
		echo "out $2" >>"$3"
	' taker "$top" "$1" "$t/log" 2>/dev/null
}
taker a &
taker b &
taker c &
wait
# With the lock, every "in" is followed by its own "out".
tap_check "three takers never hold the lock together" \
	bash -c 'awk "/^in/{if (held) bad=1; held=\$2} /^out/{if (held != \$2) bad=1; held=\"\"} END{exit bad}" "$1" &&
		[ "$(wc -l <"$1")" = 6 ]' _ "$t/log"

# the holder's nested call and its child go through (no self-deadlock)
tap_check "the holder's nested take and its child process go through" \
	timeout 20 bash -c '
		. "$1/tests/lib/common.sh"
		ng_setup_lock
		ng_setup_lock
		bash -c ". \"$1/tests/lib/common.sh\"; ng_setup_lock" >/dev/null
	' _ "$top"

# after unlock another process gets it at once
tap_check "ng_setup_unlock frees the lock" \
	timeout 20 bash -c '
		. "$1/tests/lib/common.sh"
		ng_setup_lock
		ng_setup_unlock
		flock -n "$NVGRACE_CACHE/run/setup.lock" true
	' _ "$top"

# while held, a second taker waits and says why
tap_check "a waiting taker says what it waits for" \
	timeout 20 bash -c '
		. "$1/tests/lib/common.sh"
		ng_setup_lock
		( unset NG_SETUP_LOCKED; exec 7>&-; timeout 2 bash -c ". \"$1/tests/lib/common.sh\"; ng_setup_lock" 2>"$2/wait.err" )
		[ $? = 124 ] && grep -q "setup.lock" "$2/wait.err"
	' _ "$top" "$t"

out=$(NG_GUEST_SLOTS=0 "$top/tests/boot/boot.sh" --arch arm64 --kernel /nonexistent 2>&1)
rc=$?
tap_check "boot.sh refuses NG_GUEST_SLOTS=0" [ "$rc" != 0 ]
tap_check "and says why" grep -q "NG_GUEST_SLOTS must be a positive number" <<<"$out"
out=$("$top/tests/boot/tier.sh" --jobs x --kernels arm64/7.3 2>&1)
rc=$?
tap_check "tier.sh refuses --jobs x" [ "$rc" != 0 ]
tap_check "and says why" grep -q -- "--jobs takes a positive number" <<<"$out"
tap_finish
