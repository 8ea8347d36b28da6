//! `tracing` events of the gate's slow paths (cargo feature `tracing`; without it every
//! function here is empty and inlined away). The fast path emits nothing.
//!
//! Events, all with target `crosscall` (and, but for panics, the gate's address as `gate`):
//! - `DEBUG` "waited for open": an entry waited for `open` (`waited_us`, `admitted`);
//! - `DEBUG` "entry refused": an entry was refused (`reason`);
//! - `INFO` "close started" and "close finished" (`drain_us`, the drain time);
//! - `WARN` "panic caught": a panic stopped at the barrier (`message`).

use crate::gate::{EnterError, Gate};
use std::time::Duration;

#[cfg(feature = "tracing")]
fn addr(gate: &Gate) -> *const Gate {
    gate
}

/// An entry waited `time` for the gate to open; `admitted` is whether the wait ended open.
#[inline]
pub(crate) fn waited(gate: &Gate, time: Duration, admitted: bool) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        target: "crosscall",
        gate = ?addr(gate),
        waited_us = time.as_secs_f64() * 1e6,
        admitted,
        "waited for open"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (gate, time, admitted);
}

/// An entry was refused.
#[inline]
pub(crate) fn refused(gate: &Gate, why: EnterError) {
    #[cfg(feature = "tracing")]
    tracing::debug!(target: "crosscall", gate = ?addr(gate), reason = %why, "entry refused");
    #[cfg(not(feature = "tracing"))]
    let _ = (gate, why);
}

/// A close began its drain.
#[inline]
pub(crate) fn close_started(gate: &Gate) {
    #[cfg(feature = "tracing")]
    tracing::info!(target: "crosscall", gate = ?addr(gate), "close started");
    #[cfg(not(feature = "tracing"))]
    let _ = gate;
}

/// A close finished its drain after `drain`.
#[inline]
pub(crate) fn close_finished(gate: &Gate, drain: Duration) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        target: "crosscall",
        gate = ?addr(gate),
        drain_us = drain.as_secs_f64() * 1e6,
        "close finished"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (gate, drain);
}

/// A panic was caught at the barrier of an entry.
#[inline]
pub(crate) fn panic_caught(message: &dyn std::fmt::Display) {
    #[cfg(feature = "tracing")]
    tracing::warn!(target: "crosscall", message = %message, "panic caught");
    #[cfg(not(feature = "tracing"))]
    let _ = message;
}
