#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Benchmark: how long the build step of `dkms build` takes per kernel, cold
# and with the compat probe results cached. dkms copies the source
# (packaging/install-source.sh's list) into a fresh build directory and
# runs dkms.conf's MAKE[0], "make KVER=<release> KDIR=<headers>", with
# -j<cores>; this does the same, with the kernel's own compiler
# (tests/matrix/kernels.sh run: host gcc-12 or the gcc-14 chroot), so
# that every Debian series can be timed on this host.
#   cold     no probe results anywhere (every compat probe compiles)
#   cached   a second fresh copy with NVGRACE_PROBE_CACHE pointing at the
#            results the cold build left (compat/probe.mk)
#
#   tests/bench/dkms-time.sh [--kernels "arm64/6.1 arm64/6.12 ..."] [--tap]
#
# Prints one TAP line per kernel ("not ok" only when a build fails), then a
# Markdown table | kernel | release | compiler | cold s | cached s | probes |
# (--tap: as "# " lines).

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"

kernels="arm64/6.1 arm64/6.12 arm64/7.3 amd64/6.1 amd64/7.3"
tap=0
while [ $# -gt 0 ]; do
	case $1 in
	--kernels) kernels=$2; shift ;;
	--tap) tap=1 ;;
	-h | --help) sed -n '3,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "dkms-time.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
ks=$here/../matrix/kernels.sh
mkdir -p "$NVGRACE_CACHE/tmp"
tmp=$(mktemp -d "$NVGRACE_CACHE/tmp/dkms-time.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
jobs=$(nproc)
rc=0
rows=()

# build DIR LOG [CACHE]: install the source into DIR, run MAKE[0] there;
# prints the wall time in seconds (two decimals)
build() {
	local dir=$1 log=$2 cache=${3:-} t0 t1
	"$NVGRACE_TOP/packaging/install-source.sh" "$dir" >/dev/null
	t0=${EPOCHREALTIME/./}
	# Headers and chroot are in place (see below): NG_SETUP_LOCKED keeps
	# kernels.sh run from waiting, inside the clock, for another test
	# run's downloads.
	# shellcheck disable=SC2016 # KDIR and NG_KERNEL_RELEASE come from kernels.sh run
	(cd "$dir" && env -u NVGRACE_PROBE_CACHE ${cache:+NVGRACE_PROBE_CACHE=$cache} \
		NG_SETUP_LOCKED="${NG_SETUP_LOCKED:-dkms-time}" \
		"$ks" run "$series" "$arch" -- \
		sh -c 'exec make -j"$1" KVER="$NG_KERNEL_RELEASE" KDIR="$KDIR"' sh "$jobs") >"$log" 2>&1 || return 1
	t1=${EPOCHREALTIME/./}
	printf '%d.%02d\n' $(((t1 - t0) / 1000000)) $(((t1 - t0) % 1000000 / 10000))
}

for k in $kernels; do
	arch=${k%%/*} series=${k#*/}
	# headers and chroot fetched before the clock starts
	if ! "$ks" run "$series" "$arch" -- true; then
		echo "not ok - dkms build time $k: kernel headers"
		rc=1
		continue
	fi
	rel=$("$ks" release "$series" "$arch")
	tc=$("$ks" toolchain "$series" "$arch")
	if ! cold=$(build "$tmp/$series-$arch-cold" "$tmp/$series-$arch-cold.log" "$tmp/cache-$series-$arch"); then
		echo "not ok - dkms build time $k: cold build failed"
		tail -n 20 "$tmp/$series-$arch-cold.log" | sed 's/^/# /'
		rc=1
		continue
	fi
	if ! cached=$(build "$tmp/$series-$arch-cached" "$tmp/$series-$arch-cached.log" "$tmp/cache-$series-$arch"); then
		echo "not ok - dkms build time $k: cached build failed"
		tail -n 20 "$tmp/$series-$arch-cached.log" | sed 's/^/# /'
		rc=1
		continue
	fi
	np=$(grep -c '^ *PROBE .*HAVE_' "$tmp/$series-$arch-cold.log" || true)
	echo "ok - dkms build time $k ($rel, $tc): cold ${cold} s, probe results cached ${cached} s ($np probes)"
	rows+=("| $k | $rel | $tc | $cold | $cached | $np |")
	rm -rf "$tmp/$series-$arch-cold" "$tmp/$series-$arch-cached"
done
{
	echo "| kernel | release | compiler | cold s | cached s | probes |"
	echo "|---|---|---|---|---|---|"
	for r in "${rows[@]}"; do echo "$r"; done
	echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | if [ $tap = 1 ]; then sed 's/^/# /'; else cat; fi
exit "$rc"
