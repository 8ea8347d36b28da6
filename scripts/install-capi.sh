#!/usr/bin/env bash
# Builds the crosscall C library (crates/crosscall-capi) in release mode and installs it the
# way C and C++ users expect to find a library:
#
#   PREFIX/include/crosscall.h
#   LIBDIR/libcrosscall.so.X.Y.Z              the shared library, SONAME libcrosscall.so.ABI
#   LIBDIR/libcrosscall.so.ABI -> libcrosscall.so.X.Y.Z    (what programs load at run time)
#   LIBDIR/libcrosscall.so -> libcrosscall.so.ABI          (what `-lcrosscall` links against)
#   LIBDIR/libcrosscall.a                     the static library, debug info and bitcode stripped
#   LIBDIR/pkgconfig/crosscall.pc             pkg-config module `crosscall`
#
# ABI is 0.MINOR before 1.0 and MAJOR from then on; this script sets it when it links.
#
#   scripts/install-capi.sh --prefix DIR [--libdir DIR] [--includedir DIR]
#                           [--library-type both|shared|static]
#
#   --prefix        where to install; required, so nothing lands in a system directory
#                   unasked: "$HOME/.local" for yourself, /usr/local (as root) system-wide
#   --libdir        default PREFIX/lib (e.g. PREFIX/lib/x86_64-linux-gnu on Debian multiarch)
#   --includedir    default PREFIX/include
#   --library-type  both (default), shared, or static. With both in one directory the linker
#                   picks the shared library for -lcrosscall; a prefix holding only the static
#                   one makes `pkg-config --static --libs crosscall` a complete static link line.
#
# DESTDIR (environment) stages the installation for packaging: files go to DESTDIR/PREFIX/...
# while crosscall.pc names PREFIX, where they will live. Linux (ELF) only.
# Needs cargo, a C toolchain (strip), and coreutils' install.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
    exit "${1:-0}"
}
die() {
    echo "install-capi: $*" >&2
    exit 1
}
# Option $1's value $2 (may be missing), described as $3: present and not another option.
value_of() {
    [[ -n $2 && $2 != -* ]] || die "$1 needs a value ($3); see --help"
    printf '%s' "$2"
}

prefix=
libdir=
includedir=
library_type=both
while (($#)); do
    case $1 in
    --prefix) prefix=$(value_of "$1" "${2-}" "a directory") || exit 1; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --libdir) libdir=$(value_of "$1" "${2-}" "a directory") || exit 1; shift 2 ;;
    --libdir=*) libdir=${1#*=}; shift ;;
    --includedir) includedir=$(value_of "$1" "${2-}" "a directory") || exit 1; shift 2 ;;
    --includedir=*) includedir=${1#*=}; shift ;;
    --library-type) library_type=$(value_of "$1" "${2-}" "both, shared or static") || exit 1; shift 2 ;;
    --library-type=*) library_type=${1#*=}; shift ;;
    -h | --help) usage 0 ;;
    *) echo "install-capi: unknown argument: $1" >&2; usage 2 >&2 ;;
    esac
done
if [[ -z $prefix ]]; then
    die "--prefix is required: where should crosscall go? e.g.
  scripts/install-capi.sh --prefix \"\$HOME/.local\"     # for you, no root needed
  sudo scripts/install-capi.sh --prefix /usr/local   # system-wide
(--help lists every option)"
fi
case $library_type in both | shared | static) ;; *) die "--library-type must be both, shared or static, not '$library_type'" ;; esac
[[ $prefix == /* ]] || die "--prefix must be an absolute path, not '$prefix'"
libdir=${libdir:-$prefix/lib}
includedir=${includedir:-$prefix/include}
[[ $libdir == /* && $includedir == /* ]] || die "--libdir and --includedir must be absolute paths"
destdir=${DESTDIR:-}

# Before the build, not after it: every directory the install writes must be writable, or
# creatable under its nearest existing parent.
writable_or_creatable() {
    local dir=$1
    while [[ ! -e $dir ]]; do dir=$(dirname "$dir"); done
    # A file actually created, not `-w`: root passes `-w` on read-only file systems too.
    local probe="$dir/.install-capi-probe.$$"
    if [[ -d $dir ]] && (: >"$probe") 2>/dev/null; then
        rm -f "$probe"
        return
    fi
    die "cannot install into $1: $dir is not a writable directory \
(choose another --prefix, e.g. \"\$HOME/.local\", or run as a user who may write there)"
}
writable_or_creatable "$destdir$libdir"
writable_or_creatable "$destdir$includedir"

# The version, and from it the ABI part of the SONAME (Cargo's semver reading, as cargo-c's).
pkgid=$(cargo pkgid --manifest-path "$root/Cargo.toml" -p crosscall-capi)
version=${pkgid##*[#@]}
[[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || die "cannot read a version from '$pkgid'"
major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}
if ((major == 0)); then abi=0.$minor; else abi=$major; fi
soname=libcrosscall.so.$abi

# Build. `--print=native-static-libs` makes rustc name the system libraries the static
# library needs (they go to Libs.private); the JSON messages give the artifacts' paths
# wherever the target directory is. The SONAME goes on this link line only: a build script's
# `rustc-cdylib-link-arg` would also rename every user cdylib that depends on the crate.
log=$(mktemp)
trap 'rm -f "$log" "$log.json"' EXIT
echo "install-capi: building crosscall-capi $version (release)" >&2
cargo rustc --manifest-path "$root/Cargo.toml" -p crosscall-capi --lib --release \
    --message-format=json-render-diagnostics -- --print=native-static-libs \
    -C "link-arg=-Wl,-soname,$soname" 2>&1 >"$log.json" |
    tee "$log" >&2 || die "cargo build failed"
artifact() { # the path of the built file whose name ends in $1
    grep '"reason":"compiler-artifact"' "$log.json" | grep -o "\"[^\"]*/libcrosscall_capi\\.$1\"" |
        tail -1 | tr -d '"'
}
static_built=$(artifact a)
shared_built=$(artifact so)
[[ -f $static_built && -f $shared_built ]] || die "cargo did not report libcrosscall_capi.a and .so"
native_libs=$(sed -n 's/^.*native-static-libs: //p' "$log" | tail -1)
[[ -n $native_libs ]] || die "rustc did not print the native static libraries"

if command -v readelf >/dev/null; then
    built_soname=$(readelf -d "$shared_built" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    [[ $built_soname == "$soname" ]] ||
        die "$shared_built has SONAME '$built_soname', expected '$soname'"
fi

# Install.
lib=$destdir$libdir
inc=$destdir$includedir
install -d "$lib/pkgconfig" "$inc"
install -m 644 "$root/include/crosscall.h" "$inc/crosscall.h"
if [[ $library_type != static ]]; then
    install -m 755 "$shared_built" "$lib/libcrosscall.so.$version"
    ln -sfn "libcrosscall.so.$version" "$lib/$soname"
    ln -sfn "$soname" "$lib/libcrosscall.so"
fi
if [[ $library_type != shared ]]; then
    install -m 644 "$static_built" "$lib/libcrosscall.a"
    # The objects of Rust's standard library carry debug info and LLVM bitcode (.llvmbc,
    # .llvmcmd: input for rustc's LTO, which a C linker never reads): 18 MB of the archive's
    # 22, none of it needed to link. (Cargo already strips the shared library's debug info.)
    if command -v "${STRIP:-strip}" >/dev/null; then
        "${STRIP:-strip}" --strip-debug -R .llvmbc -R .llvmcmd "$lib/libcrosscall.a"
    else
        echo "install-capi: no strip found; libcrosscall.a keeps its debug info" >&2
    fi
fi

# pkg-config: paths are written relative to ${prefix} where they lie under it, so the file
# also works after the tree is moved (with pkg-config's --define-prefix).
rel() { # $1 under $prefix → ${prefix}/rest, else $1
    if [[ $1 == "$prefix" ]]; then echo '${prefix}'
    elif [[ $1 == "$prefix"/* ]]; then echo "\${prefix}/${1#"$prefix"/}"
    else echo "$1"; fi
}
cat >"$lib/pkgconfig/crosscall.pc" <<EOF
prefix=$prefix
libdir=$(rel "$libdir")
includedir=$(rel "$includedir")

Name: crosscall
Description: Safe, many-core-cheap entry from C into a library: lifecycle gate and last-error message
Version: $version
Libs: -L\${libdir} -lcrosscall
Libs.private: $native_libs
Cflags: -I\${includedir}
EOF
chmod 644 "$lib/pkgconfig/crosscall.pc"

echo "install-capi: installed crosscall $version ($library_type) into ${destdir:+$destdir}$prefix" >&2
if [[ -z $destdir ]]; then
    echo "install-capi: use it with  PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs crosscall" >&2
fi
