//! Several gates on one thread (more than the per-thread cache table holds), nested and
//! round-robin, on real threads; the statistics they leave; and a close that is woken by the
//! last leave while callers keep calling.

use crosscall::{Gate, GateState};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

#[test]
fn many_gates_round_robin_and_nested_on_two_threads() {
    let gates: Vec<Gate> = (0..20).map(|_| Gate::new()).collect();
    gates.iter().for_each(Gate::open);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..500 {
                    for g in &gates {
                        let pass = g.enter().unwrap();
                        assert!(g.in_flight() >= 1);
                        drop(pass);
                    }
                    // Every gate nested inside the next one.
                    for pair in gates.windows(2) {
                        let outer = pair[1].enter().unwrap();
                        let inner = pair[0].enter().unwrap();
                        drop(inner);
                        drop(outer);
                    }
                }
            });
        }
    });
    for (i, g) in gates.iter().enumerate() {
        let nested = if i == 0 || i == gates.len() - 1 { 1 } else { 2 };
        let stats = g.stats();
        assert_eq!(stats.admitted, 2 * 500 * (1 + nested), "gate {i}");
        assert_eq!(stats.in_flight, 0);
        g.close().unwrap();
    }
}

/// A thread's front entry, then its table and spill table (made with its second gate, freed
/// when it exits): a few rounds over more gates than the table holds, nested, on a thread
/// that then exits while the gates live on. Small enough for Miri (`scripts/ci/lifecycle.sh`).
#[test]
fn front_entry_table_and_spill_table_on_an_exiting_thread() {
    let gates: Vec<Gate> = (0..12).map(|_| Gate::new()).collect();
    gates.iter().for_each(Gate::open);
    std::thread::scope(|s| {
        s.spawn(|| {
            // One gate: the front entry; nested, then alone again.
            for _ in 0..3 {
                let outer = gates[0].enter().unwrap();
                drop(gates[0].enter().unwrap());
                drop(outer);
            }
            // Then all of them: the table, and the spill table past 8.
            for _ in 0..3 {
                for g in &gates {
                    drop(g.enter().unwrap());
                }
                let outer = gates[11].enter().unwrap();
                drop(gates[3].enter().unwrap());
                drop(outer);
            }
        });
    });
    for g in &gates {
        assert_eq!(g.in_flight(), 0);
        g.close().unwrap();
    }
    assert_eq!(gates[0].stats().admitted, 3 + 3);
    assert_eq!(gates[3].stats().admitted, 3 + 3);
    assert_eq!(gates[11].stats().admitted, 3 + 3);
}

#[test]
fn thousands_of_gates_keep_a_thread_working() {
    let keep = Gate::new();
    keep.open();
    for _ in 0..5000 {
        let g = Box::new(Gate::new());
        g.open();
        let outer = keep.enter().unwrap();
        drop(g.enter().unwrap());
        drop(outer);
        g.close().unwrap();
    }
    assert_eq!(keep.stats().admitted, 5000);
    // A thread that outlived thousands of gates keeps only a few slots (pruned as it goes).
    assert_eq!(keep.__slot_count(), 1);
}

/// Close/reopen over and over while two threads keep calling: every close returns, and no
/// call is inside a closed generation.
#[test]
fn closes_are_woken_while_callers_keep_calling() {
    let gate = Gate::new();
    gate.open();
    let stop = AtomicBool::new(false);
    let inside = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while !stop.load(SeqCst) {
                    if let Ok(pass) = gate.enter() {
                        inside.fetch_add(1, SeqCst);
                        std::hint::spin_loop();
                        inside.fetch_sub(1, SeqCst);
                        drop(pass);
                    }
                }
            });
        }
        for _ in 0..300 {
            gate.close().unwrap();
            assert_eq!(inside.load(SeqCst), 0, "a call is inside a closed gate");
            assert_eq!(gate.state(), GateState::Closed);
            gate.reopen().unwrap();
        }
        stop.store(true, SeqCst);
    });
    let stats = gate.stats();
    assert_eq!(stats.closes, 300);
    assert_eq!(stats.reopens, 300);
    assert!(stats.max_drain >= stats.last_drain);
}

#[test]
fn stats_count_waits_refusals_and_threads() {
    let gate = Gate::new();
    std::thread::scope(|s| {
        let early = s.spawn(|| gate.enter().map(drop));
        std::thread::sleep(Duration::from_millis(20));
        gate.open();
        early.join().unwrap().unwrap();
    });
    assert!(gate.try_enter().is_ok());
    gate.close().unwrap();
    assert!(gate.enter().is_err());
    let stats = gate.stats();
    assert_eq!(stats.waited, 1);
    assert!(stats.wait_time >= Duration::from_millis(10));
    assert_eq!((stats.admitted, stats.refused, stats.timed_out), (2, 1, 0));
    assert_eq!(stats.threads, 1); // the early caller exited; this thread holds its slot
    assert_eq!((stats.closes, stats.generation), (1, 1));
}
