//! Grace periods shared by every shard of one handle table, so that one closing-side barrier
//! (`membarrier`) serves the sealed batches of every thread, not only its issuer's.
//!
//! # Why
//!
//! `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` interrupts every CPU running a thread of the
//! process. With each thread beginning a period for each of its own batches, two threads
//! churning on two CPUs interrupt each other once per 64 removals each; on a VM an
//! inter-processor interrupt costs tens of µs (measured: ~30 µs per barrier, PERFORMANCE.md
//! §13), which made 2 threads 8× slower per lifetime than 1. Now a sealed batch only takes a
//! *ticket*; a period is begun once a thread has [`LIMIT`](crate::handle_shards::LIMIT)
//! removals sealed without one (or by the reclaimer for a batch a whole tick old), and it
//! covers every batch of every shard ticketed before it.
//!
//! # Protocol
//!
//! Periods are numbered in the order they begin (`begun`, under [`Periods::state`]). A batch
//! sealed when `begun` was `g` gets the ticket `g + 1`: a period numbered `g + 1` or later
//! covers it. Its removals were unlinked before the ticket was taken, and a period's number
//! is drawn (under the same lock) before its barrier, so the unlinks happen before the
//! barrier of every period numbered above `g` — the only ordering a batch's own barrier gave
//! it, now through the lock (release/acquire) and the barrier's cumulativity: a full barrier
//! on the issuing CPU after it acquired the lock makes the unlinks visible everywhere before
//! the interrupts' barriers run and before the slot scan. A lookup whose slot store that scan
//! missed therefore loads the unlinked word (the store-buffering argument of `grace.rs`).
//!
//! The lock is taken twice per period and once per sealed batch (every 64 removals), never
//! on the per-removal path.

use crossbeam_utils::CachePadded;

use crate::gate::Gate;
use crate::grace::Grace;
use crate::handle_shards::lock;
use crate::sync::{Arc, Mutex};

/// A begun grace period, shared by every batch it covers.
pub(crate) type Period<'g> = Arc<Grace<'g>>;

/// The table's period counter and its latest begun period.
pub(crate) struct Periods<'g> {
    state: CachePadded<Mutex<State<'g>>>,
}

struct State<'g> {
    /// Periods whose number has been drawn (the latest drawn number).
    begun: u64,
    /// The highest-numbered period whose barrier and scan are done.
    latest: Option<(u64, Period<'g>)>,
}

impl<'g> Periods<'g> {
    pub(crate) fn new() -> Self {
        Periods {
            state: CachePadded::new(Mutex::new(State {
                begun: 0,
                latest: None,
            })),
        }
    }

    /// The ticket of a batch whose removals have all been unlinked (by this thread, or by
    /// threads whose shard lock this thread holds): a period numbered at least this covers
    /// it. With it, the latest begun period if it covers the ticket `oldest` (the caller's
    /// oldest batch still without a period), and the highest number drawn so far: a period
    /// numbered that is begun (its barrier may still be running), so tickets up to it need
    /// no new one.
    pub(crate) fn ticket(&self, oldest: Option<u64>) -> (u64, Option<(u64, Period<'g>)>, u64) {
        let s = lock(&self.state);
        let latest = match (&s.latest, oldest) {
            (Some((number, period)), Some(oldest)) if *number >= oldest => {
                Some((*number, Arc::clone(period)))
            }
            _ => None,
        };
        (s.begun + 1, latest, s.begun)
    }

    /// The latest begun period, if it covers the ticket `oldest`.
    pub(crate) fn latest(&self, oldest: u64) -> Option<(u64, Period<'g>)> {
        let s = lock(&self.state);
        match &s.latest {
            Some((number, period)) if *number >= oldest => Some((*number, Arc::clone(period))),
            _ => None,
        }
    }

    /// Begins a period (one closing-side barrier and a slot scan) that covers every ticket
    /// handed out before; publishes it for the other shards. Returns its number.
    pub(crate) fn begin(&self, gate: &'g Gate) -> (u64, Period<'g>) {
        // The number is drawn before the barrier: every batch ticketed before (its unlinks
        // before its ticket, under this lock) is ordered before the barrier.
        let number = {
            let mut s = lock(&self.state);
            s.begun += 1;
            s.begun
        };
        let period = Arc::new(gate.grace_begin());
        let mut s = lock(&self.state);
        if !matches!(&s.latest, Some((latest, _)) if *latest >= number) {
            s.latest = Some((number, Arc::clone(&period)));
        }
        (number, period)
    }
}
