//! loom model tests of the Gate protocol: every interleaving of open / enter / leave / close
//! over 2–3 threads (preemption-bounded). Run with:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p crosscall --test loom_gate --release
//! ```
#![cfg(loom)]

use crosscall::{EnterError, Gate, GateState};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

/// Runs `f` under loom once per fence strategy: the membarrier path (the default) and the
/// `fence(SeqCst)` fallback.
fn model(f: impl Fn(fn() -> Gate) + Sync + Send + 'static) {
    let f = std::sync::Arc::new(f);
    for new_gate in [Gate::new as fn() -> Gate, Gate::new_fence_fallback] {
        let f = f.clone();
        loom::model(move || f(new_gate));
    }
}

/// The fast path proper: a thread whose slot is already cached (it entered before) races
/// `close`. It is admitted only if close has not returned, and close waits for it.
#[test]
fn cached_entry_races_close() {
    model(|new_gate| entry_races_close(new_gate, true));
}

/// Two gates alternate on one thread: the cached slot belongs to the other gate when the
/// first is entered again, and closing the first still waits for that entry.
#[test]
fn alternating_gates_on_one_thread() {
    model(|new_gate| {
        let a = Arc::new(new_gate());
        let b = Arc::new(new_gate());
        a.open();
        b.open();
        let inside_a = Arc::new(AtomicBool::new(false));
        let t = {
            let (a, b, inside_a) = (a.clone(), b.clone(), inside_a.clone());
            thread::spawn(move || {
                drop(a.try_enter());
                drop(b.try_enter()); // the cache now holds b's slot
                if let Ok(pass) = a.try_enter() {
                    inside_a.store(true, SeqCst);
                    inside_a.store(false, SeqCst);
                    drop(pass);
                }
            })
        };
        a.close().unwrap();
        assert!(!inside_a.load(SeqCst), "close of a returned while inside a");
        t.join().unwrap();
        assert_eq!(b.state(), GateState::Open);
        assert!(b.try_enter().is_ok());
    });
}

/// An entry that races close: it is admitted only if close has not returned, and close
/// never returns while it is inside.
#[test]
fn close_never_returns_while_a_pass_is_alive() {
    model(|new_gate| entry_races_close(new_gate, false));
}

/// One thread enters (after a warm-up entry that caches its slot, if `warm_up`) while the
/// main thread closes: admitted only before close returns, and close waits for it.
fn entry_races_close(new_gate: fn() -> Gate, warm_up: bool) {
    let g = Arc::new(new_gate());
    g.open();
    let inside = Arc::new(AtomicBool::new(false));
    let closed = Arc::new(AtomicBool::new(false));
    let t = {
        let (g, inside, closed) = (g.clone(), inside.clone(), closed.clone());
        thread::spawn(move || {
            if warm_up {
                // Attach, claim and cache this thread's slot (may already race the close).
                drop(g.try_enter());
            }
            match g.try_enter() {
                Ok(pass) => {
                    inside.store(true, SeqCst);
                    assert!(!closed.load(SeqCst), "admitted after close returned");
                    inside.store(false, SeqCst);
                    drop(pass);
                }
                Err(e) => assert_eq!(e, EnterError::Closed),
            }
        })
    };
    g.close().unwrap();
    assert!(
        !inside.load(SeqCst),
        "close returned while a Pass was alive"
    );
    assert_eq!(g.in_flight(), 0);
    closed.store(true, SeqCst);
    t.join().unwrap();
    assert_eq!(g.state(), GateState::Closed);
}

/// Nobody is admitted before open; a waiter parked before open is woken and admitted.
#[test]
fn waiter_is_admitted_only_after_open() {
    model(|new_gate| {
        let g = Arc::new(new_gate());
        let opened = Arc::new(AtomicBool::new(false));
        let t = {
            let (g, opened) = (g.clone(), opened.clone());
            thread::spawn(move || {
                let _p = g.enter().unwrap();
                assert!(opened.load(SeqCst), "admitted before open");
            })
        };
        opened.store(true, SeqCst);
        g.open();
        t.join().unwrap(); // loom reports a deadlock if the waiter was left asleep
    });
}

/// A waiter parked before open is woken by close and refused.
#[test]
fn waiter_is_woken_by_close_before_open() {
    model(|new_gate| {
        let g = Arc::new(new_gate());
        let t = {
            let g = g.clone();
            thread::spawn(move || g.enter().err())
        };
        g.close().unwrap();
        assert_eq!(t.join().unwrap(), Some(EnterError::Closed));
    });
}

/// Two entering threads and a closer: admitted == left, none inside after close.
#[test]
fn two_enterers_and_a_closer() {
    model(|new_gate| {
        let g = Arc::new(new_gate());
        g.open();
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (g, inside) = (g.clone(), inside.clone());
                thread::spawn(move || {
                    if let Ok(pass) = g.try_enter() {
                        inside.fetch_add(1, SeqCst);
                        inside.fetch_sub(1, SeqCst);
                        drop(pass);
                    }
                })
            })
            .collect();
        g.close().unwrap();
        assert_eq!(inside.load(SeqCst), 0);
        assert_eq!(g.in_flight(), 0);
        for t in threads {
            t.join().unwrap();
        }
    });
}

/// Open and close race an entering thread: whatever the order, the entry either completes
/// inside Open or is refused; close always returns.
#[test]
fn open_close_race_with_entry() {
    model(|new_gate| {
        let g = Arc::new(new_gate());
        let g2 = g.clone();
        let opener = thread::spawn(move || g2.open());
        let g3 = g.clone();
        let enterer = thread::spawn(move || match g3.try_enter() {
            Ok(_p) => assert_ne!(g3.state(), GateState::Uninit, "admitted before open"),
            Err(e) => assert!(matches!(e, EnterError::Timeout | EnterError::Closed)),
        });
        g.close().unwrap();
        opener.join().unwrap();
        enterer.join().unwrap();
        assert_eq!(g.state(), GateState::Closed);
        assert_eq!(g.in_flight(), 0);
    });
}

/// Two closers race a nested entry: both return Ok only after both levels have left.
#[test]
fn concurrent_closers_wait_for_a_nested_entry() {
    model(|new_gate| {
        let g = Arc::new(new_gate());
        g.open();
        let inside = Arc::new(AtomicUsize::new(0));
        let enterer = {
            let (g, inside) = (g.clone(), inside.clone());
            thread::spawn(move || {
                if let Ok(outer) = g.try_enter() {
                    inside.fetch_add(1, SeqCst);
                    // Nested entry: refused only if close has begun; never blocks.
                    if let Ok(inner) = g.try_enter() {
                        drop(inner);
                    }
                    inside.fetch_sub(1, SeqCst);
                    drop(outer);
                }
            })
        };
        let closer = {
            let (g, inside) = (g.clone(), inside.clone());
            thread::spawn(move || {
                g.close().unwrap();
                assert_eq!(inside.load(SeqCst), 0, "second closer returned early");
            })
        };
        g.close().unwrap();
        assert_eq!(inside.load(SeqCst), 0, "first closer returned early");
        assert_eq!(g.in_flight(), 0);
        closer.join().unwrap();
        enterer.join().unwrap();
        assert_eq!(g.state(), GateState::Closed);
    });
}

/// A thread whose cached slot belongs to gate `a` enters gate `b`: its fast path announces in
/// `a`'s slot and withdraws. Meanwhile `a` closes: close must still return, nothing may be
/// admitted into `a` after it returned, and `b` is unaffected.
#[test]
fn entering_another_gate_through_a_cached_slot_of_a_closing_one() {
    model(|new_gate| {
        let a = Arc::new(new_gate());
        let b = Arc::new(new_gate());
        a.open();
        b.open();
        let closed = Arc::new(AtomicBool::new(false));
        let t = {
            let (a, b, closed) = (a.clone(), b.clone(), closed.clone());
            thread::spawn(move || {
                drop(a.try_enter()); // the cache holds a's slot (if a was still open)
                assert!(b.try_enter().is_ok(), "b never closes");
                if let Ok(pass) = a.try_enter() {
                    assert!(!closed.load(SeqCst), "admitted into a after close returned");
                    drop(pass);
                }
            })
        };
        a.close().unwrap();
        closed.store(true, SeqCst);
        assert_eq!(a.in_flight(), 0);
        t.join().unwrap();
        assert_eq!(b.state(), GateState::Open);
    });
}
