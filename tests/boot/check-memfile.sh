#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: GPL-2.0-only
#
# check-memfile.sh: check (or write) bytes of the host file backing the guest's
# ivshmem BAR2 (boot.sh --mem-file), i.e. what the guest wrote at
# BAR2 + OFFSET, after the guest has exited.
#
# Usage:
#   check-memfile.sh [--write] FILE OFFSET PATTERN [COUNT]
#     OFFSET   byte offset into the file = into BAR2 (decimal or 0x hex)
#     PATTERN  bytes in file order as hex ("4e564752", "4e 56 47 52"), or
#              u32:VALUE / u64:VALUE for a little-endian integer (what a
#              32/64-bit store of VALUE leaves in memory on arm64 and x86)
#     COUNT    the pattern repeats COUNT times from OFFSET (default 1)
#     --write  write the pattern instead (e.g. pre-fill before a boot so the
#              guest can check what the host put there)
# Exit status 0 when the bytes match (or were written), 1 on mismatch,
# 2 on usage errors. On mismatch prints the first differing offset.
set -euo pipefail

write=0
[ "${1:-}" = --write ] && { write=1; shift; }
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
	sed -n '/^# SPDX/,/^[^#]/{/^#/p}' "$0" | sed '1d; s/^# \{0,1\}//' >&2
	exit 2
fi
file=$1 off=$(($2)) pat=$3 count=${4:-1}

le_hex() { # le_hex BYTES VALUE: little-endian hex of VALUE in BYTES bytes
	local v=$(($2)) i out=
	for ((i = 0; i < $1; i++)); do
		out+=$(printf '%02x' $(((v >> (8 * i)) & 0xff)))
	done
	printf '%s' "$out"
}
case $pat in
u32:*) hex=$(le_hex 4 "${pat#u32:}") ;;
u64:*) hex=$(le_hex 8 "${pat#u64:}") ;;
*) hex=$(printf '%s' "$pat" | tr -d ' :' | tr 'A-F' 'a-f') ;;
esac
[[ $hex =~ ^([0-9a-f]{2})+$ ]] || { echo "check-memfile: bad pattern: $pat" >&2; exit 2; }
len=$((${#hex} / 2))
total=$((len * count))

if [ $write = 1 ]; then
	[ -e "$file" ] || { echo "check-memfile: $file does not exist" >&2; exit 2; }
	esc=$(printf '%s' "$hex" | sed 's/../\\x&/g')
	for ((i = 0; i < count; i++)); do printf '%b' "$esc"; done |
		dd of="$file" bs=1M seek="$off" oflag=seek_bytes conv=notrunc status=none
	exit 0
fi

[ -r "$file" ] || { echo "check-memfile: cannot read $file" >&2; exit 2; }
size=$(stat -c %s "$file")
[ $((off + total)) -le "$size" ] || { echo "check-memfile: $file is $size bytes, need $((off + total))" >&2; exit 1; }
got=$(dd if="$file" bs=1M skip="$off" count="$total" iflag=skip_bytes,count_bytes status=none | od -An -v -tx1 | tr -d ' \n')
want=$(for ((i = 0; i < count; i++)); do printf '%s' "$hex"; done)
if [ "$got" = "$want" ]; then
	echo "ok: $file+$(printf '0x%x' "$off"): $total bytes match"
	exit 0
fi
for ((i = 0; i < total; i++)); do
	if [ "${got:2*i:2}" != "${want:2*i:2}" ]; then
		printf 'MISMATCH: %s+0x%x: got %s, want %s (first difference; %d bytes checked from 0x%x)\n' \
			"$file" $((off + i)) "${got:2*i:2}" "${want:2*i:2}" "$total" "$off"
		break
	fi
done
exit 1
