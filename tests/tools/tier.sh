#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The tools tier: host-side tests of the operator tools and the packaging.
# Runs every tests/tools/NN-*.sh, or the named ones; each prints TAP lines.
# The real install test in a VM is the install tier (tests/install).
#
#   tests/tools/tier.sh [SCRIPT...]

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"
# the shells the tool must run under, JSON checks, the linter
ng_need dash busybox python3 shellcheck
rc=0
scripts=("$@")
[ ${#scripts[@]} -gt 0 ] || scripts=("$here"/[0-9][0-9]-*.sh)
for s in "${scripts[@]}"; do
	echo "# tools: ${s##*/}"
	"$s" || rc=1
done
exit "$rc"
