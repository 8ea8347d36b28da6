//! `PanicPolicy`: `Continue` keeps admitting after a panic, `Poison` refuses every later call
//! (naming the panic) until the gate is closed and reopened; on real threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;

use crosscall::{Gate, GateState, PanicPolicy, StateGate};

fn quiet() {
    crosscall::set_panic_output(crosscall::PanicOutput::Quiet);
}

static CONTINUING: Gate = Gate::new();

#[crosscall::export(gate = CONTINUING)]
extern "C" fn continuing(fail: bool) -> bool {
    assert!(!fail, "continuing failed");
    true
}

#[test]
fn continue_is_the_default_and_keeps_admitting() {
    quiet();
    assert_eq!(CONTINUING.panic_policy(), PanicPolicy::Continue);
    CONTINUING.open();
    assert!(!continuing(true));
    assert_eq!(
        crosscall::last_error().as_deref(),
        Some("crosscall: continuing panicked: continuing failed")
    );
    assert!(continuing(false));
    assert_eq!(CONTINUING.state(), GateState::Open);
}

struct Counter {
    calls: AtomicUsize,
}

static COUNTER: StateGate<Counter> = StateGate::new();

#[crosscall::export(state = COUNTER)]
extern "C" fn count(counter: &Counter, fail: bool) -> Option<std::num::NonZeroUsize> {
    let n = counter.calls.fetch_add(1, Ordering::Relaxed) + 1;
    assert!(!fail, "count failed at call {n}");
    std::num::NonZeroUsize::new(n)
}

#[test]
fn poison_refuses_on_every_thread_until_closed_and_reopened() {
    quiet();
    COUNTER.set_panic_policy(PanicPolicy::Poison);
    COUNTER
        .open(Counter {
            calls: AtomicUsize::new(0),
        })
        .unwrap();
    assert_eq!(count(false).map(|n| n.get()), Some(1));
    assert_eq!(count(true), None);
    assert_eq!(COUNTER.state(), GateState::Closing);
    // Refused everywhere, with the panic named; the body no longer runs.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                assert_eq!(count(false), None);
                let message = crosscall::last_error().unwrap();
                assert!(
                    message.contains("PanicPolicy::Poison")
                        && message.contains("count panicked: count failed at call 2"),
                    "{message}"
                );
            });
        }
    });
    // Close hands back the state the panicking generation left.
    let old = COUNTER.close().unwrap().unwrap();
    assert_eq!(old.calls.into_inner(), 2);
    assert_eq!(count(false), None);
    assert_eq!(
        crosscall::last_error().as_deref(),
        Some("crosscall: refused after a panic (PanicPolicy::Poison): crosscall: count panicked: count failed at call 2")
    );
    // A new generation is admitted again, and a new panic poisons it anew.
    COUNTER
        .reopen(Counter {
            calls: AtomicUsize::new(10),
        })
        .unwrap();
    assert_eq!(count(false).map(|n| n.get()), Some(11));
    assert_eq!(count(true), None);
    assert_eq!(count(false), None);
    assert!(crosscall::last_error().unwrap().contains("at call 12"));
    COUNTER.close().unwrap();
}

static RACED: Gate = Gate::new();
static RACED_RUNS: AtomicUsize = AtomicUsize::new(0);

#[crosscall::export(gate = RACED, on_panic = -1)]
extern "C" fn raced(fail: bool) -> i32 {
    RACED_RUNS.fetch_add(1, Ordering::Relaxed);
    assert!(!fail, "raced failed");
    0
}

#[test]
fn poison_while_other_threads_call_stops_them_and_close_drains() {
    quiet();
    RACED.set_panic_policy(PanicPolicy::Poison);
    RACED.open();
    let start = Barrier::new(5);
    let refused = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                start.wait();
                // Keep calling until refused: the poisoning must reach every thread.
                while raced(false) == 0 {}
                assert!(crosscall::last_error().unwrap().contains("raced failed"));
                refused.fetch_add(1, Ordering::Relaxed);
            });
        }
        start.wait();
        assert_eq!(raced(true), -1);
    });
    assert_eq!(refused.load(Ordering::Relaxed), 4);
    RACED.close().unwrap();
    let runs = RACED_RUNS.load(Ordering::Relaxed);
    assert_eq!(raced(false), -1);
    assert_eq!(
        RACED_RUNS.load(Ordering::Relaxed),
        runs,
        "a refused body ran"
    );
    RACED.reopen().unwrap();
    assert_eq!(raced(false), 0);
}

static NESTED: Gate = Gate::new();

#[crosscall::export(gate = NESTED)]
extern "C" fn inner(fail: bool) -> bool {
    assert!(!fail, "inner failed");
    true
}

#[crosscall::export(gate = NESTED)]
extern "C" fn outer() -> bool {
    // The inner panic poisons the gate while this call is inside: it finishes normally.
    let inner_ok = inner(true);
    !inner_ok
}

#[test]
fn poison_from_a_nested_call_lets_the_outer_call_finish() {
    quiet();
    NESTED.set_panic_policy(PanicPolicy::Poison);
    NESTED.open();
    assert!(outer());
    assert!(!outer());
    assert!(crosscall::last_error()
        .unwrap()
        .contains("inner panicked: inner failed"));
    NESTED.close().unwrap();
}
