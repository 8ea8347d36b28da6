//! A Rust library that owns a multi-thread tokio runtime, behind a C API (`tcap.h`), that C
//! can initialize, shut down while calls are arriving, and initialize again.
//!
//! The runtime is the library's state, a [`crosscall::tokio::AsyncRuntime`] held by a
//! [`StateGate`]; crosscall's `tokio` feature does the rest:
//!
//! - `tcap_init` builds the runtime on the calling thread and opens the gate with it (or
//!   reopens it after a shutdown). C threads that call before `tcap_init` wait.
//! - `tcap_compute_blocking` (`#[export(state = LIB, tokio)]`) runs inside the runtime's
//!   context, so `Handle::current()` works on a C thread; it blocks until the work is done.
//! - `tcap_compute_async` is an `async fn` export: the C function spawns it and returns at
//!   once; the C callback runs later, on a runtime thread, exactly once, with `TCAP_DONE` or
//!   `TCAP_CANCELLED`.
//! - `tcap_shutdown` closes the gate (no call is inside any more and none gets in, so no task
//!   can be accepted after this point), gets the runtime back *on the closing thread*, and
//!   shuts it down there: pending calls are cancelled and every accepted callback has run
//!   before it returns.
//!
//! `main.c` drives all of it from pthreads and checks the counts.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

use std::ffi::c_int;
use std::time::Duration;

use crosscall::tokio::AsyncRuntime;
use crosscall::{GateState, StateGate};
use tokio::runtime::Handle;

/// Success.
pub const TCAP_OK: c_int = 0;
/// The library is shut down (or shutting down): the call was refused. Also a panic.
pub const TCAP_ERR_CLOSED: c_int = -1;
/// A bad argument (NULL callback).
pub const TCAP_ERR_INVALID: c_int = -2;
/// The call does not fit the library's state: init when initialized, shutdown when not
/// running, or a call that must not run on a runtime thread (inside a callback).
pub const TCAP_ERR_STATE: c_int = -3;
/// Shutdown's deadline passed with callbacks still running.
pub const TCAP_ERR_TIMEOUT: c_int = -4;

/// How long the simulated async work takes.
const WORK: Duration = Duration::from_millis(2);
/// The runtime's worker threads are named so; C threads are not.
const WORKER_NAME: &str = "tcap-worker";

/// Admits calls while the library is initialized; holds its runtime.
static LIB: StateGate<AsyncRuntime> = StateGate::new();

crosscall::export_last_error!(tcap_last_error);

/// Initializes the library: builds a multi-thread runtime with `worker_threads` workers (at
/// least 1) and admits calls, waking the ones that arrived early. After `tcap_shutdown` it
/// initializes again (a new generation).
///
/// Returns `TCAP_OK`, or `TCAP_ERR_STATE` if already initialized or called from a runtime
/// thread, `TCAP_ERR_CLOSED` if the runtime cannot be built (see the last error).
#[crosscall::ungated]
#[no_mangle]
pub extern "C" fn tcap_init(worker_threads: u32) -> c_int {
    // Outside any export, only a runtime thread has a current runtime.
    if Handle::try_current().is_ok() {
        return refuse(TCAP_ERR_STATE, "tcap_init: called from a runtime thread");
    }
    if matches!(LIB.state(), GateState::Open | GateState::Closing) {
        return refuse(TCAP_ERR_STATE, "tcap_init: already initialized");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads.max(1) as usize)
        .thread_name(WORKER_NAME)
        .enable_time()
        .build()
    {
        Ok(runtime) => AsyncRuntime::new(runtime),
        Err(e) => return refuse(TCAP_ERR_CLOSED, &format!("tcap_init: no runtime: {e}")),
    };
    let opened = if LIB.state() == GateState::Closed {
        LIB.reopen(runtime)
    } else {
        LIB.open(runtime)
    };
    match opened {
        Ok(()) => TCAP_OK,
        // Another thread initialized first; the unused runtime is dropped here, on a C
        // thread, where blocking is allowed.
        Err(refused) => refuse(TCAP_ERR_STATE, &format!("tcap_init: {refused}")),
    }
}

/// Computes `2 * x` with async work, blocking the calling C thread until it is done.
///
/// Waits while the library is not initialized yet. Returns the value (never negative for
/// `x >= 0`), or `TCAP_ERR_CLOSED` after shutdown, `TCAP_ERR_STATE` on a runtime thread
/// (a callback must not block a worker: use `tcap_compute_async`); see the last error.
#[crosscall::export(state = LIB, tokio, on_panic = i64::from(TCAP_ERR_CLOSED))]
#[no_mangle]
pub extern "C" fn tcap_compute_blocking(_rt: &AsyncRuntime, x: i64) -> i64 {
    if on_runtime_thread() {
        crosscall::set_last_error(
            "tcap_compute_blocking: called from a runtime thread (inside a callback); \
             use tcap_compute_async",
        );
        return i64::from(TCAP_ERR_STATE);
    }
    // Inside the runtime's context (`tokio`): no "there is no reactor running" on a C thread.
    // The gate keeps the runtime alive until this call leaves.
    Handle::current().block_on(work(x))
}

/// Starts computing `2 * x` and returns at once; `callback(user_data, status, result)` runs
/// later on a runtime thread, exactly once: `TCAP_DONE` with the result, or `TCAP_CANCELLED`
/// if the library shut down first. Shutdown returns only after it has run.
///
/// Returns `TCAP_OK` when accepted; otherwise the callback is never called:
/// `TCAP_ERR_INVALID` for a NULL callback, `TCAP_ERR_CLOSED` after shutdown (see the last
/// error). Waits while the library is not initialized yet. May be called from a callback.
/// The callback must be safe to call once with `user_data` from any thread.
#[crosscall::export(state = LIB, tokio)]
#[no_mangle]
pub async extern "C" fn tcap_compute_async(x: i64) -> i64 {
    work(x).await
}

/// Shuts the library down: refuses new calls, waits for the admitted ones, cancels pending
/// async work and waits until every accepted callback has run, then stops the runtime, all
/// within `timeout_ms` (for the callbacks) and on the calling thread.
///
/// Returns `TCAP_OK`; `TCAP_ERR_STATE` if not initialized (never, or already shut down), from
/// inside a library call, or from a runtime thread (a callback); `TCAP_ERR_TIMEOUT` if
/// callbacks were still running at the deadline (the runtime is stopped anyway).
#[crosscall::ungated]
#[no_mangle]
pub extern "C" fn tcap_shutdown(timeout_ms: u64) -> c_int {
    if Handle::try_current().is_ok() {
        return refuse(
            TCAP_ERR_STATE,
            "tcap_shutdown: called from a runtime thread (inside a callback): it would wait \
             for itself",
        );
    }
    if LIB.state() == GateState::Uninit {
        return refuse(TCAP_ERR_STATE, "tcap_shutdown: not initialized");
    }
    match LIB.close() {
        // The gate is closed and drained: no task can be accepted from now on. On this
        // (non-runtime) thread, blocking is allowed.
        Ok(Some(runtime)) => {
            if runtime.shutdown(Duration::from_millis(timeout_ms)) {
                TCAP_OK
            } else {
                refuse(
                    TCAP_ERR_TIMEOUT,
                    "tcap_shutdown: callbacks were still running at the deadline",
                )
            }
        }
        Ok(None) => refuse(TCAP_ERR_STATE, "tcap_shutdown: already shut down"),
        Err(e) => refuse(TCAP_ERR_STATE, &format!("tcap_shutdown: {e}")),
    }
}

/// In a `fork()` child: gives up the runtime inherited from the parent *without dropping it*,
/// so that `tcap_init` can start a new one there.
///
/// The child has only the thread that forked: the runtime's worker threads exist in the parent
/// alone, so dropping the runtime in the child would wait for them for ever. Calls that were
/// inside the library on other threads at the fork do not exist in the child either
/// (crosscall no longer counts them), so the close below returns at once. The runtime's memory
/// is leaked in the child, once per fork. Returns `TCAP_OK`, or `TCAP_ERR_STATE` if the
/// library was not running (then there is nothing to give up; `tcap_init` works as usual).
#[crosscall::ungated]
#[no_mangle]
pub extern "C" fn tcap_atfork_child() -> c_int {
    if Handle::try_current().is_ok() {
        return refuse(
            TCAP_ERR_STATE,
            "tcap_atfork_child: called from a runtime thread",
        );
    }
    match LIB.close() {
        Ok(Some(inherited)) => {
            // The fork policy of a state that owns threads: drop nothing, start over.
            std::mem::forget(inherited);
            TCAP_OK
        }
        Ok(None) => refuse(TCAP_ERR_STATE, "tcap_atfork_child: not running"),
        Err(e) => refuse(TCAP_ERR_STATE, &format!("tcap_atfork_child: {e}")),
    }
}

/// The simulated async work.
async fn work(x: i64) -> i64 {
    tokio::time::sleep(WORK).await;
    x.wrapping_mul(2)
}

/// Inside a `tokio` export every thread is in the runtime's context, so the worker threads
/// are told apart by name.
fn on_runtime_thread() -> bool {
    std::thread::current().name() == Some(WORKER_NAME)
}

/// Records `message` as the last error and returns `code`.
fn refuse(code: c_int, message: &str) -> c_int {
    crosscall::set_last_error(message);
    code
}
