//! The ungated floor: a callback runs its body and nothing else.
use super::{EntryGate, Installed};

/// No entry check at all — what a C→host call costs without any gate.
#[derive(Debug, Default)]
pub struct NoGate {
    _private: (),
}

static INSTALLED: Installed<NoGate> = Installed::new();

impl EntryGate for NoGate {
    const NAME: &'static str = "none";

    fn new_static() -> &'static Self {
        super::leak_padded(NoGate { _private: () })
    }

    fn open(&self) {}

    fn close(&self) {}

    #[inline]
    fn call<R>(&self, _refused: R, body: impl FnOnce() -> R) -> R {
        body()
    }

    fn installed() -> &'static Installed<Self> {
        &INSTALLED
    }
}
