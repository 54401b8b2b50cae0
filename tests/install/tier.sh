#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The install tier: the real install test (tests/install/install-vm.sh) in a
# bookworm (6.1) and a trixie (7.x) Debian VM, one after the other. The
# rootfs images are cached; a cold cache adds an mmdebstrap run per suite.
#
#   tests/install/tier.sh
#
# NVGRACE_INSTALL_VM="SUITE..." picks the suites (default "bookworm
# trixie"); set and empty, the tier is skipped.

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"

suites=${NVGRACE_INSTALL_VM-bookworm trixie}
if [ -z "$suites" ]; then
	tap_skip "install-vm" "NVGRACE_INSTALL_VM is set and empty"
	tap_finish
	exit
fi
rc=0
for suite in $suites; do
	echo "# install: install-vm.sh --suite $suite"
	"$here/install-vm.sh" --suite "$suite" || rc=1
done
exit "$rc"
