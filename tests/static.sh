#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Static checks: checkpatch.pl --strict (from Debian's linux-source-7.3) on
# every C file and header of the pack, and shellcheck on every shell script.
# Prints one TAP line per file. Sparse (C=2) and W=1 run in the matrix tier,
# on every kernel.

set -euo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"

NG_CHECKPATCH_SERIES=7.3

# checkpatch.pl and the data files it reads, cut out of linux-source.
ng_checkpatch() {
	local dir=$NVGRACE_CACHE/checkpatch-$NG_CHECKPATCH_SERIES deb
	if [ ! -x "$dir/scripts/checkpatch.pl" ]; then
		ng_apt_setup
		deb=$(ng_download "linux-source-$NG_CHECKPATCH_SERIES")
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
		dpkg-deb --fsys-tarfile "$deb" |
			tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
			tar -xJ -C "$dir.tmp" --strip-components=1 --wildcards \
				'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
				'*/scripts/const_structs.checkpatch' '*/.clang-format'
		rm -rf "$dir" && mv "$dir.tmp" "$dir"
	fi
	printf '%s\n' "$dir/scripts/checkpatch.pl"
}

cd "$NVGRACE_TOP"
ng_need shellcheck perl
checkpatch=$(ng_checkpatch)

# A file that passed a check is not checked again while nothing the check
# reads has changed: the key is a hash of the checker, its arguments, the
# file, and for shellcheck every file some script sources. Only passes are
# kept, so a failure always runs and prints. NG_STATIC_CACHE=0 turns it off.
scache=$NVGRACE_CACHE/static-cache
mkdir -p "$scache"
cp_sum=$(cat "$checkpatch" "${checkpatch%/*}"/spelling.txt \
	"${checkpatch%/*}"/const_structs.checkpatch 2>/dev/null | sha256sum | cut -c1-64)
sc_sum=$({
	shellcheck --version
	git ls-files -co --exclude-standard -- '*.sh' '*.inc' '.ci/run' |
		xargs -r sed -n 's/^[[:space:]]*# shellcheck source=\([^ ]*\).*/\1/p' | sort -u |
		while IFS= read -r lib; do
			for d in . tests/guest; do
				if [ -f "$d/$lib" ]; then cat "$d/$lib"; fi
			done
		done
} | sha256sum | cut -c1-64)
# Each check's arguments, used for the run and for its key.
cp_args=(--strict --no-tree --quiet --show-types --ignore SPDX_LICENSE_TAG)
sc_bash=(-x -s bash -P SCRIPTDIR)
# guest scripts run under busybox sh in the initramfs
sc_guest=(-x -s sh -P tests/guest)
# passed_before SUM FILE ARGS...: FILE passed this check before (sets key)
passed_before() {
	key=$scache/$({
		printf '%s\n' "$@"
		cat "$2"
	} | sha256sum | cut -c1-64)
	[ "${NG_STATIC_CACHE:-1}" != 0 ] && [ -e "$key" ]
}

while IFS= read -r f; do
	if passed_before "$cp_sum" "$f" "${cp_args[@]}"; then
		tap_ok "checkpatch --strict $f (unchanged since it passed)"
	elif out=$(perl "$checkpatch" "${cp_args[@]}" --file "$f" 2>&1) && [ -z "$out" ]; then
		tap_ok "checkpatch --strict $f"
		: >"$key"
	else
		tap_not_ok "checkpatch --strict $f"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
done < <(git ls-files -co --exclude-standard -- '*.c' '*.h' | grep -v '^\.compat/' | sort)

while IFS= read -r f; do
	if passed_before "$sc_sum" "$f" "${sc_bash[@]}"; then
		tap_ok "shellcheck $f (unchanged since it passed)"
	elif out=$(shellcheck "${sc_bash[@]}" "$f" 2>&1); then
		tap_ok "shellcheck $f"
		: >"$key"
	else
		tap_not_ok "shellcheck $f"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
done < <(git ls-files -co --exclude-standard -- '*.sh' '.ci/run' |
	grep -v '^tests/guest/' | sort)

# Guest scripts run under busybox sh in the initramfs.
while IFS= read -r f; do
	if passed_before "$sc_sum" "$f" "${sc_guest[@]}"; then
		tap_ok "shellcheck $f (unchanged since it passed)"
	elif out=$(shellcheck "${sc_guest[@]}" "$f" 2>&1); then
		tap_ok "shellcheck $f"
		: >"$key"
	else
		tap_not_ok "shellcheck $f"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
done < <(git ls-files -co --exclude-standard -- 'tests/guest/*.sh' 'tests/guest/*.inc' | sort)
tap_finish
