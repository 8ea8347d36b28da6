#!/usr/bin/env bash
# Runs the C tests of this crate (the C API, and the crosscall-hostbench cdylib loaded with
# dlopen() by tests/cdylib.rs) under valgrind memcheck: any invalid access, or any definitely
# or possibly lost block, fails the run. Used by CI next to examples/c-pool/run.sh --valgrind.
# Reachable memory that memcheck cannot tell from a leak is suppressed, with its reason, in
# crates/crosscall/valgrind.supp and ./valgrind.supp.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
host=$(rustc -vV | sed -n 's/^host: //p')
runner_var="CARGO_TARGET_$(echo "$host" | tr 'a-z-' 'A-Z_')_RUNNER"

# --fair-sched=yes: valgrind runs one thread at a time; fair scheduling interleaves the C
# threads more like real cores do.
export "$runner_var"="valgrind --quiet --fair-sched=yes --error-exitcode=1 --leak-check=full \
--show-leak-kinds=definite,possible --errors-for-leak-kinds=definite,possible \
--suppressions=$here/../crosscall/valgrind.supp --suppressions=$here/valgrind.supp"
# Valgrind runs one thread at a time, ~50x slower: the 10,000-thread storm runs 300 here.
export CROSSCALL_CTESTS_STORM_THREADS=${CROSSCALL_CTESTS_STORM_THREADS:-300}
cargo test --quiet --manifest-path "$here/../../Cargo.toml" -p crosscall-ctests --tests -- --test-threads=1 \
    --skip fork --skip exit_with_threads_inside
# Tests that fork: a child ends with the parent's other threads gone, so what they owned is
# unreachable there by design (docs/DESIGN.md, "fork"); these run with memory errors checked
# in the parent and the children, without the leak check.
export "$runner_var"="valgrind --quiet --fair-sched=yes --error-exitcode=1 --leak-check=no \
--suppressions=$here/../crosscall/valgrind.supp --suppressions=$here/valgrind.supp"
cargo test --quiet --manifest-path "$here/../../Cargo.toml" -p crosscall-ctests --test fork \
    --test thread_end -- --test-threads=1 fork exit_with_threads_inside
