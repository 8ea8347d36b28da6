//! loom model tests of `Handles<T>`: a lookup racing a removal (waiting, and deferred from
//! inside the gate) never sees its object dropped while it holds it. The object's contents
//! are a loom `UnsafeCell`, so loom reports any read that is not ordered before the drop's
//! write. Run with:
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

/// A lookup sees the object (and can read it until it leaves) or a stale handle; a removal
/// from outside the gate drops the object only after the reader left.
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
        table.remove(h).unwrap();
        reader.join().unwrap();
    });
}

/// A removal from inside the gate defers the drop; a later insert (from outside) reclaims it
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
        // May reclaim (drop) the deferred object, only if the reader is done with it.
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
        table.remove(old).unwrap();
        let new = table.insert(Payload::new(8)).unwrap();
        assert_eq!(new.index(), old.index(), "the entry is reused");
        reader.join().unwrap();
    });
}
