//! The panic barrier: everything between "C calls an `extern "C"` fn" and "the body runs".
//!
//! Every guarded call enters a [`Gate`] (attaching the thread on its first entry, see
//! [`crate::attach`]), runs the body, and leaves. Whatever goes wrong — the gate refuses, the body panics, the body returns
//! `Err` — becomes the caller's error value plus a [last error](crate::last_error) message;
//! nothing unwinds into C.

use std::any::Any;
use std::fmt;
use std::mem;
use std::panic::{self, AssertUnwindSafe};

use crate::gate::{leave_entered, wake_closers_with, Gate};
use crate::last_error::set_last_error;
use crate::panic_policy;

/// Runs `body` inside `gate`, turning a refused entry or a panic into `err_value`.
///
/// In order: attaches the calling thread (once per thread), enters `gate` (waiting while it is
/// not yet open, like cgo), runs `body`, and leaves the gate — also when `body` panics, so
/// [`Gate::in_flight`] returns to where it was.
///
/// - If the gate refuses entry (closing, closed, or this thread is inside
///   [`Gate::open_with`]), `body` does not run; the result is `err_value` and the last error
///   reads `crosscall: ` followed by the [`EnterError`](crate::EnterError) text, e.g.
///   `crosscall: the gate is closed`.
/// - If `body` panics, the panic stops here; the result is `err_value` and the last error
///   reads `crosscall: callback panicked: ` followed by the panic message (or a note that the
///   payload was not a string). The panic hook still runs first, so by default the message is
///   also printed on stderr.
/// - If `body` returns normally, its value is returned and the last error is left untouched
///   (errno-style): read [`last_error`](crate::last_error()) only after a failure.
///
/// `body` need not be [`UnwindSafe`](std::panic::UnwindSafe). At an FFI boundary the only
/// alternatives to catching are undefined behaviour or an abort, and the panic is not hidden:
/// it is reported as an error value and a message. State the body shares through locks is
/// still protected by poisoning; other shared state must tolerate a half-finished call, just
/// as with a panicking [`std::thread::spawn`] closure.
///
/// Built with `panic = "abort"`, a panic aborts the process before reaching this barrier.
///
/// # Examples
///
/// ```
/// use crosscall::Gate;
///
/// static GATE: Gate = Gate::new();
/// GATE.open();
///
/// extern "C" fn half(x: i32) -> i32 {
///     crosscall::entry(&GATE, -1, || {
///         assert!(x % 2 == 0, "odd input");
///         x / 2
///     })
/// }
///
/// assert_eq!(half(8), 4);
/// # let hook = std::panic::take_hook();
/// # std::panic::set_hook(Box::new(|_| {}));
/// assert_eq!(half(3), -1);
/// # std::panic::set_hook(hook);
/// assert!(crosscall::last_error().unwrap().contains("odd input"));
/// assert_eq!(GATE.in_flight(), 0);
/// ```
#[inline]
pub fn entry<R>(gate: &Gate, err_value: R, body: impl FnOnce() -> R) -> R {
    catch_failures(gate, err_value, || Ok(body()))
}

/// Like [`entry`], but a panic aborts the process instead of being caught.
///
/// For callers that prefer a crash to a recovered error. The normal path costs nothing
/// extra: an abort-on-drop guard is armed before the body runs and forgotten after it; if the
/// body unwinds, the guard's destructor prints a message on stderr (after the panic hook's own
/// message) and aborts, so the unwind never reaches C. A refused entry still returns
/// `err_value` and sets the last error, exactly as [`entry`] does.
///
/// # Examples
///
/// ```
/// use crosscall::Gate;
///
/// static GATE: Gate = Gate::new();
/// GATE.open();
///
/// extern "C" fn add(a: u32, b: u32) -> u32 {
///     crosscall::entry_or_abort(&GATE, u32::MAX, || a.saturating_add(b))
/// }
/// assert_eq!(add(2, 3), 5);
/// ```
#[inline]
pub fn entry_or_abort<R>(gate: &Gate, err_value: R, body: impl FnOnce() -> R) -> R {
    abort_on_unwind(gate, err_value, || Ok(body()))
}

/// [`entry`] for a body returning `Result`: `Err(e)` becomes `err_value` and a last error
/// holding `e`'s `Display` text (without a `crosscall:` prefix: it is the caller's message).
///
/// Used by `#[crosscall::export]` on functions returning `Result<T, E>`. `E`'s `Display`
/// runs inside the barrier, so a panic while formatting is caught too.
#[doc(hidden)]
#[inline]
pub fn export_result<T, E: fmt::Display>(
    gate: &Gate,
    err_value: T,
    body: impl FnOnce() -> Result<T, E>,
) -> T {
    catch_failures(gate, err_value, || body().map_err(|e| e.to_string()))
}

/// [`export_result`] in abort-on-panic mode (see [`entry_or_abort`]).
#[doc(hidden)]
#[inline]
pub fn export_result_or_abort<T, E: fmt::Display>(
    gate: &Gate,
    err_value: T,
    body: impl FnOnce() -> Result<T, E>,
) -> T {
    abort_on_unwind(gate, err_value, || body().map_err(|e| e.to_string()))
}

/// The catching barrier; `body`'s `Err` carries a message for the last error.
///
/// The fast path (thread attached, its slot for `gate` cached, gate open) cannot panic, so
/// only the body runs under `catch_unwind`; everything else takes [`catch_failures_slow`].
#[inline(always)]
fn catch_failures<T>(gate: &Gate, err_value: T, body: impl FnOnce() -> Result<T, String>) -> T {
    let Some(slot) = gate.enter_fast_slot() else {
        return catch_failures_slow(gate, err_value, body);
    };
    // The slot is left right after the body, also when it panicked (the panic is caught
    // first): nothing between can unwind.
    let outcome = panic::catch_unwind(AssertUnwindSafe(body));
    let closer_waits = leave_entered(slot);
    let value = finish(gate, outcome, err_value);
    if closer_waits {
        return wake_closers_with(value); // last: a tail call
    }
    value
}

/// [`catch_failures`] when the fast path's probes did not admit: the gate's cached path
/// first (nesting, the fence fallback, a gate found in the thread's spill table), which then
/// runs the body as the fast path does, without a second barrier around the entry; else
/// [`catch_failures_slower`].
///
/// `extern "C"` only to tell the compiler that it cannot unwind (it catches every panic):
/// the fast path then calls it without an unwinding edge, as a tail call, and needs no stack
/// frame of its own.
#[cold]
#[inline(never)]
#[allow(improper_ctypes_definitions)] // Rust-to-Rust only; the ABI is never seen by C.
extern "C" fn catch_failures_slow<T, F: FnOnce() -> Result<T, String>>(
    gate: &Gate,
    err_value: T,
    body: F,
) -> T {
    let Some(slot) = gate.enter_cached() else {
        return catch_failures_slower(gate, err_value, body);
    };
    // As in `catch_failures`.
    let outcome = panic::catch_unwind(AssertUnwindSafe(body));
    let closer_waits = leave_entered(slot);
    let value = finish(gate, outcome, err_value);
    if closer_waits {
        return wake_closers_with(value);
    }
    value
}

/// [`catch_failures_slow`] when the gate's cached path did not admit either: attach, claim a
/// slot, wait for the gate to open, or refuse (all on `enter`'s slow path) — inside the
/// barrier, so even a bug that panics there stays on the Rust side. The `Pass` drops while
/// unwinding, leaving the gate.
#[cold]
#[inline(never)]
#[allow(improper_ctypes_definitions)] // Rust-to-Rust only; the ABI is never seen by C.
extern "C" fn catch_failures_slower<T, F: FnOnce() -> Result<T, String>>(
    gate: &Gate,
    err_value: T,
    body: F,
) -> T {
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let _pass = gate
            .enter_after_miss()
            .map_err(|refused| panic_policy::refusal_message(gate, refused))?;
        body()
    }));
    finish(gate, outcome, err_value)
}

/// Turns a barrier's outcome into the value C receives, recording the last error.
#[inline(always)]
fn finish<T>(gate: &Gate, outcome: std::thread::Result<Result<T, String>>, err_value: T) -> T {
    match outcome {
        Ok(Ok(value)) => value,
        Ok(Err(message)) => fail(message, err_value),
        Err(payload) => fail_with_panic(gate, payload, err_value),
    }
}

#[cold]
#[inline(never)]
fn fail<T>(message: String, err_value: T) -> T {
    set_last_error(message);
    err_value
}

/// A caught panic: the last error names the export (when `#[crosscall::export]` ran it) and
/// the message; then the gate's [`PanicPolicy`](crate::PanicPolicy) is applied.
#[cold]
#[inline(never)]
fn fail_with_panic<T>(gate: &Gate, payload: Box<dyn Any + Send>, err_value: T) -> T {
    let message = PanicMessage {
        export: panic_policy::take_unwinding_export(),
        payload: &*payload,
    }
    .to_string();
    crate::trace::panic_caught(&message);
    drop_payload(payload);
    panic_policy::after_panic(gate, &message);
    set_last_error(message);
    err_value
}

/// The aborting barrier: no `catch_unwind`, an armed [`AbortOnUnwind`] instead. The fast
/// path is that of [`catch_failures`]; everything else goes to [`abort_on_unwind_slow`].
#[inline(always)]
fn abort_on_unwind<T>(gate: &Gate, err_value: T, body: impl FnOnce() -> Result<T, String>) -> T {
    let Some(slot) = gate.enter_fast_slot() else {
        return abort_on_unwind_slow(gate, err_value, body);
    };
    let guard = AbortOnUnwind;
    let outcome = body();
    // Reached only without unwinding: disarm.
    mem::forget(guard);
    let closer_waits = leave_entered(slot);
    let value = match outcome {
        Ok(value) => value,
        Err(message) => fail(message, err_value),
    };
    if closer_waits {
        return wake_closers_with(value); // last: a tail call
    }
    value
}

/// [`abort_on_unwind`] when the fast path's probes did not admit: the gate's cached path,
/// then its slow path (`Gate::enter_after_miss`, which attaches the thread on first use),
/// and the body, all under one `catch_unwind`.
///
/// `extern "C"`, as [`catch_failures_slow`], so the fast path reaches it with a tail call. A
/// panic must then not reach its boundary (the unwinder's search would stop there before any
/// cleanup ran, and the process would abort without saying why), so this cold path catches
/// it and aborts itself, with the same message as [`AbortOnUnwind`].
#[cold]
#[inline(never)]
#[allow(improper_ctypes_definitions)] // Rust-to-Rust only; the ABI is never seen by C.
extern "C" fn abort_on_unwind_slow<T, F: FnOnce() -> Result<T, String>>(
    gate: &Gate,
    err_value: T,
    body: F,
) -> T {
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| match gate.enter_after_miss() {
        Ok(_pass) => body(),
        Err(refused) => Err(panic_policy::refusal_message(gate, refused)),
    }));
    match outcome {
        Ok(Ok(value)) => value,
        Ok(Err(message)) => fail(message, err_value),
        Err(_) => abort_after_panic(),
    }
}

/// Aborts the process when dropped; dropped only if the guarded body unwinds.
struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        abort_after_panic();
    }
}

/// What abort-on-panic mode does once a callback panicked (the panic hook has printed the
/// panic itself): say so on stderr and abort.
#[cold]
fn abort_after_panic() -> ! {
    eprintln!("crosscall: a callback panicked in abort-on-panic mode; aborting");
    std::process::abort();
}

/// Displays a caught panic: `crosscall: NAME panicked: ` for an export (`callback` when the
/// barrier was called directly), then the message for `&str` and `String` payloads (what
/// `panic!` produces), a fixed note for anything else.
struct PanicMessage<'a> {
    export: Option<&'static str>,
    payload: &'a (dyn Any + Send),
}

impl fmt::Display for PanicMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = panic_text(self.payload).unwrap_or("(the panic payload is not a string)");
        let name = self.export.unwrap_or("callback");
        write!(f, "crosscall: {name} panicked: {text}")
    }
}

/// The message of a panic payload when it is a string (`&str` or `String`, what `panic!`
/// produces). Shared with `crosscall-capi`'s barrier.
#[doc(hidden)]
pub fn panic_text(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// Drops a panic payload without letting a panicking destructor escape the barrier.
/// Shared with `crosscall-capi`'s barrier.
#[doc(hidden)]
pub fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(second) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        // The payload's destructor panicked; leaking its own payload ends the chain.
        mem::forget(second);
    }
}
