#!/usr/bin/env bash
# tconv as a user gets it: installs the build into a temporary prefix and checks what landed
# there (headers by the rule of docs/api.md, only tc_ symbols exported, a SONAME), builds the
# README's example and the tutorial's program against the installed package twice (CMake
# find_package, and plain cc with pkg-config), runs them, compares the example's output with
# the README's, and (as root) builds the .deb with CPack, installs it with apt, runs the
# installed command, removes it and checks that no file is left.
#   tests/install/install_check.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "install_check: FAIL: $*" >&2; exit 1; }

echo "== cmake --install into a temporary prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name libtconv.so -print -quit)")
[ -n "$libdir" ] || fail "no libtconv.so installed"
[ -f "$libdir/libtconv.a" ] || fail "no libtconv.a installed"
[ -x "$prefix/bin/tconv" ] || fail "no bin/tconv installed"
[ "$(find "$prefix" -name 'libtconv_*')" = "" ] || fail "per-floor libraries installed"

echo "== headers: the rule of docs/api.md"
inc=$prefix/include/tconv
umbrella=$inc/tconv.h
[ -f "$umbrella" ] || fail "no include/tconv/tconv.h"
internal=$(cd "$inc" && find . -name '*.h' | grep -E '_internal\.h$|_util\.h$|^\./core/(conv2dt|ukr)/' || true)
[ -z "$internal" ] || fail "internal headers installed: $internal"
tagged=$(grep -l -m1 '@internal' $(find "$inc" -name '*.h') || true)
[ -z "$tagged" ] || fail "headers tagged @internal installed: $tagged"
headers=$(cd "$inc" && find . -name '*.h' ! -name tconv.h | sed 's|^\./||' | sort)
for h in $headers; do
  grep -qx "#include \"$h\"" "$umbrella" || fail "$h is installed but not in <tconv/tconv.h>"
  # each public header stands alone, and names only installed headers
  echo "#include <tconv/$h>" | "$cc" -std=c11 -Wall -Wextra -Werror -fsyntax-only \
    -I"$prefix/include" -I"$inc" -x c - || fail "$h does not compile on its own"
done
echo "   $(echo "$headers" | wc -l) public headers, all in the umbrella, each compiles alone"

echo "== libtconv.so: SONAME and exported symbols"
soname=$(readelf -d "$libdir/libtconv.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
major=$("$prefix/bin/tconv" --version | sed 's/^tconv \([0-9]*\)\..*/\1/')
[ "$soname" = "libtconv.so.$major" ] || fail "SONAME '$soname', expected libtconv.so.$major"
foreign=$(nm -D --defined-only "$libdir/libtconv.so" | awk '{print $NF}' | grep -v '^tc_' || true)
[ -z "$foreign" ] || fail "libtconv.so exports non-tc_ symbols: $(echo $foreign)"
echo "   $soname, $(nm -D --defined-only "$libdir/libtconv.so" | wc -l) symbols, all tc_"

expected=$tmp/expected.txt  # the first ``` block after "It prints" in README.md
awk '/^It prints/ { f = 1 } f == 1 && /^```/ { f = 2; next } f == 2 && /^```/ { exit }
     f == 2 { print }' "$src/README.md" | sed "s/^tconv .*/tconv VERSION/" >"$expected"
[ -s "$expected" ] || fail "README.md has no 'It prints' block"
run_programs() {  # $1: directory holding quickstart and generator
  "$1/quickstart" >"$tmp/out.txt" || fail "$1/quickstart failed"
  sed "s/^tconv .*/tconv VERSION/" "$tmp/out.txt" | diff -u "$expected" - \
    || fail "$1/quickstart does not print what README.md shows"
  "$1/generator" 60 "$tmp/gen.npz" >/dev/null || fail "$1/generator failed"
}

echo "== find_package(tconv) project"
cmake -S "$src/tests/install/consumer" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
      -DTCONV_EXAMPLES="$src" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/cmake" -j2 >/dev/null
run_programs "$tmp/cmake"
"$tmp/cmake/quickstart_static" | cmp -s - "$tmp/out.txt" || fail "quickstart with tconv::tconv_static"

echo "== cc ... \$(pkg-config --cflags --libs tconv)"
mkdir -p "$tmp/pc"
export PKG_CONFIG_PATH=$libdir/pkgconfig
pcflags=$(pkg-config --cflags --libs tconv)
"$cc" -std=c11 -Wall -Wextra -Werror "$src/examples/quickstart.c" $pcflags -o "$tmp/pc/quickstart"
"$cc" -std=c11 -Wall -Wextra -Werror "$src/docs/examples/generator.c" $pcflags -lm \
      -o "$tmp/pc/generator"
LD_LIBRARY_PATH=$libdir run_programs "$tmp/pc"
# the static archive, linked by hand as README.md says
"$cc" -std=c11 "$src/examples/quickstart.c" $(pkg-config --cflags tconv) "$libdir/libtconv.a" \
      -fopenmp -lzip -lz -lm -o "$tmp/pc/quickstart_static"
"$tmp/pc/quickstart_static" | cmp -s - "$tmp/out.txt" || fail "quickstart with libtconv.a"
echo "   pkg-config: $pcflags"

echo "== the .deb (cpack -G DEB, apt install, apt remove)"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "   SKIPPED: installing a .deb needs root and apt (CI runs as root)"
  exit 0
fi
if dpkg-query -W -f='${Status}' tconv 2>/dev/null | grep -q "install ok installed"; then
  echo "   SKIPPED: a tconv package is already installed here; not touching it"
  exit 0
fi
mkdir -p "$tmp/deb" && chmod 755 "$tmp" "$tmp/deb"  # apt reads it as user _apt
(cd "$build" && cpack -G DEB -B "$tmp/deb" >/dev/null)
deb=$(ls "$tmp"/deb/tconv_*.deb)
# One .deb check at a time on this machine; apt itself waits for the dpkg lock.
exec 9>/tmp/tconv-install-check.lock
flock 9
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600 "$@"; }
apt_get install "$deb" >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log"; fail "apt install $deb"; }
dpkg -L tconv | sort >"$tmp/files.txt"
removed=0
cleanup_deb() { [ "$removed" = 1 ] || apt_get remove --purge tconv >/dev/null 2>&1 || true; }
trap 'cleanup_deb; rm -rf "$tmp"' EXIT
(cd / && /usr/bin/tconv --version) | grep -qx "tconv $("$prefix/bin/tconv" --version | cut -d' ' -f2)" \
  || fail "installed tconv --version"
(cd / && /usr/bin/tconv bench --help >/dev/null) || fail "installed tconv bench --help"
"$cc" -std=c11 -Wall -Wextra -Werror "$src/examples/quickstart.c" \
      $(env -u PKG_CONFIG_PATH pkg-config --cflags --libs tconv) -o "$tmp/sys_quickstart"
"$tmp/sys_quickstart" >/dev/null || fail "quickstart against the .deb's /usr"
echo "   installed $(basename "$deb"): $(grep -c . "$tmp/files.txt") paths; --version, bench --help and a pkg-config build work"
apt_get remove --purge tconv >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log"; fail "apt remove"; }
removed=1
left=$(while read -r f; do if [ -f "$f" ] || [ -L "$f" ]; then echo "$f"; fi; done <"$tmp/files.txt")
[ -z "$left" ] || fail "files left after apt remove: $left"
! dpkg-query -W -f='${Status}' tconv 2>/dev/null | grep -q "install ok" || fail "still installed"
echo "   removed: no file of the package left"
echo "install_check: all passed"
