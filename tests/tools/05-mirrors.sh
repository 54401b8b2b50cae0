#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The test bed takes its Debian mirrors from the machine's apt sources
# (tests/lib/common.sh: ng_debian_mirrors). Checked here against apt
# configurations written into a scratch root: one-line and deb822 files,
# options, comments, disabled stanzas, other vendors' sources, a security
# archive or none, and the environment override. TAP lines on stdout.

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
TAP_PREFIX="mirrors: "

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

# mirrors ROOT [VAR=VALUE...]: "ARCHIVE SECURITY" as a fresh shell finds
# them in ROOT's apt sources (the environment's VAR=VALUE kept, if given)
mirrors() {
	local root=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	env -u NVGRACE_MIRROR -u NVGRACE_SECURITY_MIRROR "$@" bash -c \
		'keep=${NVGRACE_MIRROR:-}
		 . "$1/../lib/common.sh" || exit 1
		 [ -n "$keep" ] || unset NVGRACE_MIRROR NVGRACE_SECURITY_MIRROR
		 ng_debian_mirrors "$2" && echo "$NVGRACE_MIRROR $NVGRACE_SECURITY_MIRROR"' \
		sh "$here" "$root"
}

# expect NAME WANT ROOT [VAR=VALUE...]
expect() {
	local name=$1 want=$2 got
	shift 2
	got=$(mirrors "$@" 2>&1)
	if [ "$got" = "$want" ]; then
		tap_ok "$name"
	else
		tap_not_ok "$name"
		echo "#   want: $want"
		echo "#   got:  $got"
	fi
}

root() {
	local r=$t/$1
	mkdir -p "$r/etc/apt/sources.list.d"
	printf '%s\n' "$r"
}

r=$(root list)
cat >"$r/etc/apt/sources.list" <<'EOS'
# deb http://commented.example/deb sid main
deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/deb/ bookworm main
deb http://security.example/deb-security bookworm-security main
EOS
expect "one-line sources with options and a trailing slash" \
	"http://mirror.example/deb http://security.example/deb-security" "$r"

r=$(root deb822)
cat >"$r/etc/apt/sources.list.d/vendor.sources" <<'EOS'
Types: deb
URIs: https://vendor.example/node_20.x
Suites: nodistro
Components: main
EOS
cat >"$r/etc/apt/sources.list.d/debian.sources" <<'EOS'
Types: deb
# a comment inside the stanza
URIs: http://off.example/deb
Suites: trixie
Enabled: no

Types: deb-src deb
URIs: http://proxy.example:3142/deb http://second.example/deb
Suites: trixie trixie-updates
Components: main

Types: deb
URIs: http://proxy.example:3142/deb-security
Suites: trixie-security
Components: main
EOS
expect "deb822: disabled stanzas, comments and other vendors left out" \
	"http://proxy.example:3142/deb http://proxy.example:3142/deb-security" "$r"

r=$(root nosecurity)
echo 'deb http://local.example/mirror/deb sid main' >"$r/etc/apt/sources.list"
expect "no security source: the archive's sibling" \
	"http://local.example/mirror/deb http://local.example/mirror/deb-security" "$r"

r=$(root env)
echo 'deb http://local.example/deb bookworm main' >"$r/etc/apt/sources.list"
expect "NVGRACE_MIRROR and NVGRACE_SECURITY_MIRROR override" \
	"http://env.example/d http://env.example/s" "$r" \
	NVGRACE_MIRROR=http://env.example/d NVGRACE_SECURITY_MIRROR=http://env.example/s

r=$(root none)
echo 'deb https://vendor.example/node nodistro main' >"$r/etc/apt/sources.list"
if out=$(mirrors "$r" 2>&1); then
	tap_not_ok "no Debian source is an error (got '$out')"
elif grep -q 'no Debian archive in the apt sources' <<<"$out"; then
	tap_ok "no Debian source is an error naming NVGRACE_MIRROR"
else
	tap_not_ok "no Debian source: unclear message '$out'"
fi

# This machine: what the suite really uses comes from its own sources.
first=$(ng_apt_source_uris | grep -vE '^[^ ]*-security ' |
	grep -E '^(bookworm|trixie|sid|bullseye|forky)' | head -n1)
if [ -n "$first" ] && [ "$(mirrors / | cut -d' ' -f1)" = "${first#* }" ]; then
	tap_ok "this machine's archive is its first Debian source (${first#* })"
else
	tap_not_ok "this machine's archive (apt says '${first:-none}', the test bed '$(mirrors / 2>&1)')"
fi
tap_finish
