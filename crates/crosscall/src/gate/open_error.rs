//! Why an opening was refused, with the value it was to install handed back.

use std::fmt;

use crate::gate::Found;
use crate::GateState;

/// An `open` or `reopen` that was refused; nothing changed, and the value it was given
/// comes back with [`into_value`](OpenError::into_value).
///
/// `V` is `()` for the stateless [`Gate::reopen`](crate::Gate::reopen), `T` for
/// [`StateGate::open`](crate::StateGate::open) / [`reopen`](crate::StateGate::reopen), and
/// `Option<T>` for the initializer forms (`None`: the initializer did not run).
///
/// ```
/// use crosscall::{GateState, StateGate};
///
/// let gate = StateGate::new();
/// gate.open(String::from("first")).unwrap();
/// let refused = gate.open(String::from("second")).unwrap_err();
/// assert_eq!(refused.state(), GateState::Open);
/// assert_eq!(refused.to_string(), "the gate is already open");
/// assert_eq!(refused.into_value(), "second"); // handed back, not dropped
/// ```
pub struct OpenError<V = ()> {
    value: V,
    found: Found,
    /// Set when the gate was closed while the initializer ran.
    closed_during_init: bool,
}

impl<V> OpenError<V> {
    pub(crate) fn new(value: V, found: Found) -> OpenError<V> {
        OpenError {
            value,
            found,
            closed_during_init: false,
        }
    }

    pub(crate) fn closed_during_init(value: V) -> OpenError<V> {
        OpenError {
            value,
            found: Found::Closed,
            closed_during_init: true,
        }
    }

    /// The gate's state when the opening was refused (another thread's opening in progress
    /// reads as [`GateState::Uninit`]).
    pub fn state(&self) -> GateState {
        match self.found {
            Found::Uninit | Found::Opening => GateState::Uninit,
            Found::Open => GateState::Open,
            Found::Closing => GateState::Closing,
            Found::Closed => GateState::Closed,
        }
    }

    /// The value the refused opening was to install.
    pub fn into_value(self) -> V {
        self.value
    }
}

impl<V> fmt::Display for OpenError<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.closed_during_init {
            "the gate was closed while its initializer ran"
        } else {
            match self.found {
                Found::Uninit => "the gate was never opened: open it first",
                Found::Opening => "another thread is opening the gate",
                Found::Open => "the gate is already open",
                Found::Closing => "the gate is closing",
                Found::Closed => "the gate is closed: only reopen opens it again",
            }
        })
    }
}

impl<V> fmt::Debug for OpenError<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenError")
            .field("state", &self.state())
            .field("reason", &self.to_string())
            .finish_non_exhaustive()
    }
}

impl<V> std::error::Error for OpenError<V> {}
