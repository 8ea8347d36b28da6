//! Open / close / drain semantics of the reference gates, with real threads.
//!
//! "Has not happened yet" is checked after a pause: a gate that wrongly lets
//! a thread through is caught whenever the thread runs within the pause, and a
//! correct gate never fails the check (no timing is asserted).
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Barrier};
use std::thread;
use std::time::Duration;

use crosscall_lab::gates::{
    ArcSwapGate, AtomicGate, CgoCthreadGate, CounterGate, CrosscallGate, EntryGate, MutexGate,
    NoGate, Refused, RwLockGate,
};

const PAUSE: Duration = Duration::from_millis(50);

/// `call` made before `open` waits for it, then runs.
fn waits_until_open<G: EntryGate>() {
    let gate = G::new_static();
    let ran = AtomicBool::new(false);
    thread::scope(|s| {
        let caller = s.spawn(|| {
            gate.call(-1, || {
                ran.store(true, Ordering::SeqCst);
                7
            })
        });
        thread::sleep(PAUSE);
        assert!(!ran.load(Ordering::SeqCst), "{}: ran before open", G::NAME);
        gate.open();
        assert_eq!(caller.join().unwrap(), 7, "{}", G::NAME);
    });
    assert!(ran.load(Ordering::SeqCst));
}

/// After `close`, `call` returns the refusal value without running the body.
fn refuses_after_close<G: EntryGate>() {
    let gate = G::new_static();
    gate.open();
    assert_eq!(gate.call(-1, || 1), 1, "{}", G::NAME);
    gate.close();
    assert_eq!(
        gate.call(-1, || panic!("admitted after close")),
        -1,
        "{}",
        G::NAME
    );
    // Opening again does not undo the close.
    gate.open();
    assert_eq!(
        gate.call(-1, || panic!("admitted after close and reopen")),
        -1,
        "{}",
        G::NAME
    );
}

/// A caller still waiting for `open` when the gate is closed is refused.
fn waiter_is_refused_by_close<G: EntryGate>() {
    let gate = G::new_static();
    thread::scope(|s| {
        let caller = s.spawn(|| gate.call(-1, || panic!("admitted after close")));
        thread::sleep(PAUSE);
        gate.close();
        assert_eq!(caller.join().unwrap(), -1, "{}", G::NAME);
    });
}

/// Many threads call concurrently; every admitted body runs exactly once.
fn concurrent_calls_all_run<G: EntryGate>() {
    let gate = G::new_static();
    gate.open();
    let bodies = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..2000 {
                    assert!(gate.call(false, || {
                        bodies.fetch_add(1, Ordering::Relaxed);
                        true
                    }));
                }
            });
        }
    });
    gate.close();
    assert_eq!(bodies.load(Ordering::Relaxed), 8000, "{}", G::NAME);
}

macro_rules! lifecycle_tests {
    ($module:ident, $gate:ty) => {
        mod $module {
            use super::*;

            #[test]
            fn waits_until_open() {
                super::waits_until_open::<$gate>();
            }

            #[test]
            fn refuses_after_close() {
                super::refuses_after_close::<$gate>();
            }

            #[test]
            fn waiter_is_refused_by_close() {
                super::waiter_is_refused_by_close::<$gate>();
            }

            #[test]
            fn concurrent_calls_all_run() {
                super::concurrent_calls_all_run::<$gate>();
            }
        }
    };
}

lifecycle_tests!(mutex, MutexGate);
lifecycle_tests!(atomic, AtomicGate);
lifecycle_tests!(cgo_cthread, CgoCthreadGate);
lifecycle_tests!(counter, CounterGate);
lifecycle_tests!(crosscall_gate, CrosscallGate);

#[test]
fn none_admits_before_open_and_after_close() {
    let gate = NoGate::new_static();
    assert_eq!(gate.call(-1, || 1), 1);
    gate.close();
    assert_eq!(gate.call(-1, || 2), 2);
}

#[test]
fn counter_close_drains_calls_in_flight() {
    let gate = CounterGate::new_static();
    gate.open();
    let inside = Barrier::new(2);
    let (release, released) = mpsc::channel::<()>();
    let closed = AtomicBool::new(false);
    let inside = &inside;
    thread::scope(|s| {
        let holder = s.spawn(move || {
            let pass = gate.enter().expect("open gate admits");
            inside.wait();
            released.recv().unwrap();
            drop(pass);
        });
        inside.wait();
        assert_eq!(gate.in_flight(), 1);
        let closer = s.spawn(|| {
            gate.close();
            closed.store(true, Ordering::SeqCst);
        });
        thread::sleep(PAUSE);
        assert!(
            !closed.load(Ordering::SeqCst),
            "close returned with a call in flight"
        );
        // Closing: new calls are refused even though the drain is not over.
        assert_eq!(gate.enter().err(), Some(Refused::Closed));
        release.send(()).unwrap();
        holder.join().unwrap();
        closer.join().unwrap();
    });
    assert!(closed.load(Ordering::SeqCst));
    assert_eq!(gate.in_flight(), 0);
}

#[test]
fn counter_counts_nested_and_parallel_calls() {
    let gate = CounterGate::new_static();
    gate.open();
    let outer = gate.enter().unwrap();
    let inner = gate.enter().unwrap();
    assert_eq!(gate.in_flight(), 2);
    drop(inner);
    assert_eq!(gate.in_flight(), 1);
    drop(outer);
    assert_eq!(gate.in_flight(), 0);
    gate.close();
    assert_eq!(gate.in_flight(), 0);
}

/// The cgo ports do not drain — cgo cannot know who is inside — so `close`
/// returns while a call is still running; that call finishes normally.
#[test]
fn mutex_and_atomic_close_do_not_wait_for_calls_in_flight() {
    let mutex = MutexGate::new_static();
    let atomic = AtomicGate::new_static();
    mutex.open();
    atomic.open();
    let mutex_pass = mutex.enter().unwrap();
    let atomic_pass = atomic.enter().unwrap();
    mutex.close();
    atomic.close();
    assert_eq!(mutex.enter().err(), Some(Refused::Closed));
    assert_eq!(atomic.enter().err(), Some(Refused::Closed));
    drop((mutex_pass, atomic_pass));
}

#[test]
fn crosscall_gate_keeps_panics_on_the_rust_side() {
    let gate = CrosscallGate::new_static();
    gate.open();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let value = gate.call(-1, || panic!("boom"));
    std::panic::set_hook(hook);
    assert_eq!(value, -1);
    assert!(crosscall::last_error().unwrap().contains("boom"));
    assert_eq!(gate.gate().in_flight(), 0);
    gate.close();
}

/// Like the other cgo ports, `cgo-cthread` does not drain: `close` returns
/// while a call is inside, and that call finishes normally.
#[test]
fn cgo_cthread_close_does_not_wait_for_calls_in_flight() {
    let gate = CgoCthreadGate::new_static();
    gate.open();
    let pass = gate.enter().unwrap();
    gate.close();
    assert_eq!(gate.enter().err(), Some(Refused::Closed));
    drop(pass);
    assert_eq!(gate.call(-1, || 1), -1);
}

/// The Rust strategies have no wait for initialization: before `open` the
/// state is `None` and a call is refused.
#[test]
fn rwlock_and_arcswap_refuse_before_open() {
    let rwlock = RwLockGate::new_static();
    let arcswap = ArcSwapGate::new_static();
    assert_eq!(rwlock.call(-1, || panic!("admitted before open")), -1);
    assert_eq!(arcswap.call(-1, || panic!("admitted before open")), -1);
    rwlock.open();
    arcswap.open();
    assert_eq!((rwlock.call(-1, || 1), arcswap.call(-1, || 1)), (1, 1));
}

#[test]
fn rwlock_refuses_after_close_and_runs_concurrent_calls() {
    refuses_after_close_once::<RwLockGate>();
    let gate = RwLockGate::new_static();
    gate.open();
    let bodies = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..2000 {
                    assert!(gate.call(false, || {
                        bodies.fetch_add(1, Ordering::Relaxed);
                        true
                    }));
                }
            });
        }
    });
    gate.close();
    assert!(!gate.is_open());
    assert_eq!(bodies.load(Ordering::Relaxed), 8000);
}

#[test]
fn arcswap_refuses_after_close() {
    refuses_after_close_once::<ArcSwapGate>();
}

/// `open` after `close` publishes a new state for these two (they have no
/// "closed for good" state); only the refusal right after close is checked.
fn refuses_after_close_once<G: EntryGate>() {
    let gate = G::new_static();
    gate.open();
    assert_eq!(gate.call(-1, || 1), 1, "{}", G::NAME);
    gate.close();
    assert_eq!(
        gate.call(-1, || panic!("admitted after close")),
        -1,
        "{}",
        G::NAME
    );
}

/// Shutdown write-locks: it waits until the call holding a read guard has
/// left, and takes the state out.
#[test]
fn rwlock_close_drains_calls_in_flight() {
    let gate = RwLockGate::new_static();
    gate.open();
    let inside = Barrier::new(2);
    let (release, released) = mpsc::channel::<()>();
    let closed = AtomicBool::new(false);
    let (inside, closed) = (&inside, &closed);
    thread::scope(|s| {
        let caller = s.spawn(move || {
            gate.call(-1, || {
                inside.wait();
                released.recv().unwrap();
                // Still inside: the closer must not have finished.
                assert!(!closed.load(Ordering::SeqCst), "close did not wait");
                1
            })
        });
        inside.wait();
        let closer = s.spawn(move || {
            gate.close();
            closed.store(true, Ordering::SeqCst);
        });
        thread::sleep(PAUSE);
        assert!(
            !closed.load(Ordering::SeqCst),
            "close returned with a call in flight"
        );
        release.send(()).unwrap();
        assert_eq!(caller.join().unwrap(), 1);
        closer.join().unwrap();
    });
    assert!(closed.load(Ordering::SeqCst));
    assert_eq!(gate.call(-1, || panic!("admitted after close")), -1);
}

/// `arcswap` does not drain: `close` returns while a call is inside; that
/// call keeps the old state alive, and the state is dropped when the call
/// lets go of it — after `close` returned, on the caller's thread.
#[test]
fn arcswap_close_does_not_drain_and_the_last_reader_drops_the_state() {
    let gate = ArcSwapGate::new_static();
    gate.open();
    let state = std::sync::Arc::downgrade(&gate.load_state().expect("open"));
    let inside = Barrier::new(2);
    let (release, released) = mpsc::channel::<()>();
    let (inside, state) = (&inside, &state);
    thread::scope(|s| {
        let caller = s.spawn(move || {
            gate.call(-1, || {
                inside.wait();
                released.recv().unwrap();
                // `close` has returned, yet this call's state is still alive.
                assert!(state.upgrade().is_some(), "state dropped under a call");
                1
            })
        });
        inside.wait();
        gate.close(); // returns at once: no drain
        assert_eq!(gate.call(-1, || panic!("admitted after close")), -1);
        release.send(()).unwrap();
        assert_eq!(caller.join().unwrap(), 1);
    });
    assert!(
        state.upgrade().is_none(),
        "the last reader dropped the state"
    );
}
