# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for the nvgrace-dkms test bed. Source it from bash scripts.
#
# Everything downloaded or built goes under $NVGRACE_CACHE (default
# ~/.cache/nvgrace-dkms), never into the repository.

: "${NVGRACE_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/nvgrace-dkms}"
export NVGRACE_CACHE
NVGRACE_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export NVGRACE_TOP

msg() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ng_apt_source_uris [ROOT]: "SUITE URI" for every enabled deb source of the
# machine's apt configuration (ROOT/etc/apt/sources.list and sources.list.d:
# one-line *.list and deb822 *.sources), in the order apt reads them.
ng_apt_source_uris() {
	local root=${1:-} f
	{
		for f in "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/*.list; do
			[ -r "$f" ] || continue
			# deb [options] URI SUITE [COMPONENT...]
			sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
				awk '$1 == "deb" && NF >= 3 { print $3, $2 }'
		done
		for f in "$root"/etc/apt/sources.list.d/*.sources; do
			[ -r "$f" ] || continue
			# deb822 stanzas: Types, URIs, Suites, Enabled (comment
			# lines are not stanza separators: drop them first)
			sed -e '/^[[:space:]]*#/d' -e 's/#.*//' "$f" | awk '
				function flush(  i, j, nu, ns, u, su) {
					if (deb && enabled) {
						nu = split(uris, u, " "); ns = split(suites, su, " ")
						for (i = 1; i <= nu; i++)
							for (j = 1; j <= ns; j++)
								print su[j], u[i]
					}
					deb = 0; enabled = 1; uris = ""; suites = ""
				}
				BEGIN { enabled = 1 }
				/^[ \t]*$/ { flush(); next }
				{ key = tolower($1); sub(/:$/, "", key); $1 = "" }
				key == "types" { deb = ($0 ~ /(^| )deb( |$)/) }
				key == "uris" { uris = $0 }
				key == "suites" { suites = $0 }
				key == "enabled" { enabled = ($0 !~ /no/) }
				END { flush() }'
		done
	} | sed 's|/*$||'
}

# ng_debian_mirrors [ROOT]: set NVGRACE_MIRROR and NVGRACE_SECURITY_MIRROR
# from the machine's apt sources unless the environment already sets them.
# The archive is the first source of a Debian suite (bookworm, trixie,
# sid, ... with -updates/-backports), the security archive the first source
# of a CODENAME-security suite. Without one, the security archive is taken
# to live beside the archive (.../debian -> .../debian-security), as on
# Debian's own mirrors.
ng_debian_mirrors() {
	local suites='(buster|bullseye|bookworm|trixie|forky|duke|sid|oldoldstable|oldstable|stable|testing|unstable)'
	local line
	if [ -z "${NVGRACE_MIRROR:-}" ]; then
		line=$(ng_apt_source_uris "${1:-}" |
			grep -E "^${suites}(-updates|-backports|-proposed-updates)? " | head -n1)
		[ -n "$line" ] ||
			die "no Debian archive in the apt sources (/etc/apt/sources.list, sources.list.d): add one, or set NVGRACE_MIRROR=URL"
		NVGRACE_MIRROR=${line#* }
	fi
	if [ -z "${NVGRACE_SECURITY_MIRROR:-}" ]; then
		line=$(ng_apt_source_uris "${1:-}" |
			grep -E "^${suites}(-security|/updates) " | head -n1)
		if [ -n "$line" ]; then
			NVGRACE_SECURITY_MIRROR=${line#* }
		else
			NVGRACE_SECURITY_MIRROR=$NVGRACE_MIRROR-security
		fi
	fi
	export NVGRACE_MIRROR NVGRACE_SECURITY_MIRROR
}
ng_debian_mirrors /

# apt with a private configuration that knows every suite we use, for both
# architectures. Never used to install anything: only update/download/cache.
NG_APT_DIR=$NVGRACE_CACHE/apt
ng_apt_setup() {
	local stamp=$NG_APT_DIR/updated held=${NG_SETUP_LOCKED:-}
	# one writer of the lists at a time (apt runs here with NoLocking)
	ng_setup_lock
	mkdir -p "$NG_APT_DIR"/lists/partial "$NG_APT_DIR"/cache/archives/partial \
		"$NG_APT_DIR"/etc/preferences.d "$NG_APT_DIR"/etc/apt.conf.d
	cat >"$NG_APT_DIR/sources.list.$$" <<EOS
deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $NVGRACE_MIRROR bookworm main
deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $NVGRACE_MIRROR bookworm-updates main
deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $NVGRACE_SECURITY_MIRROR bookworm-security main
deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $NVGRACE_MIRROR bookworm-backports main
deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $NVGRACE_MIRROR trixie main
deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $NVGRACE_MIRROR trixie-backports main
EOS
	# replaced in one step: other runs may be reading it
	if cmp -s "$NG_APT_DIR/sources.list.$$" "$NG_APT_DIR/sources.list"; then
		rm -f "$NG_APT_DIR/sources.list.$$"
	else
		mv -f "$NG_APT_DIR/sources.list.$$" "$NG_APT_DIR/sources.list"
	fi
	# Refresh the lists at most once every 12 hours.
	if [ -z "$(find "$stamp" -mmin -720 2>/dev/null)" ]; then
		msg "apt: updating private package lists in $NG_APT_DIR"
		ng_apt update -qq || die "apt update failed (is the Debian archive reachable?)"
		touch "$stamp"
	fi
	[ -n "$held" ] || ng_setup_unlock
}

ng_apt() {
	apt-get -o Dir::Etc::SourceList="$NG_APT_DIR/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::Etc::PreferencesParts="$NG_APT_DIR/etc/preferences.d" \
		-o Dir::State::Lists="$NG_APT_DIR/lists" \
		-o Dir::Cache="$NG_APT_DIR/cache" \
		-o Dir::State::status=/var/lib/dpkg/status \
		-o APT::Architectures::=amd64 -o APT::Architectures::=arm64 \
		-o Acquire::Check-Valid-Until=false \
		-o Acquire::Languages=none \
		-o APT::Sandbox::User=root \
		-o Debug::NoLocking=1 "$@"
}

ng_apt_cache() {
	apt-cache -o Dir::Etc::SourceList="$NG_APT_DIR/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$NG_APT_DIR/lists" \
		-o Dir::Cache="$NG_APT_DIR/cache" \
		-o APT::Architectures::=amd64 -o APT::Architectures::=arm64 "$@"
}

# ng_cached_deb DIR NAME VERSION ARCH: path of an already downloaded .deb
ng_cached_deb() {
	local f
	for f in "$1/${2}_${3//:/%3a}_$4.deb" "$1/${2}_${3//:/%3a}_all.deb"; do
		if [ -e "$f" ]; then
			printf '%s\n' "$f"
			return 0
		fi
	done
}

# ng_setup_lock / ng_setup_unlock: hold the cache's setup lock
# ($NVGRACE_CACHE/run/setup.lock, fd 7) while fetching, extracting or
# installing what the tests need, so that tiers running side by side
# (tests/run.sh) never fetch or unpack the same thing at once. Nested takers
# (the holder's own calls and child processes) go straight through.
ng_setup_lock() {
	[ -z "${NG_SETUP_LOCKED:-}" ] || return 0
	mkdir -p "$NVGRACE_CACHE/run"
	exec 7>"$NVGRACE_CACHE/run/setup.lock"
	if ! flock -n 7; then
		msg "waiting for another test run's downloads (setup.lock)"
		flock 7
	fi
	export NG_SETUP_LOCKED=$$
}
ng_setup_unlock() {
	[ "${NG_SETUP_LOCKED:-}" = $$ ] || return 0
	exec 7>&-
	unset NG_SETUP_LOCKED
}

# ng_download PKG[:ARCH][=VERSION] -> prints path of the .deb in the cache
ng_download() {
	local spec=$1 dir=$NVGRACE_CACHE/debs name arch ver f held=${NG_SETUP_LOCKED:-}
	ng_setup_lock
	mkdir -p "$dir"
	name=${spec%%=*}
	ver=
	[ "$name" != "$spec" ] && ver=${spec#*=}
	arch=${name#*:}
	[ "$arch" = "$name" ] && arch=amd64
	name=${name%%:*}
	[ -n "$ver" ] || ver=$(ng_apt_cache show "$name:$arch" 2>/dev/null |
		awk '/^Version:/{print $2}' | sort -V | tail -n1)
	[ -n "$ver" ] || die "package $name:$arch not found in any configured suite"
	f=$(ng_cached_deb "$dir" "$name" "$ver" "$arch")
	if [ -z "$f" ]; then
		(cd "$dir" && ng_apt download -qq "$name:$arch=$ver" >/dev/null) ||
			die "could not download $name:$arch=$ver"
		f=$(ng_cached_deb "$dir" "$name" "$ver" "$arch")
	fi
	[ -n "$f" ] || die "download of $name:$arch=$ver left no file"
	[ -n "$held" ] || ng_setup_unlock
	printf '%s\n' "$f"
}

# ng_extract DEB DIR: dpkg -x once (a stamp records completion)
ng_extract() {
	local deb=$1 dir=$2 stamp held=${NG_SETUP_LOCKED:-}
	stamp="$dir/.extracted-$(basename "$deb")"
	[ -e "$stamp" ] && return 0
	ng_setup_lock
	if [ ! -e "$stamp" ]; then
		mkdir -p "$dir"
		dpkg -x "$deb" "$dir" || die "could not extract $deb"
		touch "$stamp"
	fi
	[ -n "$held" ] || ng_setup_unlock
}

# ng_need PKG...: install missing host packages (Debian bookworm host, as root).
ng_need() {
	[ -n "$(ng_missing "$@")" ] || return 0
	(
		ng_setup_lock
		local missing
		# another run may have installed them while this one waited
		mapfile -t missing < <(ng_missing "$@")
		[ ${#missing[@]} -eq 0 ] && exit 0
		msg "installing host packages: ${missing[*]}"
		if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ]; then
			apt-get update -qq >/dev/null || die "apt-get update failed"
		fi
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"${missing[@]}" >/dev/null || die "could not install: ${missing[*]}"
	) || exit 1
}

# ng_missing PKG...: those of the packages that are not installed
ng_missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			printf '%s\n' "$p"
	done
}
