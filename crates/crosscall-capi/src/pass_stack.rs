//! Per-thread stack of the passes that C has entered but not yet left.
//!
//! A Rust [`Pass`] leaves the gate when dropped; C's `enter`/`leave` pair has no value to carry
//! it. So `enter` parks the pass here, keyed by gate address, and `leave` drops the most recent
//! one for that gate. A `leave` with nothing parked is detected instead of corrupting the count,
//! and a thread that exits while still entered leaves when its thread-locals are destroyed.

use std::cell::RefCell;

use crosscall::Pass;

use crate::handle::crosscall_gate;

thread_local! {
    /// Innermost last. `'static` because the gate outlives every pass parked for it:
    /// `crosscall_gate_free` aborts while the gate has calls in flight, and a parked pass is
    /// one. The gate address identifies which gate a pass belongs to.
    static PARKED: RefCell<Vec<(*const crosscall_gate, Pass<'static>)>> =
        const { RefCell::new(Vec::new()) };
}

/// Parks `pass` (a pass of `gate`) until [`unpark`] for the same gate on this thread.
pub(crate) fn park(gate: *const crosscall_gate, pass: Pass<'static>) {
    PARKED.with_borrow_mut(|stack| stack.push((gate, pass)));
}

/// Takes back the innermost pass parked for `gate` on this thread, if any.
pub(crate) fn unpark(gate: *const crosscall_gate) -> Option<Pass<'static>> {
    PARKED.with_borrow_mut(|stack| {
        let at = stack.iter().rposition(|(g, _)| *g == gate)?;
        Some(stack.remove(at).1)
    })
}
