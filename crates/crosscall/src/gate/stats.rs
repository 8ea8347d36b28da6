//! What a gate has done, for operators: [`GateStats`], read with `Gate::stats` (and
//! `StateGate::stats`; a `Handles` table's through `Handles::gate`).
//!
//! Nothing here is written on the fast path. Admitted entries are the outermost-entry counts
//! the slot words already carry (each thread counts its own, see `slots.rs`), summed when
//! read; everything else is counted where a slow path already is slow (it takes the gate's
//! lock, sleeps, or was refused). Reading takes no lock, so it never blocks an entry.

use crate::gate::{EnterError, GateState};
use crate::sync::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A snapshot of a gate's activity (see [`Gate::stats`](crate::Gate::stats)).
///
/// Counters only grow (wrapping at `u64::MAX`); each field is read on its own, so fields may
/// be a few events apart from each other while calls are running.
///
/// ```
/// use crosscall::Gate;
/// let gate = Gate::new();
/// gate.open();
/// for _ in 0..3 {
///     drop(gate.enter().unwrap());
/// }
/// gate.close().unwrap();
/// assert!(gate.enter().is_err());
/// let stats = gate.stats();
/// assert_eq!(stats.admitted, 3);
/// assert_eq!(stats.refused, 1);
/// assert_eq!(stats.closes, 1);
/// assert_eq!(stats.in_flight, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GateStats {
    /// The state when the snapshot was taken.
    pub state: GateState,
    /// The generation (see [`Gate::generation`](crate::Gate::generation)): openings so far.
    pub generation: u64,
    /// Outermost entries admitted since the gate was made (nested entries of a thread already
    /// inside are not counted again), summed from the threads' slots.
    pub admitted: u64,
    /// Admitted calls that have not left yet, nested ones included.
    pub in_flight: u64,
    /// Entries refused because the gate was closing or closed, or because they came from the
    /// gate's own initializer ([`EnterError::Closed`], [`EnterError::WouldDeadlock`]).
    pub refused: u64,
    /// Entries that gave up waiting for the gate to open ([`EnterError::Timeout`] from
    /// [`Gate::enter_timeout`](crate::Gate::enter_timeout); a `try_enter` before `open`
    /// did not wait and is not counted).
    pub timed_out: u64,
    /// Entries that waited for the gate to open (admitted or not in the end).
    pub waited: u64,
    /// Total time those entries spent waiting.
    pub wait_time: Duration,
    /// Entries that took the slow path: a thread's first entry of the gate, waits, refusals,
    /// nesting deeper than the table holds, and entries whose cache entry another gate took.
    pub slow_path_entries: u64,
    /// Threads that entered the gate and are still alive (they hold a slot in it).
    pub threads: u64,
    /// Closes that finished a drain (one per generation at most).
    pub closes: u64,
    /// Reopenings ([`Gate::reopen`](crate::Gate::reopen) and the like): `generation − 1`
    /// once opened.
    pub reopens: u64,
    /// How long the last finished drain took, from `close` to `Closed`.
    pub last_drain: Duration,
    /// The longest drain so far.
    pub max_drain: Duration,
}

/// The slow paths' counters, kept in the gate.
pub(crate) struct Counters {
    refused: AtomicU64,
    timed_out: AtomicU64,
    waited: AtomicU64,
    wait_nanos: AtomicU64,
    slow_entries: AtomicU64,
    closes: AtomicU64,
    last_drain_nanos: AtomicU64,
    max_drain_nanos: AtomicU64,
}

/// A `Duration` in whole nanoseconds, saturating.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

// Every access is Relaxed: the counters are statistics, read on their own, and order
// nothing else.
impl Counters {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Counters {
        Counters {
            refused: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
            waited: AtomicU64::new(0),
            wait_nanos: AtomicU64::new(0),
            slow_entries: AtomicU64::new(0),
            closes: AtomicU64::new(0),
            last_drain_nanos: AtomicU64::new(0),
            max_drain_nanos: AtomicU64::new(0),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Counters {
        Counters {
            refused: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
            waited: AtomicU64::new(0),
            wait_nanos: AtomicU64::new(0),
            slow_entries: AtomicU64::new(0),
            closes: AtomicU64::new(0),
            last_drain_nanos: AtomicU64::new(0),
            max_drain_nanos: AtomicU64::new(0),
        }
    }

    pub(crate) fn slow_entry(&self) {
        self.slow_entries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn refused(&self, why: EnterError) {
        let counter = match why {
            EnterError::Timeout => &self.timed_out,
            EnterError::Closed | EnterError::WouldDeadlock => &self.refused,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn waited(&self, time: Duration) {
        self.waited.fetch_add(1, Ordering::Relaxed);
        self.wait_nanos.fetch_add(nanos(time), Ordering::Relaxed);
    }

    pub(crate) fn drained(&self, time: Duration) {
        let time = nanos(time);
        self.closes.fetch_add(1, Ordering::Relaxed);
        self.last_drain_nanos.store(time, Ordering::Relaxed);
        self.max_drain_nanos.fetch_max(time, Ordering::Relaxed);
    }

    /// The snapshot, given what the gate reads itself.
    pub(crate) fn snapshot(
        &self,
        state: GateState,
        generation: u64,
        admitted: u64,
        in_flight: u64,
        threads: u64,
    ) -> GateStats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        GateStats {
            state,
            generation,
            admitted,
            in_flight,
            refused: read(&self.refused),
            timed_out: read(&self.timed_out),
            waited: read(&self.waited),
            wait_time: Duration::from_nanos(read(&self.wait_nanos)),
            slow_path_entries: read(&self.slow_entries),
            threads,
            closes: read(&self.closes),
            reopens: generation.saturating_sub(1),
            last_drain: Duration::from_nanos(read(&self.last_drain_nanos)),
            max_drain: Duration::from_nanos(read(&self.max_drain_nanos)),
        }
    }
}

/// Measures a slow path's wait (or a drain).
pub(crate) struct WaitClock(Instant);

impl WaitClock {
    pub(crate) fn start() -> WaitClock {
        WaitClock(Instant::now())
    }

    pub(crate) fn stop(self) -> Duration {
        self.0.elapsed()
    }
}
