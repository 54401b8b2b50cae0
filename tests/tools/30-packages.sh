#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The packages: packaging/build-packages.sh builds the .deb (dh-dkms) and
# the noarch .rpm here; lintian must report no error or warning; both carry
# the DKMS source, the tool (with its version), the man page and the
# modprobe.d file; the RPM %post fails loudly when a DKMS build fails
# (checked by running the packaged scriptlet against a fake dkms).

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

ok() { echo "ok - packages: $*"; }
nok() { echo "not ok - packages: $*"; }
diag() { sed 's/^/# /'; }
t() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
out=$top/packaging/build
deb=$out/nvgrace-dkms_${ver}_all.deb
rpmf=$out/nvgrace-dkms-$ver-1.noarch.rpm

start=$(date +%s)
if o=$("$top/packaging/build-packages.sh" 2>&1); then
	ok "build-packages.sh: .deb and .rpm built, lintian clean ($(($(date +%s) - start)) s)"
else
	nok "build-packages.sh"
	diag <<<"$o"
	exit 1
fi
t "nvgrace-dkms_${ver}_all.deb" test -f "$deb"
t "nvgrace-dkms-$ver-1.noarch.rpm" test -f "$rpmf"
t "debian/control declares Testsuite: autopkgtest-pkg-dkms" \
	grep -q '^Testsuite: autopkgtest-pkg-dkms$' "$top/packaging/debian/control"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvgrace-pkg-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The .deb
dpkg-deb -x "$deb" "$tmp/deb"
dpkg-deb -e "$deb" "$tmp/deb-ctrl"
for f in usr/sbin/nvgrace-vfio usr/share/man/man8/nvgrace-vfio.8.gz \
	etc/modprobe.d/nvgrace-dkms.conf "usr/src/nvgrace-dkms-$ver/dkms.conf" \
	"usr/src/nvgrace-dkms-$ver/Kbuild" \
	"usr/src/nvgrace-dkms-$ver/compat/probe.mk"; do
	t "deb ships /$f" test -e "$tmp/deb/$f"
done
t "deb: modprobe.d file is a conffile" grep -qx /etc/modprobe.d/nvgrace-dkms.conf "$tmp/deb-ctrl/conffiles"
t "deb: postinst registers with DKMS" grep -q 'DKMS_NAME=nvgrace-dkms' "$tmp/deb-ctrl/postinst"
t "deb: prerm removes from DKMS" grep -q 'dkms remove' "$tmp/deb-ctrl/prerm"
t "deb: depends on dkms" grep -q '^Depends:.*dkms' "$tmp/deb-ctrl/control"
t "deb: no tests or tools in the DKMS source" \
	test ! -e "$tmp/deb/usr/src/nvgrace-dkms-$ver/tests" -a ! -e "$tmp/deb/usr/src/nvgrace-dkms-$ver/tools"
t "deb: the tool knows its version" test "$(sh "$tmp/deb/usr/sbin/nvgrace-vfio" --version)" = "nvgrace-vfio $ver"
t "deb: the DKMS source is what install-source.sh installs" \
	diff -r <(cd "$tmp/deb/usr/src/nvgrace-dkms-$ver" && find . | sort) \
	<("$top/packaging/install-source.sh" "$tmp/src" && cd "$tmp/src" && find . | sort)

# The .rpm
t "rpm is noarch at $ver" test "$(rpm -qp --qf '%{ARCH} %{VERSION}' "$rpmf" 2>/dev/null)" = "noarch $ver"
reqs=$(rpm -qp --requires "$rpmf" 2>/dev/null)
for r in 'dkms >= 2.8' kernel-devel gcc make; do
	t "rpm requires $r" grep -qx "$r" <<<"$reqs"
done
files=$(rpm -qpl "$rpmf" 2>/dev/null)
for f in /usr/sbin/nvgrace-vfio /usr/share/man/man8/nvgrace-vfio.8 \
	/usr/lib/modprobe.d/nvgrace-dkms.conf "/usr/src/nvgrace-dkms-$ver/dkms.conf"; do
	t "rpm ships $f" grep -q "^$f" <<<"$files"
done

# The %post scriptlet against a fake dkms and module tree: kernel "good"
# builds, "old" is skipped (exit 77; "old28" exit 9, as dkms 2.8 does), "bad"
# fails with a make.log.
rpm -qp --qf '%{POSTIN}\n' "$rpmf" 2>/dev/null >"$tmp/post.sh"
sed -i "s|/lib/modules/|$tmp/modules/|g; s|/var/lib/dkms/|$tmp/dkms/|g" "$tmp/post.sh"
mkdir -p "$tmp/bin" "$tmp/dkms/nvgrace-dkms/$ver/build"
for k in good old old28; do
	mkdir -p "$tmp/modules/$k/build" && : >"$tmp/modules/$k/build/Makefile"
done
cat >"$tmp/bin/dkms" <<EOF
#!/bin/sh
echo "dkms \$*" >>"$tmp/dkms.calls"
case "\$*" in
add*) exit 0 ;;
status*) exit 0 ;;
*"-k old28"*) echo "nvgrace-dkms: not building for kernel old28: REQUIRES a 6.1 or newer kernel" >&2; exit 9 ;;
*"-k old"*) echo "nvgrace-dkms: not building for kernel old: REQUIRES a 6.1 or newer kernel" >&2; exit 77 ;;
*"-k bad"*) echo "make: *** [Makefile:42: modules] Error 2" >"$tmp/dkms/nvgrace-dkms/$ver/build/make.log"; exit 10 ;;
*) exit 0 ;;
esac
EOF
chmod +x "$tmp/bin/dkms"
PATH=$tmp/bin:$PATH sh "$tmp/post.sh" >"$tmp/post.out" 2>&1
rc=$?
t "rpm %post: good and skipped kernels succeed (rc $rc)" test "$rc" = 0 ||
	diag <"$tmp/post.out"
for k in old old28; do
	t "rpm %post: kernel $k skipped, not failed" grep -q "kernel $k skipped" "$tmp/post.out"
done
t "rpm %post: installs for the kernel with headers" grep -q 'install -m nvgrace-dkms -v .* -k good' "$tmp/dkms.calls"
mkdir -p "$tmp/modules/bad/build" && : >"$tmp/modules/bad/build/Makefile"
PATH=$tmp/bin:$PATH sh "$tmp/post.sh" >"$tmp/post.out" 2>&1
rc=$?
t "rpm %post: a failed DKMS build fails the scriptlet (rc $rc)" test "$rc" = 1
t "rpm %post: says which kernel failed" grep -q 'DKMS build or install FAILED for kernel bad' "$tmp/post.out"
t "rpm %post: shows the make.log" grep -q 'Error 2' "$tmp/post.out" || diag <"$tmp/post.out"
