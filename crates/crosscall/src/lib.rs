//! Safe entry from C into Rust, as cheap as a plain function call on every core.
//!
//! Every call from C into a Rust library — a callback, an exported function — has four
//! questions to answer before its body may run:
//!
//! | question | crosscall's answer |
//! |---|---|
//! | is the library initialized yet? | [`Gate`]: `enter` waits until [`Gate::open`] |
//! | may it still be called (shutdown, unload)? | [`Gate::close`] stops admission and drains |
//! | is this thread known to us? | [`attach`]: once per thread, released at thread exit |
//! | will a panic unwind into C? | [`entry`]: a panic becomes an error value + [`last_error`] |
//!
//! [`StateGate<T>`] is a gate that carries the library's state: opened with a value,
//! entered for `&T`, closed to get the value back on the closing thread, reopened with a new
//! one ([`export`]'s `state = PATH` hands the body that `&T`).
//! [`export`] wraps an `extern "C" fn` with all four; [`bytes`] moves buffers across the
//! boundary (cgo's `C.CBytes`, `C.GoBytes`, `C.malloc`); the `crosscall-capi` crate offers
//! the gate to C and C++ hosts.
//!
//! # Cost
//!
//! While the gate is open an entry writes only to a cache line owned by the calling thread
//! and reads lines nobody writes: no lock, no shared counter, no syscall. So it costs the same
//! on 2 cores or 128, where a global mutex (cgo before Go 1.22) or one shared in-flight
//! counter (`run-down`, tokio-util's `TaskTracker`) collapses as cores are added.
//! `docs/PERFORMANCE.md` in the repository has the measurements; from a checkout,
//! `cargo run --release -p crosscall-lab -- deployed` reproduces the headline ones
//! (instructions per entry under callgrind, and each entry's time beside a yardstick measured
//! in the same run, e.g. the C API pair beside two trivial calls into a shared library).
//!
//! # In a shared library
//!
//! Most users ship crosscall inside a `cdylib` that a C, C++, Python or Go host loads. There
//! a `thread_local!` costs a `__tls_get_addr` call per access, so the entry path keeps all it
//! needs about the calling thread in one 40-byte thread-local (the thread's gate when it has
//! one, and a pointer to its table of several), which on x86_64 and aarch64 Linux with glibc
//! is reached through the initial-exec TLS model (no call). A library using it is marked
//! `STATIC_TLS`: when `dlopen()`ed, glibc serves those 40 bytes from its optional static TLS
//! reserve (512 bytes by default, shared by every such library in the process: up to 12
//! crosscall libraries fit). If that reserve runs
//! out, `dlopen()` fails with "cannot allocate memory in static TLS block"; building
//! without the default `initial-exec-tls` feature then selects the portable `thread_local!`
//! form (as musl, other architectures and other systems always use).
//!
//! # Example
//!
//! ```
//! use crosscall::Gate;
//!
//! static LIBRARY: Gate = Gate::new();
//!
//! /// Called by C from any thread, possibly before `lib_init` ran (it then waits).
//! #[crosscall::export(gate = LIBRARY, on_panic = -1)]
//! #[no_mangle]
//! pub extern "C" fn lib_square(x: i32) -> Result<i32, String> {
//!     x.checked_mul(x).ok_or_else(|| format!("{x} squared overflows"))
//! }
//!
//! #[no_mangle]
//! pub extern "C" fn lib_init() {
//!     LIBRARY.open();
//! }
//!
//! #[no_mangle]
//! pub extern "C" fn lib_shutdown() -> i32 {
//!     // Waits until every call in progress has returned; later calls get -1.
//!     if LIBRARY.close().is_ok() { 0 } else { -1 }
//! }
//!
//! lib_init();
//! assert_eq!(lib_square(12), 144);
//! assert_eq!(lib_square(1 << 20), -1);
//! assert_eq!(crosscall::last_error().as_deref(), Some("1048576 squared overflows"));
//! assert_eq!(lib_shutdown(), 0);
//! assert_eq!(lib_square(2), -1);
//! ```
//!
//! # Testing the concurrency
//!
//! The gate's protocol is model-checked with loom (`bash scripts/loom.sh`, i.e.
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p crosscall --test loom_gate`)
//! and stress-tested on real threads (`cargo test -p crosscall --test gate`), with both
//! fence strategies.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

mod barrier;
pub mod bytes;
mod c_exports;
mod error_value;
mod fence;
mod gate;
mod grace;
mod handle;
mod handle_entries;
mod handle_periods;
mod handle_reclaimer;
mod handle_shards;
pub mod handles;
mod last_error;
#[cfg(not(loom))]
mod log_callback;
mod panic_output;
mod panic_policy;
#[cfg(not(loom))]
mod state_entry;
mod state_gate;
mod sync;
/// A tokio runtime behind the gate: exports that run in its context, `async fn` exports
/// completing through a C callback (the `tokio` feature; see `#[export(state = LIB, tokio)]`).
#[cfg(all(feature = "tokio", not(loom)))]
pub mod tokio {
    pub use crate::tokio_context::{
        AsyncCallback, AsyncRuntime, RuntimeState, ASYNC_ACCEPTED, ASYNC_CANCELLED, ASYNC_DONE,
        ASYNC_INVALID, ASYNC_PANICKED, ASYNC_REFUSED,
    };
}
#[cfg(all(feature = "tokio", not(loom)))]
mod tokio_context;
mod trace;

pub use barrier::{entry, entry_or_abort};
pub use bytes::{BytesError, CBuf};
pub use fence::DISABLE_MEMBARRIER_ENV;
pub use gate::attach;
pub use gate::open_error::OpenError;
#[doc(hidden)]
pub use gate::HeldLeave;
pub use gate::SlowPathRefused;
pub use gate::{CloseError, EnterError, Gate, GateState, GateStats, Pass};
pub use handle::Handle;
pub use handles::{HandleError, Handles, InsertError};
pub use last_error::{clear_last_error, last_error, set_last_error};
pub use panic_output::{set_panic_output, PanicOutput};
pub use panic_policy::PanicPolicy;
#[cfg(not(loom))]
pub use state_entry::{entry_state, entry_state_or_abort};
pub use state_gate::{StateGate, StatePass};

/// Wraps an `extern "C" fn` with gate entry, thread attach and the panic barrier.
///
/// ```text
/// #[crosscall::export(gate = PATH)]                                  // pointer, Option, bool, ()
/// #[crosscall::export(gate = PATH, on_panic = EXPR)]                  // catch panics
/// #[crosscall::export(gate = PATH, on_panic = EXPR, abort_on_panic)]  // abort on panic
/// #[crosscall::export(gate = PATH, on_panic = EXPR, handles(p = TABLE))] // p: &T from a u64
/// #[crosscall::export(state = PATH, on_panic = EXPR)]                 // body gets `&T`
/// #[crosscall::export(state = PATH, tokio)]        // in T's tokio runtime (feature `tokio`)
/// ```
///
/// - `gate`: path to the [`Gate`] the call enters (usually a `static`).
/// - `state` (instead of `gate`): path to a [`StateGate<T>`]. The function's first parameter
///   must then be a shared reference `&T` (any pattern, no named lifetime): the macro
///   supplies it with the state of the generation the call was admitted to, and removes it
///   from the signature C sees. The body runs as in [`entry_state`].
/// - `on_panic`: the value C receives when the gate refuses the call, the body panics, or
///   it returns `Err`. Evaluated on every call, before the body: keep it a constant.
///   Optional when the return type C sees has an obvious error value: raw pointers → null,
///   `Option<_>` → `None`, `bool` → `false`, `()` → nothing (for `Result<T, E>`, `T`'s rule).
///   Integers and floats have none (a compile error asks for `on_panic`).
/// - `abort_on_panic`: use [`entry_or_abort`] instead of [`entry`].
/// - `tokio` (feature `tokio`, with `state`; `T` implements `crosscall::tokio::RuntimeState`,
///   e.g. `crosscall::tokio::AsyncRuntime` itself): the body runs inside the state's runtime
///   context, so `tokio::spawn` and `Handle::current()` work on a C thread. Written as an
///   `async fn` (with no state parameter: the future outlives the call), the C function
///   takes two more parameters, `void (*callback)(void *user, int status, T value)` and
///   `void *user`, spawns the body and returns 0 (accepted: the callback will run exactly
///   once, with status `ASYNC_DONE`, `ASYNC_CANCELLED` or `ASYNC_PANICKED`), -1 (refused, no
///   callback) or -2 (NULL callback). Dropping the `AsyncRuntime` that `close` hands back
///   (or its `shutdown`) returns only after every accepted call's callback ran.
///   `examples/tokio-capi` in the repository is a complete library built this way.
/// - `handles(p = TABLE, ...)`: parameter `p`, written `p: &T`, is a handle into `TABLE` (a
///   [`Handles<T>`](Handles) of the same gate; not with `state`): C passes the `u64`, the
///   body gets `&T`.
///   A bad handle returns `on_panic` with a last error naming the parameter and the check
///   that failed (stale, never issued by this table, a table of another gate). The lookup
///   takes a nested pass of `gate` (about 1 ns), so a call admitted just before `close`
///   began is refused at this point rather than run.
///
/// The body runs as in [`entry`]. Written with a `Result<T, E>` return type (`E: Display`;
/// any type spelled `…Result<T, …>`, such as `io::Result<T>`, counts), the function C sees
/// returns `T`: `Err(e)` returns `on_panic` and sets the [last error](last_error()) to `e`'s
/// text. `?` works in the body. Successful calls leave the last error untouched.
///
/// A panic's last error names the function: `crosscall: NAME panicked: MESSAGE`; what
/// happens to later calls is the gate's [`PanicPolicy`], where the panic message is printed
/// is [`set_panic_output`]'s choice.
///
/// The macro adds no symbol attributes: write `#[no_mangle]` (or `#[export_name = "…"]`)
/// after it yourself; every attribute and doc comment you write is kept. It records the
/// exported name in the library's `.crosscall_exports` link section, which `crosscall-audit`
/// compares with the dynamic symbol table (see [`ungated`]). The function must be written
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
///
/// With a handle parameter:
///
/// ```
/// use crosscall::{Gate, Handles};
///
/// pub struct Account { balance: i64 }
///
/// static BANK: Gate = Gate::new();
/// static ACCOUNTS: Handles<Account> = Handles::new(&BANK);
///
/// #[crosscall::export(gate = BANK, on_panic = i64::MIN, handles(account = ACCOUNTS))]
/// #[no_mangle]
/// pub extern "C" fn account_balance(account: &Account) -> i64 {
///     account.balance
/// }
///
/// BANK.open();
/// let h = ACCOUNTS.insert(Account { balance: 12 }).unwrap().into_raw();
/// assert_eq!(account_balance(h), 12); // C calls account_balance(uint64_t)
/// ACCOUNTS.remove(crosscall::Handle::from_raw(h).unwrap()).unwrap();
/// assert_eq!(account_balance(h), i64::MIN);
/// assert!(crosscall::last_error().unwrap().contains("stale"));
/// ```
///
/// With library state: C calls `counter_add(u64)`; the body also gets `&Counter`.
///
/// ```
/// use crosscall::StateGate;
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// struct Counter {
///     total: AtomicU64,
///     limit: u64,
/// }
///
/// static COUNTER: StateGate<Counter> = StateGate::new();
///
/// #[crosscall::export(state = COUNTER, on_panic = -1)]
/// #[no_mangle]
/// pub extern "C" fn counter_add(counter: &Counter, n: u64) -> Result<i64, String> {
///     let total = counter.total.fetch_add(n, Ordering::Relaxed) + n;
///     if total > counter.limit {
///         return Err(format!("limit {} exceeded", counter.limit));
///     }
///     Ok(total as i64)
/// }
///
/// // What C sees: `int64_t counter_add(uint64_t n);`
/// let c_view: extern "C" fn(u64) -> i64 = counter_add;
/// COUNTER.open(Counter { total: AtomicU64::new(0), limit: 10 }).unwrap();
/// assert_eq!(c_view(4), 4);
/// assert_eq!(c_view(7), -1);
/// assert_eq!(crosscall::last_error().as_deref(), Some("limit 10 exceeded"));
/// let counter = COUNTER.close().unwrap().unwrap(); // dropped here, on this thread
/// assert_eq!(counter.total.into_inner(), 11);
/// assert_eq!(c_view(1), -1); // closed
/// ```
pub use crosscall_macros::export;

/// Marks an `extern "C"` export that deliberately runs outside every gate (init, shutdown,
/// a log or last-error function), so that `crosscall-audit` does not report it.
///
/// `crosscall-audit PATH.so` lists every exported function of a built library that is
/// neither an [`export`] nor `#[ungated]`: a function that lost its barrier in a refactor is
/// found in CI, not by users. Both attributes (and [`export_last_error!`],
/// [`export_log_callback!`]) put the symbol's name into the `.crosscall_exports` link
/// section (`__DATA,__crosscall_exp` on Apple targets), which the tool reads from the
/// binary. The function is otherwise unchanged: it runs no barrier, so it must not unwind
/// (catch panics yourself, as `extern "C"` functions abort on unwind). Write `#[no_mangle]` or
/// `#[export_name]` after this attribute.
///
/// ```
/// static GATE: crosscall::Gate = crosscall::Gate::new();
///
/// #[crosscall::ungated]
/// #[no_mangle]
/// pub extern "C" fn lib_init() {
///     GATE.open();
/// }
/// # lib_init();
/// ```
pub use crosscall_macros::ungated;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// The README's Rust example, compiled and run as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
