#!/usr/bin/env bash
# CI for issue 16 (several gates per thread, the woken close, statistics, tracing):
# - the `tracing` feature builds clean (clippy) and its example prints the slow-path events;
# - the many-gates C benchmark compiles against the installed-shape header and shared library
#   and runs a short smoke pass (every entry admitted; no timing is checked).
# Needs only what `.ci/run` installs (cc, the Rust toolchain).
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo clippy -p crosscall --features tracing --all-targets --locked -- -D warnings

out=$(cargo run -q -p crosscall --features tracing --example trace_events --locked 2>&1)
for event in "waited for open" "panic caught" "close started" "close finished" "entry refused"; do
    if ! grep -q "$event" <<<"$out"; then
        printf 'trace_events did not print "%s":\n%s\n' "$event" "$out" >&2
        exit 1
    fi
done

bash crates/crosscall-capi/bench/many_gates.sh 20000 >/dev/null
echo "gates: ok"
