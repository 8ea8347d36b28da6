#!/usr/bin/env bash
# Builds the tokio-capi example (Rust cdylib + main.c) and runs it.
#   bash examples/tokio-capi/run.sh              # build and run
#   bash examples/tokio-capi/run.sh --valgrind   # run under valgrind memcheck; any error fails
# Extra arguments after the flags go to the program: [threads] [calls_per_thread] [hammer_ms].
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

valgrind=0
if [[ ${1:-} == --valgrind ]]; then
    valgrind=1
    shift
fi

cargo build --quiet --manifest-path "$root/Cargo.toml" -p tokio-capi
target_dir=${CARGO_TARGET_DIR:-$root/target}
out="$target_dir/tokio-capi"
mkdir -p "$out"
# Linked against the .so, as a C host links a Rust library (the deployed shape). The program
# records the library's SONAME, which is not necessarily libtokio_capi.so: Cargo passes the
# SONAME that crosscall-capi's build script sets for its own cdylib on to the cdylibs that
# depend on it. So the library is copied into $out under both names, and found there.
so="$target_dir/debug/libtokio_capi.so"
cp "$so" "$out/libtokio_capi.so"
soname=$(objdump -p "$so" | awk '$1 == "SONAME" { print $2 }')
if [[ -n $soname && $soname != libtokio_capi.so ]]; then
    ln -sf libtokio_capi.so "$out/$soname"
fi
${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g -O1 -pthread \
    -I "$root/include" -I "$here" \
    "$here/main.c" -L "$out" -ltokio_capi -Wl,-rpath,"$out" \
    -lpthread -o "$out/main"

if ((valgrind)); then
    # Fewer threads and calls by default: valgrind runs one thread at a time, every
    # instruction ~50x slower, and tokio's runtime is busy.
    args=("${1:-3}" "${2:-40}" "${3:-300}")
    exec valgrind --quiet --fair-sched=yes --error-exitcode=1 --leak-check=full \
        --errors-for-leak-kinds=definite --suppressions="$here/valgrind.supp" \
        "$out/main" "${args[@]}"
fi
exec "$out/main" "$@"
