//! A tokio runtime as (part of) a [`StateGate`]'s state: exports that run inside its context,
//! and `async fn` exports that complete through a C callback (the `tokio` feature).
//!
//! A C thread calling into a library that uses tokio is not a runtime thread, so
//! `tokio::spawn` or `Handle::current()` in the body panic with "there is no reactor running";
//! `#[crosscall::export(state = LIB, tokio)]` enters the state's runtime context around the
//! body instead. With an `async fn`, the exported C function spawns the body and returns at
//! once; the C callback receives the value on a runtime thread. [`AsyncRuntime`] tracks
//! those calls: dropping it (as the closing thread does with the state `close` returned)
//! cancels the pending ones and waits until every accepted call's callback has run, exactly
//! once, before the runtime stops — so none runs after the library's shutdown returned.

use std::ffi::{c_int, c_void};
use std::future::Future;
use std::time::Duration;

use tokio::runtime::{EnterGuard, Handle, Runtime};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::state_gate::StateGate;

/// The completion callback of an `async fn` export returning `T`:
/// `void (*)(void *user, int status, T value)`; `status` is one of [`ASYNC_DONE`],
/// [`ASYNC_CANCELLED`], [`ASYNC_PANICKED`].
pub type AsyncCallback<T> = unsafe extern "C" fn(user: *mut c_void, status: c_int, value: T);

/// Callback status: the body completed; `value` is its result.
pub const ASYNC_DONE: c_int = 0;
/// Callback status: the library shut down before the body completed; `value` is
/// `T::default()`.
pub const ASYNC_CANCELLED: c_int = 1;
/// Callback status: the body panicked; `value` is `T::default()`.
pub const ASYNC_PANICKED: c_int = 2;

/// What an `async fn` export returns to C: the call was accepted (its callback will run once).
pub const ASYNC_ACCEPTED: c_int = 0;
/// What an `async fn` export returns to C: refused (the library is shut down or poisoned;
/// see the last error). The callback is not called.
pub const ASYNC_REFUSED: c_int = -1;
/// What an `async fn` export returns to C: the callback is NULL.
pub const ASYNC_INVALID: c_int = -2;

/// A state that holds a tokio runtime: what `#[crosscall::export(state = LIB, tokio)]`
/// needs from the `StateGate`'s `T`.
pub trait RuntimeState: Send + Sync + 'static {
    /// The runtime the library's exports run in.
    fn async_runtime(&self) -> &AsyncRuntime;
}

/// A multi-thread tokio runtime plus the `async fn` exports' calls in progress.
///
/// Dropping it cancels the calls still pending, waits until each accepted call's callback
/// has run, then shuts the runtime down; so drop it on a thread that is not a runtime
/// thread (the thread that closed the gate, as [`StateGate::close`] hands it back there).
pub struct AsyncRuntime {
    runtime: Option<Runtime>,
    tasks: TaskTracker,
    cancel: CancellationToken,
}

impl AsyncRuntime {
    /// Wraps `runtime` (build it with `enable_all()` or at least what the bodies use).
    pub fn new(runtime: Runtime) -> AsyncRuntime {
        AsyncRuntime {
            runtime: Some(runtime),
            tasks: TaskTracker::new(),
            cancel: CancellationToken::new(),
        }
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        self.runtime().handle()
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        // `None` only inside `shutdown`/`drop`, which own `self`.
        self.runtime
            .as_ref()
            .expect("the runtime is present until shutdown")
    }

    /// Enters the runtime's context on this thread until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle().enter()
    }

    /// Shuts down as `drop` does, but waits at most `timeout` for the callbacks; `false` if
    /// some were still running then (the runtime is stopped anyway; the callbacks of tasks it
    /// drops run with [`ASYNC_CANCELLED`] as the tasks are dropped).
    ///
    /// # Panics
    ///
    /// On a runtime thread (tokio does not allow blocking there).
    pub fn shutdown(mut self, timeout: Duration) -> bool {
        self.stop(Some(timeout))
    }

    fn stop(&mut self, timeout: Option<Duration>) -> bool {
        let Some(runtime) = self.runtime.take() else {
            return true;
        };
        self.cancel.cancel();
        self.tasks.close();
        let tasks = self.tasks.clone();
        let drained = runtime.block_on(async move {
            match timeout {
                Some(timeout) => tokio::time::timeout(timeout, tasks.wait()).await.is_ok(),
                None => {
                    tasks.wait().await;
                    true
                }
            }
        });
        runtime.shutdown_timeout(Duration::from_secs(1));
        drained
    }
}

impl Drop for AsyncRuntime {
    fn drop(&mut self) {
        self.stop(None);
    }
}

impl RuntimeState for AsyncRuntime {
    fn async_runtime(&self) -> &AsyncRuntime {
        self
    }
}

/// What `#[export(state = LIB, tokio)]` runs around a (non-async) body: the runtime context.
#[doc(hidden)]
#[inline]
pub fn enter_context<S: RuntimeState>(state: &S) -> EnterGuard<'_> {
    state.async_runtime().enter()
}

/// What an `async fn` export expands to: inside `gate`, spawns the future `make` returns on
/// the state's runtime and returns [`ASYNC_ACCEPTED`]; the callback then runs exactly once.
#[doc(hidden)]
pub fn spawn_export<S, T, F, Fut>(
    gate: &StateGate<S>,
    name: &'static str,
    callback: Option<AsyncCallback<T>>,
    user: *mut c_void,
    make: F,
) -> c_int
where
    S: RuntimeState,
    T: Default + Send + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let Some(callback) = callback else {
        crate::set_last_error(format_args!("{name}: the completion callback is NULL"));
        return ASYNC_INVALID;
    };
    let user = UserData(user);
    crate::entry_state(gate, ASYNC_REFUSED, move |state| {
        let rt = state.async_runtime();
        let cancel = rt.cancel.clone();
        // The future is made inside the runtime context (it may call `tokio::spawn`).
        let _context = rt.enter();
        let body = tokio::spawn(CountedAsExport(Box::pin(make())));
        let abort = body.abort_handle();
        // Made only once the call is accepted: a refused call's callback never runs.
        let completion = Completion {
            callback,
            user,
            called: false,
        };
        // Tracked before this call leaves the gate: the closing thread's drop of the
        // runtime finds it.
        rt.tasks.spawn(async move {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    abort.abort();
                    completion.call(ASYNC_CANCELLED, T::default());
                }
                joined = body => match joined {
                    Ok(value) => completion.call(ASYNC_DONE, value),
                    Err(e) if e.is_panic() => completion.call(ASYNC_PANICKED, T::default()),
                    Err(_) => completion.call(ASYNC_CANCELLED, T::default()),
                },
            }
        });
        ASYNC_ACCEPTED
    })
}

/// An `async fn` export's body: while it is polled, its panics count as inside crosscall for
/// [`set_panic_output`](crate::set_panic_output) (the task runs outside any gate).
struct CountedAsExport<F>(std::pin::Pin<Box<F>>);

impl<F: Future> Future for CountedAsExport<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let _marked = crate::panic_output::AsyncExportPoll::begin();
        self.0.as_mut().poll(cx)
    }
}

/// C's `user` pointer: the export's contract says the callback may be called with it from
/// any thread.
struct UserData(*mut c_void);

// SAFETY: the `async fn` export's contract: the callback may be called with `user` from any
// thread; Rust never dereferences it.
unsafe impl Send for UserData {}

/// An accepted call's callback, called exactly once: by [`Completion::call`], or with
/// [`ASYNC_CANCELLED`] by `Drop` if its task is dropped unfinished (a runtime stopped at a
/// deadline).
struct Completion<T: Default> {
    callback: AsyncCallback<T>,
    user: UserData,
    called: bool,
}

impl<T: Default> Completion<T> {
    fn call(mut self, status: c_int, value: T) {
        self.called = true;
        // SAFETY: the export's contract (callable once with `user` from any thread);
        // `called` makes this the only call.
        unsafe { (self.callback)(self.user.0, status, value) };
    }
}

impl<T: Default> Drop for Completion<T> {
    fn drop(&mut self) {
        if !self.called {
            self.called = true;
            // SAFETY: as in `call`.
            unsafe { (self.callback)(self.user.0, ASYNC_CANCELLED, T::default()) };
        }
    }
}
