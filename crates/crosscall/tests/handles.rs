//! `Handles<T>`: lookups, removal (waiting and deferred), close, bad handles; a real-thread
//! stress of lookups against inserts and removals; a proptest against a simple model.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use std::sync::{Arc, Mutex};
use std::thread;

use crosscall::{CloseError, Gate, GateState, Handle, HandleError, Handles};
use proptest::prelude::*;

/// An object that records when (and on which thread) it is dropped.
struct Tracked {
    id: u64,
    dropped: Arc<Mutex<Vec<(u64, thread::ThreadId)>>>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.dropped
            .lock()
            .unwrap()
            .push((self.id, thread::current().id()));
    }
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Tracked) -> bool {
        self.id == other.id
    }
}

impl std::fmt::Debug for Tracked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tracked({})", self.id)
    }
}

type DropLog = Arc<Mutex<Vec<(u64, thread::ThreadId)>>>;

fn dropped_ids(log: &DropLog) -> Vec<u64> {
    log.lock().unwrap().iter().map(|(id, _)| *id).collect()
}

#[test]
fn lookups_return_the_object_or_a_definite_error() {
    let gate = Gate::new();
    gate.open();
    let table = Handles::new(&gate);
    let a = table.insert("a").unwrap();
    let b = table.insert("b").unwrap();
    assert_ne!(a, b);
    assert_eq!(table.len(), 2);
    let pass = gate.enter().unwrap();
    assert_eq!(*table.get(&pass, a).unwrap(), "a");
    assert_eq!(*table.get(&pass, b).unwrap(), "b");
    assert_eq!(table.get_raw(&pass, 0), Err(HandleError::NotIssued));
    for raw in [
        1,
        2,
        u64::MAX,
        0xdead_beef_0000_0000,
        b.into_raw() ^ (1 << 40),
    ] {
        assert_eq!(
            table.get_raw(&pass, raw),
            Err(HandleError::NotIssued),
            "{raw:#x}"
        );
    }
    // An index past everything allocated.
    let far = Handle::from_raw(u64::from(u32::MAX)).unwrap();
    assert_eq!(table.get(&pass, far), Err(HandleError::NotIssued));
}

#[test]
fn another_tables_handle_is_not_issued_here() {
    let gate = Gate::new();
    gate.open();
    let mine = Handles::new(&gate);
    let theirs = Handles::new(&gate);
    let m = mine.insert(1).unwrap();
    let t = theirs.insert(2).unwrap();
    assert_eq!(m.index(), t.index(), "same entry in both tables");
    let pass = gate.enter().unwrap();
    assert_eq!(mine.get(&pass, t), Err(HandleError::NotIssued));
    assert_eq!(theirs.get(&pass, m), Err(HandleError::NotIssued));
    drop(pass);
    assert_eq!(mine.remove(t), Err(HandleError::NotIssued));
    assert_eq!(mine.len(), 1);
}

#[test]
fn a_pass_of_another_gate_is_refused() {
    let (gate, other) = (Gate::new(), Gate::new());
    gate.open();
    other.open();
    let table = Handles::new(&gate);
    let h = table.insert(1).unwrap();
    let pass = other.enter().unwrap();
    assert_eq!(table.get(&pass, h), Err(HandleError::WrongGate));
}

#[test]
fn removed_handles_are_stale_and_entries_are_reused() {
    let gate = Gate::new();
    gate.open();
    let table = Handles::new(&gate);
    let first = table.insert(1).unwrap();
    table.remove_sync(first).unwrap();
    assert_eq!(table.remove(first), Err(HandleError::Stale));
    assert_eq!(table.remove_sync(first), Err(HandleError::Stale));
    assert_eq!(table.take(first), Err(HandleError::Stale));
    let second = table.insert(2).unwrap();
    assert_eq!(second.index(), first.index(), "the entry is reused");
    assert_ne!(second, first, "with a new generation");
    let pass = gate.enter().unwrap();
    assert_eq!(table.get(&pass, first), Err(HandleError::Stale));
    assert_eq!(*table.get(&pass, second).unwrap(), 2);
}

#[test]
fn remove_sync_drops_on_the_calling_thread_before_returning() {
    let gate = Gate::new();
    gate.open();
    let table = Handles::new(&gate);
    let log = DropLog::default();
    let h = table
        .insert(Tracked {
            id: 1,
            dropped: log.clone(),
        })
        .unwrap();
    table.remove_sync(h).unwrap();
    assert_eq!(*log.lock().unwrap(), vec![(1, thread::current().id())]);
    let inside = table
        .insert(Tracked {
            id: 2,
            dropped: log.clone(),
        })
        .unwrap();
    let pass = gate.enter().unwrap();
    assert_eq!(table.remove_sync(inside), Err(HandleError::WouldDeadlock));
    assert_eq!(
        *table.get(&pass, inside).unwrap(),
        Tracked {
            id: 2,
            dropped: log.clone()
        }
    );
}

/// A table that goes idle after a removal still drops the object: the reclaimer thread seals
/// the batch that stopped growing and drops it once its grace period has passed.
#[test]
fn an_idle_table_drops_removed_objects_on_the_reclaimer_thread() {
    let gate = Gate::new();
    gate.open();
    let table = Handles::new(&gate);
    let log = DropLog::default();
    let h = table
        .insert(Tracked {
            id: 5,
            dropped: log.clone(),
        })
        .unwrap();
    table.remove(h).unwrap();
    let pass = gate.enter().unwrap();
    assert_eq!(
        table.get(&pass, h),
        Err(HandleError::Stale),
        "stale at once"
    );
    drop(pass);
    // Nothing else touches the table. (Generous: the bound is ~3 ms on an idle machine.)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while log.lock().unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the removed object of an idle table was never dropped"
        );
        thread::sleep(std::time::Duration::from_millis(1));
    }
    let (id, thread) = log.lock().unwrap()[0];
    assert_eq!(id, 5);
    assert_ne!(thread, thread::current().id(), "dropped by the reclaimer");
}

/// Under churn a batch is sealed at its 64th removal; once a thread holds 1,024 sealed
/// removals no grace period covers, it begins one for them all and, nobody being inside,
/// drops them at once: fewer than 1,024 sealed and 63 open removals are left waiting. (The
/// reclaimer may seal and cover batches early and drop some itself; that only lowers what
/// waits.)
#[test]
fn churn_drops_full_batches_on_the_removing_thread() {
    const REMOVALS: u64 = 4096;
    let gate = Gate::new();
    gate.open();
    let table = Handles::new(&gate);
    let log = DropLog::default();
    for id in 0..REMOVALS {
        let h = table
            .insert(Tracked {
                id,
                dropped: log.clone(),
            })
            .unwrap();
        table.remove(h).unwrap();
    }
    let dropped = log.lock().unwrap().clone();
    assert!(
        dropped.len() as u64 > REMOVALS - 1024 - 63,
        "{} of {REMOVALS} dropped",
        dropped.len()
    );
    let here = dropped.iter().filter(|(_, t)| *t == thread::current().id());
    assert!(
        here.count() >= 64,
        "full batches are dropped by the removing thread"
    );
    assert_eq!(table.len(), 0);
}

#[test]
fn remove_waits_for_a_call_still_holding_the_object() {
    let gate = Gate::new();
    gate.open();
    let table = Handles::new(&gate);
    let log = DropLog::default();
    let h = table
        .insert(Tracked {
            id: 7,
            dropped: log.clone(),
        })
        .unwrap();
    let (held, release) = (AtomicBool::new(false), AtomicBool::new(false));
    thread::scope(|s| {
        s.spawn(|| {
            let pass = gate.enter().unwrap();
            let obj = table.get(&pass, h).unwrap();
            held.store(true, SeqCst);
            while !release.load(SeqCst) {
                thread::yield_now();
            }
            // Still ours: the remover is waiting for this call.
            assert_eq!(obj.id, 7);
            assert!(log.lock().unwrap().is_empty());
        });
        while !held.load(SeqCst) {
            thread::yield_now();
        }
        s.spawn(|| table.remove_sync(h).unwrap());
        // The remover unlinks at once (new lookups fail) but cannot drop yet.
        let pass = loop {
            let pass = gate.enter().unwrap();
            if table.get(&pass, h).is_err() {
                break pass;
            }
        };
        assert_eq!(table.get(&pass, h), Err(HandleError::Stale));
        drop(pass);
        let early = log.lock().unwrap().len();
        release.store(true, SeqCst);
        assert_eq!(early, 0, "dropped while a call held it");
    });
    assert_eq!(dropped_ids(&log), vec![7]);
}

#[test]
fn remove_inside_the_gate_defers_the_drop_past_the_call() {
    let gate = Gate::new();
    gate.open();
    let table = Handles::new(&gate);
    let log = DropLog::default();
    let tracked = |id| Tracked {
        id,
        dropped: log.clone(),
    };
    let h = table.insert(tracked(1)).unwrap();
    {
        let pass = gate.enter().unwrap();
        let obj = table.get(&pass, h).unwrap();
        table.remove(h).unwrap();
        assert_eq!(table.get(&pass, h), Err(HandleError::Stale));
        assert_eq!(obj.id, 1, "still usable in this call");
        assert!(log.lock().unwrap().is_empty());
    }
    assert_eq!(table.len(), 0);
    // Outside the gate now: the batch's grace period has passed, so a reclaim pass (the
    // reclaimer's tick, or this) drops it.
    assert!(!table.__reclaim_now(), "nothing left waiting");
    assert_eq!(dropped_ids(&log), vec![1]);
    // The entry is reused only after its object was dropped, with a new generation.
    let h2 = table.insert(tracked(2)).unwrap();
    assert_ne!(h2, h);
    table.remove_sync(h2).unwrap();
    assert_eq!(dropped_ids(&log), vec![1, 2]);
}

#[test]
fn take_returns_the_object_and_refuses_inside_the_gate() {
    let gate = Gate::new();
    gate.open();
    let table = Handles::new(&gate);
    let h = table.insert(String::from("x")).unwrap();
    {
        let _pass = gate.enter().unwrap();
        assert_eq!(table.take(h), Err(HandleError::WouldDeadlock));
    }
    assert_eq!(table.len(), 1, "a refused take removes nothing");
    assert_eq!(table.take(h).unwrap(), "x");
    assert_eq!(table.take(h), Err(HandleError::Stale));
}

#[test]
fn close_drains_then_hands_back_live_objects_and_drops_deferred_ones() {
    let gate = Gate::new();
    gate.open();
    let table = Handles::new(&gate);
    let log = DropLog::default();
    let tracked = |id| Tracked {
        id,
        dropped: log.clone(),
    };
    let live = table.insert(tracked(1)).unwrap();
    let deferred = table.insert(tracked(2)).unwrap();
    {
        let _pass = gate.enter().unwrap();
        table.remove(deferred).unwrap();
        assert_eq!(table.close().err(), Some(CloseError::WouldDeadlock));
    }
    assert_eq!(
        gate.state(),
        GateState::Open,
        "a refused close changes nothing"
    );
    let back = table.close().unwrap();
    assert_eq!(gate.state(), GateState::Closed);
    assert_eq!(
        dropped_ids(&log),
        vec![2],
        "deferred object dropped by close"
    );
    // Which thread dropped it is not fixed: `close` (here) or the reclaimer, if its tick sealed
    // the batch between the pass's end and `close` (seen under qemu). Either way, before
    // `close` returned, as asserted above.
    assert_eq!(back.iter().map(|t| t.id).collect::<Vec<_>>(), vec![1]);
    drop(back);
    assert_eq!(table.len(), 0);
    assert_eq!(table.remove(live), Err(HandleError::Closed));
    assert_eq!(table.take(live), Err(HandleError::Closed));
    let refused = table.insert(tracked(3)).unwrap_err();
    assert_eq!(refused.error, HandleError::Closed);
    assert_eq!(
        refused.value.id, 3,
        "a refused insert gives the object back"
    );
    assert!(table.close().unwrap().is_empty());
}

#[test]
fn insert_is_refused_once_the_gate_closes_and_drop_frees_what_is_left() {
    let gate = Gate::new();
    gate.open();
    let log = DropLog::default();
    {
        let table = Handles::new(&gate);
        table
            .insert(Tracked {
                id: 1,
                dropped: log.clone(),
            })
            .unwrap();
        gate.close().unwrap();
        let refused = table.insert(Tracked {
            id: 2,
            dropped: log.clone(),
        });
        assert_eq!(refused.unwrap_err().error, HandleError::Closed);
        assert_eq!(dropped_ids(&log), vec![2]);
        assert_eq!(
            table.len(),
            1,
            "closing the gate directly leaves the objects"
        );
    }
    assert_eq!(
        dropped_ids(&log),
        vec![2, 1],
        "dropping the table drops them"
    );
}

#[test]
fn many_objects_span_several_buckets() {
    let gate = Gate::new();
    gate.open();
    let table = Handles::new(&gate);
    let handles: Vec<Handle> = (0..5000u32).map(|i| table.insert(i).unwrap()).collect();
    let pass = gate.enter().unwrap();
    for (i, h) in handles.iter().enumerate() {
        assert_eq!(*table.get(&pass, *h).unwrap(), i as u32);
    }
    assert_eq!(table.len(), 5000);
}

/// An object of the stress test: knows its own handle, and is checked alive while held.
/// The flag lives outside the object (the test keeps every flag) so that a drop is visible
/// even though the table moves the object out of its entry to drop it.
struct Probe {
    me: AtomicU64,
    alive: Arc<AtomicBool>,
    drops: Arc<AtomicUsize>,
}

impl Drop for Probe {
    fn drop(&mut self) {
        assert!(self.alive.swap(false, SeqCst), "dropped twice");
        self.drops.fetch_add(1, SeqCst);
    }
}

/// xorshift64: a deterministic per-thread sequence.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn stress_lookups_against_inserts_and_removals() {
    const PUBLISHED: usize = 8;
    // Enough that each writer makes well over 2 × 1,024 batched removals: writers begin
    // grace periods themselves at their shard's limit and cover each other's batches, not
    // only the reclaimer's tick.
    const WRITER_OPS: usize = 8000;
    const MIN_LOOKUPS: usize = 2000;
    for gate in [Gate::new(), Gate::new_fence_fallback()] {
        gate.open();
        let table = Handles::new(&gate);
        let published: Vec<AtomicU64> = (0..PUBLISHED).map(|_| AtomicU64::new(0)).collect();
        let drops = Arc::new(AtomicUsize::new(0));
        let inserted = AtomicUsize::new(0);
        let writers_done = AtomicUsize::new(0);
        let lookups_ok = AtomicUsize::new(0);
        let start = std::sync::Barrier::new(4);
        // Readers still running; a reader that fails (panics) stops counting, so the
        // writers do not wait for its lookups forever.
        let readers = AtomicUsize::new(2);
        let flags: Mutex<Vec<Arc<AtomicBool>>> = Mutex::default();
        thread::scope(|s| {
            for w in 0..2u64 {
                let (table, published, drops, inserted, writers_done, gate, start, lookups_ok) = (
                    &table,
                    &published,
                    &drops,
                    &inserted,
                    &writers_done,
                    &gate,
                    &start,
                    &lookups_ok,
                );
                let (readers, flags) = (&readers, &flags);
                s.spawn(move || {
                    start.wait();
                    let mut rng = 0x9e37_79b9_7f4a_7c15 ^ (w + 1);
                    // Run until both the operation count is reached and the readers have
                    // overlapped with us (on a loaded machine they may start late).
                    for op in 0.. {
                        let overlapped =
                            lookups_ok.load(Relaxed) >= MIN_LOOKUPS || readers.load(SeqCst) < 2;
                        if op >= WRITER_OPS && overlapped {
                            break;
                        }
                        let r = next(&mut rng);
                        let slot = &published[r as usize % PUBLISHED];
                        let h = slot.swap(0, AcqRel);
                        if h != 0 {
                            let h = Handle::from_raw(h).unwrap();
                            if r & 0x300 == 0 {
                                table.remove_sync(h).unwrap(); // waits for the readers
                            } else if r & 0x100 == 0 {
                                table.remove(h).unwrap(); // batched
                            } else {
                                // From inside a call: deferred.
                                let _pass = gate.enter().unwrap();
                                table.remove(h).unwrap();
                            }
                            continue;
                        }
                        let alive = Arc::new(AtomicBool::new(true));
                        flags.lock().unwrap().push(alive.clone());
                        let probe = Probe {
                            me: AtomicU64::new(0),
                            alive,
                            drops: drops.clone(),
                        };
                        let h = table.insert(probe).unwrap();
                        inserted.fetch_add(1, SeqCst);
                        {
                            let pass = gate.enter().unwrap();
                            table.get(&pass, h).unwrap().me.store(h.into_raw(), Relaxed);
                        }
                        // Release: the probe's `me` is visible to a reader that loads `h`.
                        if let Err(_taken) =
                            slot.compare_exchange(0, h.into_raw(), Release, Relaxed)
                        {
                            table.remove(h).unwrap();
                        }
                    }
                    writers_done.fetch_add(1, SeqCst);
                });
            }
            for r in 0..2u64 {
                let (table, published, writers_done, lookups_ok, gate, start) = (
                    &table,
                    &published,
                    &writers_done,
                    &lookups_ok,
                    &gate,
                    &start,
                );
                let readers = &readers;
                s.spawn(move || {
                    struct Leaving<'a>(&'a AtomicUsize);
                    impl Drop for Leaving<'_> {
                        fn drop(&mut self) {
                            self.0.fetch_sub(1, SeqCst);
                        }
                    }
                    let _leaving = Leaving(readers);
                    start.wait();
                    let mut rng = 0x2545_f491_4f6c_dd1d ^ (r + 1);
                    while writers_done.load(SeqCst) < 2 {
                        let pass = gate.enter().unwrap();
                        for _ in 0..8 {
                            let x = next(&mut rng);
                            // Acquire pairs with the writer's Release publish.
                            let raw = published[x as usize % PUBLISHED].load(Acquire);
                            if raw == 0 {
                                // A made-up handle: an error, never a crash.
                                let _ = table.get_raw(&pass, x);
                                continue;
                            }
                            match table.get_raw(&pass, raw) {
                                Ok(probe) => {
                                    assert_eq!(probe.me.load(Relaxed), raw, "wrong object");
                                    // Hold it while the writers run.
                                    for _ in 0..4 {
                                        assert!(probe.alive.load(SeqCst), "dropped while held");
                                        thread::yield_now();
                                    }
                                    assert!(probe.alive.load(SeqCst), "dropped while held");
                                    lookups_ok.fetch_add(1, Relaxed);
                                }
                                Err(e) => assert_eq!(e, HandleError::Stale, "{raw:#x}"),
                            }
                        }
                        drop(pass);
                        thread::yield_now(); // between calls, as a real caller would be
                    }
                });
            }
        });
        assert!(lookups_ok.load(SeqCst) >= MIN_LOOKUPS);
        let left = table.close().unwrap();
        assert_eq!(
            left.len(),
            published.iter().filter(|p| p.load(SeqCst) != 0).count()
        );
        drop(left);
        assert_eq!(
            drops.load(SeqCst),
            inserted.load(SeqCst),
            "each dropped exactly once"
        );
    }
}

/// One step of the model test.
#[derive(Debug, Clone)]
enum Op {
    Insert,
    Get(usize),
    GetMadeUp(u64),
    Remove(usize),
    RemoveInside(usize),
    Take(usize),
    TakeInside(usize),
    RemoveSync(usize),
    Reclaim,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Insert),
        3 => any::<usize>().prop_map(Op::Get),
        1 => any::<u64>().prop_map(Op::GetMadeUp),
        2 => any::<usize>().prop_map(Op::Remove),
        1 => any::<usize>().prop_map(Op::RemoveInside),
        1 => any::<usize>().prop_map(Op::Take),
        1 => any::<usize>().prop_map(Op::TakeInside),
        1 => any::<usize>().prop_map(Op::RemoveSync),
        1 => Just(Op::Reclaim),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random operation sequences against a model: a list of issued handles, each live or
    /// removed, and which objects must, may, or must not have been dropped yet.
    #[test]
    fn random_operations_match_the_model(ops in proptest::collection::vec(op(), 1..48)) {
        let gate = Gate::new();
        gate.open();
        let table = Handles::new(&gate);
        let log = DropLog::default();
        // (handle, id, live)
        let mut issued: Vec<(Handle, u64, bool)> = Vec::new();
        let mut must_be_dropped: HashSet<u64> = HashSet::new();
        // Removed (batched): dropped by now or later, never while held.
        let mut deferred: HashSet<u64> = HashSet::new();
        let mut next_id = 0;
        for op in ops {
            let pick = |i: usize| (!issued.is_empty()).then(|| i % issued.len());
            // A reclaim pass from outside the gate drops every batched removal.
            let mut settle = false;
            match op {
                Op::Insert => {
                    next_id += 1;
                    let h = table.insert(Tracked { id: next_id, dropped: log.clone() }).unwrap();
                    prop_assert!(issued.iter().all(|(old, _, _)| *old != h), "handle reissued");
                    issued.push((h, next_id, true));
                }
                Op::Get(i) => if let Some(i) = pick(i) {
                    let (h, id, live) = issued[i];
                    let pass = gate.enter().unwrap();
                    match table.get(&pass, h) {
                        Ok(obj) => prop_assert!(live && obj.id == id),
                        Err(e) => prop_assert!(!live && e == HandleError::Stale),
                    }
                },
                Op::GetMadeUp(raw) => {
                    if issued.iter().all(|(h, _, _)| h.into_raw() != raw) {
                        let pass = gate.enter().unwrap();
                        prop_assert!(table.get_raw(&pass, raw).is_err());
                    }
                }
                Op::Remove(i) => if let Some(i) = pick(i) {
                    let (h, id, live) = issued[i];
                    if live {
                        prop_assert_eq!(table.remove(h), Ok(()));
                        deferred.insert(id);
                        issued[i].2 = false;
                    } else {
                        prop_assert_eq!(table.remove(h), Err(HandleError::Stale));
                    }
                },
                Op::RemoveInside(i) => if let Some(i) = pick(i) {
                    let (h, id, live) = issued[i];
                    let pass = gate.enter().unwrap();
                    if live {
                        let obj = table.get(&pass, h).unwrap();
                        prop_assert_eq!(table.remove(h), Ok(()));
                        prop_assert_eq!(obj.id, id);
                        prop_assert!(!dropped_ids(&log).contains(&id), "dropped while held");
                        deferred.insert(id);
                        issued[i].2 = false;
                    } else {
                        prop_assert_eq!(table.remove(h), Err(HandleError::Stale));
                    }
                },
                Op::Take(i) => if let Some(i) = pick(i) {
                    let (h, id, live) = issued[i];
                    match table.take(h) {
                        Ok(obj) => {
                            prop_assert!(live && obj.id == id);
                            drop(obj);
                            must_be_dropped.insert(id);
                            issued[i].2 = false;
                        }
                        Err(e) => prop_assert!(!live && e == HandleError::Stale),
                    }
                },
                Op::TakeInside(i) => if let Some(i) = pick(i) {
                    let (h, _, _) = issued[i];
                    let _pass = gate.enter().unwrap();
                    prop_assert_eq!(table.take(h), Err(HandleError::WouldDeadlock));
                },
                Op::RemoveSync(i) => if let Some(i) = pick(i) {
                    let (h, id, live) = issued[i];
                    if live {
                        prop_assert_eq!(table.remove_sync(h), Ok(()));
                        prop_assert!(dropped_ids(&log).contains(&id), "not dropped on return");
                        must_be_dropped.insert(id);
                        issued[i].2 = false;
                    } else {
                        prop_assert_eq!(table.remove_sync(h), Err(HandleError::Stale));
                    }
                },
                Op::Reclaim => {
                    prop_assert!(!table.__reclaim_now(), "nothing waits with nobody inside");
                    settle = true;
                }
            }
            if settle {
                must_be_dropped.extend(deferred.drain());
            }
            let dropped = dropped_ids(&log);
            let unique: HashSet<u64> = dropped.iter().copied().collect();
            prop_assert_eq!(unique.len(), dropped.len(), "an object dropped twice");
            prop_assert!(must_be_dropped.is_subset(&unique), "a removed object not dropped");
            for id in &unique {
                prop_assert!(must_be_dropped.contains(id) || deferred.contains(id),
                    "object {} dropped while live", id);
            }
            prop_assert_eq!(table.len(), issued.iter().filter(|(_, _, live)| *live).count());
        }
        let mut back: Vec<u64> = table.close().unwrap().iter().map(|t| t.id).collect();
        back.sort_unstable();
        let live: Vec<u64> = issued.iter().filter(|(_, _, l)| *l).map(|(_, id, _)| *id).collect();
        prop_assert_eq!(back, live);
        let all: HashSet<u64> = dropped_ids(&log).into_iter().collect();
        prop_assert_eq!(all.len() as u64, next_id, "every object dropped exactly once");
    }
}

#[test]
fn clear_empties_the_table_and_keeps_it_usable() {
    let gate = Gate::new();
    gate.open();
    let table = Handles::new(&gate);
    let log = DropLog::default();
    let tracked = |id| Tracked {
        id,
        dropped: log.clone(),
    };
    let a = table.insert(tracked(1)).unwrap();
    let b = table.insert(tracked(2)).unwrap();
    {
        let _pass = gate.enter().unwrap();
        table.remove(b).unwrap(); // deferred
        assert_eq!(table.clear().err(), Some(HandleError::WouldDeadlock));
        assert_eq!(table.len(), 1, "a refused clear removes nothing");
    }
    let back = table.clear().unwrap();
    assert_eq!(back, vec![tracked(1)]);
    assert_eq!(
        dropped_ids(&log)[0],
        2,
        "the deferred object is dropped by clear"
    );
    drop(back);
    let c = table.insert(tracked(3)).unwrap();
    let pass = gate.enter().unwrap();
    assert_eq!(table.get(&pass, a).err(), Some(HandleError::Stale));
    assert_eq!(table.get(&pass, c).unwrap().id, 3);
}
