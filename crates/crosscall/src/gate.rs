//! The lifecycle gate (skeleton; being implemented).
use std::fmt;
use std::time::Duration;

/// Lifecycle state of a [`Gate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GateState {
    /// Not yet opened; `enter()` waits.
    Uninit,
    /// Open; `enter()` admits.
    Open,
    /// `close()` has begun; admission stopped, in-flight calls draining.
    Closing,
    /// Closed and drained.
    Closed,
}

/// Why `enter` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnterError {
    /// The gate is closing or closed.
    Closed,
    /// `enter_timeout` ran out / `try_enter` found the gate not open yet.
    Timeout,
    /// Entering would wait for an initialization running on this very thread.
    WouldDeadlock,
}

/// Why `close` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseError {
    /// In-flight calls did not drain in time; the gate stays Closing.
    Timeout,
    /// The calling thread holds a `Pass` of this gate.
    WouldDeadlock,
}

impl fmt::Display for EnterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EnterError::Closed => "gate is closed",
            EnterError::Timeout => "timed out waiting for the gate to open",
            EnterError::WouldDeadlock => "entering would deadlock: this thread is opening the gate",
        })
    }
}
impl std::error::Error for EnterError {}
impl fmt::Display for CloseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CloseError::Timeout => "timed out waiting for in-flight calls to leave",
            CloseError::WouldDeadlock => "closing would deadlock: this thread is inside the gate",
        })
    }
}
impl std::error::Error for CloseError {}

/// The lifecycle gate.
pub struct Gate {
    _p: (),
}

/// Proof of admission; leaves the gate on drop.
pub struct Pass<'g> {
    _gate: &'g Gate,
}

impl Gate {
    /// A new, not yet opened gate.
    pub const fn new() -> Gate {
        Gate { _p: () }
    }
    /// Marks initialization done and wakes waiters.
    pub fn open(&self) {
        todo!()
    }
    /// Runs `init` then opens; `enter` from inside `init` returns `WouldDeadlock`.
    pub fn open_with<R>(&self, _init: impl FnOnce() -> R) -> R {
        todo!()
    }
    /// Enters, waiting while the gate is not yet open.
    pub fn enter(&self) -> Result<Pass<'_>, EnterError> {
        todo!()
    }
    /// Enters without waiting.
    pub fn try_enter(&self) -> Result<Pass<'_>, EnterError> {
        todo!()
    }
    /// Enters, waiting at most `timeout` for the gate to open.
    pub fn enter_timeout(&self, _timeout: Duration) -> Result<Pass<'_>, EnterError> {
        todo!()
    }
    /// Stops admission and waits for every admitted call to leave.
    pub fn close(&self) -> Result<(), CloseError> {
        todo!()
    }
    /// Like `close`, waiting at most `timeout`.
    pub fn close_timeout(&self, _timeout: Duration) -> Result<(), CloseError> {
        todo!()
    }
    /// The current lifecycle state.
    pub fn state(&self) -> GateState {
        todo!()
    }
    /// Number of admitted calls not yet left.
    pub fn in_flight(&self) -> usize {
        todo!()
    }
}

impl Default for Gate {
    fn default() -> Self {
        Gate::new()
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {}
}
