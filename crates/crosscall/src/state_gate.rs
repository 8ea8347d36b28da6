//! A gate that carries the library's state: open with a value, enter to borrow it, close to
//! get it back on the closing thread, reopen with a new one.
//!
//! # Why the state lives inside the gate
//!
//! A library with a C API needs its state (a runtime, a connection pool, a cache) for every
//! call and must drop it at shutdown. Pairing a [`Gate`] with a static of one's own leaves
//! the hard part to each library: what the popular shapes do instead is lock on every call
//! (`OnceCell<Mutex<T>>`), contend on a shared reader count (`RwLock<Arc<T>>`), never drop
//! at all (`LazyLock<T>`), or drop on whichever reader lets go last, on any thread
//! (`arc-swap`) — which is how a tokio runtime ends up dropped inside a runtime worker
//! ("Cannot drop a runtime in a context where blocking is not allowed").
//!
//! [`StateGate<T>`] keeps `T` inline, next to the gate. The gate's state says whether the
//! value is there: **`Open` or `Closing` ⇔ the cell holds an initialized `T`**; `Uninit`,
//! the opening in progress, and `Closed` ⇔ it is empty. So [`enter`](StateGate::enter) adds
//! no work to the gate's entry: once admitted, `&T` is the cell's address (a constant for a
//! `static`), and no shared write, lock or reference count is involved.
//! [`close`](StateGate::close) stops admission, waits for the calls in flight, moves `T`
//! out and returns it to the caller — its `Drop` runs on the closing thread, after the last
//! call has left and before anything else can see the gate open again.
//!
//! # Ordering argument
//!
//! - *Install → readers.* The value is written only by an opening (`open`, `open_with`,
//!   `reopen`, `reopen_with`), with the gate's transition lock held and the state not open,
//!   so no call is admitted and none reads the cell. The opening then stores the open state
//!   and the fast path's key with Release; an entry is admitted only after loading one of
//!   them with Acquire and finding it open, so the write happens before every read of the
//!   generation it opens. (The key is the same in every generation — threads keep their
//!   slots — which is harmless: see the third point.)
//! - *Readers → take.* A call reads the cell only while its [`StatePass`] is alive. Leaving
//!   is a Release store to the thread's own slot; `close` sees every slot at zero with
//!   Acquire loads before it moves the value out (with the lock held, the state `Closing`, so
//!   no new call can be admitted in between). Every read of a generation happens before that
//!   generation's value is taken.
//! - *Take → next install.* `reopen` requires `Closed`, which `close` stores only after the
//!   take, and both run under the same lock: the old value is gone before the new one is
//!   written. An entry that raced the whole close → reopen sequence either announced itself
//!   before the close's barrier (then the close waited for it, and it was admitted to the old
//!   generation) or loads the state or key after it: `Closing`/`Closed` (refused) or the
//!   new generation's open state or key, whose Acquire load (it reads the new generation's
//!   Release store) orders the new value before its reads.
//!
//! The model `tests/loom_state_gate.rs` checks these three edges under loom with a
//! race-detecting cell; `tests/state_gate.rs` hammers close/reopen cycles on real threads.

use std::fmt;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ops::Deref;
use std::time::Duration;

use crate::gate::open_error::OpenError;
use crate::gate::{Reopen, Wait};
use crate::sync::{ConstPtr, UnsafeCell};
use crate::{CloseError, EnterError, Gate, GateState, GateStats, Pass};

/// A [`Gate`] that carries the library's state `T`: open with a value, [`enter`] to borrow
/// it for a call, [`close`] to drain and get it back, [`reopen`] with a new one.
///
/// Lifecycle and costs are the [`Gate`]'s: `enter` before the first opening waits, after
/// `close` is refused; entering is the same per-thread fast path (the `&T` is an address
/// computation, not a load of shared state). `T` must be `Send + Sync`: calls on any thread
/// share it, and `close` hands it to the closing thread.
///
/// # Examples
///
/// ```
/// use crosscall::{EnterError, StateGate};
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// struct Library {
///     name: String,
///     calls: AtomicU64,
/// }
///
/// static LIB: StateGate<Library> = StateGate::new();
///
/// // An exported function borrows the state for the call's duration.
/// fn lib_call() -> i64 {
///     match LIB.enter() {
///         Ok(lib) => lib.calls.fetch_add(1, Ordering::Relaxed) as i64,
///         Err(_) => -1,
///     }
/// }
///
/// LIB.open(Library { name: "first".into(), calls: AtomicU64::new(0) }).unwrap();
/// assert_eq!(lib_call(), 0);
/// assert_eq!(lib_call(), 1);
///
/// // Shutdown: no call is inside any more, and the state comes back to this thread.
/// let lib = LIB.close().unwrap().expect("this close took the state");
/// assert_eq!(lib.calls.into_inner(), 2);
/// assert_eq!(LIB.enter().err(), Some(EnterError::Closed));
/// assert!(LIB.close().unwrap().is_none()); // closing twice is harmless
///
/// // Init again: a new generation with a new value.
/// LIB.reopen(Library { name: "second".into(), calls: AtomicU64::new(0) }).unwrap();
/// assert_eq!(LIB.enter().unwrap().name, "second");
/// assert_eq!(LIB.generation(), 2);
/// ```
///
/// [`enter`]: StateGate::enter
/// [`close`]: StateGate::close
/// [`reopen`]: StateGate::reopen
pub struct StateGate<T> {
    gate: Gate,
    /// Initialized exactly while the gate is `Open` or `Closing` (see the module docs).
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: calls on many threads share `&T` (needs `T: Sync`), and `close` moves the `T` to
// the closing thread (needs `T: Send`). The cell is written only under the rules in the
// module docs (no reader while written, no write while read).
unsafe impl<T: Send + Sync> Sync for StateGate<T> {}
// SAFETY: moving the gate moves the `T` it may hold; no thread-affine data besides it.
unsafe impl<T: Send> Send for StateGate<T> {}
// A panic anywhere (in an initializer, in a call) leaves the cell consistent with the
// gate's state: openings install only after their initializer returned, and an unwinding
// call leaves the gate like any other.
impl<T: std::panic::RefUnwindSafe> std::panic::RefUnwindSafe for StateGate<T> {}

/// Proof that the calling thread is inside a [`StateGate`], and a borrow of its state; it
/// leaves the gate when dropped.
///
/// Dereferences to the `T` of the generation the call was admitted to. Like a [`Pass`], it
/// cannot be sent to another thread; the `&T` it gives can be shared for as long as it lives.
///
/// ```
/// let lib = crosscall::StateGate::new();
/// lib.open(vec![1u32, 2, 3]).unwrap();
/// let pass = lib.enter().unwrap();
/// let total: u32 = std::thread::scope(|s| {
///     let state: &Vec<u32> = &pass; // borrowed from the pass, shared with a scoped thread
///     s.spawn(move || state.iter().sum()).join().unwrap()
/// });
/// assert_eq!(total, 6);
/// drop(pass); // leaves the gate
/// assert_eq!(lib.in_flight(), 0);
/// ```
#[must_use = "the call leaves the gate as soon as the StatePass is dropped"]
pub struct StatePass<'g, T> {
    // Field order matters: the read handle ends (loom stops counting a read) before the
    // pass leaves the gate and a closer may take the value.
    value: ConstPtr<MaybeUninit<T>>,
    _pass: Pass<'g>,
    _borrow: PhantomData<&'g T>,
}

impl<T> StateGate<T> {
    /// A new, empty gate in the `Uninit` state (`membarrier(2)` on the closing side where
    /// available, as [`Gate::new`]).
    ///
    /// ```
    /// static LIB: crosscall::StateGate<Vec<u8>> = crosscall::StateGate::new();
    /// assert_eq!(LIB.state(), crosscall::GateState::Uninit);
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> StateGate<T> {
        StateGate {
            gate: Gate::new(),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// A new gate whose entries use `fence(SeqCst)` instead of relying on `membarrier(2)`
    /// (see [`Gate::new_fence_fallback`]).
    ///
    /// ```
    /// static LIB: crosscall::StateGate<u32> = crosscall::StateGate::new_fence_fallback();
    /// LIB.open(7).unwrap();
    /// assert_eq!(*LIB.enter().unwrap(), 7);
    /// ```
    #[cfg(not(loom))]
    pub const fn new_fence_fallback() -> StateGate<T> {
        StateGate {
            gate: Gate::new_fence_fallback(),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// A new gate (loom build: not `const`).
    #[cfg(loom)]
    pub fn new() -> StateGate<T> {
        StateGate {
            gate: Gate::new(),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// A new gate on the `fence(SeqCst)` fallback (loom build).
    #[cfg(loom)]
    pub fn new_fence_fallback() -> StateGate<T> {
        StateGate {
            gate: Gate::new_fence_fallback(),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Opens the gate with `value`: waiting callers are woken and admitted, and every call
    /// from now on borrows `value`.
    ///
    /// # Errors
    ///
    /// If the gate is not `Uninit` (already open, another thread is opening it, or it was
    /// closed: use [`reopen`](StateGate::reopen)); the error hands `value` back.
    ///
    /// ```
    /// let lib = crosscall::StateGate::new();
    /// lib.open(vec![1, 2, 3]).unwrap();
    /// assert_eq!(lib.enter().unwrap().len(), 3);
    /// ```
    pub fn open(&self, value: T) -> Result<(), OpenError<T>> {
        self.install_now(Reopen::No, value)
    }

    /// Runs `init` on this thread and opens the gate with its result. Meanwhile other
    /// threads' `enter` waits (as for [`Gate::open_with`]); an `enter` from inside `init`
    /// returns [`EnterError::WouldDeadlock`]. If `init` panics the gate goes back to `Uninit`
    /// and the panic continues.
    ///
    /// # Errors
    ///
    /// If the gate is not `Uninit`, `init` does not run (the error holds `None`). If the gate
    /// was closed while `init` ran, it stays closed and the error holds `Some(value)`.
    ///
    /// ```
    /// let lib = crosscall::StateGate::new();
    /// lib.open_with(|| String::from("built on first use")).unwrap();
    /// assert!(lib.open_with(|| unreachable!()).is_err()); // already open: init not run
    /// ```
    pub fn open_with(&self, init: impl FnOnce() -> T) -> Result<(), OpenError<Option<T>>> {
        self.install_after(Reopen::No, init)
    }

    /// Opens a `Closed` gate again with a new `value`: a new [generation](Self::generation)
    /// begins. Threads keep their slots. Plain [`open`](StateGate::open) refuses a closed
    /// gate, so "closed" stays final unless the library reopens explicitly.
    ///
    /// # Errors
    ///
    /// If the gate is not `Closed` (never opened, open, or still closing); the error hands
    /// `value` back and nothing changes.
    ///
    /// ```
    /// let lib = crosscall::StateGate::new();
    /// lib.open(1).unwrap();
    /// assert!(lib.reopen(2).is_err()); // still open
    /// assert_eq!(lib.close().unwrap(), Some(1));
    /// assert!(lib.open(2).is_err()); // closed: plain open refuses
    /// lib.reopen(2).unwrap();
    /// assert_eq!(*lib.enter().unwrap(), 2);
    /// ```
    pub fn reopen(&self, value: T) -> Result<(), OpenError<T>> {
        self.install_now(Reopen::Yes, value)
    }

    /// [`reopen`](StateGate::reopen) with an initializer, run as in
    /// [`open_with`](StateGate::open_with): callers arriving meanwhile wait.
    ///
    /// # Errors
    ///
    /// As `open_with`, for a gate that is not `Closed`.
    ///
    /// ```
    /// let lib = crosscall::StateGate::new();
    /// lib.open(1).unwrap();
    /// lib.close().unwrap();
    /// lib.reopen_with(|| 2).unwrap();
    /// assert_eq!(*lib.enter().unwrap(), 2);
    /// ```
    pub fn reopen_with(&self, init: impl FnOnce() -> T) -> Result<(), OpenError<Option<T>>> {
        self.install_after(Reopen::Yes, init)
    }

    /// Enters the gate, waiting while it is not open yet, and borrows the state.
    ///
    /// # Errors
    ///
    /// As [`Gate::enter`]: [`EnterError::Closed`] once `close` has begun,
    /// [`EnterError::WouldDeadlock`] from inside this gate's initializer.
    ///
    /// ```
    /// let lib = crosscall::StateGate::new();
    /// lib.open(String::from("state")).unwrap();
    /// let pass = lib.enter().unwrap();
    /// assert_eq!(pass.as_str(), "state");
    /// ```
    #[inline]
    pub fn enter(&self) -> Result<StatePass<'_, T>, EnterError> {
        self.gate.enter().map(|pass| self.borrow(pass))
    }

    /// Enters the gate if it is open, without waiting.
    ///
    /// # Errors
    ///
    /// As [`Gate::try_enter`]: [`EnterError::Timeout`] if it is not open yet.
    ///
    /// ```
    /// let lib = crosscall::StateGate::<u8>::new();
    /// assert_eq!(lib.try_enter().err(), Some(crosscall::EnterError::Timeout));
    /// ```
    #[inline]
    pub fn try_enter(&self) -> Result<StatePass<'_, T>, EnterError> {
        self.gate.try_enter().map(|pass| self.borrow(pass))
    }

    /// Enters the gate, waiting at most `timeout` for it to open.
    ///
    /// # Errors
    ///
    /// As [`Gate::enter_timeout`].
    ///
    /// ```
    /// use std::time::Duration;
    /// let lib = crosscall::StateGate::<u8>::new();
    /// assert!(lib.enter_timeout(Duration::from_millis(1)).is_err());
    /// ```
    #[inline]
    pub fn enter_timeout(&self, timeout: Duration) -> Result<StatePass<'_, T>, EnterError> {
        self.gate
            .enter_timeout(timeout)
            .map(|pass| self.borrow(pass))
    }

    /// Stops admission, waits until every admitted call has left, and hands the state back:
    /// `Some(value)` to the thread whose close ended the generation, so the value's `Drop`
    /// runs here (or wherever the caller moves it), never on a calling thread.
    ///
    /// `Ok(None)` when there was nothing to take: the gate was already closed (a second
    /// shutdown), never opened, or another thread's concurrent close took it.
    ///
    /// # Errors
    ///
    /// [`CloseError::WouldDeadlock`] if the calling thread is inside this gate (a call that
    /// shuts its own library down); the gate and its state are left unchanged.
    ///
    /// ```
    /// use crosscall::{CloseError, StateGate};
    /// let lib = StateGate::new();
    /// lib.open(vec![0u8; 16]).unwrap();
    /// {
    ///     let _inside = lib.enter().unwrap();
    ///     assert_eq!(lib.close().err(), Some(CloseError::WouldDeadlock));
    /// }
    /// let state = lib.close().unwrap().unwrap();
    /// assert_eq!(state.len(), 16); // dropped here, on the closing thread
    /// assert_eq!(lib.close(), Ok(None));
    /// ```
    pub fn close(&self) -> Result<Option<T>, CloseError> {
        self.close_until(Wait::Forever)
    }

    /// Like [`close`](StateGate::close), waiting at most `timeout` for calls to leave.
    ///
    /// # Errors
    ///
    /// As `close`, plus [`CloseError::Timeout`]: the gate stays `Closing` (nobody new is
    /// admitted) and keeps the state; close again to keep waiting and take it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lib = crosscall::StateGate::new();
    /// lib.open(5).unwrap();
    /// assert_eq!(lib.close_timeout(Duration::from_secs(1)), Ok(Some(5)));
    /// ```
    pub fn close_timeout(&self, timeout: Duration) -> Result<Option<T>, CloseError> {
        self.close_until(Wait::until(timeout))
    }

    /// The current lifecycle state (a snapshot).
    ///
    /// ```
    /// let lib = crosscall::StateGate::<()>::new();
    /// assert_eq!(lib.state(), crosscall::GateState::Uninit);
    /// ```
    pub fn state(&self) -> GateState {
        self.gate.state()
    }

    /// What the gate has done so far (as [`Gate::stats`]; a `reopen` counts as in
    /// [`GateStats::reopens`]).
    ///
    /// ```
    /// let lib = crosscall::StateGate::new();
    /// lib.open(7).unwrap();
    /// assert_eq!(*lib.enter().unwrap(), 7);
    /// assert_eq!(lib.close(), Ok(Some(7)));
    /// lib.reopen(8).unwrap();
    /// let stats = lib.stats();
    /// assert_eq!((stats.admitted, stats.closes, stats.reopens), (1, 1, 1));
    /// ```
    pub fn stats(&self) -> GateStats {
        self.gate.stats()
    }

    /// Admitted calls that have not left yet (as [`Gate::in_flight`]).
    ///
    /// ```
    /// let lib = crosscall::StateGate::new();
    /// lib.open(()).unwrap();
    /// let _pass = lib.enter().unwrap();
    /// assert_eq!(lib.in_flight(), 1);
    /// ```
    pub fn in_flight(&self) -> usize {
        self.gate.in_flight()
    }

    /// Openings so far: 0 before the first, then one more per `reopen` (as
    /// [`Gate::generation`]). Inside a call it is the generation whose state the call
    /// borrows.
    ///
    /// ```
    /// let lib = crosscall::StateGate::new();
    /// lib.open(()).unwrap();
    /// assert_eq!(lib.generation(), 1);
    /// ```
    pub fn generation(&self) -> u64 {
        self.gate.generation()
    }

    /// Whether entries rely on `membarrier(2)` (as [`Gate::uses_membarrier`]; for tools).
    #[doc(hidden)]
    pub fn __uses_membarrier(&self) -> bool {
        self.gate.uses_membarrier()
    }

    /// Number of per-thread slots allocated (for tests: slots are kept across generations).
    #[doc(hidden)]
    pub fn __slot_count(&self) -> usize {
        self.gate.__slot_count()
    }

    // ---- internals ----------------------------------------------------------------------

    #[inline(always)]
    fn borrow<'g>(&'g self, pass: Pass<'g>) -> StatePass<'g, T> {
        StatePass {
            value: self.value.get(),
            _pass: pass,
            _borrow: PhantomData,
        }
    }

    /// The state, for code that holds a pass of this gate without a [`StatePass`] (the
    /// `entry_state` barrier).
    ///
    /// # Safety
    ///
    /// The calling thread holds a [`Pass`] of `self.gate` for as long as the result is used.
    #[cfg(not(loom))]
    #[inline(always)]
    pub(crate) unsafe fn admitted(&self) -> &T {
        // SAFETY: a live pass means the gate is Open or Closing, so the cell is initialized
        // (module docs, "Install → readers"), and it is not written until the pass has left
        // ("Readers → take").
        unsafe { (*self.value.as_ptr()).assume_init_ref() }
    }

    /// The gate inside, for the entry barrier.
    #[cfg(not(loom))]
    pub(crate) fn gate(&self) -> &Gate {
        &self.gate
    }

    /// Writes `value` into the cell.
    ///
    /// # Safety
    ///
    /// Only from an opening's `install` (lock held, state not open): no call reads the cell
    /// and it is empty, so nothing is overwritten.
    unsafe fn write(&self, value: T) {
        // SAFETY: no concurrent access, per the caller's contract.
        self.value.with_mut(|cell| unsafe { (*cell).write(value) });
    }

    fn install_now(&self, from: Reopen, value: T) -> Result<(), OpenError<T>> {
        let mut value = Some(value);
        let installed = self.gate.open_installing(from, || {
            if let Some(value) = value.take() {
                // SAFETY: `install` of an opening: lock held, state not open, cell empty.
                unsafe { self.write(value) };
            }
        });
        match (installed, value) {
            (Err(found), Some(value)) => Err(OpenError::new(value, found)),
            _ => Ok(()),
        }
    }

    fn install_after(
        &self,
        from: Reopen,
        init: impl FnOnce() -> T,
    ) -> Result<(), OpenError<Option<T>>> {
        let opening = self
            .gate
            .begin_opening(from)
            .map_err(|found| OpenError::new(None, found))?;
        let mut value = Some(init());
        opening.finish(|| {
            if let Some(value) = value.take() {
                // SAFETY: `install` of an opening: lock held, state not open, cell empty.
                unsafe { self.write(value) };
            }
        });
        match value {
            None => Ok(()),
            // `finish` did not install: a close came first. The value stays with its maker.
            Some(value) => Err(OpenError::closed_during_init(Some(value))),
        }
    }

    fn close_until(&self, wait: Wait) -> Result<Option<T>, CloseError> {
        self.gate.close_taking(wait, || {
            // SAFETY: `take` runs after the drain with the lock held and the state Closing:
            // the cell is initialized, no call reads it, and the state becomes Closed right
            // after, which marks the cell empty. So the value is moved out exactly once.
            self.value
                .with_mut(|cell| unsafe { (*cell).assume_init_read() })
        })
    }
}

impl<T> Drop for StateGate<T> {
    fn drop(&mut self) {
        if matches!(self.gate.state(), GateState::Open | GateState::Closing) {
            // SAFETY: `&mut self`: no pass is alive and nobody else can reach the gate. The
            // state says the cell is initialized; it is dropped once, here.
            self.value
                .with_mut(|cell| unsafe { (*cell).assume_init_drop() });
        }
    }
}

impl<T> Default for StateGate<T> {
    fn default() -> Self {
        StateGate::new()
    }
}

impl<T> fmt::Debug for StateGate<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateGate")
            .field("state", &self.state())
            .field("generation", &self.generation())
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

impl<T> Deref for StatePass<'_, T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: `self.pass` is alive, so the gate is Open or Closing: the cell holds the
        // value of the generation this call was admitted to, and nobody writes the cell until
        // the pass has left (module docs).
        unsafe { self.value.deref().assume_init_ref() }
    }
}

impl<T: fmt::Debug> fmt::Debug for StatePass<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StatePass").field(&**self).finish()
    }
}
