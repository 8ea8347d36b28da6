//! loom model tests of `Handles<T>`: a lookup racing a removal (waiting, batched, from inside
//! the gate, and a batch's grace period run by the reclaimer) never sees its object dropped
//! while it holds it. The object's contents are a loom `UnsafeCell`, so loom reports any read
//! that is not ordered before the drop's write. Under loom a batch is 2 removals, a shard
//! begins a grace period once it holds 4 sealed removals no period covers, and every thread
//! shares shard 0 unless a model gives it shard 1. Run with:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p crosscall --test loom_handles --release
//! ```
#![cfg(loom)]

use crosscall::{Gate, HandleError, Handles};
use loom::cell::UnsafeCell;
use loom::thread;

/// An object whose contents loom tracks; dropping it writes them.
struct Payload(UnsafeCell<usize>);

impl Payload {
    fn new(value: usize) -> Payload {
        Payload(UnsafeCell::new(value))
    }

    fn read(&self) -> usize {
        // SAFETY: loom checks that this read does not race the write in `drop`.
        self.0.with(|p| unsafe { *p })
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        // SAFETY: `&mut self`; loom checks it against concurrent reads.
        self.0.with_mut(|p| unsafe { *p = 0 });
    }
}

/// A gate and a table that live for the whole model run (threads need `'static`).
fn leaked() -> (&'static Gate, &'static Handles<'static, Payload>) {
    let gate: &'static Gate = Box::leak(Box::new(Gate::new()));
    gate.open();
    (gate, Box::leak(Box::new(Handles::new(gate))))
}

/// A lookup sees the object (and can read it until it leaves) or a stale handle; a
/// synchronous removal from outside the gate drops the object only after the reader left.
#[test]
fn lookup_against_waiting_remove() {
    loom::model(|| {
        let (gate, table) = leaked();
        let h = table.insert(Payload::new(7)).unwrap();
        let reader = thread::spawn(move || {
            let pass = gate.enter().unwrap();
            match table.get(&pass, h) {
                Ok(payload) => assert_eq!(payload.read(), 7),
                Err(e) => assert_eq!(e, HandleError::Stale),
            }
        });
        table.remove_sync(h).unwrap();
        reader.join().unwrap();
    });
}

/// A removal from inside the gate defers the drop; a reclaim pass (from outside) drops it
/// only once the reader that might hold it has left.
#[test]
fn lookup_against_deferred_remove_and_reclaim() {
    loom::model(|| {
        let (gate, table) = leaked();
        let h = table.insert(Payload::new(7)).unwrap();
        let reader = thread::spawn(move || {
            let pass = gate.enter().unwrap();
            if let Ok(payload) = table.get(&pass, h) {
                assert_eq!(payload.read(), 7);
            }
        });
        {
            let _pass = gate.enter().unwrap();
            table.remove(h).unwrap(); // deferred: we are inside
        }
        // May drop the deferred object, only if the reader is done with it.
        table.__reclaim_now();
        let h2 = table.insert(Payload::new(8)).unwrap();
        reader.join().unwrap();
        let pass = gate.enter().unwrap();
        assert_eq!(table.get(&pass, h2).unwrap().read(), 8);
        assert_eq!(table.get(&pass, h).err(), Some(HandleError::Stale));
    });
}

/// A reader holding an old handle while its entry is emptied and reused for a new object:
/// it reads the old object (before the removal's grace period ends) or gets `Stale`, never
/// the new object through the old handle.
#[test]
fn lookup_against_remove_and_reuse_of_the_entry() {
    loom::model(|| {
        let (gate, table) = leaked();
        let old = table.insert(Payload::new(7)).unwrap();
        let reader = thread::spawn(move || {
            let pass = gate.enter().unwrap();
            match table.get(&pass, old) {
                Ok(payload) => assert_eq!(payload.read(), 7),
                Err(e) => assert_eq!(e, HandleError::Stale),
            }
        });
        table.remove_sync(old).unwrap();
        let new = table.insert(Payload::new(8)).unwrap();
        assert_eq!(new.index(), old.index(), "the entry is reused");
        reader.join().unwrap();
    });
}

/// The batched path: two removals fill a batch (2 under loom) and seal it; the fourth
/// removal seals a second batch, and with 4 sealed removals uncovered the shard begins one
/// grace period for both batches and, if no reader was seen inside, drops all four at once.
/// A reader looking up the second object while this happens reads it or gets `Stale`, and
/// its read is never raced by the drop. Mutation check: with a period begun when a batch
/// opens covering it (`--cfg crosscall_mutant="grace_at_open"`, the second removal no longer
/// covered by a barrier after it), loom reports the drop racing the read.
#[test]
fn batched_removal_against_lookup() {
    loom::model(|| {
        let (gate, table) = leaked();
        let first = table.insert(Payload::new(1)).unwrap();
        let second = table.insert(Payload::new(2)).unwrap();
        let more = [
            table.insert(Payload::new(3)).unwrap(),
            table.insert(Payload::new(4)).unwrap(),
        ];
        let reader = thread::spawn(move || {
            let pass = gate.enter().unwrap();
            match table.get(&pass, second) {
                Ok(payload) => assert_eq!(payload.read(), 2),
                Err(e) => assert_eq!(e, HandleError::Stale),
            }
        });
        table.remove(first).unwrap();
        table.remove(second).unwrap(); // seals the first batch of two
        for h in more {
            table.remove(h).unwrap(); // the fourth begins a period for both batches
        }
        reader.join().unwrap();
        // Whatever the seal could not drop, a later pass does: nobody is inside now.
        assert!(
            !table.__reclaim_now(),
            "a batch still waits with nobody inside"
        );
        assert_eq!(table.len(), 0);
    });
}

/// The reclaimer's pass racing a call that removed its own object from inside the gate and
/// still reads it: the pass may seal the batch but drops it only after the call left.
#[test]
fn reclaimer_pass_against_a_call_that_removed_what_it_holds() {
    loom::model(|| {
        let (gate, table) = leaked();
        let h = table.insert(Payload::new(7)).unwrap();
        let call = thread::spawn(move || {
            let pass = gate.enter().unwrap();
            let payload = table.get(&pass, h).unwrap();
            table.remove(h).unwrap(); // batched: this call may still use it
            assert_eq!(payload.read(), 7);
            assert_eq!(table.get(&pass, h).err(), Some(HandleError::Stale));
        });
        let reclaimer = thread::spawn(move || {
            table.__reclaim_now();
        });
        call.join().unwrap();
        reclaimer.join().unwrap();
        assert!(!table.__reclaim_now(), "dropped once the call left");
    });
}

/// A period begun by one shard covers another shard's batch: the main thread (shard 1)
/// seals a batch of two without a period; another thread (shard 0) seals two batches and
/// begins a period, which covers the main thread's batch if its ticket was taken before;
/// the main thread's next seal finds that period and drops its first batch once it passed.
/// A reader looking up the main thread's second object meanwhile reads it or gets `Stale`,
/// never raced by the drop: the only order between the main thread's removals and the other
/// thread's barrier is the table's period lock. Mutation check: with the ticket taken when
/// the batch opens (`--cfg crosscall_mutant="ticket_at_open"`, so a period begun between the
/// two removals counts as covering the second), loom reports the drop racing the read.
#[test]
fn a_period_of_another_shard_covers_a_batch() {
    loom::model(|| {
        let (gate, table) = leaked();
        let mine: Vec<_> = (0..4)
            .map(|i| table.insert(Payload::new(i)).unwrap())
            .collect();
        let theirs: Vec<_> = (0..4)
            .map(|i| table.insert(Payload::new(10 + i)).unwrap())
            .collect();
        let held = mine[1];
        let reader = thread::spawn(move || {
            let pass = gate.enter().unwrap();
            match table.get(&pass, held) {
                Ok(payload) => assert_eq!(payload.read(), 1),
                Err(e) => assert_eq!(e, HandleError::Stale),
            }
        });
        let other = thread::spawn(move || {
            crosscall::handles::__loom_set_shard(0);
            for h in theirs {
                table.remove(h).unwrap(); // the fourth begins a period
            }
        });
        crosscall::handles::__loom_set_shard(1);
        table.remove(mine[0]).unwrap();
        table.remove(mine[1]).unwrap(); // sealed, no period of its own
        other.join().unwrap();
        // Sealing takes the latest period if it covers the first batch, and drops what passed.
        table.remove(mine[2]).unwrap();
        table.remove(mine[3]).unwrap();
        reader.join().unwrap();
        assert!(
            !table.__reclaim_now(),
            "a batch still waits with nobody inside"
        );
        assert_eq!(table.len(), 0);
    });
}
