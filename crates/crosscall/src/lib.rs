//! crosscall: safe entry from C into Rust, as cheap as a plain call on every core.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

pub mod attach;
mod barrier;
pub mod bytes;
mod fence;
mod gate;
mod last_error;
mod slots;
mod sync;

pub use barrier::{entry, entry_or_abort};
pub use bytes::{BytesError, CBuf};
pub use fence::DISABLE_MEMBARRIER_ENV;
pub use gate::{CloseError, EnterError, Gate, GateState, Pass};
pub use last_error::{clear_last_error, last_error, set_last_error};

/// Wraps an `extern "C" fn` with gate entry, thread attach and the panic barrier.
///
/// ```text
/// #[crosscall::export(gate = PATH, on_panic = EXPR)]                  // catch panics
/// #[crosscall::export(gate = PATH, on_panic = EXPR, abort_on_panic)]  // abort on panic
/// ```
///
/// - `gate`: path to the [`Gate`] the call enters (usually a `static`).
/// - `on_panic`: the value C receives when the gate refuses the call, the body panics, or
///   it returns `Err`. Evaluated on every call, before the body: keep it a constant.
/// - `abort_on_panic`: use [`entry_or_abort`] instead of [`entry`].
///
/// The body runs as in [`entry`]. Written with a `Result<T, E>` return type (`E: Display`;
/// any type spelled `…Result<T, …>`, such as `io::Result<T>`, counts), the function C sees
/// returns `T`: `Err(e)` returns `on_panic` and sets the [last error](last_error()) to `e`'s
/// text. `?` works in the body. Successful calls leave the last error untouched.
///
/// The macro adds no symbol attributes: write `#[no_mangle]` (or `#[export_name = "…"]`)
/// yourself; every attribute and doc comment you write is kept. The function must be written
/// `extern "C"`, not be `async`, `const`, generic over types or consts, variadic, or a method.
///
/// # Examples
///
/// ```
/// use crosscall::Gate;
///
/// static GATE: Gate = Gate::new();
///
/// #[crosscall::export(gate = GATE, on_panic = -1)]
/// #[no_mangle]
/// pub extern "C" fn parse_port(text: *const std::ffi::c_char) -> Result<i32, String> {
///     if text.is_null() {
///         return Err("text is NULL".into());
///     }
///     // SAFETY: the C caller passes a NUL-terminated string (checked non-NULL above).
///     let text = unsafe { std::ffi::CStr::from_ptr(text) };
///     let port: u16 = text.to_str().map_err(|e| e.to_string())?
///         .parse().map_err(|e| format!("bad port: {e}"))?;
///     Ok(i32::from(port))
/// }
///
/// GATE.open();
/// assert_eq!(parse_port(c"8080".as_ptr()), 8080);
/// assert_eq!(parse_port(std::ptr::null()), -1);
/// assert_eq!(crosscall::last_error().as_deref(), Some("text is NULL"));
/// ```
pub use crosscall_macros::export;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
