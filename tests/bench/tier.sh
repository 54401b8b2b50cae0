#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The bench tier of make check-full: every benchmark, TAP on stdout, their
# tables as "# " lines (the README's Performance section takes them).
#
#   tests/bench/poison-latency.sh   injection -> SIGBUS latency (nvgrace-poison)
#   tests/bench/vs-mainline.sh      the pack's driver against mainline's
#                                   nvgrace-gpu in the same boot: in the
#                                   host, and on arm64 from an L2 guest
#                                   through QEMU (the real-VMM tier's boot)
#   tests/bench/dkms-time.sh        the build step of dkms build, cold and
#                                   with the probe results cached
#
#   tests/bench/tier.sh
#
# A benchmark line fails only when a measurement could not be made. Exit
# status 1 when one did.

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for b in vs-mainline dkms-time poison-latency; do
	echo "# bench: $b ($(cut -d' ' -f1-3 /proc/loadavg) load average at the start)"
	"$here/$b.sh" --tap || rc=1
done
exit "$rc"
