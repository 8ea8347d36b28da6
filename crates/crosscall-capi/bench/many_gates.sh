#!/usr/bin/env bash
# Builds libcrosscall_capi.so (release) and runs bench/many_gates.c against it: several gates
# per thread, round-robin and nested, as ratios to one gate.
# Usage: many_gates.sh [iterations]     ns per pair, best of 3, 1 and 2 threads
#        many_gates.sh --callgrind      instructions per iteration (valgrind), 1 thread
set -euo pipefail
cd "$(dirname "$0")/../../.."
cargo build --release -p crosscall-capi >&2
target="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
out="$target/many_gates"
cc -O2 -std=c11 -Wall -Wextra -Werror -Iinclude crates/crosscall-capi/bench/many_gates.c \
    -L"$target/release" -lcrosscall_capi -pthread -Wl,-rpath,"$target/release" -o "$out"
if [[ "${1:-}" == --callgrind ]]; then
    n=100000
    ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$out" "$1" "$2" 2>&1 |
        sed -n 's/.*refs: *//p' | tr -d ,; }
    names=("one gate" "2 gates round-robin" "4 gates round-robin" "8 gates round-robin"
        "16 gates round-robin" "64 gates round-robin" "nested a(b) per iteration")
    printf '%-28s %12s %8s\n' shape instr/iter ratio
    one=
    for s in 0 1 2 3 4 5 6; do
        a=$(ir "$s" "$n"); b=$(ir "$s" $((2 * n)))
        per=$(echo "scale=2; ($b - $a) / $n" | bc)
        one=${one:-$per}
        printf '%-28s %12s %8s\n' "${names[$s]}" "$per" "$(echo "scale=2; $per / $one" | bc)"
    done
    exit 0
fi
exec "$out" "$@"
