#!/usr/bin/env bash
# Builds the c-pool example (Rust staticlib + main.c) and runs it.
#   bash examples/c-pool/run.sh              # build and run
#   bash examples/c-pool/run.sh --valgrind   # under valgrind memcheck: any error, or any
#                                            # definitely or possibly lost block, fails
# Extra arguments after the flags go to the program: [threads] [hammer_ms].
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

valgrind=0
if [[ ${1:-} == --valgrind ]]; then
    valgrind=1
    shift
fi

cargo build --quiet --manifest-path "$root/Cargo.toml" -p c-pool
# Where cargo put the library, whatever configures it (CARGO_TARGET_DIR, .cargo/config.toml).
target_dir=$(cargo metadata --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
out="$target_dir/c-pool"
mkdir -p "$out"
${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g -O1 -pthread \
    -I "$root/include" -I "$here" \
    "$here/main.c" "$target_dir/debug/libc_pool.a" \
    -lpthread -ldl -lm -o "$out/main"

if ((valgrind)); then
    # Fewer threads and a shorter hammer by default: valgrind runs one thread at a time and
    # every instruction ~50x slower.
    args=("${1:-4}" "${2:-100}")
    # Definitely and possibly lost blocks fail the run. crates/crosscall/valgrind.supp names,
    # with its reason, the reachable memory that memcheck cannot tell from a leak.
    exec valgrind --quiet --fair-sched=yes --error-exitcode=1 \
        --leak-check=full --show-leak-kinds=definite,possible --errors-for-leak-kinds=definite,possible \
        --suppressions="$root/crates/crosscall/valgrind.supp" "$out/main" "${args[@]}"
fi
exec "$out/main" "$@"
