//! loom model tests of the woken close: the closer sleeps (under loom: without a timeout, so
//! a lost wake-up is a deadlock loom reports) until the last admitted call leaves. Run with
//! `scripts/loom.sh`. (Every model of `loom_gate.rs` that closes a gate with a call in flight
//! checks the same: since the close sleeps, each of them fails on a lost wake-up.)
#![cfg(loom)]

use crosscall::{Gate, GateState};
use loom::sync::Arc;
use loom::thread;

/// A caller enters a second gate while inside the first one, which closes: its leave from
/// the first gate comes after its entry into the second, and must still wake the closer.
#[test]
fn a_leave_after_entering_another_gate_wakes_the_closer() {
    loom::model(|| {
        let a = Arc::new(Gate::new());
        let b = Arc::new(Gate::new());
        a.open();
        b.open();
        let t = {
            let (a, b) = (a.clone(), b.clone());
            thread::spawn(move || {
                if let Ok(pass_a) = a.try_enter() {
                    let pass_b = b.enter().expect("b stays open");
                    drop(pass_a);
                    drop(pass_b);
                }
            })
        };
        a.close().unwrap();
        assert_eq!(a.in_flight(), 0);
        t.join().unwrap();
        assert_eq!(b.state(), GateState::Open);
    });
}
