//! Forwards the `log` crate's records to a C callback: what
//! [`export_log_callback!`](crate::export_log_callback) exports.
//!
//! The callback lives in a [`StateGate`]: a record enters it (a nested-capable, per-thread
//! entry, no shared write), calls the callback on the logging thread, and leaves. Turning the
//! callback off or replacing it closes that gate first, and `close` returns only after every
//! record that had entered has left; records arriving meanwhile are refused and dropped. So
//! once the setter returned, the old callback is never called again: the gate's drain is the
//! read-side/grace-period argument (the same one the library's own exports rely on).

use std::ffi::{c_char, c_int, c_void, CString};
use std::fmt::Write as _;
use std::sync::Mutex;

use log::{LevelFilter, Log, Metadata, Record};

use crate::state_gate::StateGate;

/// The C callback: `void (*)(int level, const char *target, const char *message, void *user)`,
/// levels 1 (error) to 5 (trace).
pub type LogCallback =
    extern "C" fn(level: c_int, target: *const c_char, message: *const c_char, user: *mut c_void);

/// The setter's result: the callback is installed (or turned off).
pub const LOG_OK: c_int = 0;
/// The setter's result: `max_level` is not 0..=5.
pub const LOG_ERR_INVALID: c_int = -1;
/// The setter's result: called from inside the log callback (it would wait for itself).
pub const LOG_ERR_STATE: c_int = -2;
/// The setter's result: another `log` logger is already installed in this library.
pub const LOG_ERR_LOGGER: c_int = -3;

/// A callback and what C passed with it.
struct Sink {
    callback: LogCallback,
    user: *mut c_void,
    max: LevelFilter,
}

// SAFETY: the setter's contract (`export_log_callback!`): the callback may be called with
// `user` from any thread, concurrently. Rust never dereferences `user`.
unsafe impl Send for Sink {}
// SAFETY: as above; a `Sink` is only read after it is installed.
unsafe impl Sync for Sink {}

/// Open while a callback is set; its state is that callback.
static SINK: StateGate<Sink> = StateGate::new();
/// Serializes setters (the close-then-reopen of one must not interleave with another's).
static SETTER: Mutex<()> = Mutex::new(());

/// The `log` logger of the library: forwards to the installed [`Sink`], if any.
struct Forwarder;

static FORWARDER: Forwarder = Forwarder;

impl Log for Forwarder {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        SINK.try_enter()
            .is_ok_and(|sink| metadata.level() <= sink.max)
    }

    fn log(&self, record: &Record<'_>) {
        // Refused while no callback is set or one is being replaced: the record is dropped.
        let Ok(sink) = SINK.try_enter() else { return };
        if record.level() > sink.max {
            return; // not formatted
        }
        let message = c_text(format_args!("{}", record.args()));
        let target = c_text(format_args!("{}", record.target()));
        (sink.callback)(
            record.level() as c_int,
            target.as_ptr(),
            message.as_ptr(),
            sink.user,
        );
    }

    fn flush(&self) {}
}

fn c_text(args: std::fmt::Arguments<'_>) -> CString {
    let mut text = String::new();
    let _ = text.write_fmt(args);
    if text.contains('\0') {
        text = text.replace('\0', "\u{FFFD}");
    }
    // No NUL remains.
    CString::new(text).unwrap_or_default()
}

/// What the exported setter runs; see [`export_log_callback!`](crate::export_log_callback).
pub fn set_log_callback(
    callback: Option<LogCallback>,
    user: *mut c_void,
    max_level: c_int,
) -> c_int {
    let max = match max_level {
        0 => LevelFilter::Off,
        1 => LevelFilter::Error,
        2 => LevelFilter::Warn,
        3 => LevelFilter::Info,
        4 => LevelFilter::Debug,
        5 => LevelFilter::Trace,
        _ => {
            crate::set_last_error(format_args!(
                "crosscall: log callback: max_level {max_level} is not 0 (off) to 5 (trace)"
            ));
            return LOG_ERR_INVALID;
        }
    };
    // From inside the callback the drain below would wait for this very call. Refusing it
    // here also means a thread waiting for `SETTER` is never one a draining setter waits for.
    if SINK.gate().entered_here() {
        crate::set_last_error(
            "crosscall: log callback: cannot be changed from inside the log callback",
        );
        return LOG_ERR_STATE;
    }
    let _setter = SETTER.lock().unwrap_or_else(|e| e.into_inner());
    if callback.is_some() && log::set_logger(&FORWARDER).is_err() && !is_forwarder() {
        crate::set_last_error(
            "crosscall: log callback: another `log` logger is installed in this library",
        );
        return LOG_ERR_LOGGER;
    }
    // Stop formatting first, then drain: after `close` no record is inside the callback.
    log::set_max_level(LevelFilter::Off);
    if let Err(e) = SINK.close() {
        crate::set_last_error(format_args!(
            "crosscall: log callback: cannot be changed from inside the log callback ({e})"
        ));
        return LOG_ERR_STATE;
    }
    let Some(callback) = callback.filter(|_| max != LevelFilter::Off) else {
        return LOG_OK;
    };
    let sink = Sink {
        callback,
        user,
        max,
    };
    if let Err(e) = SINK.reopen(sink) {
        // Unreachable: setters are serialized and the gate was just closed.
        crate::set_last_error(format_args!("crosscall: log callback: {e}"));
        return LOG_ERR_STATE;
    }
    log::set_max_level(max);
    LOG_OK
}

/// Whether the installed `log` logger is ours (a second setter call finds it installed).
fn is_forwarder() -> bool {
    std::ptr::addr_eq(
        log::logger() as *const dyn Log,
        &FORWARDER as *const Forwarder,
    )
}
