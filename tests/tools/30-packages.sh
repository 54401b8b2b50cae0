#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The packages: packaging/build-packages.sh builds the .deb (dh-dkms) and
# the noarch .rpm here; lintian must report no error or warning; both carry
# the DKMS source, the tool (with its version), the man page and the
# modprobe.d file, in the same place; the RPM %post runs dkms's
# common.postinst and exits 0, loudly when a DKMS build fails (checked by
# running the packaged scriptlet against a fake common.postinst).

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lib/tap.sh
. "$top/tests/lib/tap.sh"
TAP_PREFIX="packages: "
diag() { sed 's/^/# /'; }

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
out=$top/packaging/build
deb=$out/nvgrace-dkms_${ver}_all.deb
rpmf=$out/nvgrace-dkms-$ver-1.noarch.rpm

start=$(date +%s)
if o=$("$top/packaging/build-packages.sh" 2>&1); then
	tap_ok "build-packages.sh: .deb and .rpm built, lintian clean ($(($(date +%s) - start)) s)"
else
	tap_not_ok "build-packages.sh"
	diag <<<"$o"
	tap_finish
	exit 1
fi
tap_check "nvgrace-dkms_${ver}_all.deb" test -f "$deb"
tap_check "nvgrace-dkms-$ver-1.noarch.rpm" test -f "$rpmf"
tap_check "debian/control declares Testsuite: autopkgtest-pkg-dkms" \
	grep -q '^Testsuite: autopkgtest-pkg-dkms$' "$top/packaging/debian/control"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvgrace-pkg-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The .deb
dpkg-deb -x "$deb" "$tmp/deb"
dpkg-deb -e "$deb" "$tmp/deb-ctrl"
for f in usr/sbin/nvgrace-vfio usr/share/man/man8/nvgrace-vfio.8.gz \
	usr/lib/modprobe.d/nvgrace-dkms.conf "usr/src/nvgrace-dkms-$ver/dkms.conf" \
	"usr/src/nvgrace-dkms-$ver/Kbuild" \
	"usr/src/nvgrace-dkms-$ver/compat/probe.mk"; do
	tap_check "deb ships /$f" test -e "$tmp/deb/$f"
done
tap_check "deb: no modprobe.d file in /etc (the vendor directory, as in the rpm)" test ! -e "$tmp/deb/etc/modprobe.d"
tap_check "deb: the old /etc conffile is removed on upgrade (dpkg-maintscript-helper rm_conffile)" \
	grep -q 'rm_conffile /etc/modprobe.d/nvgrace-dkms.conf' "$tmp/deb-ctrl/postinst"
tap_check "deb: postinst registers with DKMS" grep -q 'DKMS_NAME=nvgrace-dkms' "$tmp/deb-ctrl/postinst"
tap_check "deb: prerm removes from DKMS" grep -q 'dkms remove' "$tmp/deb-ctrl/prerm"
tap_check "deb: depends on dkms" grep -q '^Depends:.*dkms' "$tmp/deb-ctrl/control"
tap_check "deb: no tests or tools in the DKMS source" \
	test ! -e "$tmp/deb/usr/src/nvgrace-dkms-$ver/tests" -a ! -e "$tmp/deb/usr/src/nvgrace-dkms-$ver/tools"
tap_check "deb: the tool knows its version" test "$(sh "$tmp/deb/usr/sbin/nvgrace-vfio" --version)" = "nvgrace-vfio $ver"
tap_check "deb: the DKMS source is what install-source.sh installs" \
	diff -r <(cd "$tmp/deb/usr/src/nvgrace-dkms-$ver" && find . | sort) \
	<("$top/packaging/install-source.sh" "$tmp/src" && cd "$tmp/src" && find . | sort)

# The .rpm
tap_check "rpm is noarch at $ver" test "$(rpm -qp --qf '%{ARCH} %{VERSION}' "$rpmf" 2>/dev/null)" = "noarch $ver"
reqs=$(rpm -qp --requires "$rpmf" 2>/dev/null)
for r in 'dkms >= 2.8' kernel-devel gcc make; do
	tap_check "rpm requires $r" grep -qx "$r" <<<"$reqs"
done
files=$(rpm -qpl "$rpmf" 2>/dev/null)
for f in /usr/sbin/nvgrace-vfio /usr/share/man/man8/nvgrace-vfio.8 \
	/usr/lib/modprobe.d/nvgrace-dkms.conf "/usr/src/nvgrace-dkms-$ver/dkms.conf"; do
	tap_check "rpm ships $f" grep -q "^$f" <<<"$files"
done

# The %post scriptlet against a fake common.postinst: a good build exits
# 0; a failed one exits 0 too (RPM must not leave the package
# half-installed) and says so loudly, with the make.log; no common.postinst
# (a dkms too old) exits 0 with the commands to run.
rpm -qp --qf '%{POSTIN}\n' "$rpmf" 2>/dev/null >"$tmp/post.sh"
tap_check "rpm %post: runs dkms's common.postinst" grep -q '/usr/lib/dkms/common.postinst' "$tmp/post.sh"
sed -i "s|/usr/lib/dkms/common.postinst|$tmp/common.postinst|g; s|/var/lib/dkms/|$tmp/dkms/|g" "$tmp/post.sh"
mkdir -p "$tmp/dkms/nvgrace-dkms/$ver/build"
cat >"$tmp/common.postinst" <<EOF
#!/bin/sh
echo "common.postinst \$*" >>"$tmp/postinst.calls"
[ ! -e "$tmp/fail" ] && exit 0
echo "make: *** [Makefile:42: modules] Error 2" >"$tmp/dkms/nvgrace-dkms/$ver/build/make.log"
exit 10
EOF
chmod +x "$tmp/common.postinst"
sh "$tmp/post.sh" >"$tmp/post.out" 2>&1
rc=$?
tap_check "rpm %post: a good build exits 0 (rc $rc)" test "$rc" = 0 || diag <"$tmp/post.out"
tap_check "rpm %post: common.postinst gets the name and version" grep -qx "common.postinst nvgrace-dkms $ver" "$tmp/postinst.calls"
touch "$tmp/fail"
sh "$tmp/post.sh" >"$tmp/post.out" 2>&1
rc=$?
tap_check "rpm %post: a failed DKMS build still exits 0 (rc $rc)" test "$rc" = 0
tap_check "rpm %post: ... and says it failed" grep -q 'WARNING: the DKMS build or install FAILED' "$tmp/post.out"
tap_check "rpm %post: ... shows the make.log" grep -q 'Error 2' "$tmp/post.out" || diag <"$tmp/post.out"
tap_check "rpm %post: ... and names the command to run after the fix" grep -q 'dkms autoinstall' "$tmp/post.out"
rm -f "$tmp/common.postinst"
sh "$tmp/post.sh" >"$tmp/post.out" 2>&1
rc=$?
tap_check "rpm %post: without common.postinst: says what to run" \
	grep -q 'not found (dkms too old?); run: dkms add' "$tmp/post.out"
tap_check "rpm %post: ... and exits 0 (rc $rc)" test "$rc" = 0

# install-source.sh and install-tool.sh with relative paths write where
# they are told, relative to the current directory.
mkdir -p "$tmp/rel"
(cd "$tmp/rel" && "$top/packaging/install-source.sh" src >/dev/null 2>&1 &&
	"$top/packaging/install-tool.sh" bin man >/dev/null 2>&1)
tap_check "install-source.sh with a relative DEST installs there" test -f "$tmp/rel/src/dkms.conf" -a -f "$tmp/rel/src/Kbuild"
tap_check "install-source.sh with a relative DEST leaves the source tree alone" test ! -e "$top/src/src" -a ! -e "$top/src/dkms.conf"
tap_check "install-tool.sh with relative paths: tool with its version, man page" \
	test "$(sh "$tmp/rel/bin/nvgrace-vfio" --version 2>&1)" = "nvgrace-vfio $ver" -a -f "$tmp/rel/man/man8/nvgrace-vfio.8"
tap_finish
