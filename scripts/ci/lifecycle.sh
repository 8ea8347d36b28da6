#!/usr/bin/env bash
# Process-lifecycle checks (issue 14) beyond `cargo test --workspace`, which already runs the C
# tests of unload, fork, signals, longjmp, thread ends and exit (crates/crosscall-ctests):
#
#   1. a real Lua 5.4 host whose callback raises lua_error through a gated call
#      (examples/lua-longjmp), natively and under valgrind;
#   2. Miri on a subset of crosscall's tests (see MIRI_* below for what is left out and why);
#   3. AddressSanitizer on every C test (crates/crosscall-ctests: real pthreads, dlopen cycles,
#      fork, signals) and on the gate's real-thread stress tests;
#   4. ThreadSanitizer on the gate's and the state gate's real-thread stress tests and the C
#      tests that do not fork, std rebuilt instrumented (-Zbuild-std) so its synchronization
#      is visible to TSan.
#
# Installs what it needs (Debian 12, as root; idempotent). About 8-10 minutes on 2 cores, most
# of it building the sanitizer and Miri sysroots. Usage: bash scripts/ci/lifecycle.sh [lua|miri|asan|tsan]...
set -euo pipefail
cd "$(dirname "$0")/../.."

part() { printf '\n:::: lifecycle: %s\n' "$*"; }
selected=("$@")
want() { [[ ${#selected[@]} -eq 0 ]] || [[ " ${selected[*]} " == *" $1 "* ]]; }
host=$(rustc -vV | sed -n 's/^host: //p')

nightly() {
    rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
    rustup +nightly component add "$@" 2>/dev/null
}

if want lua; then
    part "Lua 5.4 host: lua_error longjmps through a gated call; the landing site restores"
    if ! pkg-config --exists lua5.4 2>/dev/null; then
        apt-get update -qq
        apt-get install -y -qq liblua5.4-dev pkg-config
    fi
    bash examples/lua-longjmp/run.sh
    bash examples/lua-longjmp/run.sh --valgrind
fi

if want miri; then
    part "Miri (crosscall: unit tests, gate and state gate tests)"
    nightly miri rust-src
    # Stacked Borrows (Miri's default). Isolation off: the tests read the clock (timeouts)
    # and the environment.
    export MIRIFLAGS="-Zmiri-disable-isolation"
    # Under Miri the gate uses the fence(SeqCst) fallback (no membarrier syscall) and the
    # portable thread_local! (no inline asm); pthread keys, so the thread-exit path is the
    # one on every unix. Left out (covered natively, under loom, TSan and ASan): the stress
    # tests with hundreds of threads or thousands of rounds (hours in Miri), the tests that
    # unwind panics (1-2 min each in Miri), and everything that needs a C compiler or a
    # foreign library (crosscall-ctests, crosscall-capi: Miri runs no C).
    MIRI_GATE_TESTS=(lifecycle_states_and_refusals nested_entry_counts_each_level
        close_from_inside_a_pass_would_deadlock_and_changes_nothing
        close_timeout_leaves_gate_closing_and_can_be_resumed
        close_waits_for_passes_on_other_threads fence_strategies_differ_as_asked
        entering_while_thread_locals_are_destroyed_still_counts)
    MIRI_STATE_GATE_TESTS=(lifecycle_hands_the_value_back_once
        close_from_inside_is_refused_and_changes_nothing stateless_gate_reopens_only_explicitly
        dropping_an_open_state_gate_drops_its_value
        entry_state_borrows_the_value_and_reports_refusals)
    cargo +nightly miri test -p crosscall --lib
    cargo +nightly miri test -p crosscall --test gate -- --exact "${MIRI_GATE_TESTS[@]}"
    cargo +nightly miri test -p crosscall --test state_gate -- --exact "${MIRI_STATE_GATE_TESTS[@]}"
    # A thread's front entry, heap table and spill table (raw pointers into its thread state).
    cargo +nightly miri test -p crosscall --test many_gates -- --exact \
        front_entry_table_and_spill_table_on_an_exiting_thread
fi

if want asan; then
    part "AddressSanitizer: every C test, and the gate's stress tests"
    nightly rust-src
    # --export-dynamic: the sanitizer runtime is linked into the test executables; the
    # instrumented cdylibs they dlopen() resolve its symbols from there.
    # Leak detection off: forked children and threads that never return (exit() with threads
    # inside) leave memory unreachable on purpose; valgrind.sh checks leaks elsewhere.
    export RUSTFLAGS="-Zsanitizer=address -Clink-arg=-Wl,--export-dynamic"
    export CFLAGS="-fsanitize=address -fno-omit-frame-pointer"
    export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
    cargo +nightly test --target "$host" --target-dir target/asan -p crosscall-ctests --tests
    # close_reopen_cycles_while_threads_hammer asserts its hammer threads got in at least once
    # during 200 reopen cycles: under ASan thread start-up is slow enough that the cycles can
    # all end first (timing, not a memory error); it runs natively and under TSan.
    cargo +nightly test --target "$host" --target-dir target/asan -p crosscall \
        --test gate --test state_gate --test attach -- --skip close_reopen_cycles_while_threads_hammer
    unset RUSTFLAGS CFLAGS ASAN_OPTIONS
fi

if want tsan; then
    part "ThreadSanitizer: the stress tests and the C tests that do not fork"
    nightly rust-src
    # --export-dynamic as for ASan (the C tests dlopen() instrumented cdylibs); the same flags
    # for both runs, so std is rebuilt once.
    export RUSTFLAGS="-Zsanitizer=thread -Clink-arg=-Wl,--export-dynamic"
    export CFLAGS="-fsanitize=thread"
    export TSAN_OPTIONS="halt_on_error=1"
    # slots_of_exited_threads_are_recycled counts slots right after `thread::scope` returns,
    # which is before the exited threads' key destructors give their slots back: TSan's slow
    # thread exit makes that window wide enough for the next batch to allocate more (timing,
    # not a race TSan reports); it runs natively and under ASan.
    cargo +nightly test -Zbuild-std --target "$host" --target-dir target/tsan \
        -p crosscall --test gate --test state_gate --test attach \
        -- --skip slots_of_exited_threads_are_recycled
    # The C tests too, except those that fork with threads running: TSan does not support a
    # multi-threaded fork (the child reports the parent's threads as leaked and exits 66);
    # and entries_from_key_destructors_end_with_the_thread, whose entries in the last pthread
    # key destructor rounds run after TSan has torn down the thread's own state (its runtime
    # crashes there: "SEGV ... nested bug in the same thread"). They run natively, under
    # valgrind and under ASan.
    cargo +nightly test -Zbuild-std --target "$host" --target-dir target/tsan \
        -p crosscall-ctests --tests -- --skip fork --skip exit_with_threads_inside \
        --skip entries_from_key_destructors_end_with_the_thread
    unset RUSTFLAGS CFLAGS TSAN_OPTIONS
fi
