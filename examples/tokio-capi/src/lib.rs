//! A Rust library that owns a multi-thread tokio runtime, behind a C API (`tcap.h`), that C
//! can initialize, shut down while calls are arriving, and initialize again.
//!
//! The runtime is the library's state, held by a [`StateGate`]:
//!
//! - `tcap_init` builds the runtime on the calling thread and opens the gate with it (or
//!   reopens it after a shutdown). C threads that call before `tcap_init` wait.
//! - `tcap_compute_blocking` runs async work to completion with `block_on` from the C thread.
//! - `tcap_compute_async` spawns the work and returns at once; the C callback runs later, on
//!   a runtime thread, exactly once, with `TCAP_DONE` or `TCAP_CANCELLED`.
//! - `tcap_shutdown` closes the gate (no call is inside any more and none gets in, so no
//!   task can be accepted after this point), gets the runtime back *on the closing thread*,
//!   cancels and awaits every accepted task (so every callback has run), and shuts the
//!   runtime down there with a deadline. The runtime is never dropped inside a runtime
//!   worker, so tokio's "Cannot drop a runtime in a context where blocking is not allowed"
//!   cannot happen; a callback that calls `tcap_shutdown` is refused instead.
//!
//! `main.c` drives all of it from pthreads and checks the counts.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

use std::ffi::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crosscall::{set_last_error, GateState, StateGate};
use tokio::runtime::{Handle, Runtime};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

// The C API's symbols (crosscall_last_error_message, ...) for main.c, in this one library.
pub use crosscall_capi;

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

/// Callback status: the work completed; `result` holds its value.
pub const TCAP_DONE: c_int = 0;
/// Callback status: the library shut down first; `result` is 0.
pub const TCAP_CANCELLED: c_int = 1;

/// How long the simulated async work takes.
const WORK: Duration = Duration::from_millis(2);

/// What C passes as a completion callback: `void (*)(void *user_data, int status, int64_t)`.
pub type TcapCallback = unsafe extern "C" fn(user_data: *mut c_void, status: c_int, result: i64);

/// The library's state for one init/shutdown generation.
struct Library {
    runtime: Runtime,
    /// Every task accepted by `tcap_compute_async`; shutdown waits for all of them.
    tasks: TaskTracker,
    /// Cancelled by shutdown: pending work ends with `TCAP_CANCELLED`.
    cancel: CancellationToken,
}

/// Admits calls while the library is initialized; holds its runtime.
static LIB: StateGate<Library> = StateGate::new();

/// Initializes the library: builds a multi-thread runtime with `worker_threads` workers (at
/// least 1) and admits calls, waking the ones that arrived early. After `tcap_shutdown` it
/// initializes again (a new generation).
///
/// Returns `TCAP_OK`, or `TCAP_ERR_STATE` if already initialized or called from a runtime
/// thread, `TCAP_ERR_CLOSED` if the runtime cannot be built (see the last error).
#[no_mangle]
pub extern "C" fn tcap_init(worker_threads: u32) -> c_int {
    barrier(|| {
        if Handle::try_current().is_ok() {
            return refuse(TCAP_ERR_STATE, "tcap_init: called from a runtime thread");
        }
        if matches!(LIB.state(), GateState::Open | GateState::Closing) {
            return refuse(TCAP_ERR_STATE, "tcap_init: already initialized");
        }
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads.max(1) as usize)
            .thread_name("tcap-worker")
            .enable_time()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => return refuse(TCAP_ERR_CLOSED, &format!("tcap_init: no runtime: {e}")),
        };
        let library = Library {
            runtime,
            tasks: TaskTracker::new(),
            cancel: CancellationToken::new(),
        };
        let opened = if LIB.state() == GateState::Closed {
            LIB.reopen(library)
        } else {
            LIB.open(library)
        };
        match opened {
            Ok(()) => TCAP_OK,
            Err(refused) => {
                let message = format!("tcap_init: {refused}");
                // Another thread initialized first. This thread is a C thread, not a
                // runtime worker, so dropping the unused runtime here is allowed.
                drop(refused.into_value());
                refuse(TCAP_ERR_STATE, &message)
            }
        }
    })
}

/// Computes `2 * x` with async work, blocking the calling C thread until it is done.
///
/// Waits while the library is not initialized yet. Returns the value (never negative for
/// `x >= 0`), or `TCAP_ERR_CLOSED` after shutdown, `TCAP_ERR_STATE` on a runtime thread
/// (a callback must not block a worker: use `tcap_compute_async`); see the last error.
#[crosscall::export(state = LIB, on_panic = i64::from(TCAP_ERR_CLOSED))]
#[no_mangle]
pub extern "C" fn tcap_compute_blocking(lib: &Library, x: i64) -> Result<i64, String> {
    if Handle::try_current().is_ok() {
        crosscall::set_last_error(
            "tcap_compute_blocking: called from a runtime thread (inside a callback); \
             use tcap_compute_async",
        );
        return Ok(i64::from(TCAP_ERR_STATE));
    }
    // This thread is a C thread inside the gate, so the runtime stays alive until we leave:
    // shutdown's close waits for this call before it takes the runtime.
    Ok(lib.runtime.block_on(work(x)))
}

/// Starts computing `2 * x` and returns at once; `callback(user_data, status, result)` runs
/// later on a runtime thread, exactly once: `TCAP_DONE` with the result, or `TCAP_CANCELLED`
/// if the library shut down first. Shutdown returns only after it has run.
///
/// Returns `TCAP_OK` when accepted; otherwise the callback is never called:
/// `TCAP_ERR_INVALID` for a NULL callback, `TCAP_ERR_CLOSED` after shutdown (see the last
/// error). Waits while the library is not initialized yet. May be called from a callback.
///
/// # Safety
///
/// `callback` must be safe to call once with `user_data` from any thread.
#[crosscall::export(state = LIB, on_panic = TCAP_ERR_CLOSED)]
#[no_mangle]
pub unsafe extern "C" fn tcap_compute_async(
    lib: &Library,
    x: i64,
    callback: Option<TcapCallback>,
    user_data: *mut c_void,
) -> Result<c_int, String> {
    let Some(callback) = callback else {
        crosscall::set_last_error("tcap_compute_async: the callback is NULL");
        return Ok(TCAP_ERR_INVALID);
    };
    let completion = Completion {
        callback,
        user_data: UserData(user_data),
        called: false,
    };
    let cancel = lib.cancel.clone();
    // Tracked before this call leaves the gate, so shutdown (which closes the gate first)
    // always finds it.
    lib.tasks.spawn_on(
        async move {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => completion.call(TCAP_CANCELLED, 0),
                value = work(x) => completion.call(TCAP_DONE, value),
            }
        },
        lib.runtime.handle(),
    );
    Ok(TCAP_OK)
}

/// Shuts the library down: refuses new calls, waits for the admitted ones, cancels pending
/// async work and waits until every accepted callback has run, then stops the runtime, all
/// within `timeout_ms` (for the callbacks) and on the calling thread.
///
/// Returns `TCAP_OK`; `TCAP_ERR_STATE` if not initialized (never, or already shut down), from
/// inside a library call, or from a runtime thread (a callback); `TCAP_ERR_TIMEOUT` if
/// callbacks were still running at the deadline (the runtime is stopped anyway).
#[no_mangle]
pub extern "C" fn tcap_shutdown(timeout_ms: u64) -> c_int {
    barrier(|| {
        if Handle::try_current().is_ok() {
            return refuse(
                TCAP_ERR_STATE,
                "tcap_shutdown: called from a runtime thread (inside a callback): it would \
                 wait for itself",
            );
        }
        if LIB.state() == GateState::Uninit {
            return refuse(TCAP_ERR_STATE, "tcap_shutdown: not initialized");
        }
        let deadline = Instant::now() + Duration::from_millis(timeout_ms);
        let library = match LIB.close() {
            Ok(Some(library)) => library,
            Ok(None) => return refuse(TCAP_ERR_STATE, "tcap_shutdown: already shut down"),
            Err(e) => return refuse(TCAP_ERR_STATE, &format!("tcap_shutdown: {e}")),
        };
        // The gate is closed and drained: no call is inside, so no task can be accepted
        // from now on. End the accepted ones: cancel, and wait until each callback ran.
        let Library {
            runtime,
            tasks,
            cancel,
        } = library;
        cancel.cancel();
        tasks.close();
        let left = deadline.saturating_duration_since(Instant::now());
        let drained = runtime.block_on(async { tokio::time::timeout(left, tasks.wait()).await });
        // On this (non-runtime) thread: blocking is allowed, so no panic.
        runtime.shutdown_timeout(deadline.saturating_duration_since(Instant::now()));
        match drained {
            Ok(()) => TCAP_OK,
            Err(_) => refuse(
                TCAP_ERR_TIMEOUT,
                "tcap_shutdown: callbacks were still running at the deadline",
            ),
        }
    })
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
#[no_mangle]
pub extern "C" fn tcap_atfork_child() -> c_int {
    barrier(|| {
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
    })
}

/// The simulated async work.
async fn work(x: i64) -> i64 {
    tokio::time::sleep(WORK).await;
    x.wrapping_mul(2)
}

/// C's `user_data`: an opaque pointer C promised may be used from any thread.
struct UserData(*mut c_void);

// SAFETY: `tcap_compute_async`'s contract: the callback may be called with `user_data` from
// any thread; Rust never dereferences it.
unsafe impl Send for UserData {}

/// An accepted call's callback, called exactly once: by [`Completion::call`], or, if the
/// task is dropped before it finished (a runtime stopped at the deadline), with
/// `TCAP_CANCELLED` by `Drop`.
struct Completion {
    callback: TcapCallback,
    user_data: UserData,
    called: bool,
}

impl Completion {
    fn call(mut self, status: c_int, result: i64) {
        self.called = true;
        // SAFETY: `tcap_compute_async`'s contract; `called` makes this the only call.
        unsafe { (self.callback)(self.user_data.0, status, result) };
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if !self.called {
            self.called = true;
            // SAFETY: as in `call`.
            unsafe { (self.callback)(self.user_data.0, TCAP_CANCELLED, 0) };
        }
    }
}

/// Records `message` as the last error and returns `code`.
fn refuse(code: c_int, message: &str) -> c_int {
    set_last_error(message);
    code
}

/// The panic barrier for the ungated entry points (init, shutdown).
fn barrier(body: impl FnOnce() -> c_int) -> c_int {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| refuse(TCAP_ERR_CLOSED, "panicked"))
}
