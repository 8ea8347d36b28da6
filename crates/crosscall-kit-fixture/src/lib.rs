//! `kit`: a small C API written only with crosscall's pieces, for the C host in
//! `c/kit_host.c` and for `crosscall-audit`'s tests.
//!
//! - `kit_init(mode)` / `kit_shutdown()`: `#[crosscall::ungated]` lifecycle; `kit_init` sets
//!   the panic output (`mode` 0 stderr, 1 quiet, 2 to the log callback) and the `Poison`
//!   policy, then opens (or reopens) the gate.
//! - `kit_name`, `kit_check`, `kit_touch`: a pointer-, a bool- and a unit-returning export
//!   without `on_panic` (null / false / nothing when refused or panicking); `kit_add`: an
//!   integer one with `on_panic = -1`.
//! - `kit_log(level, count)`: logs `count` records at `level` through the `log` crate.
//! - `kit_last_error`, `kit_set_log_callback`: `export_last_error!`, `export_log_callback!`.
//! - `kit_unmarked`: exported by hand with neither attribute, the one `crosscall-audit` must
//!   name.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

use std::ffi::{c_char, c_int};

use crosscall::{Gate, GateState, PanicOutput, PanicPolicy};

static KIT: Gate = Gate::new();

crosscall::export_last_error!(kit_last_error);
crosscall::export_log_callback!(kit_set_log_callback);

/// Sets the panic output (`mode`: 0 stderr, 1 quiet, 2 the log callback at level error),
/// the `Poison` policy, and opens the gate (reopens it after `kit_shutdown`). Returns 0, or
/// -1 for an unknown `mode`.
#[crosscall::ungated]
#[no_mangle]
pub extern "C" fn kit_init(mode: c_int) -> c_int {
    let output = match mode {
        0 => PanicOutput::Stderr,
        1 => PanicOutput::Quiet,
        2 => PanicOutput::Callback(|text| log::error!(target: "kit::panic", "{text}")),
        _ => {
            crosscall::set_last_error(format_args!("kit_init: unknown mode {mode}"));
            return -1;
        }
    };
    crosscall::set_panic_output(output);
    KIT.set_panic_policy(PanicPolicy::Poison);
    match KIT.state() {
        GateState::Closed => {
            if let Err(e) = KIT.reopen() {
                crosscall::set_last_error(format_args!("kit_init: {e}"));
                return -1;
            }
        }
        _ => KIT.open(),
    }
    0
}

/// Closes the gate: waits for calls inside, refuses later ones. Returns 0, or -1 when called
/// from inside a call.
#[crosscall::ungated]
#[no_mangle]
pub extern "C" fn kit_shutdown() -> c_int {
    match KIT.close() {
        Ok(()) => 0,
        Err(e) => {
            crosscall::set_last_error(format_args!("kit_shutdown: {e}"));
            -1
        }
    }
}

/// The library's name; panics when `fail` is nonzero (then NULL).
#[crosscall::export(gate = KIT)]
#[no_mangle]
pub extern "C" fn kit_name(fail: c_int) -> *const c_char {
    assert!(fail == 0, "kit_name was asked to fail");
    c"kit".as_ptr()
}

/// `true`; panics when `fail` is nonzero (then `false`).
#[crosscall::export(gate = KIT)]
#[no_mangle]
pub extern "C" fn kit_check(fail: c_int) -> bool {
    assert!(fail == 0, "kit_check was asked to fail");
    true
}

/// Does nothing; panics when `fail` is nonzero.
#[crosscall::export(gate = KIT)]
#[no_mangle]
pub extern "C" fn kit_touch(fail: c_int) {
    assert!(fail == 0, "kit_touch was asked to fail");
}

/// `a + b`, or -1 with a last error on overflow.
#[crosscall::export(gate = KIT, on_panic = -1)]
#[no_mangle]
pub extern "C" fn kit_add(a: c_int, b: c_int) -> Result<c_int, String> {
    a.checked_add(b)
        .ok_or_else(|| format!("kit_add: {a} + {b} overflows"))
}

/// Logs `count` records `kit record N` at `level` (1 error … 5 trace) with target `kit`.
#[crosscall::export(gate = KIT)]
#[no_mangle]
pub extern "C" fn kit_log(level: c_int, count: c_int) {
    let level = match level {
        1 => log::Level::Error,
        2 => log::Level::Warn,
        3 => log::Level::Info,
        4 => log::Level::Debug,
        _ => log::Level::Trace,
    };
    for n in 0..count {
        log::log!(target: "kit", level, "kit record {n}");
    }
}

/// Deliberately exported by hand, with neither `#[crosscall::export]` nor
/// `#[crosscall::ungated]`: `crosscall-audit` must report it.
#[no_mangle]
pub extern "C" fn kit_unmarked() -> c_int {
    7
}
