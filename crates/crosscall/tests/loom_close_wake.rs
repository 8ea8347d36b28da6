//! loom model tests of the woken close: the closer sleeps (under loom: without a timeout, so
//! a lost wake-up is a deadlock loom reports) until the last admitted call leaves. Run with
//! `scripts/loom.sh`.
#![cfg(loom)]

use crosscall::{Gate, GateState};
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

/// Two callers are inside when the close starts; each leaves on its own thread. The closer
/// must be woken by whichever leaves last, and return only after both left.
#[test]
fn the_last_of_two_leaves_wakes_the_closer() {
    loom::model(|| {
        let g = Arc::new(Gate::new());
        g.open();
        let inside = Arc::new(AtomicUsize::new(0));
        let passes: Vec<_> = (0..2)
            .map(|_| {
                let (g, inside) = (g.clone(), inside.clone());
                thread::spawn(move || {
                    let pass = g.enter().expect("open until the closer starts");
                    inside.fetch_add(1, SeqCst);
                    inside.fetch_sub(1, SeqCst);
                    drop(pass);
                })
            })
            .collect();
        g.close().unwrap();
        assert_eq!(
            inside.load(SeqCst),
            0,
            "close returned before the last leave"
        );
        for t in passes {
            t.join().unwrap();
        }
        assert_eq!(g.state(), GateState::Closed);
    });
}

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
