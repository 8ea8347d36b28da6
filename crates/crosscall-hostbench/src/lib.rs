//! The deployed shape of crosscall, as a benchmark: a Rust `cdylib` that a C host loads with
//! `dlopen()` and calls from threads it created itself.
//!
//! Every function below has the same body, `x + 1`, and the same C signature,
//! `int32_t f(int32_t)`, so the difference between two of them is what the entry around the
//! body costs in a shared object (where `thread_local!` uses the general-dynamic TLS model):
//!
//! | symbol                  | entry                                                        |
//! |-------------------------|--------------------------------------------------------------|
//! | `hb_ungated_add1`       | none: the baseline                                           |
//! | `hb_export_add1`        | `#[crosscall::export(gate = LIB, on_panic = -1)]`            |
//! | `hb_export_abort_add1`  | the same with `abort_on_panic` (no `catch_unwind`)           |
//! | `hb_export_state_add1`  | `#[crosscall::export(state = STATE, on_panic = -1)]`: the    |
//! |                         | body adds the `1` it reads from the library's state          |
//!
//! [`hb_init`] opens the library's gates (calls made before wait for it), [`hb_shutdown`]
//! closes them (calls made after return `-1` and set the last error, which C reads with
//! `crosscall_last_error_message()`, exported from this library as well).
//!
//! `crosscall-lab deployed` builds this crate in release and drives it from
//! `crates/crosscall-lab/c/host_driver.c`; `crosscall-ctests` loads it from C in its tests.
//! A new shape is one more function here with the same body and signature, plus one row in the
//! lab's `src/deployed/host_shape.rs`.
//!
//! ```
//! use crosscall_hostbench::{hb_export_add1, hb_init, hb_shutdown, hb_ungated_add1};
//!
//! assert_eq!(hb_ungated_add1(41), 42);
//! hb_init();
//! assert_eq!(hb_export_add1(41), 42);
//! assert_eq!(hb_shutdown(), 0);
//! assert_eq!(hb_export_add1(41), -1);
//! assert!(crosscall::last_error().is_some());
//! ```
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

use std::ffi::c_int;

use crosscall::{Gate, GateState, StateGate};

// The C API's symbols (crosscall_last_error_message, ...) in this same .so.
pub use crosscall_capi;

/// The library's lifecycle: opened by [`hb_init`], closed by [`hb_shutdown`].
static LIB: Gate = Gate::new();

/// `x + 1` with no entry at all: the baseline every other shape is compared with.
///
/// ```
/// assert_eq!(crosscall_hostbench::hb_ungated_add1(i32::MAX), i32::MIN);
/// ```
#[no_mangle]
pub extern "C" fn hb_ungated_add1(x: i32) -> i32 {
    x.wrapping_add(1)
}

/// `x + 1` behind the library's gate, with the panic barrier: waits before [`hb_init`],
/// returns `-1` (and sets the last error) after [`hb_shutdown`].
///
/// ```
/// use crosscall_hostbench::{hb_export_add1, hb_init};
/// hb_init();
/// assert_eq!(hb_export_add1(1), 2);
/// ```
#[crosscall::export(gate = LIB, on_panic = -1)]
#[no_mangle]
pub extern "C" fn hb_export_add1(x: i32) -> i32 {
    x.wrapping_add(1)
}

/// [`hb_export_add1`] with `abort_on_panic`: the entry without `catch_unwind`.
///
/// ```
/// use crosscall_hostbench::{hb_export_abort_add1, hb_init};
/// hb_init();
/// assert_eq!(hb_export_abort_add1(1), 2);
/// ```
#[crosscall::export(gate = LIB, on_panic = -1, abort_on_panic)]
#[no_mangle]
pub extern "C" fn hb_export_abort_add1(x: i32) -> i32 {
    x.wrapping_add(1)
}

/// The state-carrying gate of [`hb_export_state_add1`]: its state is the `1` the body adds.
static STATE: StateGate<i32> = StateGate::new();

/// `x + 1` behind a state-carrying gate: the `1` is the library's state, borrowed for the
/// call (the entry plus one load, against [`hb_export_add1`]).
#[crosscall::export(state = STATE, on_panic = -1)]
#[no_mangle]
pub extern "C" fn hb_export_state_add1(one: &i32, x: i32) -> i32 {
    x.wrapping_add(*one)
}

/// Opens the library: calls waiting in the gated functions proceed, later ones are admitted.
/// Does nothing if it is already open; after [`hb_shutdown`] it opens the library again (a
/// host that `dlclose()`s and `dlopen()`s it again finds the same, pinned instance — see
/// crosscall's docs/DESIGN.md, "Process lifecycle" — and initializes it again).
///
/// ```
/// use crosscall_hostbench::{hb_export_add1, hb_init, hb_shutdown};
/// hb_init();
/// hb_init(); // a second call changes nothing
/// assert_eq!(hb_export_add1(0), 1);
/// assert_eq!(hb_shutdown(), 0);
/// hb_init(); // reopens
/// assert_eq!(hb_export_add1(0), 1);
/// ```
#[no_mangle]
pub extern "C" fn hb_init() {
    if LIB.state() == GateState::Closed {
        // Refused (and ignored) unless it is still closed: another thread reopened it.
        let _ = LIB.reopen();
    }
    LIB.open();
    if STATE.state() == GateState::Closed {
        let _ = STATE.reopen(1);
    }
    // Refused (and ignored) once open, as `LIB.open()` is.
    let _ = STATE.open(1);
}

/// Shuts the library down: stops admitting calls and waits for those inside to return.
/// Returns 0, or -1 with the last error set (called from inside a gated call).
///
/// ```
/// use crosscall_hostbench::{hb_export_add1, hb_init, hb_shutdown};
/// hb_init();
/// assert_eq!(hb_shutdown(), 0);
/// assert_eq!(hb_shutdown(), 0); // already shut down
/// assert_eq!(hb_export_add1(0), -1);
/// ```
#[no_mangle]
pub extern "C" fn hb_shutdown() -> c_int {
    match LIB.close().and_then(|()| STATE.close()) {
        Ok(_) => 0,
        Err(err) => {
            crosscall::set_last_error(format_args!("hb_shutdown: {err}"));
            -1
        }
    }
}
