//! Where the panic message of a call inside crosscall goes: stderr (Rust's default hook),
//! nowhere, or a function of the library's choosing.
//!
//! A panic inside an export is caught and reported to C (error value + last error), but
//! before that Rust's panic hook prints it, with a backtrace under `RUST_BACKTRACE`, on the
//! host's stderr. [`set_panic_output`] installs crosscall's hook once, chaining to the hook
//! that was installed before it: only panics on a thread that is inside a crosscall gate at
//! that moment (an export's body, [`entry`](crate::entry), a held [`Pass`](crate::Pass)), or
//! polling an `async fn` export's body (`tokio` feature), are redirected; every other panic in the process reaches the previous hook as before, so a
//! Rust host's own hook is not taken over.
//!
//! "Inside a gate" is read from the thread's own slots in the hook itself, so the admitted
//! path pays nothing for any of this.

use std::any::Any;
use std::panic::{self, Location};
use std::sync::Once;

// std atomics even under loom: these statics are configuration read by the panic hook, part
// of no protocol a model checks (and loom's atomics cannot initialize a `static`).
use std::sync::atomic::{AtomicPtr, AtomicU8, Ordering};

/// Where panics inside crosscall calls are reported (see [`set_panic_output`]).
#[derive(Clone, Copy, Debug, Default)]
pub enum PanicOutput {
    /// To the panic hook installed before crosscall's (Rust's default prints the message,
    /// and a backtrace under `RUST_BACKTRACE`, on stderr). The default.
    #[default]
    Stderr,
    /// Nowhere: the panic is still reported to the caller (error value and
    /// [`last_error`](crate::last_error())), but nothing is printed, backtraces included.
    Quiet,
    /// To this function, with the text `panicked at FILE:LINE:COL: MESSAGE`; nothing is
    /// printed. It runs inside the panic hook, on the panicking thread: it must not panic
    /// (that aborts the process).
    Callback(fn(&str)),
}

const STDERR: u8 = 0;
const QUIET: u8 = 1;
const CALLBACK: u8 = 2;

/// The chosen output: one of the constants above.
static MODE: AtomicU8 = AtomicU8::new(STDERR);
/// The `Callback` function (set before `MODE` becomes `CALLBACK`).
static CALLBACK_FN: AtomicPtr<()> = AtomicPtr::new(std::ptr::null_mut());
static INSTALL: Once = Once::new();

/// Chooses where the panic messages of calls inside crosscall go (the default is
/// [`PanicOutput::Stderr`]). The first call installs crosscall's panic hook, which keeps the
/// hook it replaces for every panic outside crosscall; later calls only change the output.
///
/// Call it once at library initialization, not while a panic is in progress on another
/// thread (installing a hook then panics, as `std::panic::set_hook` does). If the host later
/// installs its own hook without chaining to ours, its hook decides.
///
/// ```
/// use crosscall::{Gate, PanicOutput};
///
/// static GATE: Gate = Gate::new();
///
/// #[crosscall::export(gate = GATE)]
/// #[no_mangle]
/// pub extern "C" fn lib_fail() {
///     panic!("nobody sees this on stderr");
/// }
///
/// crosscall::set_panic_output(PanicOutput::Quiet);
/// GATE.open();
/// lib_fail(); // prints nothing
/// assert!(crosscall::last_error().unwrap().contains("lib_fail panicked"));
/// crosscall::set_panic_output(PanicOutput::Stderr);
/// ```
pub fn set_panic_output(output: PanicOutput) {
    let mode = match output {
        PanicOutput::Stderr => STDERR,
        PanicOutput::Quiet => QUIET,
        PanicOutput::Callback(f) => {
            // Release pairs with the hook's Acquire load of `MODE`.
            CALLBACK_FN.store(f as *mut (), Ordering::Release);
            CALLBACK
        }
    };
    INSTALL.call_once(install_hook);
    // Release: the callback stored above is visible to a hook that reads CALLBACK.
    MODE.store(mode, Ordering::Release);
}

fn install_hook() {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        // Acquire pairs with the Release stores in `set_panic_output`.
        let mode = MODE.load(Ordering::Acquire);
        if mode == STDERR || !(crate::gate::slots::inside_any_gate() || in_async_export()) {
            return previous(info);
        }
        if mode == CALLBACK {
            // Acquire: as above.
            let f = CALLBACK_FN.load(Ordering::Acquire);
            if !f.is_null() {
                // SAFETY: only `set_panic_output` stores here, and only a `fn(&str)` cast to
                // a pointer; function pointers and data pointers have one size on every
                // target Rust supports.
                let f: fn(&str) = unsafe { std::mem::transmute::<*mut (), fn(&str)>(f) };
                f(&describe(info.payload(), info.location()));
            }
        }
    }));
}

std::thread_local! {
    /// Set while this thread polls the body of an `async fn` export (`tokio` feature): its
    /// panics count as inside crosscall although the task runs outside any gate.
    static IN_ASYNC_EXPORT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn in_async_export() -> bool {
    IN_ASYNC_EXPORT
        .try_with(std::cell::Cell::get)
        .unwrap_or(false)
}

/// Marks this thread as polling an `async fn` export's body until dropped (also while a
/// panic unwinds out of the poll).
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
pub(crate) struct AsyncExportPoll(bool);

#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
impl AsyncExportPoll {
    pub(crate) fn begin() -> AsyncExportPoll {
        AsyncExportPoll(
            IN_ASYNC_EXPORT
                .try_with(|flag| flag.replace(true))
                .unwrap_or(false),
        )
    }
}

impl Drop for AsyncExportPoll {
    fn drop(&mut self) {
        let _ = IN_ASYNC_EXPORT.try_with(|flag| flag.set(self.0));
    }
}

/// `panicked at FILE:LINE:COL: MESSAGE`, as Rust's default hook words it.
fn describe(payload: &(dyn Any + Send), location: Option<&Location<'_>>) -> String {
    let message = crate::barrier::panic_text(payload).unwrap_or("Box<dyn Any>");
    match location {
        Some(at) => format!(
            "panicked at {}:{}:{}: {message}",
            at.file(),
            at.line(),
            at.column()
        ),
        None => format!("panicked: {message}"),
    }
}
