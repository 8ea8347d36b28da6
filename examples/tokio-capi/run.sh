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
# Linked against the .so, as a C host links a Rust library (the deployed shape).
${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g -O1 -pthread \
    -I "$root/include" -I "$here" \
    "$here/main.c" -L "$target_dir/debug" -ltokio_capi -Wl,-rpath,"$target_dir/debug" \
    -lpthread -o "$out/main"

if ((valgrind)); then
    # Fewer threads and calls by default: valgrind runs one thread at a time, every
    # instruction ~50x slower, and tokio's runtime is busy.
    args=("${1:-3}" "${2:-40}" "${3:-300}")
    # The fork round's child leaks the parent's runtime by design (tcap_atfork_child).
    export TCAP_SKIP_FORK=1
    exec valgrind --quiet --fair-sched=yes --error-exitcode=1 --leak-check=full \
        --errors-for-leak-kinds=definite --suppressions="$here/valgrind.supp" \
        "$out/main" "${args[@]}"
fi
exec "$out/main" "$@"
