#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-packages.sh [deb] [rpm]: build the Debian package (dh-dkms) and the
# RPM (noarch) from this tree into packaging/build/ (git-ignored):
#   packaging/build/nvgrace-dkms_<version>_all.deb
#   packaging/build/nvgrace-dkms-<version>-1.noarch.rpm
# then run lintian on the .deb (errors and warnings fail). Installs the
# Debian build tools it needs (dpkg-dev, debhelper, dh-dkms, lintian, rpm)
# on a Debian host. The version comes from dkms.conf; debian/changelog and
# the spec must agree with it.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source=tests/lib/common.sh
. "$top/tests/lib/common.sh"

what=("$@")
[ ${#what[@]} -gt 0 ] || what=(deb rpm)
out=$here/build
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
[ -n "$ver" ] || die "no PACKAGE_VERSION in dkms.conf"

debver=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version 2>/dev/null ||
	sed -n '1s/.*(\(.*\)).*/\1/p' "$here/debian/changelog")
[ "$debver" = "$ver" ] ||
	die "packaging/debian/changelog is at $debver, dkms.conf at $ver: add a changelog entry"
specver=$(sed -n 's/^Version: *//p' "$here/rpm/nvgrace-dkms.spec")
[ "$specver" = "$ver" ] ||
	die "packaging/rpm/nvgrace-dkms.spec is at $specver, dkms.conf at $ver"

# The tree to package: the files git knows (tracked or new, not ignored),
# or everything but build output outside a git checkout.
stage_tree() {
	local dst=$1
	rm -rf "$dst"
	mkdir -p "$dst"
	if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$top" && git ls-files -co --exclude-standard -z |
			xargs -0 -I{} sh -c 'test -f "{}" && echo "{}"' |
			grep -v '^packaging/build/' | tar -cf - -T -) | tar -xf - -C "$dst"
	else
		(cd "$top" && tar -cf - --exclude=./packaging/build --exclude=./.git .) | tar -xf - -C "$dst"
	fi
}

mkdir -p "$out"
name=nvgrace-dkms-$ver

for w in "${what[@]}"; do
	case $w in
	deb)
		ng_need dpkg-dev debhelper dh-dkms lintian fakeroot
		stage_tree "$out/deb/$name"
		cp -a "$here/debian" "$out/deb/$name/debian"
		rm -f "$out/nvgrace-dkms_${ver}_"*
		(cd "$out/deb/$name" && dpkg-buildpackage -us -uc -b >"$out/deb/build.log" 2>&1) || {
			tail -n 30 "$out/deb/build.log" >&2
			die "dpkg-buildpackage failed (log: $out/deb/build.log)"
		}
		mv "$out/deb/nvgrace-dkms_${ver}_"* "$out/"
		deb=$out/nvgrace-dkms_${ver}_all.deb
		[ -f "$deb" ] || die "no $deb"
		echo "built $deb"
		lintian --fail-on error,warning --tag-display-limit 0 "$deb" "$out/nvgrace-dkms_${ver}_amd64.changes" \
			>"$out/lintian.log" 2>&1 || {
			cat "$out/lintian.log" >&2
			die "lintian reports errors or warnings"
		}
		echo "lintian: no errors or warnings ($(grep -c . "$out/lintian.log") info lines in $out/lintian.log)"
		;;
	rpm)
		ng_need rpm
		stage_tree "$out/rpm/src/$name"
		rm -rf "$out/rpm/src/$name/debian"
		tar -C "$out/rpm/src" -czf "$out/rpm/src/$name.tar.gz" "$name"
		rm -f "$out/$name"-*.noarch.rpm
		rpmbuild --define "_topdir $out/rpm/top" --define "_sourcedir $out/rpm/src" \
			--define "_rpmdir $out/rpm/out" --define "_build_id_links none" \
			-bb "$here/rpm/nvgrace-dkms.spec" >"$out/rpm/build.log" 2>&1 || {
			tail -n 30 "$out/rpm/build.log" >&2
			die "rpmbuild failed (log: $out/rpm/build.log)"
		}
		mv "$out/rpm/out/noarch/$name"-*.noarch.rpm "$out/"
		echo "built $(ls "$out/$name"-*.noarch.rpm)"
		;;
	*) die "build-packages.sh: unknown target '$w' (deb rpm)" ;;
	esac
done
