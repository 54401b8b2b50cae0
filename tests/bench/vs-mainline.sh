#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Benchmark: the pack's nvgrace-vfio-pci against mainline's
# nvgrace-gpu-vfio-pci (Debian's linux-source-7.3, built out of tree by
# tests/bench/mainline.sh) in the same QEMU TCG boot, on the same stand-in
# GPU: first touch of usemem at a 1 GiB-aligned, a 2 MiB-aligned and the
# kernel-picked address, pread and pwrite in 64 MiB chunks
# (tests/bench/guest/91-vs-mainline.sh, tests/guest/vfio-bench.c). On arm64
# kernels also the first touch from an L2 guest through QEMU, in a second
# boot that the real-VMM tier makes (tests/vmm/tier.sh --only
# '92-l2-vs-mainline*'; tests/bench/guest/92-l2-vs-mainline.sh): 256 MiB
# and 1 GiB of usemem, each round once per driver.
#
#   tests/bench/vs-mainline.sh [--kernels "arm64/7.3 amd64/7.3"] [--rounds N]
#                              [--mem-size SIZE] [--no-l2] [--no-host] [--tap]
#
# The stand-in's memory is --mem-size (default 4G: 3 GiB usemem, so a
# 1 GiB-aligned mapping shows one PUD fault per GiB where the kernel has
# PUD PFN mappings). The pack's modules come from
# $NVGRACE_BUILD_ROOT/<series>-<arch> ($NVGRACE_CACHE/build without it),
# built by tests/matrix/matrix.sh when missing.
# --no-l2 / --no-host: without the L2 boot / without the host-side one.
# Prints, per kernel and measurement, one TAP line with the median over the
# rounds of the ours/mainline time ratio, then a Markdown table:
#   | kernel | measurement | ours ms (faults) | mainline ms (faults) | ours/mainline |
# (faults: the process's minor faults; for the L2 lines, kernel
# "arm64/SERIES L2", KVM's stage-2 faults on the BAR)
# A line fails only when a measurement is missing (a driver did not load,
# bind or map), never on a ratio. --tap (the bench tier): the boot tier's
# own TAP lines too, and the table as "# " lines. Exit status 1 when
# something failed.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"

kernels="arm64/7.3 amd64/7.3"
rounds=3
memsize=4G
tap=0 l2=1 host=1
while [ $# -gt 0 ]; do
	case $1 in
	--kernels) kernels=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--mem-size) memsize=$2; shift ;;
	--tap) tap=1 ;;
	--no-l2) l2=0 ;;
	--no-host) host=0 ;;
	-h | --help) sed -n '3,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "vs-mainline.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "vs-mainline.sh: --rounds takes a positive number"

modroot=${NVGRACE_BUILD_ROOT:-$NVGRACE_CACHE/build}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
mlroot=''
bootk=''
for k in $kernels; do
	arch=${k%%/*} series=${k#*/}
	if ! d=$("$here/mainline.sh" "$series" "$arch" | tail -n1); then
		echo "not ok - $k: mainline's nvgrace-gpu-vfio-pci builds against its headers"
		rc=1
		continue
	fi
	mlroot=$(dirname "$d")
	if [ ! -s "$modroot/$series-$arch/nvgrace-test-fwprops.ko" ]; then
		"$here/../matrix/matrix.sh" --series "$series" --arch "$arch" >&2 || {
			echo "not ok - $k: the pack builds (tests/matrix/matrix.sh)"
			rc=1
			continue
		}
	fi
	bootk+=" $k"
done
[ -n "$bootk" ] || exit 1

if [ $host = 1 ]; then
	"$here/../boot/tier.sh" --kernels "${bootk# }" --modules-root "$modroot" \
		--extra-modules-root "$mlroot" --tests "$here/../guest" --tests "$here/guest" \
		--only '91-vs-mainline*' --mem-size "$memsize" \
		--test-timeout $((600 + rounds * 300)) --timeout $((900 + rounds * 300)) \
		--append "nvgrace.bench_rounds=$rounds" >"$out" || rc=1
fi
# L2 first touch: the real-VMM tier's boot (QEMU disk, L2 payload) with
# mainline's module added, the stand-in at the tier's size (1 GiB usemem)
if [ $l2 = 1 ]; then
	for k in $bootk; do
		case $k in arm64/*) ;; *) continue ;; esac
		"$here/../vmm/tier.sh" --kernels "$k" --no-efi --modules-root "$modroot" \
			--only '92-l2-vs-mainline*' --tests "$here/guest" \
			--extra-modules "$mlroot/${k#*/}-arm64" --append "nvgrace.bench_rounds=$rounds" \
			--test-timeout $((300 + rounds * 400)) --timeout $((600 + rounds * 400)) \
			>>"$out" || rc=1
	done
fi
if [ $tap = 1 ]; then cat "$out"; else cat "$out" >&2; fi

# ratios NAME LOG WHATS: TAP lines and "ROW|..." table rows from the
# BENCH-VS lines, for the measurements WHATS
ratios() {
	tr -d '\r' <"$2" | awk -v k="$1" -v whats="$3" '
	function median(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		if (n == 0) return ""
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	/^# BENCH-VS / {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		key = f["drv"] SUBSEP f["what"] SUBSEP f["round"]
		ms[key] = f["ms"]; flt[key] = f["faults"]; mib[f["what"]] = f["mib"]
		al[key] = f["va_align"]
		if (f["round"] > maxr) maxr = f["round"]
	}
	END {
		nw = split(whats, w, " ")
		for (i = 1; i <= nw; i++) {
			so = sm = sr = sfo = sfm = ""
			for (r = 1; r <= maxr; r++) {
				o = "ours" SUBSEP w[i] SUBSEP r
				m = "mainline" SUBSEP w[i] SUBSEP r
				if (o in ms) { so = so " " ms[o]; sfo = sfo " " flt[o] }
				if (m in ms) { sm = sm " " ms[m]; sfm = sfm " " flt[m] }
				if ((o in ms) && (m in ms) && ms[m] > 0)
					sr = sr " " ms[o] / ms[m]
			}
			n = split(sr, tmp, " ")
			if (n == 0) {
				printf "not ok - %s: bench %s: no measurement for %s\n", k, w[i],
					so == "" && sm == "" ? "either driver" : so == "" ? "ours" : "mainline"
				continue
			}
			what = w[i] " (" mib[w[i]] " MiB" (w[i] == "touch_any" ? ", VA " al["ours" SUBSEP w[i] SUBSEP 1] "/" al["mainline" SUBSEP w[i] SUBSEP 1] : "") ")"
			printf "ok - %s: bench %s: ours/mainline %.2f (median of %d rounds; ours %.1f ms, %d faults; mainline %.1f ms, %d faults)\n",
				k, what, median(sr), n, median(so), median(sfo), median(sm), median(sfm)
			printf "ROW| %s | %s | %.1f (%d) | %.1f (%d) | %.2f |\n", k, what,
				median(so), median(sfo), median(sm), median(sfm), median(sr)
		}
	}'
}

rows=$(mktemp)
trap 'rm -f "$out" "$rows"' EXIT
while read -r name log; do
	case $name in
	vmm/*) res=$(ratios "${name#vmm/} L2" "$log" "l2_touch_256m l2_touch_1g") ;;
	*) res=$(ratios "$name" "$log" "touch_1g touch_2m touch_any pwrite pread") ;;
	esac
	grep -v '^ROW|' <<<"$res" || true
	grep '^ROW|' <<<"$res" | sed 's/^ROW|/|/' >>"$rows" || true
	grep -q '^not ok' <<<"$res" && rc=1
done < <(sed -n 's/^# \(\(vmm\/\)\{0,1\}[a-z0-9-]*\/[0-9.]*\): serial log \(.*\)/\1 \3/p' "$out")
{
	echo "| kernel | measurement | ours ms (faults) | mainline ms (faults) | ours/mainline |"
	echo "|---|---|---|---|---|"
	cat "$rows"
} | if [ $tap = 1 ]; then sed 's/^/# /'; else cat; fi
exit "$rc"
