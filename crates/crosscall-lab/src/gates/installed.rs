//! The slot through which an `extern "C"` callback finds its gate.
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

/// Holds the gate of one kind that callbacks currently enter.
///
/// C calls back through plain function pointers that carry no context, as the
/// cgo original does; each gate kind therefore has one process-wide slot that
/// the runner fills before a run and empties after it.
pub struct Installed<G: 'static> {
    gate: AtomicPtr<G>,
}

impl<G: 'static> Installed<G> {
    /// An empty slot.
    pub const fn new() -> Self {
        Installed {
            gate: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Makes `gate` the one callbacks of this kind enter.
    pub fn install(&self, gate: &'static G) {
        // Release: pairs with the Acquire in `get`, so a callback that finds
        // the gate also sees it fully built.
        self.gate
            .store(ptr::from_ref(gate).cast_mut(), Ordering::Release);
    }

    /// Empties the slot; later callbacks of this kind are refused.
    pub fn uninstall(&self) {
        self.gate.store(ptr::null_mut(), Ordering::Release);
    }

    /// The installed gate, if any.
    #[inline]
    pub fn get(&self) -> Option<&'static G> {
        // Acquire: pairs with the Release in `install`.
        let gate = self.gate.load(Ordering::Acquire);
        // SAFETY: the slot only ever holds null or a pointer made from a
        // `&'static G` in `install`; such a gate is never freed or mutated
        // through this pointer (it is only ever read as a shared reference).
        unsafe { gate.as_ref() }
    }
}

impl<G: 'static> Default for Installed<G> {
    fn default() -> Self {
        Self::new()
    }
}
