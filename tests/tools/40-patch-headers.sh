#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The companion kernel patches (packaging/kernel-patches/<series>/*.patch)
# are in the form a distribution kernel team takes: git format-patch
# headers, the stable-backport "commit <sha> upstream." line and the
# upstream author (From:) with the original Signed-off-by chain for
# upstream commits, DEP-3 fields (Origin; Applied-Upstream for what came
# from upstream or its lists; Forwarded for the pack's own), and the
# backporter's Signed-off-by last. Whether the series still apply is
# tests/custom/patches.sh. TAP lines on stdout.

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
kp=$top/packaging/kernel-patches
# shellcheck source=tests/lib/tap.sh
. "$top/tests/lib/tap.sh"
TAP_PREFIX="patch-headers: "
diag() { sed 's/^/# /'; }

# the backporter: the pack's maintainers (their address in debian/control)
me=$(sed -n 's/^Maintainer: .*<\(.*\)>$/\1/p' "$top/packaging/debian/control")
declare -A sha_of
n=0
for f in "$kp"/*/[0-9][0-9][0-9][0-9]-*.patch; do
	n=$((n + 1))
	p=${f#"$kp"/}
	# the description: up to the first line that is exactly "---"
	h=$(sed -n '/^---$/q;p' "$f")
	from=$(sed -n 's/^From: //p' <<<"$h" | head -n 1)
	subj=$(sed -n '/^Subject: /{s/^Subject: \(\[PATCH[^]]*\] \)\{0,1\}//;N;s/\n \{1,\}/ /;s/\n.*//;p;q}' <<<"$h")
	origin=$(sed -n 's/^Origin: \([a-z]*\).*/\1/p' <<<"$h")
	sobs=$(sed -n 's/^Signed-off-by: //p' <<<"$h")
	last=$(tail -n 1 <<<"$sobs")
	errs=
	[ -n "$from" ] || errs="$errs; no From:"
	[ -n "$subj" ] || errs="$errs; no Subject:"
	grep -q "^Date: " <<<"$h" || errs="$errs; no Date:"
	case $last in *"<$me>") ;; *) errs="$errs; last Signed-off-by is '$last', not the backporter (<$me>)" ;; esac
	grep -qxF "$from" <<<"$sobs" || errs="$errs; the author ($from) has no Signed-off-by"
	case $origin in
	upstream | backport)
		sha=$(sed -n 's/^commit \([0-9a-f]\{40\}\) upstream\.$/\1/p' <<<"$h")
		if [ -z "$sha" ]; then
			errs="$errs; no 'commit <sha> upstream.' line"
		else
			grep -q "^Origin: $origin, .*$sha" <<<"$h" || errs="$errs; Origin: does not name commit $sha"
			grep -q "^Applied-Upstream: [0-9.]*, commit:$sha\$" <<<"$h" ||
				errs="$errs; no 'Applied-Upstream: <version>, commit:$sha'"
			if [ -n "${sha_of[$subj]:-}" ] && [ "${sha_of[$subj]}" != "$sha" ]; then
				errs="$errs; '$subj' names commit $sha here, ${sha_of[$subj]} in another series"
			fi
			sha_of[$subj]=$sha
		fi
		;;
	other)
		grep -q '^Origin: other, https://' <<<"$h" || errs="$errs; Origin: other without a URL"
		grep -q '^Applied-Upstream: ' <<<"$h" || errs="$errs; no Applied-Upstream: (yes or no)"
		;;
	vendor)
		grep -q '^Forwarded: ' <<<"$h" || errs="$errs; the pack's own patch says nothing in Forwarded:"
		;;
	*) errs="$errs; no DEP-3 Origin: (upstream, backport, vendor or other)" ;;
	esac
	if [ -n "$errs" ]; then
		tap_not_ok "$p"
		echo "${errs#; }" | tr ';' '\n' | sed 's/^ //' | diag
		continue
	fi
	if [ "$origin" != vendor ] && [ "${from##*<}" = "$me>" ]; then
		if grep -q 'upstream author and Signed-off-by chain are not' <<<"$h"; then
			tap_skip "$p: upstream author" "not recorded in the patch (its note says why); From: is the backporter"
		else
			tap_not_ok "$p: From: is the backporter, not the upstream author"
		fi
		continue
	fi
	tap_ok "$p ($origin${sha:+ $sha}, From: ${from%% <*})"
	sha=
done
[ "$n" -gt 0 ] || tap_not_ok "no patches found in $kp"
tap_finish
