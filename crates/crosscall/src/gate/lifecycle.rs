//! The lifecycle gate: wait-until-open, drain-on-close, no shared writes on the fast path.

use crate::fence;
use crate::gate::close_wake;
use crate::gate::local;
use crate::gate::open_error::OpenError;
use crate::gate::slots::{
    self, depth, store_leaving, store_leaving_and_wake, Claim, PaddedSlot, SlotList, DEPTH_MASK,
    OUTERMOST_ENTRY,
};
use crate::gate::stats::{Counters, GateStats, WaitClock};
use crate::sync::{self, Arc, AtomicU8, AtomicUsize, Condvar, Mutex, MutexGuard, Ordering};
use crate::trace;
use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

// Internal states. `OPENING` is reported as `Uninit`: callers still wait. The open state
// also says how entries order their slot store before their state load (see `fence.rs`),
// chosen once by `open`, so the fast path needs one load and one compare:
// `OPEN_LIGHT`: a compiler fence (the closing side runs membarrier);
// `OPEN_FENCED`: `fence(SeqCst)` on both sides.
const UNINIT: u8 = 0;
const OPENING: u8 = 1;
const OPEN_LIGHT: u8 = 2;
const OPEN_FENCED: u8 = 3;
const CLOSING: u8 = 4;
const CLOSED: u8 = 5;

/// Source of gate ids, starting at 1 (0 means "no id yet"). Ids tell a live gate from a
/// dropped one that happened to live at the same address. Not part of any ordering argument
/// (an id is published through the gate's `key`).
static NEXT_ID: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// Low bits of a gate's `key`: how it admits. Neither is set while it is not open.
const KEY_BITS: u32 = 2;
/// Open, with membarrier on the closing side (`OPEN_LIGHT`).
const KEY_OPEN_LIGHT: usize = 1;
/// Open, with the `fence(SeqCst)` fallback (`OPEN_FENCED`).
const KEY_OPEN_FENCED: usize = 2;

/// The key a gate with id `id` has while it admits on the fast path without a fence; what a
/// thread caches beside its slot.
#[inline(always)]
pub(crate) fn open_key(id: usize) -> usize {
    id << KEY_BITS | KEY_OPEN_LIGHT
}

/// The id in a key (0: the gate has none yet).
#[inline(always)]
pub(crate) fn key_id(key: usize) -> usize {
    key >> KEY_BITS
}

/// The key bits for a state.
fn key_bits(state: u8) -> usize {
    match state {
        OPEN_LIGHT => KEY_OPEN_LIGHT,
        OPEN_FENCED => KEY_OPEN_FENCED,
        _ => 0,
    }
}

/// Lifecycle state of a [`Gate`]: `Uninit → Open → Closing → Closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GateState {
    /// Not opened yet (or initialization still running); `enter` waits.
    Uninit,
    /// Open: `enter` admits.
    Open,
    /// `close` has begun: admission has stopped, admitted calls are draining.
    Closing,
    /// Closed and drained: no call is inside and none can get in.
    Closed,
}

/// Why an entry was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnterError {
    /// The gate is closing or closed.
    Closed,
    /// The gate did not open in time (`try_enter` on a gate that is not open yet also
    /// returns this: it is an entry with a zero timeout).
    Timeout,
    /// The calling thread is running this gate's initialization (`open_with`), so waiting
    /// for the gate to open would never end (cf. golang/go#36530).
    WouldDeadlock,
}

/// Why `close` did not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseError {
    /// Admitted calls were still inside when the timeout ran out. The gate stays `Closing`
    /// (nothing new gets in); call `close` again to keep waiting.
    Timeout,
    /// The calling thread holds a [`Pass`] of this gate; waiting for it to leave would
    /// never end. The gate's state is left unchanged.
    WouldDeadlock,
}

impl fmt::Display for EnterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EnterError::Closed => "the gate is closed",
            EnterError::Timeout => "timed out waiting for the gate to open",
            EnterError::WouldDeadlock => {
                "entering would deadlock: this thread is running the gate's initialization"
            }
        })
    }
}

impl std::error::Error for EnterError {}

impl fmt::Display for CloseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CloseError::Timeout => "timed out waiting for in-flight calls to leave the gate",
            CloseError::WouldDeadlock => {
                "closing would deadlock: this thread is inside the gate it is closing"
            }
        })
    }
}

impl std::error::Error for CloseError {}

/// The lifecycle of a library that foreign threads call into.
///
/// `Uninit → Open → Closing → Closed`. [`enter`](Gate::enter) before [`open`](Gate::open)
/// waits (as cgo callbacks wait for the Go runtime), after [`close`](Gate::close) is
/// refused; `close` stops admission and waits until every admitted call has left.
///
/// # Cost
///
/// While open, `enter` + leave touch only a cache line owned by the calling thread and lines
/// that are only read (the gate's state): no lock, no syscall, no shared write, so the cost
/// stays flat as threads are added. Where `membarrier(2)` is available the entering side
/// needs no hardware fence either; the closing side pays one `membarrier` call (a few µs).
/// Elsewhere both sides use `fence(SeqCst)` (see [`Gate::new_fence_fallback`]). Leaving is
/// one store to the thread's own slot and one load of a flag beside it that is set only
/// while a `close` drains; the last call to leave then wakes the closer.
///
/// A thread that has entered one gate finds its slot in a thread-local front entry; a thread
/// that has entered several keeps them in a direct-mapped per-thread table of 8 (one entry
/// per gate, gates numbered in order of first use) and a 64-entry spill table behind it, so
/// alternating between several gates, or nesting one inside another, costs a few
/// instructions more than one gate, not a slow path.
///
/// # Memory ordering
///
/// Everything written before [`open`](Gate::open) is visible to every admitted call
/// (Release/Acquire on the state). Everything an admitted call wrote is visible to the
/// thread whose [`close`](Gate::close) returned `Ok` (Release on leave, Acquire in the drain).
///
/// # Examples
///
/// ```
/// use crosscall::{Gate, GateState, EnterError};
///
/// static GATE: Gate = Gate::new();
///
/// // An exported callback would start like this.
/// fn callback() -> i32 {
///     match GATE.enter() {
///         Ok(_pass) => 42, // `_pass` leaves the gate when dropped
///         Err(_) => -1,
///     }
/// }
///
/// GATE.open();
/// assert_eq!(callback(), 42);
/// GATE.close().unwrap();
/// assert_eq!(GATE.state(), GateState::Closed);
/// assert_eq!(GATE.enter().err(), Some(EnterError::Closed));
/// assert_eq!(callback(), -1);
/// ```
pub struct Gate {
    state: AtomicU8,
    /// What the fast path reads: the gate's id shifted left by `KEY_BITS`, plus
    /// `KEY_OPEN_LIGHT` or `KEY_OPEN_FENCED` while it is open; 0 before the first entry
    /// assigns an id. A thread that finds it equal to the key it cached beside its slot
    /// (`open_key(id)`) is admitted: one comparison checks "this gate" and "open" at once.
    /// Written only under `lock`, always together with `state` (see `set_state`).
    key: AtomicUsize,
    /// `new_fence_fallback`: never open as `OPEN_LIGHT`.
    force_fence: bool,
    /// The entry of each thread's cache table (`local::CACHE_WAYS`) that holds this gate's
    /// slot; always `< CACHE_WAYS`. Set with the id (under `lock`, before the Release store
    /// of the key); read Relaxed by the fast path, which a wrong (stale 0) index only sends
    /// to the slow path, since the key comparison decides.
    cache_index: AtomicUsize,
    /// Slow-path counts for [`Gate::stats`]; the fast path never writes them.
    counters: Counters,
    slots: SlotList,
    /// Openings so far (`open`, `open_with`, `reopen`): the current generation. Written only
    /// under `lock`, before the Release stores of the open state and key that it numbers;
    /// never read on the fast path.
    generation: AtomicUsize,
    /// Guards state transitions and the thread running `open_with`; waiters sleep on `changed`.
    lock: Mutex<Transition>,
    /// Signalled on open, and on a close of a gate that never opened (entries waiting for it).
    changed: Condvar,
    /// Stand-in for the asymmetric fence pair under loom (see `Gate::try_admit_fenced`).
    #[cfg(loom)]
    loom_fence: AtomicUsize,
}

struct Transition {
    opener: Option<sync::ThreadId>,
}

/// Proof that the calling thread is inside a [`Gate`]; it leaves the gate when dropped,
/// including while a panic unwinds.
///
/// A `Pass` cannot be sent to another thread: the gate counts entries per thread.
#[must_use = "the call leaves the gate as soon as the Pass is dropped"]
pub struct Pass<'g> {
    gate: &'g Gate,
    /// This thread's slot. Bit 0 set: a temporary slot whose `Arc` this pass owns (see
    /// `slots::Claim::Temporary`); slots are cache-line aligned, so the bit is free.
    slot: *const PaddedSlot,
    _not_send: PhantomData<*const ()>,
}

/// Tag bit of `Pass::slot` for temporary slots.
const TEMPORARY: usize = 1;

impl Gate {
    /// A new gate in the `Uninit` state whose entries use the fastest fence available
    /// (`membarrier(2)` on the closing side when the kernel offers it, detected when the gate
    /// opens).
    ///
    /// ```
    /// static GATE: crosscall::Gate = crosscall::Gate::new();
    /// assert_eq!(GATE.state(), crosscall::GateState::Uninit);
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Gate {
        Gate::with(false, false)
    }

    /// A new gate that never relies on `membarrier(2)`: entering runs `fence(SeqCst)`
    /// (~10 ns more per call, still no shared write) and closing runs one too. For platforms
    /// or sandboxes where `membarrier` is missing this is chosen automatically; this
    /// constructor forces it (tests, benchmarks). Setting the environment variable
    /// `CROSSCALL_DISABLE_MEMBARRIER=1` before first use forces it for every gate.
    ///
    /// ```
    /// static GATE: crosscall::Gate = crosscall::Gate::new_fence_fallback();
    /// GATE.open();
    /// assert!(GATE.enter().is_ok());
    /// assert!(!GATE.uses_membarrier());
    /// ```
    #[cfg(not(loom))]
    pub const fn new_fence_fallback() -> Gate {
        Gate::with(true, false)
    }

    /// Not public API: a gate for the C API, whose entries have no `Pass` and end when
    /// their thread exits (`crosscall_gate_enter` without a matching leave).
    #[doc(hidden)]
    #[cfg(not(loom))]
    pub const fn __new_leave_at_exit() -> Gate {
        Gate::with(false, true)
    }

    #[cfg(not(loom))]
    const fn with(force_fence: bool, leave_at_exit: bool) -> Gate {
        Gate {
            state: AtomicU8::new(UNINIT),
            force_fence,
            cache_index: AtomicUsize::new(0),
            counters: Counters::new(),
            key: AtomicUsize::new(0),
            slots: SlotList::new(leave_at_exit),
            generation: AtomicUsize::new(0),
            lock: Mutex::new(Transition { opener: None }),
            changed: Condvar::new(),
        }
    }

    /// A new gate (loom build: not `const`; entries take the membarrier path, whose fence
    /// pair loom models with a read-modify-write on both sides).
    #[cfg(loom)]
    pub fn new() -> Gate {
        Gate::with_loom(false)
    }

    /// A new gate that uses the `fence(SeqCst)` fallback (loom build).
    #[cfg(loom)]
    pub fn new_fence_fallback() -> Gate {
        Gate::with_loom(true)
    }

    #[cfg(loom)]
    fn with_loom(force_fence: bool) -> Gate {
        // Gate ids come from a process-wide counter that loom does not reset between
        // executions, so the cache entry cannot follow them: gates take entries in the order
        // a model makes them (a counter loom resets), as gates of a program do.
        loom::lazy_static! {
            static ref MADE: AtomicUsize = AtomicUsize::new(0);
        }
        let made = MADE.fetch_add(1, Ordering::Relaxed);
        Gate {
            state: AtomicU8::new(UNINIT),
            force_fence,
            cache_index: AtomicUsize::new(local::id_index(made)),
            counters: Counters::new(),
            key: AtomicUsize::new(0),
            slots: SlotList::new(false),
            generation: AtomicUsize::new(0),
            lock: Mutex::new(Transition { opener: None }),
            changed: Condvar::new(),
            loom_fence: AtomicUsize::new(0),
        }
    }

    /// Marks initialization done: wakes every waiting `enter` and admits from now on.
    /// Does nothing if the gate is already open, closing or closed (a closed gate opens
    /// again only through [`reopen`](Gate::reopen)).
    ///
    /// ```
    /// let gate = crosscall::Gate::new();
    /// gate.open();
    /// assert_eq!(gate.state(), crosscall::GateState::Open);
    /// ```
    pub fn open(&self) {
        let _guard = self.transition();
        let state = self.state.load(Ordering::Relaxed);
        if state == UNINIT || state == OPENING {
            self.publish_open();
        }
    }

    /// Runs `init` and then opens the gate, unless another thread is already opening it or
    /// it was opened or closed before; in that case `init` does not run and `None` is
    /// returned.
    ///
    /// While `init` runs, other threads' `enter` waits; an `enter` from inside `init`, on
    /// this thread, returns [`EnterError::WouldDeadlock`] instead of waiting for itself. If
    /// `init` panics the gate goes back to `Uninit` (waiters keep waiting) and the panic
    /// continues.
    ///
    /// ```
    /// use crosscall::{Gate, EnterError};
    /// let gate = Gate::new();
    /// let value = gate.open_with(|| {
    ///     assert_eq!(gate.enter().err(), Some(EnterError::WouldDeadlock));
    ///     7
    /// });
    /// assert_eq!(value, Some(7));
    /// assert!(gate.enter().is_ok());
    /// ```
    pub fn open_with<R>(&self, init: impl FnOnce() -> R) -> Option<R> {
        let opening = self.begin_opening(Reopen::No).ok()?;
        let value = init();
        opening.finish(|| ());
        Some(value)
    }

    /// Opens a `Closed` gate again: a new [generation](Gate::generation) begins and `enter`
    /// admits once more. Threads keep the slots they had (no re-registration).
    ///
    /// Plain [`open`](Gate::open) never does this, so code that treats "closed" as final
    /// keeps its meaning; reopening is the explicit init → shutdown → init cycle (as
    /// `SDL_Init`/`SDL_Quit` allow, and as test suites need). Calls refused while the gate
    /// was closed stay refused; callers that arrive after `reopen` are admitted.
    ///
    /// # Errors
    ///
    /// [`OpenError`] if the gate is not `Closed` (never opened, open, or still closing);
    /// nothing changes then.
    ///
    /// ```
    /// use crosscall::{Gate, GateState};
    /// let gate = Gate::new();
    /// assert!(gate.reopen().is_err()); // never opened: use `open`
    /// gate.open();
    /// gate.close().unwrap();
    /// gate.open(); // refused: closed stays closed...
    /// assert_eq!(gate.state(), GateState::Closed);
    /// gate.reopen().unwrap(); // ...unless reopened explicitly
    /// assert_eq!(gate.generation(), 2);
    /// assert!(gate.enter().is_ok());
    /// ```
    pub fn reopen(&self) -> Result<(), OpenError> {
        self.open_installing(Reopen::Yes, || ())
            .map_err(|found| OpenError::new((), found))
    }

    /// How many times the gate has been opened: 0 before the first opening, 1 after it, and
    /// one more for every [`reopen`](Gate::reopen). Inside a [`Pass`] this is the generation
    /// the call was admitted to (it cannot change until the call has left).
    ///
    /// ```
    /// let gate = crosscall::Gate::new();
    /// assert_eq!(gate.generation(), 0);
    /// gate.open();
    /// assert_eq!(gate.generation(), 1);
    /// ```
    pub fn generation(&self) -> u64 {
        // Relaxed: written under the lock before the Release store of the open state, so a
        // caller admitted by that state (Acquire) sees it; elsewhere it is a snapshot.
        self.generation.load(Ordering::Relaxed) as u64
    }

    // ---- opening (shared with `StateGate` and the C API's state) -----------------------

    /// Stores the open state (with the lock held): a new generation begins.
    fn publish_open(&self) {
        // Relaxed: ordered before the open state by the Release store below.
        let generation = self.generation.load(Ordering::Relaxed);
        self.generation.store(generation + 1, Ordering::Relaxed);
        // Release (in `set_state`, on the state and the key): what the opener wrote (and
        // `install`ed) is visible to whoever loads the open state or key with Acquire, i.e.
        // to every admitted call.
        self.set_state(self.open_state());
        self.changed.notify_all();
    }

    /// Opens the gate now if it is `Uninit` (`Reopen::No`) or `Closed` (`Reopen::Yes`):
    /// runs `install` with the transition lock held, then publishes the open state.
    ///
    /// `install` is where a state-carrying gate writes its state: nobody is admitted while
    /// the state is not open, so it writes without a race, and the Release store that
    /// follows publishes the write to every call admitted in the new generation. It runs
    /// under the lock, so it must not call back into this gate (moving a value in is fine).
    ///
    /// # Errors
    ///
    /// The state found when it is not the one `reopen` asks for; `install` did not run.
    #[doc(hidden)]
    pub fn __open_installing(&self, reopen: bool, install: impl FnOnce()) -> Result<(), GateState> {
        let from = if reopen { Reopen::Yes } else { Reopen::No };
        self.open_installing(from, install)
            .map_err(|found| OpenError::new((), found).state())
    }

    /// [`Gate::__open_installing`] for this crate, with the finer state it found.
    pub(crate) fn open_installing(
        &self,
        from: Reopen,
        install: impl FnOnce(),
    ) -> Result<(), Found> {
        let _guard = self.transition();
        let found = Found::of(self.state.load(Ordering::Relaxed));
        if found != from.expects() {
            return Err(found);
        }
        install();
        self.publish_open();
        Ok(())
    }

    /// Starts an opening whose initializer runs without the lock: the state becomes
    /// `OPENING` (callers wait; an entry from this thread is refused as `WouldDeadlock`).
    /// Finish with [`Opening::finish`]; dropping the `Opening` instead (a panicking
    /// initializer) puts the state back.
    pub(crate) fn begin_opening(&self, from: Reopen) -> Result<Opening<'_>, Found> {
        let mut t = self.transition();
        let found = Found::of(self.state.load(Ordering::Relaxed));
        if found != from.expects() {
            return Err(found);
        }
        t.opener = Some(sync::current_thread_id());
        self.set_state(OPENING);
        Ok(Opening {
            gate: self,
            back_to: if from == Reopen::Yes { CLOSED } else { UNINIT },
        })
    }

    /// Enters the gate, waiting while it is not open yet.
    ///
    /// # Errors
    ///
    /// [`EnterError::Closed`] once `close` has begun (also for nested entries: a thread
    /// already inside cannot re-enter a closing gate); [`EnterError::WouldDeadlock`] when
    /// called from the `open_with` initializer of this gate.
    ///
    /// ```
    /// let gate = crosscall::Gate::new();
    /// gate.open();
    /// let outer = gate.enter().unwrap();
    /// let inner = gate.enter().unwrap(); // nested entry on one thread is fine
    /// assert_eq!(gate.in_flight(), 2);
    /// drop((inner, outer));
    /// assert_eq!(gate.in_flight(), 0);
    /// ```
    #[inline]
    pub fn enter(&self) -> Result<Pass<'_>, EnterError> {
        if let Some(pass) = self.enter_fast() {
            return Ok(pass);
        }
        self.enter_slow(Wait::Forever)
    }

    /// Enters the gate if it is open, without waiting.
    ///
    /// # Errors
    ///
    /// [`EnterError::Timeout`] if the gate is not open yet, [`EnterError::Closed`] if it is
    /// closing or closed.
    ///
    /// ```
    /// use crosscall::{Gate, EnterError};
    /// let gate = Gate::new();
    /// assert_eq!(gate.try_enter().err(), Some(EnterError::Timeout));
    /// gate.open();
    /// assert!(gate.try_enter().is_ok());
    /// ```
    #[inline]
    pub fn try_enter(&self) -> Result<Pass<'_>, EnterError> {
        if let Some(pass) = self.enter_fast() {
            return Ok(pass);
        }
        self.enter_slow(Wait::Never)
    }

    /// Enters the gate, waiting at most `timeout` for it to open.
    ///
    /// # Errors
    ///
    /// As [`enter`](Gate::enter), plus [`EnterError::Timeout`] when the gate did not open in
    /// time.
    ///
    /// ```
    /// use std::time::Duration;
    /// use crosscall::{Gate, EnterError};
    /// let gate = Gate::new();
    /// assert_eq!(gate.enter_timeout(Duration::from_millis(1)).err(), Some(EnterError::Timeout));
    /// ```
    #[inline]
    pub fn enter_timeout(&self, timeout: Duration) -> Result<Pass<'_>, EnterError> {
        if let Some(pass) = self.enter_fast() {
            return Ok(pass);
        }
        self.enter_slow(Wait::until(timeout))
    }

    /// Stops admission and waits until every admitted call has left. Afterwards the gate is
    /// `Closed`: no call is inside and none can get in. Closing a closed gate returns `Ok`;
    /// closing a gate that was never opened closes it at once (its waiters get
    /// [`EnterError::Closed`]).
    ///
    /// # Errors
    ///
    /// [`CloseError::WouldDeadlock`] if the calling thread holds a [`Pass`] of this gate
    /// (the gate is left as it was).
    ///
    /// ```
    /// use crosscall::{Gate, CloseError};
    /// let gate = Gate::new();
    /// gate.open();
    /// let pass = gate.enter().unwrap();
    /// assert_eq!(gate.close(), Err(CloseError::WouldDeadlock));
    /// drop(pass);
    /// assert_eq!(gate.close(), Ok(()));
    /// ```
    pub fn close(&self) -> Result<(), CloseError> {
        self.close_until(Wait::Forever)
    }

    /// Like [`close`](Gate::close), but waits at most `timeout` for admitted calls to leave.
    ///
    /// # Errors
    ///
    /// As `close`, plus [`CloseError::Timeout`]: calls were still inside; the gate stays
    /// `Closing` and admits nobody; call `close` or `close_timeout` again to keep waiting.
    ///
    /// ```
    /// use std::time::Duration;
    /// use crosscall::{Gate, GateState, CloseError};
    /// let gate = Gate::new();
    /// gate.open();
    /// std::thread::scope(|s| {
    ///     let pass = gate.enter().unwrap();
    ///     s.spawn(|| {
    ///         assert_eq!(gate.close_timeout(Duration::from_millis(5)), Err(CloseError::Timeout));
    ///         assert_eq!(gate.state(), GateState::Closing);
    ///     }).join().unwrap();
    ///     drop(pass);
    /// });
    /// assert_eq!(gate.close(), Ok(()));
    /// ```
    pub fn close_timeout(&self, timeout: Duration) -> Result<(), CloseError> {
        self.close_until(Wait::until(timeout))
    }

    /// The current lifecycle state (a snapshot: it may change right after).
    pub fn state(&self) -> GateState {
        match self.state.load(Ordering::Acquire) {
            UNINIT | OPENING => GateState::Uninit,
            OPEN_LIGHT | OPEN_FENCED => GateState::Open,
            CLOSING => GateState::Closing,
            _ => GateState::Closed,
        }
    }

    /// How many admitted calls have not left yet, nested ones included. While the gate is
    /// open this is a snapshot that may be stale by the time it returns (and may briefly
    /// count an entry that is about to be refused); once `close` has returned it is exactly 0.
    pub fn in_flight(&self) -> usize {
        match self.state.load(Ordering::Acquire) {
            // Nobody is admitted before open, and a Closed gate has drained; a nonzero slot
            // then can only be an entry that is about to see the state and back out.
            UNINIT | OPENING | CLOSED => 0,
            _ => self.announced(),
        }
    }

    /// What the gate has done so far: admitted and refused entries, waits for `open`, slow
    /// paths, threads, closes and drain times (see [`GateStats`]). Takes no lock and writes
    /// nothing, so it never delays an entry; cost grows with the number of threads that
    /// entered (one read of each one's slot).
    ///
    /// ```
    /// let gate = crosscall::Gate::new();
    /// gate.open();
    /// let pass = gate.enter().unwrap();
    /// let stats = gate.stats();
    /// assert_eq!((stats.admitted, stats.in_flight, stats.threads), (1, 1, 1));
    /// drop(pass);
    /// ```
    pub fn stats(&self) -> GateStats {
        let (mut admitted, mut threads) = (0u64, 0u64);
        for slot in self.slots.iter() {
            // Acquire: as in `announced`.
            let word = slot.word.load(Ordering::Acquire);
            admitted = admitted.wrapping_add(slots::outermost_entries(word) as u64);
            threads += u64::from(slot.owned());
        }
        // An announcement about to be withdrawn (a refused entry) is not an admission.
        let in_flight = self.in_flight() as u64;
        self.counters.snapshot(
            self.state(),
            self.generation(),
            admitted,
            in_flight,
            threads,
        )
    }

    /// Sum of all slot depths: admitted calls plus entries about to be refused.
    fn announced(&self) -> usize {
        // Acquire pairs with the Release store in `Pass::drop`.
        self.slots
            .iter()
            .map(|slot| depth(slot.word.load(Ordering::Acquire)))
            .sum()
    }

    /// Whether this gate's entries rely on `membarrier(2)` (once opened; before that,
    /// whether they will). `false` means the `fence(SeqCst)` fallback.
    pub fn uses_membarrier(&self) -> bool {
        match self.state.load(Ordering::Acquire) {
            OPEN_LIGHT => true,
            OPEN_FENCED => false,
            _ => self.open_state() == OPEN_LIGHT,
        }
    }

    /// The open state this gate uses (see the state constants).
    fn open_state(&self) -> u8 {
        if !self.force_fence && fence::membarrier_available() {
            OPEN_LIGHT
        } else {
            OPEN_FENCED
        }
    }

    /// Number of per-thread slots this gate has allocated (for tests of slot recycling).
    #[doc(hidden)]
    pub fn __slot_count(&self) -> usize {
        self.slots.len()
    }

    // ---- entering -------------------------------------------------------------------

    /// The fast path of every `enter` form: admitted at once, or `None` (nothing entered;
    /// take the slow path). Never panics, never blocks, writes only this thread's slot.
    #[inline(always)]
    pub(crate) fn enter_fast(&self) -> Option<Pass<'_>> {
        let slot = match self.enter_fast_slot() {
            Some(slot) => slot,
            None => self.enter_cached()?,
        };
        Some(Pass {
            gate: self,
            slot,
            _not_send: PhantomData,
        })
    }

    /// The shortest path in: this thread's cached slot, at depth 0, on an open gate that uses
    /// membarrier. Returns the slot entered (leave with [`leave_entered`] on this thread), or
    /// `None` with nothing entered: nesting, the fence fallback, a first entry, a gate not
    /// open all go elsewhere, so this path has no call in it and costs about a dozen
    /// instructions. Never panics.
    ///
    /// The front entry first (a thread's only gate is there: the one-gate path reads nothing
    /// else), then the gate's entry in the thread's table (a thread with several gates keeps
    /// its front entry empty, so it goes past it after one load and test).
    #[inline(always)]
    pub(crate) fn enter_fast_slot(&self) -> Option<*const PaddedSlot> {
        let (cached_key, slot, _) = local::front();
        if let Some(slot) = self.enter_cached_slot(cached_key, slot) {
            return Some(slot);
        }
        // SAFETY: `cache_index` is always `< CACHE_WAYS`.
        let (cached_key, slot) = unsafe { local::cached(self.cache_index()) };
        self.enter_cached_slot(cached_key, slot)
    }

    /// This gate's entry in the threads' cache tables.
    #[inline(always)]
    fn cache_index(&self) -> usize {
        // Relaxed: see `cache_index`.
        self.cache_index.load(Ordering::Relaxed)
    }

    /// [`Gate::enter_fast_slot`] with the thread's cache already read.
    #[inline(always)]
    fn enter_cached_slot(
        &self,
        cached_key: usize,
        slot: *const PaddedSlot,
    ) -> Option<*const PaddedSlot> {
        if !local::SLOT_NEVER_NULL && slot.is_null() {
            return None;
        }
        // SAFETY: the cached slot is one this thread owns (for this gate or another one),
        // kept alive by the thread's `OwnedSlots`, or the private dummy slot of an empty
        // cache. If it is not this gate's, the keys differ and the announcement below is
        // withdrawn before anybody could act on it as an entry: a closer of that gate at
        // most waits one more poll.
        let word = &unsafe { &*slot }.word;
        // Only this thread writes its slot, so a load + store is enough (no RMW, no lock
        // prefix). Relaxed: ordering against the key load comes from the fences below.
        let w = word.load(Ordering::Relaxed);
        if depth(w) != 0 {
            return None;
        }
        word.store(w.wrapping_add(OUTERMOST_ENTRY), Ordering::Relaxed);
        // The entering half of the asymmetric fence pair (the closing half is in
        // `closing_barrier`): the closer's membarrier supplies the hardware barrier, so only
        // the compiler must be kept from moving the key load above the slot store.
        #[cfg(not(loom))]
        std::sync::atomic::compiler_fence(Ordering::SeqCst);
        // loom has no membarrier: both sides of the pair are a read-modify-write on one
        // location, which loom orders exactly (see `closing_barrier`).
        #[cfg(loom)]
        self.loom_fence.fetch_add(1, Ordering::AcqRel);
        // Acquire pairs with the Release store of the open key: the initialization is
        // visible to the admitted call. Equal keys: this thread's slot is this gate's, and
        // the gate is open (with membarrier on the closing side).
        let key = self.key.load(Ordering::Acquire);
        if key == cached_key {
            return Some(slot);
        }
        if key == cached_key ^ (KEY_OPEN_LIGHT | KEY_OPEN_FENCED) {
            // This gate, open with the fence fallback: the entering half of its fence pair is
            // a full fence between the slot store and the load that decides.
            #[cfg(not(loom))]
            std::sync::atomic::fence(Ordering::SeqCst);
            #[cfg(loom)]
            self.loom_fence.fetch_add(1, Ordering::AcqRel);
            // Acquire: as above.
            if self.key.load(Ordering::Acquire) == key {
                return Some(slot);
            }
        }
        // Not admitted on this path: withdraw (Release pairs with the closer's Acquire scan).
        // A closer of the slot's gate may wait for this; the slow path every caller takes
        // next wakes it (`enter_cached`, `slots::wake_if_armed`), so this exit has no call.
        word.store(w, Ordering::Release);
        None
    }

    /// [`Gate::enter`] after [`Gate::enter_fast_slot`] missed, for the panic barrier's slow
    /// path: the gate's own cached path (nesting, the fence fallback, a gate the spill table
    /// holds), then its slow path, without probing the front entry and the table again.
    ///
    /// # Errors
    ///
    /// As [`Gate::enter`].
    pub(crate) fn enter_after_miss(&self) -> Result<Pass<'_>, EnterError> {
        match self.enter_cached() {
            Some(slot) => Ok(Pass {
                gate: self,
                slot,
                _not_send: PhantomData,
            }),
            None => self.enter_slow(Wait::Forever),
        }
    }

    /// The fast path's other cases, with the slot already cached (in the table, or in the
    /// spill table: then it moves to the table): nesting, the fence fallback, and a gate
    /// whose table entry another gate took. `None`: not admitted, nothing entered.
    #[inline(never)]
    pub(crate) fn enter_cached(&self) -> Option<*const PaddedSlot> {
        // The fast path may have withdrawn an announcement from the cached slots it probed.
        slots::wake_if_armed(local::front().1);
        // SAFETY: `cache_index` is always `< CACHE_WAYS`.
        slots::wake_if_armed(unsafe { local::cached(self.cache_index()) }.1);
        // Closing or closed: refused without announcing (an announcement, withdrawn at once,
        // could still hold up a closer's scan). Relaxed: a hint; `try_admit` decides.
        if self.state.load(Ordering::Relaxed) >= CLOSING {
            return None;
        }
        let id = self.existing_id()?;
        let index = self.cache_index();
        let slot = match slots::cached(id, index) {
            Some(slot) => slot,
            // Another gate took the table entry: the spill table may still have ours.
            None => slots::refill(
                id,
                index,
                self as *const Gate as usize,
                self.slots.leave_at_exit(),
            )?,
        };
        // SAFETY: a cached slot for this gate's id is this thread's, alive as in
        // `enter_fast_slot`.
        (self.try_admit(unsafe { &*slot }) == Admit::Yes).then_some(slot)
    }

    /// Announces an entry in our own slot, then checks the state. If not admitted, the
    /// announcement is withdrawn. Never panics.
    #[inline]
    fn try_admit(&self, slot: &PaddedSlot) -> Admit {
        let word = &slot.word;
        // As in `enter_fast_slot`, plus nesting and the fence fallback.
        let w = word.load(Ordering::Relaxed);
        let announced = if depth(w) == 0 {
            w.wrapping_add(OUTERMOST_ENTRY)
        } else if depth(w) < DEPTH_MASK {
            w + 1
        } else {
            return Admit::TooDeep;
        };
        word.store(announced, Ordering::Relaxed);
        // The entering half of the fence pair, as in `enter_fast_slot`.
        #[cfg(not(loom))]
        std::sync::atomic::compiler_fence(Ordering::SeqCst);
        #[cfg(loom)]
        self.loom_fence.fetch_add(1, Ordering::AcqRel);
        // Acquire pairs with the Release store of the open state (`set_state`).
        if self.state.load(Ordering::Acquire) == OPEN_LIGHT {
            return Admit::Yes;
        }
        self.admit_fenced(slot, w)
    }

    /// The rest of an admission for gates without membarrier, and for refusals: `before` is
    /// the slot word before this entry announced itself.
    #[inline(never)]
    fn admit_fenced(&self, slot: &PaddedSlot, before: usize) -> Admit {
        if self.state.load(Ordering::Acquire) == OPEN_FENCED {
            // Both sides fence: the decision rests on a load after a full fence that
            // follows our slot store.
            #[cfg(not(loom))]
            std::sync::atomic::fence(Ordering::SeqCst);
            // loom models SeqCst fences only partially; a read-modify-write on one shared
            // location by both sides gives the same guarantee and loom checks it exactly.
            #[cfg(loom)]
            self.loom_fence.fetch_add(1, Ordering::AcqRel);
            if self.state.load(Ordering::Acquire) == OPEN_FENCED {
                return Admit::Yes;
            }
        }
        // Withdraw by restoring the word as it was (the outermost-entry count included: the
        // refused call never ran). Release pairs with the closer's Acquire scan, which may be
        // waiting for this.
        store_leaving_and_wake(slot, before);
        Admit::No
    }

    #[cold]
    fn enter_slow(&self, wait: Wait) -> Result<Pass<'_>, EnterError> {
        self.counters.slow_entry();
        let result = self.enter_slow_counted(wait);
        match result {
            // `try_enter` on a gate not open yet did not wait: not a refusal, not a timeout
            // (the C API probes with it before it waits).
            Err(EnterError::Timeout) if matches!(wait, Wait::Never) => {}
            Err(e) => {
                self.counters.refused(e);
                trace::refused(self, e);
            }
            Ok(_) => {}
        }
        result
    }

    fn enter_slow_counted(&self, wait: Wait) -> Result<Pass<'_>, EnterError> {
        // Attach before the slot is cached: a cached slot means "attached" to the fast path.
        crate::gate::attach::ensure_attached();
        loop {
            // Closing or closed: refused before claiming or announcing anything, so callers
            // retrying in a loop do not keep showing the closer announcements it must wait
            // out. The fast path may have withdrawn one from a slot no closer armed: wake.
            if matches!(self.state.load(Ordering::Acquire), CLOSING | CLOSED) {
                if close_wake::wake_sleeping() {
                    // A closer sleeps, most likely for a call that must get a CPU to leave,
                    // then for a CPU to return on: a caller refused in a loop would keep
                    // one from both. It has nothing to do until the gate reopens anyway.
                    #[cfg(not(loom))]
                    std::thread::yield_now();
                }
                return Err(EnterError::Closed);
            }
            // Try to get in (claims and caches this thread's slot on first use).
            let id = self.id();
            let addr = self as *const Gate as usize;
            match slots::claim_for(id, self.cache_index(), addr, &self.slots) {
                Claim::Owned(slot) => {
                    // SAFETY: the slot belongs to this gate's list, alive as long as `self`.
                    if admitted(self.try_admit(unsafe { &*slot })) {
                        return Ok(Pass {
                            gate: self,
                            slot,
                            _not_send: PhantomData,
                        });
                    }
                }
                Claim::Temporary(slot) => {
                    if admitted(self.try_admit(&slot)) {
                        let tagged = Arc::into_raw(slot) as usize | TEMPORARY;
                        return Ok(Pass {
                            gate: self,
                            slot: tagged as *const PaddedSlot,
                            _not_send: PhantomData,
                        });
                    }
                    slots::release_temporary(slot);
                }
            }
            // Refused without the lock when closing or closed (callers that retry in a loop
            // must not queue on the lock the closer takes to finish). Our withdrawn
            // announcement may be what a closer is waiting on (a slot claimed after the
            // closer armed the others does not wake it itself): wake it if one sleeps.
            if matches!(self.state.load(Ordering::Acquire), CLOSING | CLOSED) {
                if close_wake::wake_sleeping() {
                    // A closer sleeps, most likely for a call that must get a CPU to leave,
                    // then for a CPU to return on: a caller refused in a loop would keep
                    // one from both. It has nothing to do until the gate reopens anyway.
                    #[cfg(not(loom))]
                    std::thread::yield_now();
                }
                return Err(EnterError::Closed);
            }
            let t = self.transition();
            match self.state.load(Ordering::Acquire) {
                OPEN_LIGHT | OPEN_FENCED => continue, // opened between our check and the lock
                CLOSING | CLOSED => {
                    drop(t);
                    close_wake::wake();
                    return Err(EnterError::Closed);
                }
                _ => {}
            }
            if t.opener == Some(sync::current_thread_id()) {
                return Err(EnterError::WouldDeadlock);
            }
            if matches!(wait, Wait::Never) {
                return Err(EnterError::Timeout);
            }
            let waited = WaitClock::start();
            let outcome = self.wait_for_open(t, wait);
            let waited = waited.stop();
            self.counters.waited(waited);
            trace::waited(self, waited, outcome.is_ok());
            outcome?;
        }
    }

    /// Sleeps (holding `t` between checks) while the gate is not open yet, until `wait`
    /// runs out: `Err(Timeout)` then.
    fn wait_for_open<'a>(
        &'a self,
        mut t: MutexGuard<'a, Transition>,
        wait: Wait,
    ) -> Result<(), EnterError> {
        match wait {
            Wait::Never => Err(EnterError::Timeout),
            Wait::Forever => {
                while matches!(self.state.load(Ordering::Acquire), UNINIT | OPENING) {
                    t = self.changed.wait(t).unwrap_or_else(|e| e.into_inner());
                }
                Ok(())
            }
            Wait::Until(deadline) => {
                while matches!(self.state.load(Ordering::Acquire), UNINIT | OPENING) {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(EnterError::Timeout);
                    }
                    t = self.nap(t, deadline - now);
                }
                Ok(())
            }
        }
    }

    /// This gate's id, assigned on first use (under the lock, so `key` is only ever
    /// written there).
    fn id(&self) -> usize {
        if let Some(id) = self.existing_id() {
            return id;
        }
        let _t = self.transition();
        if let Some(id) = self.existing_id() {
            return id;
        }
        let fresh = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if fresh > usize::MAX >> (KEY_BITS + 1) {
            // A reused id could match a dead gate's key still cached by some thread, admitting
            // an entry its closer would not wait for. Unreachable on 64-bit targets (2^61
            // gates); on 32-bit ones after 2^29 gates created in one process.
            eprintln!("crosscall: gate ids exhausted (too many gates created in this process)");
            std::process::abort();
        }
        // The cache entry comes with the id: C API gates (which never move) hash their
        // address, as the C API's fast path does with the pointer it is given; Rust gates
        // take their turn. Relaxed: published by the Release store of the key below, and
        // only a hint to the fast path anyway (see `cache_index`).
        let index = if self.slots.leave_at_exit() {
            local::addr_index(self as *const Gate as usize)
        } else {
            local::id_index(fresh)
        };
        #[cfg(not(loom))] // under loom: set when made (`with_loom`)
        self.cache_index.store(index, Ordering::Relaxed);
        #[cfg(loom)]
        let _ = index;
        let bits = key_bits(self.state.load(Ordering::Relaxed));
        // Release: as in `set_state`.
        self.key.store(fresh << KEY_BITS | bits, Ordering::Release);
        fresh
    }

    fn existing_id(&self) -> Option<usize> {
        // Relaxed: the id is only compared with ids this thread cached itself.
        let id = key_id(self.key.load(Ordering::Relaxed));
        (id != 0).then_some(id)
    }

    /// Moves to state `new` and updates the fast path's `key` to match. Caller holds `lock`.
    ///
    /// Release on both stores: a thread that sees the new state or key (Acquire) sees what
    /// happened before the transition (the initialization, for an open). A closing
    /// transition is followed by `closing_barrier`, which orders both stores before the
    /// closer's slot scan.
    fn set_state(&self, new: u8) {
        self.state.store(new, Ordering::Release);
        let id_bits = self.key.load(Ordering::Relaxed) >> KEY_BITS << KEY_BITS;
        // No id yet: no thread has cached this gate, so no key bits are needed.
        let bits = if id_bits != 0 { key_bits(new) } else { 0 };
        self.key.store(id_bits | bits, Ordering::Release);
    }

    /// Whether the calling thread is inside this gate (holds a pass or a C API entry).
    pub(crate) fn entered_here(&self) -> bool {
        let Some(id) = self.existing_id() else {
            return false;
        };
        // SAFETY: an owned slot is alive while this thread and the gate's list hold it.
        slots::owned_slot(id, self.cache_index())
            .is_some_and(|slot| depth(unsafe { &*slot }.word.load(Ordering::Relaxed)) > 0)
    }

    /// The gate's slots (for grace periods).
    pub(crate) fn slot_list(&self) -> &SlotList {
        &self.slots
    }

    // ---- entries without a Pass (the C API) -------------------------------------------

    /// Not public API: keeps the entry `pass` stands for until [`Gate::__leave_held`] on
    /// this thread, instead of leaving when it drops. Gives the pass back (unheld) when it
    /// cannot be held: the thread is exiting and past the point where it could end the entry.
    #[doc(hidden)]
    #[inline(always)]
    pub fn __hold(pass: Pass<'_>) -> Result<(), Pass<'_>> {
        if pass.slot as usize & TEMPORARY != 0 {
            return Err(pass);
        }
        std::mem::forget(pass);
        Ok(())
    }

    /// Not public API: the fast path of `enter` for an entry held without a `Pass` (the C
    /// API), for a caller holding only a pointer that may not be a gate at all: `true` if
    /// admitted right away (then leave with [`Gate::__leave_held_fast_at`] or
    /// [`Gate::__leave_held`]); `false` means "take the slow path", nothing was entered.
    /// Never panics. `gate` is dereferenced only if it is the address of a gate this thread
    /// has cached (its front or table entry), so NULL, misaligned and foreign pointers are
    /// refused (`false`) without
    /// being read; a freed one most likely fails the key comparison (its key is no longer
    /// the open one this thread cached).
    ///
    /// # Safety
    ///
    /// If `gate` is the address of a gate this thread entered (and has cached), that gate must
    /// still be alive (not dropped or freed).
    #[doc(hidden)]
    #[inline(always)]
    pub unsafe fn __enter_held_fast_at(gate: *const Gate) -> bool {
        // The front entry first (the thread's gate, if it has entered only one), then the
        // gate's table entry, found by hashing the pointer as `Gate::id` did.
        let (mut cached_key, mut slot, addr) = local::front();
        if addr != gate as usize {
            // SAFETY: `addr_index` is always `< CACHE_WAYS`.
            let (table_key, table_slot, table_addr) =
                unsafe { local::cached_with_addr(local::addr_index(gate as usize)) };
            if table_addr != gate as usize {
                return false;
            }
            (cached_key, slot) = (table_key, table_slot);
        }
        // An empty cache's address matches some bit pattern too: on the portable path its
        // slot is NULL (refused here, before `gate` is read); on the initial-exec path it is
        // the address of a private gate that is never entered.
        if !local::SLOT_NEVER_NULL && slot.is_null() {
            return false;
        }
        // SAFETY: `gate` is the address this thread cached when it entered that gate, which
        // the caller promises is still alive, or (empty cache, initial-exec path) the private
        // never-entered gate of `local.rs`; either way non-NULL, aligned and a live `Gate`.
        let gate = unsafe { &*gate };
        gate.enter_cached_slot(cached_key, slot).is_some()
    }

    /// Not public API: [`Gate::__leave_held`] when `gate`'s slot is in this thread's cache;
    /// [`HeldLeave::NotLeft`] otherwise (nothing left: try `__leave_held`), and
    /// [`HeldLeave::LeftWake`] when a closer waits for this leave (call
    /// [`Gate::__wake_closers`] then, last: a tail call keeps the leave frameless). For a
    /// pointer that may not be a gate, as [`Gate::__enter_held_fast_at`]; `gate` is never
    /// dereferenced.
    #[doc(hidden)]
    #[inline(always)]
    pub fn __leave_held_fast_at(gate: *const Gate) -> HeldLeave {
        // As in `__enter_held_fast_at`: the front entry, then the gate's table entry.
        let (_, mut slot, addr) = local::front();
        if addr != gate as usize {
            // SAFETY: `addr_index` is always `< CACHE_WAYS`.
            let (_, table_slot, table_addr) =
                unsafe { local::cached_with_addr(local::addr_index(gate as usize)) };
            if table_addr != gate as usize {
                return HeldLeave::NotLeft;
            }
            slot = table_slot;
        }
        // The cached slot is the one this thread uses for the gate at `gate`: if a gate was
        // freed and another made at the same address, this thread has not entered the new one
        // (entering would have re-cached), and the old slot's depth is 0, so the leave is
        // refused. The gate itself is not read: leaving works the same while it is closing.
        // An empty cache's address may equal some bit pattern too: its slot is NULL on the
        // portable path (refused here) and the dummy of `local.rs` elsewhere, whose address
        // belongs to a private gate no handle points to.
        if !local::SLOT_NEVER_NULL && slot.is_null() {
            return HeldLeave::NotLeft;
        }
        leave_slot(slot)
    }

    /// Not public API: [`Gate::__enter_held_fast_at`] for a gate whose table entry another
    /// gate took (or that was never in it): probes the thread's spill table by address and,
    /// if the gate is there, moves it to the table and admits as the fast path does. `false`
    /// means "take the slow path", nothing was entered.
    ///
    /// # Safety
    ///
    /// As [`Gate::__enter_held_fast_at`] (read for the gate at the spill entry's address).
    #[doc(hidden)]
    #[inline(never)]
    pub unsafe fn __enter_held_refill_at(gate: *const Gate) -> bool {
        let Some((cached_key, slot)) = slots::refill_at(gate as usize) else {
            return false;
        };
        // SAFETY: the spill entry matched `gate`'s address: the gate this thread entered
        // there, alive by the caller's contract.
        let gate = unsafe { &*gate };
        gate.enter_cached_slot(cached_key, slot).is_some()
    }

    /// Not public API: [`Gate::__leave_held_fast_at`] through the spill table (a leave whose
    /// table entry another gate took meanwhile, as in a nested entry of two such gates).
    /// `gate` is never dereferenced.
    #[doc(hidden)]
    #[inline(never)]
    pub fn __leave_held_refill_at(gate: *const Gate) -> HeldLeave {
        match slots::refill_at(gate as usize) {
            Some((_, slot)) => leave_slot(slot),
            None => HeldLeave::NotLeft,
        }
    }

    /// Not public API: wakes closers waiting for a leave ([`HeldLeave::LeftWake`]).
    /// `extern "C"` only to say that it cannot unwind: a frameless caller (the C API's
    /// leave) can then reach it with a tail call.
    #[doc(hidden)]
    #[cold]
    pub extern "C" fn __wake_closers() {
        close_wake::wake();
    }

    /// The calling thread's slot of this gate, if it has one; allocates nothing, takes no
    /// lock (for `held.rs`).
    pub(crate) fn owned_slot_here(&self) -> Option<*const PaddedSlot> {
        self.existing_id()
            .and_then(|id| slots::owned_slot(id, self.cache_index()))
    }

    /// Not public API: leaves one held entry of this gate on the calling thread. `false`
    /// (and nothing changes) if the thread holds none. The C API's slow path: the thread's
    /// slot is looked up by gate id (the cached one first), so this works for any gate the
    /// thread entered, open or closing.
    #[doc(hidden)]
    pub fn __leave_held(&self) -> bool {
        let Some(slot) = self
            .existing_id()
            .and_then(|id| slots::owned_slot(id, self.cache_index()))
        else {
            return false;
        };
        match leave_slot(slot) {
            HeldLeave::Left => true,
            HeldLeave::LeftWake => {
                close_wake::wake();
                true
            }
            HeldLeave::NotLeft => false,
        }
    }

    // ---- closing ----------------------------------------------------------------------

    fn close_until(&self, wait: Wait) -> Result<(), CloseError> {
        self.close_taking(wait, || ()).map(drop)
    }

    /// `close` for callers that need the gate's state back: takes the C API's state
    /// (`timeout` `None` waits for ever). See [`Gate::close_taking`].
    ///
    /// # Errors
    ///
    /// As [`close_timeout`](Gate::close_timeout).
    #[doc(hidden)]
    pub fn __close_taking<R>(
        &self,
        timeout: Option<Duration>,
        take: impl FnOnce() -> R,
    ) -> Result<Option<R>, CloseError> {
        self.close_taking(timeout.map_or(Wait::Forever, Wait::until), take)
    }

    /// Closes like `close`; the thread that moves the gate from `Closing` to `Closed` (after
    /// the drain) runs `take` with the lock held and gets `Some` of its result. Every other
    /// successful close (already closed, never opened, or another closer finished the drain)
    /// gets `None`. So a state-carrying gate's value is taken exactly once per generation,
    /// after every call of that generation has left, and before a `reopen` can install the
    /// next one.
    pub(crate) fn close_taking<R>(
        &self,
        wait: Wait,
        take: impl FnOnce() -> R,
    ) -> Result<Option<R>, CloseError> {
        if self.entered_here() {
            return Err(CloseError::WouldDeadlock);
        }
        {
            let _t = self.transition();
            match self.state.load(Ordering::Relaxed) {
                UNINIT | OPENING => {
                    // Nobody was ever admitted; `open_with`'s opener finds CLOSED and does
                    // not open.
                    self.set_state(CLOSED);
                    self.changed.notify_all();
                    return Ok(None);
                }
                CLOSED => return Ok(None),
                OPEN_LIGHT | OPEN_FENCED => self.set_state(CLOSING),
                _ => {} // CLOSING: an earlier close timed out or another thread is closing
            }
        }
        let started = WaitClock::start();
        trace::close_started(self);
        // Ask every slot's owner to wake us when it leaves, before the barrier: then one
        // barrier serves both purposes. After it, every entering thread either announced
        // itself in a slot we are about to read, or will read CLOSING; and every leave is
        // either seen by our scans or sees its slot armed and wakes us (`close_wake`).
        let mut armed = self.slots.arm(std::ptr::null_mut());
        self.closing_barrier();
        // A thread admitted just before CLOSING may have added its slot after we armed: the
        // barrier made its announcement (and so its slot) visible, so arm what is new, and
        // order that too. Slots added later belong to entries that see CLOSING and are
        // refused; a refusal wakes closers itself (`enter_slow`).
        let newer = self.slots.arm(armed);
        if newer != armed {
            armed = newer;
            self.closing_barrier();
        }

        // Drain: sleep until the slots read 0, woken by the last call to leave. Another
        // closer finishing the drain (and a `reopen` may even have followed) also ends the
        // wait: the calls this close waits for have all left; do not wait for the next
        // generation's.
        let backstop = if self.open_state() == OPEN_LIGHT {
            close_wake::BACKSTOP
        } else {
            close_wake::BACKSTOP_FENCED
        };
        let drained = close_wake::wait_until(
            || self.announced() == 0 || self.state.load(Ordering::Acquire) != CLOSING,
            wait.deadline(),
            backstop,
        );
        self.slots.disarm(armed);
        if !drained {
            return Err(CloseError::Timeout);
        }
        let t = self.transition();
        if self.state.load(Ordering::Relaxed) != CLOSING {
            return Ok(None); // another closer finished first
        }
        // The scan above saw every slot at 0 with Acquire, pairing with each leaving call's
        // Release: every access of this generation's calls happened before `take`.
        let taken = take();
        // No `changed.notify_all()` (a futex wake syscall even with nobody waiting): only
        // entries waiting for an opening wait on `changed`, and this gate was open.
        self.set_state(CLOSED);
        drop(t);
        // Other closers of this gate may be waiting in `close_wake` for this state change
        // (the state store above comes before the check in `wake`).
        close_wake::wake();
        let drain = started.stop();
        self.counters.drained(drain);
        trace::close_finished(self, drain);
        Ok(Some(taken))
    }

    /// Stops admission without waiting for the admitted calls (the Poison panic policy,
    /// `panic_policy.rs`): an open gate becomes `Closing`, as a timed-out `close` leaves it;
    /// a later [`close`](Gate::close) drains and finishes. Other states are left alone.
    pub(crate) fn begin_close(&self) {
        {
            let _t = self.transition();
            if !matches!(self.state.load(Ordering::Relaxed), OPEN_LIGHT | OPEN_FENCED) {
                return;
            }
            self.set_state(CLOSING);
        }
        // As in `close_taking`: entries that did not announce before this see CLOSING.
        self.closing_barrier();
    }

    /// The closing half of the asymmetric fence pair (the entering half is in `try_admit`):
    /// orders this thread's earlier stores (the CLOSING state, an unlinked object) before
    /// its later loads of the slots, against every entering thread's slot store and later
    /// loads.
    pub(crate) fn closing_barrier(&self) {
        #[cfg(not(loom))]
        {
            // `open_state` never changes, so it is the state this gate was opened with.
            if self.open_state() == OPEN_LIGHT {
                fence::heavy_barrier();
            } else {
                std::sync::atomic::fence(Ordering::SeqCst);
            }
        }
        #[cfg(loom)]
        self.loom_fence.fetch_add(1, Ordering::AcqRel);
    }

    /// Sleeps on `changed` for at most `d` (or until notified), releasing the lock meanwhile.
    fn nap<'a>(
        &'a self,
        guard: MutexGuard<'a, Transition>,
        d: Duration,
    ) -> MutexGuard<'a, Transition> {
        #[cfg(not(loom))]
        {
            match self.changed.wait_timeout(guard, d) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            }
        }
        #[cfg(loom)]
        {
            // loom has no clock: a timed wait is "release the lock and let others run".
            let _ = d;
            drop(guard);
            loom::thread::yield_now();
            self.transition()
        }
    }

    fn transition(&self) -> MutexGuard<'_, Transition> {
        // A panic while holding this lock cannot leave `Transition` inconsistent (it is one
        // Option written in a single assignment), so poisoning is ignored.
        self.lock.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for Gate {
    fn default() -> Self {
        Gate::new()
    }
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("state", &self.state())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

impl Pass<'_> {
    /// The gate this pass is for.
    pub fn gate(&self) -> &Gate {
        self.gate
    }
}

impl Drop for Pass<'_> {
    /// Leaves the gate: one store to this thread's own slot, then one load of the flag beside
    /// it that says a closer waits (see `close_wake`).
    ///
    /// Once that store is visible a closer may return and the gate's owner may free it, so
    /// leaving never touches the gate: a closer to wake is woken through the slot's flag and
    /// a process-wide condvar.
    #[inline]
    fn drop(&mut self) {
        if self.slot as usize & TEMPORARY != 0 {
            leave_temporary(self.slot);
            return;
        }
        // SAFETY: an untagged slot belongs to `self.gate`'s list, which lives at least as
        // long as the borrow `'g` this pass holds.
        let slot = unsafe { &*self.slot };
        // Only this thread writes its slot: load + store, no read-modify-write.
        let w = slot.word.load(Ordering::Relaxed);
        debug_assert!(depth(w) > 0, "leave without a matching entry");
        store_leaving_and_wake(slot, w.wrapping_sub(1));
    }
}

/// Outcome of one admission attempt.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Admit {
    Yes,
    /// Refused by the state; the announcement was withdrawn.
    No,
    /// The slot's depth is at its maximum; nothing was announced.
    TooDeep,
}

/// `try_admit`'s outcome on the slow path, where nesting too deep is reported.
///
/// # Panics
///
/// On [`Admit::TooDeep`].
fn admitted(outcome: Admit) -> bool {
    match outcome {
        Admit::Yes => true,
        Admit::No => false,
        // Only reachable by leaking passes (`mem::forget`) or by C entries never left.
        Admit::TooDeep => {
            panic!("crosscall: more than {DEPTH_MASK} nested entries of one gate on one thread")
        }
    }
}

/// Leaves the entry made by [`Gate::enter_fast_slot`] on this thread. `true` when a closer
/// waits for this leave: hand the call's result to [`wake_closers_with`] then, last, so that
/// it is a tail call and the fast path around it keeps no register across a call.
#[must_use = "a closer may be waiting: return the result through wake_closers_with"]
#[inline(always)]
pub(crate) fn leave_entered(slot: *const PaddedSlot) -> bool {
    // SAFETY: `slot` came from `enter_fast_slot` on this thread: its own owned slot, alive
    // while the thread and the gate's list hold it.
    let slot = unsafe { &*slot };
    let w = slot.word.load(Ordering::Relaxed);
    store_leaving(slot, w.wrapping_sub(1))
}

/// Wakes the closers a leave found waiting ([`leave_entered`]), then returns `value`.
/// `extern "C"`: cannot unwind, so the caller needs no landing pad (Rust-to-Rust only).
#[cold]
#[inline(never)]
#[allow(improper_ctypes_definitions)]
pub(crate) extern "C" fn wake_closers_with<T>(value: T) -> T {
    close_wake::wake();
    // Opaque to the optimizer: a caller that knew the result is the argument would keep the
    // argument in a saved register across the call instead of tail-calling.
    std::hint::black_box(value)
}

/// Not public API: what [`Gate::__leave_held_fast_at`] did.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldLeave {
    /// Left one entry.
    Left,
    /// Left one entry, and a closer waits: call [`Gate::__wake_closers`].
    LeftWake,
    /// Nothing left here (not this thread's cached gate, or no entry held): take the slow
    /// path.
    NotLeft,
}

/// Leaves one entry held in `slot` (the calling thread's); `NotLeft` if it holds none.
#[inline(always)]
fn leave_slot(slot: *const PaddedSlot) -> HeldLeave {
    // SAFETY: `slot` is the calling thread's own slot (cached or owned), alive while the
    // thread and the gate's list hold it.
    let slot = unsafe { &*slot };
    let w = slot.word.load(Ordering::Relaxed);
    if depth(w) == 0 {
        return HeldLeave::NotLeft;
    }
    if store_leaving(slot, w - 1) {
        HeldLeave::LeftWake
    } else {
        HeldLeave::Left
    }
}

#[cold]
fn leave_temporary(tagged: *const PaddedSlot) {
    let raw = (tagged as usize & !TEMPORARY) as *const PaddedSlot;
    // SAFETY: a tagged pointer came from `Arc::into_raw` in `enter_slow`, and this pass owns
    // that reference; it keeps the slot alive even if the gate is freed once depth is 0.
    let slot = unsafe { Arc::from_raw(raw) };
    // A temporary slot serves exactly one entry, so its depth goes from 1 to 0.
    let w = slot.word.load(Ordering::Relaxed);
    store_leaving_and_wake(&slot, w.wrapping_sub(1));
    slots::release_temporary(slot);
}

impl fmt::Debug for Pass<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pass").finish_non_exhaustive()
    }
}

/// How long a slow-path operation may wait.
#[derive(Clone, Copy)]
pub(crate) enum Wait {
    Never,
    Forever,
    Until(Instant),
}

impl Wait {
    pub(crate) fn until(timeout: Duration) -> Wait {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => Wait::Until(deadline),
            None => Wait::Forever, // a timeout past the end of time is no timeout
        }
    }
    fn deadline(self) -> Option<Instant> {
        match self {
            Wait::Until(d) => Some(d),
            _ => None,
        }
    }
}

/// Which opening a transition is: the first (`Uninit → Open`) or a reopening
/// (`Closed → Open`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reopen {
    No,
    Yes,
}

impl Reopen {
    fn expects(self) -> Found {
        match self {
            Reopen::No => Found::Uninit,
            Reopen::Yes => Found::Closed,
        }
    }
}

/// The internal state an opening found, for its error (finer than [`GateState`]: it tells
/// "another thread is initializing" from "never opened").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    Uninit,
    Opening,
    Open,
    Closing,
    Closed,
}

impl Found {
    fn of(state: u8) -> Found {
        match state {
            UNINIT => Found::Uninit,
            OPENING => Found::Opening,
            OPEN_LIGHT | OPEN_FENCED => Found::Open,
            CLOSING => Found::Closing,
            _ => Found::Closed,
        }
    }
}

/// An opening in progress (state `OPENING`); see [`Gate::begin_opening`].
pub(crate) struct Opening<'g> {
    gate: &'g Gate,
    /// The state to go back to if the initializer panics.
    back_to: u8,
}

impl Opening<'_> {
    /// Ends the opening: unless a `close` intervened, runs `install` (with the lock held,
    /// nobody admitted) and publishes the open state. Returns whether the gate opened.
    pub(crate) fn finish(self, install: impl FnOnce()) -> bool {
        let gate = self.gate;
        std::mem::forget(self);
        let mut t = gate.transition();
        t.opener = None;
        if gate.state.load(Ordering::Relaxed) == OPENING {
            install();
            gate.publish_open();
            true
        } else {
            gate.changed.notify_all();
            false
        }
    }
}

impl Drop for Opening<'_> {
    /// The initializer panicked: back to where the opening started (waiters keep waiting).
    fn drop(&mut self) {
        let mut t = self.gate.transition();
        t.opener = None;
        if self.gate.state.load(Ordering::Relaxed) == OPENING {
            self.gate.set_state(self.back_to);
        }
        self.gate.changed.notify_all();
    }
}
