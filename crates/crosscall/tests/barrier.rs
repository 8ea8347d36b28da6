//! The panic barrier: refused entries, panics and errors become error values, never unwinds.

mod support;

use std::panic;
use std::sync::{Mutex, MutexGuard};

use crosscall::{
    attach, clear_last_error, entry, entry_or_abort, last_error, EnterError, Gate, GateState,
};

/// Tests that swap the process-wide panic hook take turns, so each restores the right one.
static PANIC_HOOK: Mutex<()> = Mutex::new(());

/// Runs `f` with a silent panic hook (expected panics would flood the output otherwise).
fn quietly<R>(f: impl FnOnce() -> R) -> R {
    let _turn: MutexGuard<'_, ()> = PANIC_HOOK.lock().unwrap_or_else(|p| p.into_inner());
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(panic::AssertUnwindSafe(f));
    panic::set_hook(previous);
    result.unwrap_or_else(|payload| panic::resume_unwind(payload))
}

/// What a refused entry reports: the gate's own wording, behind crosscall's prefix.
fn closed_message() -> String {
    format!("crosscall: {}", EnterError::Closed)
}

fn open_gate() -> &'static Gate {
    let gate: &'static Gate = Box::leak(Box::new(Gate::new()));
    gate.open();
    gate
}

#[test]
fn a_million_panics_each_return_the_error_value() {
    const THREADS: usize = 2;
    const CALLS_PER_THREAD: usize = 500_000;
    let gate = open_gate();
    quietly(|| {
        std::thread::scope(|scope| {
            for thread in 0..THREADS {
                scope.spawn(move || {
                    for call in 0..CALLS_PER_THREAD {
                        let tag = thread * CALLS_PER_THREAD + call;
                        let got = entry(gate, -1_i64, || -> i64 { panic!("boom {tag}") });
                        assert_eq!(got, -1);
                        if call % 1000 == 0 {
                            let message = last_error().unwrap();
                            assert!(message.ends_with(&format!("boom {tag}")), "{message}");
                        }
                    }
                });
            }
        });
    });
    gate.close().unwrap();
    assert_eq!(gate.in_flight(), 0);
    assert_eq!(gate.state(), GateState::Closed);
}

#[test]
fn a_panic_message_is_kept_as_the_last_error() {
    let gate = open_gate();
    let got = quietly(|| entry(gate, 0_u8, || panic!("static text")));
    assert_eq!(got, 0);
    assert_eq!(
        last_error().as_deref(),
        Some("crosscall: callback panicked: static text")
    );
    let detail = 17;
    quietly(|| entry(gate, (), || panic!("formatted {detail}")));
    assert_eq!(
        last_error().as_deref(),
        Some("crosscall: callback panicked: formatted 17")
    );
    quietly(|| entry(gate, (), || panic::panic_any(42_u32)));
    let message = last_error().unwrap();
    assert!(message.contains("not a string"), "{message}");
    gate.close().unwrap();
    assert_eq!(gate.in_flight(), 0);
}

#[test]
fn a_payload_whose_drop_panics_is_contained() {
    struct Grenade;
    impl Drop for Grenade {
        fn drop(&mut self) {
            panic!("payload destructor");
        }
    }
    let gate = open_gate();
    let got = quietly(|| entry(gate, 5_u8, || panic::panic_any(Grenade)));
    assert_eq!(got, 5);
    gate.close().unwrap();
}

#[test]
fn a_closed_gate_refuses_without_running_the_body() {
    let gate = open_gate();
    gate.close().unwrap();
    clear_last_error();
    let mut ran = false;
    let got = entry(gate, -7, || {
        ran = true;
        1
    });
    assert_eq!(got, -7);
    assert!(!ran);
    assert_eq!(last_error(), Some(closed_message()));
    let got = entry_or_abort(gate, -8, || {
        ran = true;
        1
    });
    assert_eq!(got, -8);
    assert!(!ran);
    assert_eq!(last_error(), Some(closed_message()));
}

#[test]
fn entering_from_inside_initialization_is_refused_not_deadlocked() {
    let gate: &'static Gate = Box::leak(Box::new(Gate::new()));
    let inner = gate.open_with(|| entry(gate, -1, || 1));
    assert_eq!(inner, Some(-1));
    let message = last_error().unwrap();
    assert!(message.starts_with("crosscall: "), "{message}");
    assert!(message.contains("deadlock"), "{message}");
    assert_eq!(entry(gate, -1, || 2), 2);
}

#[test]
fn success_returns_the_value_and_keeps_the_last_error() {
    let gate = open_gate();
    crosscall::set_last_error("from an earlier failure");
    assert_eq!(entry(gate, 0, || 41 + 1), 42);
    assert_eq!(entry_or_abort(gate, 0, || 43), 43);
    assert_eq!(last_error().as_deref(), Some("from an earlier failure"));
    gate.close().unwrap();
    assert_eq!(gate.in_flight(), 0);
}

#[test]
fn nested_entries_on_one_thread_work() {
    let gate = open_gate();
    let got = entry(gate, 0, || {
        entry(gate, 0, || entry_or_abort(gate, 0, || 3)) * 2
    });
    assert_eq!(got, 6);
    let got = quietly(|| {
        entry(gate, -1, || {
            entry(gate, -2, || -> i32 { panic!("inner") }) * 10
        })
    });
    assert_eq!(
        got, -20,
        "the inner barrier catches; the outer call completes"
    );
    gate.close().unwrap();
    assert_eq!(gate.in_flight(), 0);
}

#[test]
fn entry_attaches_the_calling_thread() {
    let gate = open_gate();
    let attached_inside = std::thread::spawn(move || {
        assert!(!attach::is_attached());
        entry(gate, false, attach::is_attached)
    })
    .join()
    .unwrap();
    assert!(attached_inside);
}

#[test]
fn entry_before_open_waits_for_open() {
    let gate: &'static Gate = Box::leak(Box::new(Gate::new()));
    let caller = std::thread::spawn(move || entry(gate, -1, || 9));
    gate.open();
    assert_eq!(caller.join().unwrap(), 9);
}

#[test]
fn result_bodies_map_err_to_the_error_value_and_message() {
    let gate = open_gate();
    let ok = crosscall::__private::export_result(gate, -1, || Ok::<_, String>(5));
    assert_eq!(ok, 5);
    let err = crosscall::__private::export_result(gate, -1, || Err::<i32, _>("no such key"));
    assert_eq!(err, -1);
    assert_eq!(last_error().as_deref(), Some("no such key"));
    let err =
        crosscall::__private::export_result_or_abort(gate, -2, || Err::<i32, _>(std::fmt::Error));
    assert_eq!(err, -2);
    assert_eq!(last_error(), Some(std::fmt::Error.to_string()));
    gate.close().unwrap();
    assert_eq!(gate.in_flight(), 0);
}

#[test]
fn a_panicking_display_is_caught_too() {
    struct Unprintable;
    impl std::fmt::Display for Unprintable {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            panic!("display failed")
        }
    }
    let gate = open_gate();
    let got =
        quietly(|| crosscall::__private::export_result(gate, 0_u8, || Err::<u8, _>(Unprintable)));
    assert_eq!(got, 0);
    assert!(last_error().unwrap().contains("display failed"));
    gate.close().unwrap();
}

#[test]
#[ignore = "child process of `entry_or_abort_aborts_on_panic`"]
fn child_panicking_in_abort_mode() {
    if !support::is_child() {
        return;
    }
    let gate = open_gate();
    entry_or_abort(gate, (), || panic!("fatal in abort mode"));
    unreachable!("entry_or_abort must abort instead of returning");
}

#[test]
fn entry_or_abort_aborts_on_panic() {
    support::run_child_expecting_abort(
        "child_panicking_in_abort_mode",
        &["fatal in abort mode", "abort-on-panic mode; aborting"],
    );
}
