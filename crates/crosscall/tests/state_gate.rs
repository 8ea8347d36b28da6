//! Real-thread tests of `StateGate<T>` (and the stateless `Gate::reopen`), run against both
//! fence strategies: the value's lifecycle, refusals that hand values back, and close/reopen
//! cycles while threads hammer the gate.

use crosscall::{CloseError, EnterError, Gate, GateState, StateGate};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

/// Runs a test body once with each fence strategy.
fn both<T>(test: impl Fn(&StateGate<T>)) {
    test(&StateGate::new());
    test(&StateGate::new_fence_fallback());
}

/// A state that records where and how often it is dropped.
struct Tracked {
    generation: u64,
    calls: AtomicU64,
    drops: Arc<Mutex<Vec<(u64, ThreadId)>>>,
}

impl Tracked {
    fn new(generation: u64, drops: &Arc<Mutex<Vec<(u64, ThreadId)>>>) -> Tracked {
        Tracked {
            generation,
            calls: AtomicU64::new(0),
            drops: drops.clone(),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops
            .lock()
            .unwrap()
            .push((self.generation, thread::current().id()));
    }
}

#[test]
fn lifecycle_hands_the_value_back_once() {
    both(|g: &StateGate<String>| {
        assert_eq!(g.state(), GateState::Uninit);
        assert_eq!(g.generation(), 0);
        assert_eq!(g.try_enter().err(), Some(EnterError::Timeout));
        assert_eq!(g.reopen("x".into()).unwrap_err().into_value(), "x");
        g.open("one".into()).unwrap();
        assert_eq!(g.generation(), 1);
        let refused = g.open("two".into()).unwrap_err();
        assert_eq!(refused.state(), GateState::Open);
        assert_eq!(refused.into_value(), "two");
        assert_eq!(&*g.enter().unwrap(), "one");
        assert_eq!(g.in_flight(), 0);
        assert_eq!(g.close(), Ok(Some("one".to_string())));
        assert_eq!(g.close(), Ok(None)); // shutdown twice: nothing left to take
        assert_eq!(g.enter().err(), Some(EnterError::Closed));
        let refused = g.open("again".into()).unwrap_err();
        assert_eq!(refused.state(), GateState::Closed);
        assert!(refused.to_string().contains("reopen"));
        g.reopen("three".into()).unwrap();
        assert_eq!(g.generation(), 2);
        assert_eq!(&*g.enter().unwrap(), "three");
        assert_eq!(g.close(), Ok(Some("three".to_string())));
    });
}

#[test]
fn close_from_inside_is_refused_and_changes_nothing() {
    both(|g: &StateGate<u32>| {
        g.open(9).unwrap();
        let pass = g.enter().unwrap();
        assert_eq!(g.close(), Err(CloseError::WouldDeadlock));
        assert_eq!(
            g.close_timeout(Duration::ZERO),
            Err(CloseError::WouldDeadlock)
        );
        assert_eq!(g.state(), GateState::Open);
        assert_eq!(*pass, 9);
        drop(pass);
        assert_eq!(g.close(), Ok(Some(9)));
    });
}

#[test]
fn close_of_a_never_opened_gate_takes_nothing_and_releases_waiters() {
    both(|g: &StateGate<u32>| {
        thread::scope(|s| {
            let waiter = s.spawn(|| g.enter().map(|v| *v).err());
            thread::sleep(Duration::from_millis(10));
            assert_eq!(g.close(), Ok(None));
            assert_eq!(waiter.join().unwrap(), Some(EnterError::Closed));
        });
        // Closed without ever opening: reopen is the way in.
        g.reopen(1).unwrap();
        assert_eq!(*g.enter().unwrap(), 1);
    });
}

#[test]
fn early_callers_wait_for_the_initializer_and_see_its_value() {
    both(|g: &StateGate<Vec<u8>>| {
        let initializing = AtomicBool::new(false);
        thread::scope(|s| {
            let callers: Vec<_> = (0..3)
                .map(|_| s.spawn(|| g.enter().map(|v| v.len()).unwrap()))
                .collect();
            g.open_with(|| {
                initializing.store(true, SeqCst);
                // From inside the initializer, entering would wait for itself.
                assert_eq!(g.enter().err(), Some(EnterError::WouldDeadlock));
                thread::sleep(Duration::from_millis(10));
                vec![7; 5]
            })
            .unwrap();
            for c in callers {
                assert_eq!(c.join().unwrap(), 5);
            }
        });
        assert!(initializing.load(SeqCst));
        assert!(g
            .open_with(|| unreachable!())
            .unwrap_err()
            .into_value()
            .is_none());
    });
}

#[test]
fn a_panicking_initializer_leaves_the_gate_where_it_was() {
    both(|g: &StateGate<u8>| {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            g.open_with(|| panic!("init failed"))
        }));
        assert!(first.is_err());
        assert_eq!(g.state(), GateState::Uninit);
        g.open(1).unwrap();
        g.close().unwrap();
        let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            g.reopen_with(|| panic!("reinit failed"))
        }));
        std::panic::set_hook(hook);
        assert!(again.is_err());
        assert_eq!(g.state(), GateState::Closed);
        assert_eq!(g.generation(), 1);
        g.reopen_with(|| 2).unwrap();
        assert_eq!(*g.enter().unwrap(), 2);
    });
}

#[test]
fn a_close_during_the_initializer_wins_and_hands_the_value_back() {
    both(|g: &StateGate<String>| {
        let refused = g
            .open_with(|| {
                thread::scope(|s| {
                    // Another thread shuts down while we initialize: it closes at once.
                    s.spawn(|| assert_eq!(g.close(), Ok(None)));
                });
                String::from("late")
            })
            .unwrap_err();
        assert_eq!(refused.state(), GateState::Closed);
        assert_eq!(refused.into_value().as_deref(), Some("late"));
        assert_eq!(g.state(), GateState::Closed);
    });
}

#[test]
fn close_timeout_keeps_the_value_until_a_close_finishes_the_drain() {
    both(|g: &StateGate<u64>| {
        g.open(3).unwrap();
        thread::scope(|s| {
            let pass = g.enter().unwrap();
            s.spawn(|| {
                assert_eq!(
                    g.close_timeout(Duration::from_millis(5)),
                    Err(CloseError::Timeout)
                );
                assert_eq!(g.state(), GateState::Closing);
                assert!(g.reopen(4).is_err()); // not closed yet
            })
            .join()
            .unwrap();
            assert_eq!(*pass, 3); // the holder still reads its generation's value
            drop(pass);
        });
        assert_eq!(g.close(), Ok(Some(3)));
    });
}

#[test]
fn concurrent_closers_take_the_value_exactly_once() {
    both(|g: &StateGate<u64>| {
        for round in 0..20 {
            if round == 0 {
                g.open(round).unwrap();
            } else {
                g.reopen(round).unwrap();
            }
            let taken = AtomicUsize::new(0);
            thread::scope(|s| {
                for _ in 0..3 {
                    s.spawn(|| {
                        if let Some(v) = g.close().unwrap() {
                            assert_eq!(v, round);
                            taken.fetch_add(1, SeqCst);
                        }
                        assert_eq!(g.state(), GateState::Closed);
                    });
                }
            });
            assert_eq!(taken.load(SeqCst), 1);
        }
    });
}

#[test]
fn dropping_an_open_state_gate_drops_its_value() {
    let drops = Arc::new(Mutex::new(Vec::new()));
    let g = StateGate::new();
    g.open(Tracked::new(1, &drops)).unwrap();
    drop(g);
    assert_eq!(drops.lock().unwrap().len(), 1);
    let g = StateGate::new();
    g.open(Tracked::new(2, &drops)).unwrap();
    drop(g.close().unwrap());
    drop(g); // closed: nothing left to drop
    assert_eq!(drops.lock().unwrap().len(), 2);
}

#[test]
fn entry_state_borrows_the_value_and_reports_refusals() {
    static LIB: StateGate<AtomicU64> = StateGate::new();
    let bump = || crosscall::entry_state(&LIB, u64::MAX, |n| n.fetch_add(1, SeqCst));
    let waiter = thread::spawn(bump); // waits for open
    thread::sleep(Duration::from_millis(5));
    LIB.open(AtomicU64::new(10)).unwrap();
    assert_eq!(waiter.join().unwrap(), 10);
    assert_eq!(bump(), 11);
    assert_eq!(LIB.close().unwrap().unwrap().into_inner(), 12);
    assert_eq!(bump(), u64::MAX);
    assert_eq!(
        crosscall::last_error().as_deref(),
        Some("crosscall: the gate is closed")
    );
    LIB.reopen(AtomicU64::new(0)).unwrap();
    assert_eq!(bump(), 0);
}

#[test]
fn stateless_gate_reopens_only_explicitly() {
    let g = Gate::new();
    assert_eq!(g.reopen().unwrap_err().state(), GateState::Uninit);
    g.open();
    assert_eq!(g.reopen().unwrap_err().state(), GateState::Open);
    g.close().unwrap();
    g.open();
    assert_eq!(g.state(), GateState::Closed);
    g.reopen().unwrap();
    assert_eq!(g.state(), GateState::Open);
    assert_eq!(g.generation(), 2);
    assert!(g.enter().is_ok());
}

/// The stress test of the issue: close/reopen cycles while threads hammer. Every admitted
/// call ran against exactly one generation's state (the per-state call counts add up to the
/// admitted calls and each call saw the generation it was admitted to), no state was used
/// after its close returned, and every state was dropped exactly once, on the closing thread.
#[test]
fn close_reopen_cycles_while_threads_hammer() {
    const THREADS: usize = 3;
    const CYCLES: u64 = 200;
    both(|g: &StateGate<Tracked>| {
        let drops = Arc::new(Mutex::new(Vec::new()));
        // Generation of the last close that has returned (0: none yet).
        let close_returned = AtomicU64::new(0);
        let stop = AtomicBool::new(false);
        let admitted = AtomicU64::new(0);
        let refused = AtomicU64::new(0);
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    while !stop.load(SeqCst) {
                        match g.enter() {
                            Ok(lib) => {
                                let generation = lib.generation;
                                assert_eq!(
                                    generation,
                                    g.generation(),
                                    "state of another generation"
                                );
                                lib.calls.fetch_add(1, SeqCst);
                                assert!(
                                    close_returned.load(SeqCst) < generation,
                                    "state {generation} used after its close returned"
                                );
                                assert_eq!(lib.generation, generation);
                                admitted.fetch_add(1, SeqCst);
                            }
                            Err(EnterError::Closed) => {
                                refused.fetch_add(1, SeqCst);
                            }
                            Err(e) => panic!("unexpected refusal: {e}"),
                        }
                    }
                });
            }
            let closer = thread::current().id();
            let mut counted = 0;
            for generation in 1..=CYCLES {
                let lib = Tracked::new(generation, &drops);
                if generation == 1 {
                    g.open(lib).unwrap();
                } else {
                    g.reopen(lib).unwrap();
                }
                assert_eq!(g.generation(), generation);
                thread::yield_now();
                if generation == 1 {
                    // Let the hammering threads start before the cycles race them (under an
                    // emulator, or wine, thread start-up can outlast all 200 cycles).
                    let deadline = Instant::now() + Duration::from_secs(10);
                    while admitted.load(SeqCst) == 0 && Instant::now() < deadline {
                        thread::yield_now();
                    }
                }
                let lib = g.close().unwrap().expect("this close ended the generation");
                assert_eq!(lib.generation, generation);
                counted += lib.calls.load(SeqCst);
                drop(lib); // here: on the closing thread
                close_returned.store(generation, SeqCst);
                assert_eq!(drops.lock().unwrap().last(), Some(&(generation, closer)));
            }
            stop.store(true, SeqCst);
            // Threads still calling now are refused; join them before the totals.
            thread::sleep(Duration::from_millis(1));
            assert_eq!(g.in_flight(), 0);
            let drops = drops.lock().unwrap();
            assert_eq!(
                drops.len() as u64,
                CYCLES,
                "each state dropped exactly once"
            );
            assert!(drops.iter().all(|(_, t)| *t == closer));
            let mut generations: Vec<u64> = drops.iter().map(|(g, _)| *g).collect();
            generations.dedup();
            assert_eq!(generations, (1..=CYCLES).collect::<Vec<_>>());
            // Closed: every admitted call is counted in some generation's state.
            assert_eq!(counted, admitted.load(SeqCst));
        });
        assert!(admitted.load(SeqCst) > 0);
        assert!(refused.load(SeqCst) > 0);
        // Threads kept their slots across generations (one per thread, plus the closer's
        // none: it never entered).
        assert!(g.__slot_count() <= THREADS, "{} slots", g.__slot_count());
    });
}
