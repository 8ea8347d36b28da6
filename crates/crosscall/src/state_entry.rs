//! The panic barrier for a [`StateGate`]: [`entry`](crate::entry) whose body borrows the
//! gate's state.
//!
//! Built on the stateless barrier (same attach, gate entry, `catch_unwind` and last error):
//! the body runs inside the barrier's pass, so the state it borrows is the one of the
//! generation the call was admitted to.

use std::fmt;

use crate::barrier;
use crate::state_gate::StateGate;

/// Runs `body(&state)` inside `gate`, turning a refused entry or a panic into `err_value`.
///
/// Exactly [`entry`](crate::entry) (attach, enter — waiting while not yet open — run, leave,
/// also when `body` panics), with the body given the state the gate was opened with.
///
/// # Examples
///
/// ```
/// use crosscall::StateGate;
///
/// static PREFIX: StateGate<String> = StateGate::new();
///
/// extern "C" fn prefix_len(extra: usize) -> usize {
///     crosscall::entry_state(&PREFIX, usize::MAX, |prefix| prefix.len() + extra)
/// }
///
/// PREFIX.open("lib: ".into()).unwrap();
/// assert_eq!(prefix_len(3), 8);
/// PREFIX.close().unwrap();
/// assert_eq!(prefix_len(3), usize::MAX);
/// assert_eq!(crosscall::last_error().as_deref(), Some("crosscall: the gate is closed"));
/// ```
#[inline]
pub fn entry_state<T, R>(gate: &StateGate<T>, err_value: R, body: impl FnOnce(&T) -> R) -> R {
    barrier::entry(gate.gate(), err_value, || {
        // SAFETY: this closure runs only inside the barrier's pass of `gate.gate()`, and the
        // borrow ends with the closure, before the pass leaves.
        body(unsafe { gate.admitted() })
    })
}

/// [`entry_state`] in abort-on-panic mode (see [`entry_or_abort`](crate::entry_or_abort)).
///
/// ```
/// static N: crosscall::StateGate<u32> = crosscall::StateGate::new();
/// N.open(40).unwrap();
/// assert_eq!(crosscall::entry_state_or_abort(&N, 0, |n| n + 2), 42);
/// ```
#[inline]
pub fn entry_state_or_abort<T, R>(
    gate: &StateGate<T>,
    err_value: R,
    body: impl FnOnce(&T) -> R,
) -> R {
    barrier::entry_or_abort(gate.gate(), err_value, || {
        // SAFETY: as in `entry_state`.
        body(unsafe { gate.admitted() })
    })
}

/// `export_result` for state-carrying gates (what `#[export(state = …)]` expands to).
#[doc(hidden)]
#[inline]
pub fn export_state_result<S, T, E: fmt::Display>(
    gate: &StateGate<S>,
    err_value: T,
    body: impl FnOnce(&S) -> Result<T, E>,
) -> T {
    barrier::export_result(gate.gate(), err_value, || {
        // SAFETY: as in `entry_state`.
        body(unsafe { gate.admitted() })
    })
}

/// [`export_state_result`] in abort-on-panic mode.
#[doc(hidden)]
#[inline]
pub fn export_state_result_or_abort<S, T, E: fmt::Display>(
    gate: &StateGate<S>,
    err_value: T,
    body: impl FnOnce(&S) -> Result<T, E>,
) -> T {
    barrier::export_result_or_abort(gate.gate(), err_value, || {
        // SAFETY: as in `entry_state`.
        body(unsafe { gate.admitted() })
    })
}
