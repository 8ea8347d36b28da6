#!/usr/bin/env bash
# The C user's path, end to end, as the READMEs tell it: install the C library with
# scripts/install-capi.sh into a temporary prefix, then build the READMEs' programs outside the
# repository with pkg-config alone (no path into target/ or the source tree) and run them.
#
#   scripts/capi-install-check.sh
#
# Checks, one PASS line each:
#   layout   DESTDIR staging and a direct install give the same tree: header, libcrosscall.a,
#            libcrosscall.so -> .so.ABI -> .so.X.Y.Z, crosscall.pc naming the prefix
#   soname   the installed shared library's SONAME is the .so.ABI name
#   shared   README.md's C program (as C11 and as C++17) and crates/crosscall-capi/README.md's
#            C++ program, linked with `pkg-config --cflags --libs crosscall`: they need the
#            SONAME, load it from PREFIX/lib (LD_LIBRARY_PATH=PREFIX/lib and nothing else), run
#   static   the same programs against a static-only install, linked with
#            `pkg-config --static --cflags --libs crosscall`: no libcrosscall at run time
#   cmake    crates/crosscall-capi/README.md's CMake recipe builds and runs README.md's program
#            (skipped, saying so, when cmake is not installed; CI installs it)
# The programs are the code blocks that follow a `<!-- capi-install-check: NAME -->` line.
# Needs pkg-config, cc, c++, readelf (binutils).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capi-install-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "capi-install-check: FAIL: $*" >&2
    exit 1
}
pass() { echo "PASS $*"; }
for tool in pkg-config cc c++ readelf; do
    command -v "$tool" >/dev/null || fail "$tool is not installed"
done

# The programs, taken from the READMEs (the code block after each marker line).
src=$tmp/src
mkdir -p "$src"
extract() { # extract FILE NAME: the block after `<!-- capi-install-check: NAME -->` in FILE
    awk -v name="$2" '
        index($0, "<!-- capi-install-check: " name " ") == 1 { marked = 1; next }
        marked && !inside && /^```/ { inside = 1; next }
        inside && /^```/ { exit }
        inside { print }
    ' "$1" >"$src/$2"
    [[ -s $src/$2 ]] || fail "no code block marked '<!-- capi-install-check: $2 -->' in $1"
}
extract "$root/README.md" app.c
extract "$root/crates/crosscall-capi/README.md" app.cpp
extract "$root/crates/crosscall-capi/README.md" CMakeLists.txt

# Install: staged with DESTDIR, directly, and a static-only prefix.
prefix=$tmp/prefix
static_prefix=$tmp/static-prefix
DESTDIR=$tmp/stage bash "$root/scripts/install-capi.sh" --prefix "$prefix"
bash "$root/scripts/install-capi.sh" --prefix "$prefix" 2>/dev/null
bash "$root/scripts/install-capi.sh" --prefix "$static_prefix" --library-type static 2>/dev/null

lib=$prefix/lib
version=$(PKG_CONFIG_PATH=$lib/pkgconfig pkg-config --modversion crosscall)
so_real=libcrosscall.so.$version
soname=$(readlink "$lib/libcrosscall.so")
[[ -f $prefix/include/crosscall.h ]] || fail "no include/crosscall.h"
cmp -s "$prefix/include/crosscall.h" "$root/include/crosscall.h" || fail "installed header differs"
[[ -f $lib/libcrosscall.a && ! -L $lib/libcrosscall.a ]] || fail "no lib/libcrosscall.a"
[[ -f $lib/$so_real && ! -L $lib/$so_real ]] || fail "no lib/$so_real"
[[ $soname == libcrosscall.so.* && $(readlink "$lib/$soname") == "$so_real" ]] ||
    fail "expected libcrosscall.so -> libcrosscall.so.ABI -> $so_real, got libcrosscall.so -> $soname"
grep -qx "prefix=$prefix" "$lib/pkgconfig/crosscall.pc" || fail "crosscall.pc does not name the prefix"
diff -r --no-dereference "$tmp/stage$prefix" "$prefix" >&2 || fail "DESTDIR staging and a direct install differ"
if grep -rq "$tmp/stage" "$tmp/stage$prefix"; then fail "the DESTDIR path leaked into the staged files"; fi
[[ ! -e $static_prefix/lib/libcrosscall.so && -f $static_prefix/lib/libcrosscall.a ]] ||
    fail "--library-type static installed something other than the static library"
pass "layout: include/crosscall.h, lib/libcrosscall.a, libcrosscall.so -> $soname -> $so_real, pkgconfig/crosscall.pc (DESTDIR and direct agree)"

dyn_tag() { # dyn_tag FILE TAG: the values of one dynamic-section tag
    readelf -d "$1" | sed -n "s/.*($2).*\\[\\(.*\\)\\]/\\1/p"
}
[[ $(dyn_tag "$lib/$so_real" SONAME) == "$soname" ]] ||
    fail "SONAME of $so_real is '$(dyn_tag "$lib/$so_real" SONAME)', expected $soname"
pass "soname: $so_real has SONAME $soname"

# Build outside the repository, with a clean environment: only pkg-config finds crosscall.
cd "$src"
unset LD_LIBRARY_PATH LIBRARY_PATH CPATH C_INCLUDE_PATH CPLUS_INCLUDE_PATH PKG_CONFIG_LIBDIR
flags=(-Wall -Wextra -Werror -pedantic -pthread)
build() { # build OUT MODULE-FLAGS -- COMPILER-AND-ARGS...
    local out=$1 pc_flags=$2
    shift 3
    local pc
    pc=$(pkg-config $pc_flags crosscall) || fail "pkg-config $pc_flags crosscall failed"
    [[ $pc != *"$root"* ]] || fail "pkg-config points into the source tree: $pc"
    # shellcheck disable=SC2086 # pkg-config output is a list of flags
    "$@" "${flags[@]}" -o "$out" $pc || fail "could not build $out: $* ${flags[*]} $pc"
}
programs=(
    "c11 -- cc -std=c11 app.c"
    "cxx17 -- c++ -std=c++17 -x c++ app.c"
    "cpp -- c++ -std=c++17 app.cpp"
)

export PKG_CONFIG_PATH=$lib/pkgconfig
for program in "${programs[@]}"; do
    name=${program%% *}
    # shellcheck disable=SC2086 # the command line is a word list
    build "shared-$name" "--cflags --libs" ${program#* }
    needed=$(dyn_tag "shared-$name" NEEDED)
    grep -qx "$soname" <<<"$needed" || fail "shared-$name does not need $soname (NEEDED: $needed)"
    loaded=$(LD_LIBRARY_PATH=$lib ldd "./shared-$name" | sed -n "s/^[[:space:]]*$soname => \\([^ ]*\\).*/\\1/p")
    [[ $loaded == "$lib/$soname" ]] || fail "shared-$name loads '$loaded', not $lib/$soname"
    LD_LIBRARY_PATH=$lib "./shared-$name" >"shared-$name.out" || fail "shared-$name exited with $?"
    pass "shared: $name ($(head -1 "shared-$name.out")) needs $soname, loaded from PREFIX/lib"
done

export PKG_CONFIG_PATH=$static_prefix/lib/pkgconfig
for program in "${programs[@]}"; do
    name=${program%% *}
    # shellcheck disable=SC2086 # the command line is a word list
    build "static-$name" "--static --cflags --libs" ${program#* }
    if dyn_tag "static-$name" NEEDED | grep -q libcrosscall; then
        fail "static-$name still needs a libcrosscall shared library"
    fi
    "./static-$name" >"static-$name.out" || fail "static-$name exited with $?"
    pass "static: $name ($(head -1 "static-$name.out")), no libcrosscall at run time"
done

if command -v cmake >/dev/null; then
    # Found through CMAKE_PREFIX_PATH alone (the README's other way; PKG_CONFIG_PATH is what
    # the builds above used).
    unset PKG_CONFIG_PATH
    cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/cmake.log" 2>&1 ||
        { cat "$tmp/cmake.log" >&2; fail "cmake configure failed"; }
    cmake --build "$src/build" >>"$tmp/cmake.log" 2>&1 ||
        { cat "$tmp/cmake.log" >&2; fail "cmake build failed"; }
    LD_LIBRARY_PATH=$lib "$src/build/app" >/dev/null || fail "the CMake-built app exited with $?"
    pass "cmake: pkg_check_modules(IMPORTED_TARGET crosscall) with CMAKE_PREFIX_PATH builds and links app.c ($(cmake --version | head -1))"
else
    echo "SKIP cmake: cmake is not installed (.ci/run installs it)"
fi
