#!/usr/bin/env bash
# Handle tables at churn (docs/DESIGN.md, "Handles"):
#  1. the loom models' mutation checks: built with a batch covered by a period begun at its
#     first removal (`--cfg crosscall_mutant="grace_at_open"`), or with its ticket for a shared
#     period taken then (`ticket_at_open`), the model of that path must fail with loom's race
#     report — so the models do check those orderings;
#  2. membarrier calls per removal, counted with strace on the C bench program
#     (crates/crosscall-capi/bench/handle_churn.c) through the shared library, 2 threads
#     churning outside and inside the gate: at most one per 1,024 removals of a thread plus
#     the reclaimer's ticks (checked: at most 2 per 1,024).
# Installs strace and a C compiler if missing (Debian). About 3–4 minutes on 2 cores, most of
# it the loom build.
set -euo pipefail
cd "$(dirname "$0")/../.."

have() { command -v "$1" >/dev/null 2>&1; }
if ! have strace || ! have cc; then
    apt-get update -qq
    apt-get install -y -qq strace gcc
fi

# Each mutant must make its model fail with loom's race report:
#  grace_at_open   a period begun at a batch's first removal covers it (not after its last);
#  ticket_at_open  a batch's ticket taken at its first removal, so a period another shard
#                  begins between its removals counts as covering the later ones.
for mutant in grace_at_open:batched_removal_against_lookup \
    ticket_at_open:a_period_of_another_shard_covers_a_batch; do
    name=${mutant%%:*}
    model=${mutant#*:}
    echo "--- loom mutation check: $name must fail $model"
    log=target/loom-mutant-$name.log
    mkdir -p target
    if RUSTFLAGS="--cfg loom --cfg crosscall_mutant=\"$name\"" LOOM_MAX_PREEMPTIONS=2 \
        CARGO_TARGET_DIR=target/loom-mutant \
        cargo test -q -p crosscall --test loom_handles --release "$model" \
        >"$log" 2>&1; then
        echo "FAIL: the loom model $model passed with the mutant $name" >&2
        exit 1
    fi
    if ! grep -q "Causality violation" "$log"; then
        echo "FAIL: the mutant $name failed, but not with loom's race report:" >&2
        tail -40 "$log" >&2
        exit 1
    fi
    echo "ok: loom reports the drop racing the lookup ($(grep -m1 'Causality violation' "$log"))"
done

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
    if ((calls * 512 > removals)); then
        echo "FAIL: more than 2 membarrier calls per 1,024 removals" >&2
        exit 1
    fi
done
