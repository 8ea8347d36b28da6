//! loom model tests of `StateGate<T>`: close → reopen with a concurrent entry. The state
//! lives in a loom `UnsafeCell`, so loom reports any read of it (through a `StatePass`) that
//! races its install by an opening or its take by a close. Run with:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p crosscall --test loom_state_gate --release
//! ```
#![cfg(loom)]

use crosscall::{EnterError, GateState, StateGate};
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

/// Close → reopen while another thread enters: it is admitted to generation 1 (and sees
/// 1, and the close waits for it), or refused, or admitted to generation 2 (and sees 2).
/// Whatever the interleaving, each close takes its own generation's value.
#[test]
fn close_then_reopen_with_a_concurrent_entry() {
    close_then_reopen(StateGate::new);
}

/// The same with the `fence(SeqCst)` fallback on both sides.
#[test]
fn close_then_reopen_with_a_concurrent_entry_fence_fallback() {
    close_then_reopen(StateGate::new_fence_fallback);
}

fn close_then_reopen(new: fn() -> StateGate<usize>) {
    loom::model(move || {
        let g = Arc::new(new());
        g.open(1usize).unwrap();
        // The generation whose close has returned (0: none yet).
        let closed = Arc::new(AtomicUsize::new(0));
        let t = {
            let (g, closed) = (g.clone(), closed.clone());
            thread::spawn(move || {
                // Two entries: the first claims and caches this thread's slot, the second
                // takes the cached fast path, whose key is the same in both generations.
                let mut seen = Vec::new();
                for _ in 0..2 {
                    match g.try_enter() {
                        Ok(value) => {
                            let v = *value;
                            assert!(v == 1 || v == 2, "saw {v}");
                            assert!(closed.load(SeqCst) < v, "used state {v} after its close");
                            seen.push(v);
                        }
                        Err(e) => assert_eq!(e, EnterError::Closed),
                    }
                }
                seen
            })
        };
        assert_eq!(g.close().unwrap(), Some(1));
        closed.store(1, SeqCst);
        g.reopen(2).unwrap();
        let seen = t.join().unwrap();
        assert!(
            seen.windows(2).all(|w| w[0] <= w[1]),
            "generations went back: {seen:?}"
        );
        assert_eq!(g.close().unwrap(), Some(2));
        assert_eq!(g.in_flight(), 0);
    });
}

/// A waiting entry across a reopen with an initializer: it is refused while closed, or
/// waits through the opening and sees the new value, never an empty cell.
#[test]
fn waiting_entry_across_reopen_with() {
    loom::model(|| {
        let g = Arc::new(StateGate::new());
        g.open(1usize).unwrap();
        let t = {
            let g = g.clone();
            thread::spawn(move || g.enter().map(|v| *v).ok())
        };
        assert_eq!(g.close().unwrap(), Some(1));
        g.reopen_with(|| 2).unwrap();
        let seen = t.join().unwrap();
        assert!(matches!(seen, None | Some(1) | Some(2)), "{seen:?}");
        assert_eq!(g.close().unwrap(), Some(2));
        assert_eq!(g.state(), GateState::Closed);
    });
}

/// Two closers race an entry: exactly one of them takes the value, after the entry left.
#[test]
fn two_closers_take_once() {
    loom::model(|| {
        let g = Arc::new(StateGate::new());
        g.open(7usize).unwrap();
        let taken = Arc::new(AtomicUsize::new(0));
        let enterer = {
            let g = g.clone();
            thread::spawn(move || {
                if let Ok(v) = g.try_enter() {
                    assert_eq!(*v, 7);
                }
            })
        };
        let closer = {
            let (g, taken) = (g.clone(), taken.clone());
            thread::spawn(move || {
                if g.close().unwrap().is_some() {
                    taken.fetch_add(1, SeqCst);
                }
            })
        };
        if g.close().unwrap().is_some() {
            taken.fetch_add(1, SeqCst);
        }
        closer.join().unwrap();
        enterer.join().unwrap();
        assert_eq!(taken.load(SeqCst), 1);
    });
}
