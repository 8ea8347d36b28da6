#!/usr/bin/env bash
# Handle tables at churn (docs/DESIGN.md, "Handles"):
#  1. the loom models' mutation check: built with the batch's grace period begun at its first
#     removal instead of after its last (`--cfg crosscall_mutant="grace_at_open"`), the batched
#     model must fail with loom's race report — so the model does check that ordering;
#  2. membarrier calls per removal, counted with strace on the C bench program
#     (crates/crosscall-capi/bench/handle_churn.c) through the shared library, 2 threads
#     churning outside and inside the gate: at most one per 64 removals plus the reclaimer's
#     ticks (checked: at most 2 per 64).
# Installs strace and a C compiler if missing (Debian). About 3–4 minutes on 2 cores, most of
# it the loom build.
set -euo pipefail
cd "$(dirname "$0")/../.."

have() { command -v "$1" >/dev/null 2>&1; }
if ! have strace || ! have cc; then
    apt-get update -qq
    apt-get install -y -qq strace gcc
fi

echo "--- loom mutation check (grace period begun at the batch's first removal)"
log=target/loom-mutant.log
mkdir -p target
if RUSTFLAGS='--cfg loom --cfg crosscall_mutant="grace_at_open"' LOOM_MAX_PREEMPTIONS=2 \
    CARGO_TARGET_DIR=target/loom-mutant \
    cargo test -q -p crosscall --test loom_handles --release batched_removal_against_lookup \
    >"$log" 2>&1; then
    echo "FAIL: the batched loom model passed with the grace period begun too early" >&2
    exit 1
fi
if ! grep -q "Causality violation" "$log"; then
    echo "FAIL: the mutant failed, but not with loom's race report:" >&2
    tail -40 "$log" >&2
    exit 1
fi
echo "ok: loom reports the drop racing the lookup ($(grep -m1 'Causality violation' "$log"))"

echo "--- membarrier calls per removal (strace)"
cargo build -q --release -p crosscall-capi
bin=target/release/handle_churn
cc -O2 -std=c11 -pthread -Iinclude crates/crosscall-capi/bench/handle_churn.c \
    -Ltarget/release -lcrosscall_capi -Wl,-rpath,"$PWD/target/release" -o "$bin"
threads=2
per_thread=64000
removals=$((threads * per_thread))
for mode in churn-out churn-in; do
    strace -f -qq --seccomp-bpf -c -e trace=membarrier -o target/strace-membarrier.txt \
        "$bin" "$mode" "$threads" "$per_thread"
    calls=$(awk '$NF == "membarrier" { print $4 }' target/strace-membarrier.txt)
    calls=${calls:-0}
    echo "$mode: $removals removals on $threads threads, $calls membarrier calls" \
        "($(awk -v c="$calls" -v r="$removals" 'BEGIN { printf "%.1f", r / (c ? c : 1) }') removals per call)"
    echo
    if ((calls * 32 > removals)); then
        echo "FAIL: more than 2 membarrier calls per 64 removals" >&2
        exit 1
    fi
done
