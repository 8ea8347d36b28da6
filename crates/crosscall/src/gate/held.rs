//! Entries held without a `Pass` (the C API): how deep the calling thread is in a gate, so a
//! `longjmp` landing site can give back the entries it skipped, and whether the thread has
//! already done a gate's first-entry work (for signal handlers, see `signal.rs`).

use crate::gate::slots::depth;
use crate::gate::Gate;
use crate::sync::Ordering;

impl Gate {
    /// Not public API: how many entries of this gate the calling thread holds (its slot's
    /// depth; 0 if it has none). Allocates nothing, takes no lock.
    #[doc(hidden)]
    pub fn __held_depth(&self) -> usize {
        self.owned_slot_here()
            // SAFETY: an owned slot is alive while this thread and the gate's list hold it.
            // Relaxed: only this thread writes it.
            .map_or(0, |slot| {
                depth(unsafe { &*slot }.word.load(Ordering::Relaxed))
            })
    }

    /// Not public API: whether the calling thread has a slot of this gate (it entered or
    /// prepared it before). Allocates nothing, takes no lock; `false` while code this call
    /// interrupted is changing the thread's slot list.
    #[doc(hidden)]
    pub fn __has_slot_here(&self) -> bool {
        self.owned_slot_here().is_some()
    }
}
