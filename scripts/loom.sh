#!/usr/bin/env bash
# loom model tests of the Gate, StateGate, Handles and Poison-policy protocols (every interleaving of 2–3 threads, preemption-bounded).
# A separate target dir keeps the `--cfg loom` build from evicting the normal one.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="--cfg loom"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/loom}"
exec cargo test -p crosscall --test loom_gate --test loom_handles --test loom_state_gate \
    --test loom_close_wake --test loom_panic_policy --release "$@"
