//! The product: a callback entered the way `#[crosscall::export]` enters it —
//! the `crosscall` gate (per-thread slot, no shared write), thread attach, and
//! the panic barrier.
use super::{EntryGate, Installed};

/// The full crosscall entry around a [`crosscall::Gate`].
pub struct CrosscallGate {
    gate: crosscall::Gate,
}

static INSTALLED: Installed<CrosscallGate> = Installed::new();

impl CrosscallGate {
    /// The wrapped gate (for measurements of the bare gate).
    pub fn gate(&self) -> &crosscall::Gate {
        &self.gate
    }
}

impl EntryGate for CrosscallGate {
    const NAME: &'static str = "crosscall";

    fn new_static() -> &'static Self {
        super::leak_padded(CrosscallGate {
            gate: crosscall::Gate::new(),
        })
    }

    fn open(&self) {
        self.gate.open();
    }

    /// Stops admission and drains (crosscall's `close`).
    fn close(&self) {
        if let Err(err) = self.gate.close() {
            // Only reachable if a runner thread closes from inside a call:
            // a bug in the lab, reported loudly.
            panic!("closing the crosscall gate failed: {err}");
        }
    }

    #[inline]
    fn call<R>(&self, refused: R, body: impl FnOnce() -> R) -> R {
        crosscall::entry(&self.gate, refused, body)
    }

    fn installed() -> &'static Installed<Self> {
        &INSTALLED
    }
}
