//! Signal handlers: what an entry from a handler may do, and how the interrupted thread's own
//! slow path is protected from it.
//!
//! A handler runs on a thread at any instruction, possibly in the middle of `malloc` or of
//! crosscall's own slow path (a first entry, a switch between gates, a close holding the
//! gate's lock). Two rules make entries from handlers safe without a cost on the fast path:
//!
//! - **No re-entrance.** The C API marks the thread as *busy* (a flag in its thread state,
//!   reached through `pthread_getspecific`: no allocation, no lock) for the length of each of
//!   its slow paths. A C API call that finds the flag set interrupted that path: it returns
//!   `CROSSCALL_ERR_BUSY` at once, records no message and prints nothing, instead of borrowing
//!   state that is half-updated or waiting for a lock its own thread holds.
//! - **No first entry in a handler.** A thread's first entry of a gate allocates (its thread
//!   state, its slot). `crosscall_thread_prepare(gate)` does that work ahead of time, outside
//!   handlers; `crosscall_gate_try_enter_signal()` never allocates, never waits and records no
//!   message: on a thread that has not prepared that gate it returns
//!   `CROSSCALL_ERR_NOT_PREPARED` at once.
//!
//! The fast path (the thread's cached slot) needs neither: it writes only the thread's own slot
//! word with a load and a store, and an interrupting entry always leaves it as it found it
//! before the interrupted code resumes.

use crate::gate::thread_exit;
use crate::gate::Gate;

/// Why [`Gate::__begin_slow_path`] refused.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlowPathRefused {
    /// The calling thread is already inside a slow path: this call interrupted it.
    Busy,
    /// The thread has no crosscall state yet (nothing prepared), and none was to be made.
    NotPrepared,
}

impl Gate {
    /// Not public API: marks the calling thread as inside a C API slow path until the
    /// returned guard drops. With `create`, a thread without state gets one (allocates: not
    /// for signal handlers); without, such a thread is refused with `NotPrepared`.
    ///
    /// # Errors
    ///
    /// [`SlowPathRefused::Busy`] if the thread already is inside one (a signal handler
    /// interrupted it); [`SlowPathRefused::NotPrepared`] as above.
    #[doc(hidden)]
    pub fn __begin_slow_path(create: bool) -> Result<impl Sized, SlowPathRefused> {
        thread_exit::begin_slow_path(create).map_err(|busy| {
            if busy {
                SlowPathRefused::Busy
            } else {
                SlowPathRefused::NotPrepared
            }
        })
    }

    /// Not public API: while the returned guard lives, the calling thread is not marked as
    /// inside a slow path: for user code a slow path calls (a state's destructor), which may
    /// call back into crosscall.
    #[doc(hidden)]
    pub fn __pause_slow_path() -> impl Sized {
        thread_exit::pause_slow_path()
    }
}
