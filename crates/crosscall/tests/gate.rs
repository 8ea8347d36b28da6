//! Real-thread tests of the Gate lifecycle, run against both fence strategies.

use crosscall::{CloseError, EnterError, Gate, GateState};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

/// Runs a test body once with each fence strategy.
fn both(test: impl Fn(&Gate)) {
    test(&Gate::new());
    test(&Gate::new_fence_fallback());
}

#[test]
fn fence_strategies_differ_as_asked() {
    assert!(!Gate::new_fence_fallback().uses_membarrier());
    // On Linux >= 4.14 outside seccomp sandboxes `Gate::new` uses membarrier; elsewhere it
    // must fall back, so only its consistency is checked: asking twice gives one answer.
    let g = Gate::new();
    assert_eq!(g.uses_membarrier(), g.uses_membarrier());
}

#[test]
fn lifecycle_states_and_refusals() {
    both(|g| {
        assert_eq!(g.state(), GateState::Uninit);
        assert_eq!(g.try_enter().err(), Some(EnterError::Timeout));
        assert_eq!(
            g.enter_timeout(Duration::from_millis(2)).err(),
            Some(EnterError::Timeout)
        );
        g.open();
        assert_eq!(g.state(), GateState::Open);
        g.open(); // idempotent
        {
            let _p = g.enter().unwrap();
            assert_eq!(g.in_flight(), 1);
        }
        assert_eq!(g.in_flight(), 0);
        g.close().unwrap();
        assert_eq!(g.state(), GateState::Closed);
        assert_eq!(g.enter().err(), Some(EnterError::Closed));
        assert_eq!(g.try_enter().err(), Some(EnterError::Closed));
        assert_eq!(
            g.enter_timeout(Duration::from_secs(1)).err(),
            Some(EnterError::Closed)
        );
        g.open(); // a closed gate does not reopen
        assert_eq!(g.state(), GateState::Closed);
        assert_eq!(g.close(), Ok(())); // closing twice is fine
        assert_eq!(g.in_flight(), 0);
    });
}

#[test]
fn nested_entry_counts_each_level() {
    both(|g| {
        g.open();
        let a = g.enter().unwrap();
        let b = g.enter().unwrap();
        let c = g.try_enter().unwrap();
        assert_eq!(g.in_flight(), 3);
        drop(b); // out of order is fine: only the count matters
        assert_eq!(g.in_flight(), 2);
        drop((a, c));
        assert_eq!(g.in_flight(), 0);
    });
}

#[test]
fn close_from_inside_a_pass_would_deadlock_and_changes_nothing() {
    both(|g| {
        g.open();
        let p = g.enter().unwrap();
        assert_eq!(g.close(), Err(CloseError::WouldDeadlock));
        assert_eq!(
            g.close_timeout(Duration::from_secs(5)),
            Err(CloseError::WouldDeadlock)
        );
        assert_eq!(g.state(), GateState::Open);
        drop(p);
        assert_eq!(g.close(), Ok(()));
    });
}

#[test]
fn enter_inside_open_with_would_deadlock_other_threads_wait() {
    both(|g| {
        let admitted = AtomicUsize::new(0);
        let ready = Barrier::new(2);
        thread::scope(|s| {
            let value = g.open_with(|| {
                assert_eq!(g.enter().err(), Some(EnterError::WouldDeadlock));
                assert_eq!(g.state(), GateState::Uninit);
                s.spawn(|| {
                    ready.wait();
                    // Waits until the initializer below returns.
                    let _p = g.enter().unwrap();
                    admitted.fetch_add(1, SeqCst);
                });
                ready.wait();
                thread::sleep(Duration::from_millis(20));
                assert_eq!(admitted.load(SeqCst), 0, "admitted before init finished");
                "init done"
            });
            assert_eq!(value, Some("init done"));
            assert_eq!(g.open_with(|| unreachable!()), None);
        });
        assert_eq!(admitted.load(SeqCst), 1);
    });
}

#[test]
fn panicking_initializer_leaves_gate_uninit() {
    let g = Gate::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        g.open_with(|| panic!("init failed"));
    }));
    assert!(r.is_err());
    assert_eq!(g.state(), GateState::Uninit);
    assert_eq!(g.open_with(|| 5), Some(5));
    assert_eq!(g.state(), GateState::Open);
}

#[test]
fn every_waiter_wakes_on_open() {
    both(|g| {
        let admitted = AtomicUsize::new(0);
        thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    let _p = g.enter().unwrap();
                    admitted.fetch_add(1, SeqCst);
                });
            }
            thread::sleep(Duration::from_millis(20));
            assert_eq!(admitted.load(SeqCst), 0);
            g.open();
        });
        assert_eq!(admitted.load(SeqCst), 8);
    });
}

#[test]
fn every_waiter_wakes_on_close_before_open() {
    both(|g| {
        let refused = AtomicUsize::new(0);
        thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    assert_eq!(g.enter().err(), Some(EnterError::Closed));
                    refused.fetch_add(1, SeqCst);
                });
            }
            thread::sleep(Duration::from_millis(20));
            g.close().unwrap();
        });
        assert_eq!(refused.load(SeqCst), 8);
        assert_eq!(g.state(), GateState::Closed);
    });
}

#[test]
fn close_waits_for_passes_on_other_threads() {
    both(|g| {
        g.open();
        let left = AtomicBool::new(false);
        let entered = Barrier::new(2);
        thread::scope(|s| {
            s.spawn(|| {
                let _p = g.enter().unwrap();
                entered.wait();
                thread::sleep(Duration::from_millis(30));
                left.store(true, SeqCst);
            });
            entered.wait();
            assert_eq!(g.in_flight(), 1);
            g.close().unwrap();
            assert!(left.load(SeqCst), "close returned while a Pass was alive");
            assert_eq!(g.in_flight(), 0);
        });
    });
}

#[test]
fn close_timeout_leaves_gate_closing_and_can_be_resumed() {
    both(|g| {
        g.open();
        let entered = Barrier::new(2);
        let release = Barrier::new(2);
        thread::scope(|s| {
            s.spawn(|| {
                let _p = g.enter().unwrap();
                entered.wait();
                release.wait();
                // The gate is Closing now: even a nested entry is refused.
                assert_eq!(g.enter().err(), Some(EnterError::Closed));
            });
            entered.wait();
            assert_eq!(
                g.close_timeout(Duration::from_millis(5)),
                Err(CloseError::Timeout)
            );
            assert_eq!(g.state(), GateState::Closing);
            assert_eq!(g.enter().err(), Some(EnterError::Closed));
            assert_eq!(g.in_flight(), 1);
            release.wait();
            assert_eq!(g.close_timeout(Duration::from_secs(30)), Ok(()));
            assert_eq!(g.state(), GateState::Closed);
        });
    });
}

#[test]
fn pass_leaves_while_unwinding() {
    both(|g| {
        g.open();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _p = g.enter().unwrap();
            let _q = g.enter().unwrap();
            panic!("boom");
        }));
        assert!(r.is_err());
        assert_eq!(g.in_flight(), 0);
        assert_eq!(g.close(), Ok(()));
    });
}

#[test]
fn writes_before_open_are_visible_to_admitted_calls() {
    static G: Gate = Gate::new();
    static DATA: AtomicUsize = AtomicUsize::new(0);
    thread::scope(|s| {
        let readers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let _p = G.enter().unwrap();
                    // Relaxed on purpose: visibility must come from the gate's Acquire.
                    DATA.load(std::sync::atomic::Ordering::Relaxed)
                })
            })
            .collect();
        DATA.store(42, std::sync::atomic::Ordering::Relaxed);
        G.open();
        for r in readers {
            assert_eq!(r.join().unwrap(), 42);
        }
    });
}

#[test]
fn slots_of_exited_threads_are_recycled() {
    both(|g| {
        g.open();
        const THREADS: usize = 10_000;
        const AT_ONCE: usize = 8;
        let entered = AtomicUsize::new(0);
        for _ in 0..THREADS / AT_ONCE {
            thread::scope(|s| {
                for _ in 0..AT_ONCE {
                    s.spawn(|| {
                        let _p = g.enter().unwrap();
                        entered.fetch_add(1, SeqCst);
                    });
                }
            });
        }
        assert_eq!(entered.load(SeqCst), THREADS);
        // At most AT_ONCE threads were alive at once: the slot list cannot exceed that.
        let slots = g.__slot_count();
        assert!(
            slots <= AT_ONCE,
            "{slots} slots for {AT_ONCE} concurrent threads"
        );
        assert_eq!(g.in_flight(), 0);
        g.close().unwrap();
    });
}

#[test]
fn dropped_gates_do_not_break_threads_that_used_them() {
    // A thread enters many short-lived gates, then exits after all are gone: its
    // thread-local slot references must neither dangle nor pile up.
    thread::spawn(|| {
        for round in 0..1000 {
            let g = Box::new(if round % 2 == 0 {
                Gate::new()
            } else {
                Gate::new_fence_fallback()
            });
            g.open();
            drop(g.enter().unwrap());
            g.close().unwrap();
            drop(g);
        }
        // A fresh gate at a possibly reused address must not be confused with an old one.
        let g = Gate::new();
        g.open();
        let p = g.enter().unwrap();
        assert_eq!(g.in_flight(), 1);
        drop(p);
        g.close().unwrap();
    })
    .join()
    .unwrap();
}

/// Many threads enter in loops while the gate opens late and closes mid-run; repeated.
/// Nothing is admitted before open or after close returned; admitted == completed.
#[test]
fn stress_open_late_close_mid_run() {
    for round in 0..20 {
        let g = if round % 2 == 0 {
            Gate::new()
        } else {
            Gate::new_fence_fallback()
        };
        let opened = AtomicBool::new(false);
        let close_returned = AtomicBool::new(false);
        let inside = AtomicUsize::new(0);
        let admitted = AtomicUsize::new(0);
        let completed = AtomicUsize::new(0);
        let refused = AtomicUsize::new(0);
        const THREADS: usize = 6;
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| loop {
                    match g.enter() {
                        Ok(pass) => {
                            admitted.fetch_add(1, SeqCst);
                            assert!(opened.load(SeqCst), "admitted before open");
                            inside.fetch_add(1, SeqCst);
                            assert!(!close_returned.load(SeqCst), "admitted after close");
                            std::hint::spin_loop();
                            inside.fetch_sub(1, SeqCst);
                            completed.fetch_add(1, SeqCst);
                            drop(pass);
                        }
                        Err(e) => {
                            assert_eq!(e, EnterError::Closed);
                            refused.fetch_add(1, SeqCst);
                            return;
                        }
                    }
                });
            }
            thread::sleep(Duration::from_millis(2));
            opened.store(true, SeqCst);
            g.open();
            // Close mid-run: once calls are flowing (on a loaded machine the woken threads
            // may take a while to be scheduled), plus a little more.
            while admitted.load(SeqCst) < THREADS {
                thread::sleep(Duration::from_micros(100));
            }
            thread::sleep(Duration::from_millis(2));
            g.close().unwrap();
            assert_eq!(inside.load(SeqCst), 0, "close returned with calls inside");
            assert_eq!(g.in_flight(), 0);
            close_returned.store(true, SeqCst);
        });
        assert_eq!(admitted.load(SeqCst), completed.load(SeqCst));
        assert_eq!(refused.load(SeqCst), THREADS);
        assert!(
            admitted.load(SeqCst) >= THREADS,
            "round {round}: too little ran"
        );
    }
}

#[test]
fn entering_while_thread_locals_are_destroyed_still_counts() {
    // A thread-local initialized *before* the thread first enters the gate is destroyed
    // *after* the gate's per-thread state on systems where that state is a thread-local
    // (destructors run in reverse order), so its destructor enters on the path for threads
    // whose slot cache is gone; on unix the state outlives every thread-local (it is released
    // by a pthread key destructor), and the entry uses the thread's own slot.
    static G: Gate = Gate::new();
    static SEEN_INSIDE: AtomicUsize = AtomicUsize::new(usize::MAX);
    struct EnterOnExit;
    impl Drop for EnterOnExit {
        fn drop(&mut self) {
            let pass = G.enter().expect("the gate is open");
            SEEN_INSIDE.store(G.in_flight(), SeqCst);
            drop(pass);
        }
    }
    thread_local! {
        static GUARD: EnterOnExit = const { EnterOnExit };
    }
    G.open();
    for _ in 0..50 {
        SEEN_INSIDE.store(usize::MAX, SeqCst);
        thread::spawn(|| {
            GUARD.with(|_| {});
            drop(G.enter().unwrap());
        })
        .join()
        .unwrap();
        assert_eq!(
            SEEN_INSIDE.load(SeqCst),
            1,
            "the exiting thread was not counted"
        );
        assert_eq!(G.in_flight(), 0);
    }
    assert!(G.__slot_count() <= 2, "slots leak: {}", G.__slot_count());
    G.close().unwrap();
}

/// The thread's cache holds one gate's slot at a time: alternating between two gates (and
/// nesting across them) must keep each gate's count exact, and closing one must not wait
/// for, or refuse, the other.
#[test]
fn two_gates_alternating_on_one_thread_keep_separate_counts() {
    for fallback in [false, true] {
        let (a, b) = if fallback {
            (Gate::new_fence_fallback(), Gate::new_fence_fallback())
        } else {
            (Gate::new(), Gate::new())
        };
        a.open();
        b.open();
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        let pa = a.enter().unwrap();
                        let pb = b.enter().unwrap();
                        let pa2 = a.enter().unwrap();
                        assert!(a.in_flight() >= 2 && b.in_flight() >= 1);
                        drop(pb); // out of order across gates
                        drop(pa);
                        drop(pa2);
                    }
                });
            }
        });
        assert_eq!((a.in_flight(), b.in_flight()), (0, 0));
        let held_b = b.enter().unwrap();
        a.close().unwrap(); // does not wait for b's entry
        assert_eq!(a.enter().err(), Some(EnterError::Closed));
        assert!(b.enter().is_ok());
        drop(held_b);
        b.close().unwrap();
    }
}

/// Two gates alternating on several threads (plain entries, nested ones, and the export
/// barrier), while the main thread closes one of them mid-run: nothing is admitted into the
/// closed gate once its close returned, the other keeps admitting. Round after round with
/// fresh boxed gates, so a new gate often lands at the address of a dropped one that the
/// threads still have cached.
#[test]
fn two_gates_on_many_threads_one_closed_mid_run_never_admits_after_close() {
    use std::sync::atomic::AtomicPtr;
    const ROUNDS: usize = 30;
    const THREADS: usize = 3;
    let gate_a = AtomicPtr::<Gate>::new(std::ptr::null_mut());
    let gate_b = AtomicPtr::<Gate>::new(std::ptr::null_mut());
    let closed = AtomicBool::new(false);
    let entries = AtomicUsize::new(0);
    let violations = AtomicUsize::new(0);
    let start = Barrier::new(THREADS + 1);
    let end = Barrier::new(THREADS + 1);
    thread::scope(|s| {
        for t in 0..THREADS {
            let (gate_a, gate_b, closed, entries, violations, start, end) = (
                &gate_a,
                &gate_b,
                &closed,
                &entries,
                &violations,
                &start,
                &end,
            );
            s.spawn(move || {
                for _ in 0..ROUNDS {
                    start.wait();
                    // SAFETY: both gates stay alive until every thread passed `end`.
                    let (a, b) = unsafe { (&*gate_a.load(SeqCst), &*gate_b.load(SeqCst)) };
                    let check = || {
                        if closed.load(SeqCst) {
                            violations.fetch_add(1, SeqCst);
                        }
                    };
                    for i in 0usize.. {
                        let in_a = match i % 3 {
                            0 => a.enter().map(|pass| {
                                check();
                                drop(b.enter().unwrap());
                                check();
                                drop(pass);
                            }),
                            1 => crosscall::entry(a, Err(EnterError::Closed), || {
                                check();
                                Ok(())
                            }),
                            _ => b.enter().map(|outer| {
                                if let Ok(inner) = a.enter() {
                                    check();
                                    drop(inner);
                                }
                                drop(outer);
                            }),
                        };
                        match in_a {
                            Ok(()) => {
                                entries.fetch_add(1, SeqCst);
                            }
                            Err(e) => {
                                assert_eq!(e, EnterError::Closed, "thread {t}");
                                break;
                            }
                        }
                        // Closed: only refusals from now on.
                    }
                    // A is closed; B still admits.
                    assert!(b.enter().is_ok());
                    assert_eq!(a.enter().err(), Some(EnterError::Closed));
                    end.wait();
                }
            });
        }
        for _ in 0..ROUNDS {
            let a = Box::into_raw(Box::new(Gate::new()));
            let b = Box::into_raw(Box::new(Gate::new_fence_fallback()));
            // SAFETY: just allocated; freed below after every thread passed `end`.
            let (ra, rb) = unsafe { (&*a, &*b) };
            ra.open();
            rb.open();
            gate_a.store(a, SeqCst);
            gate_b.store(b, SeqCst);
            closed.store(false, SeqCst);
            entries.store(0, SeqCst);
            start.wait();
            while entries.load(SeqCst) < 300 {
                thread::yield_now();
            }
            ra.close().unwrap();
            closed.store(true, SeqCst);
            assert_eq!(ra.in_flight(), 0);
            end.wait();
            assert_eq!(rb.state(), GateState::Open);
            rb.close().unwrap();
            // SAFETY: no thread uses the gates any more (they passed `end`).
            unsafe {
                drop(Box::from_raw(a));
                drop(Box::from_raw(b));
            }
        }
    });
    assert_eq!(violations.load(SeqCst), 0, "admitted into a closed gate");
}
