//! The write side of a [`Handles`](crate::Handles) table: per-thread shards, so that `insert`
//! and `remove` take no lock another thread takes on the common path, and removals whose
//! objects wait for one grace period together, in batches.
//!
//! # Shards
//!
//! Each thread alive at once gets a small number (claimed on its first `insert`/`remove` of
//! any table, given back at its exit) and uses the shard of that number in every table:
//! its free list of entry indices, its batch of removals being collected, and its batches
//! waiting for their grace period. A shard is behind its own `Mutex`, alone on its cache
//! line(s), which only its thread takes in steady state — uncontended, so a lock and unlock
//! cost two uncontended atomic operations on a line this thread already owns. The mutex is
//! what makes the design correct, not the thread mapping: the reclaimer, `close` and a thread
//! whose number is shared (more than [`SHARDS`] threads at once, or a thread past its
//! thread-local destructors) take it too.
//!
//! Indices are global (the entries' buckets are shared by all shards): an object inserted by
//! one thread and removed by another goes back to the remover's free list. A free list longer
//! than [`FREE_KEEP`] gives half to the table's index pool, and an empty one takes
//! [`REFILL`] from it (the pool's lock, or growing the buckets, is paid once per
//! [`REFILL`] inserts).
//!
//! # Batches
//!
//! A removal unlinks the object at once (the handle is stale from then on) and appends
//! `(index, entry)` to its shard's *open* batch. The batch is *sealed* when it holds
//! [`BATCH`] removals, or, for a batch that stops growing, on the reclaimer's next tick (see
//! `handle_reclaimer.rs`): it takes a ticket for a grace period of the table
//! (`handle_periods.rs`). A period — one closing-side barrier (`membarrier`) and one slot
//! scan — covers every batch of every shard ticketed before it began; it is begun by a
//! thread once its shard holds [`LIMIT`] sealed removals not yet covered, or by the
//! reclaimer for a batch open or waiting for a whole tick. A sealed batch whose period has
//! passed is *destroyed*: its objects are dropped (outside every lock: a `Drop` may use the
//! table) and its entries go back to the free list. Who checks: the shard's own thread when
//! it seals a batch or runs out of free entries, the reclaimer every tick,
//! `close`/`clear`/drop for everything.

use std::collections::VecDeque;
use std::sync::Arc;

use crossbeam_utils::CachePadded;

use crate::gate::Gate;
use crate::handle_entries::{Entries, Entry, RETIRED};
use crate::handle_periods::{Period, Periods};
use crate::sync::{AtomicPtr, AtomicU8, Mutex, MutexGuard, Ordering};
use crate::HandleError;

/// Removals per batch (sealed at this many). A batch that does not fill is sealed on the
/// reclaimer's next tick instead.
pub(crate) const BATCH: usize = if cfg!(loom) { 2 } else { 64 };
/// Sealed removals a shard holds without a grace period before its thread begins one (which
/// covers every shard's sealed batches). One `membarrier` per this many removals at most
/// under steady churn of one thread, fewer per thread when several churn; this many
/// removed objects per thread wait for a period to begin, at most.
/// (Under loom two batches: a shard's first sealed batch waits for a period begun by its
/// second, or by another shard or the reclaimer's pass.)
pub(crate) const LIMIT: usize = if cfg!(loom) { 2 * BATCH } else { 1024 };
/// Shards per table. Threads beyond this many alive at once share shards (correct, as each is
/// a mutex; only slower).
pub(crate) const SHARDS: usize = if cfg!(loom) { 2 } else { 256 };
/// [`Writers::flags`]: the table was closed.
pub(crate) const CLOSED: u8 = 1;
/// [`Writers::flags`]: a `fork()` child whose reclaimer is not restarted yet.
pub(crate) const FORKED: u8 = 2;
/// Indices a shard takes from the pool at once.
const REFILL: usize = 32;
/// Batch vectors a shard keeps for reuse: as many as batches wait in steady churn.
const SPARES: usize = LIMIT / BATCH + 2;
/// A free list longer than this gives half of it back to the pool: above what a thread
/// cycles through in steady churn (its open batch, [`LIMIT`] uncovered removals and a batch
/// whose period is passing), so churn does not touch the shared pool.
const FREE_KEEP: usize = 4 * LIMIT;

/// An unlinked entry whose object is still in place: its index and the entry itself (entries
/// never move, so the reclaimer can reach the object without the table).
pub(crate) struct Pending<T> {
    pub(crate) index: u32,
    pub(crate) entry: *const Entry<T>,
}

/// Batches whose grace period has passed, taken out of their shard to be destroyed.
pub(crate) type Passed<T> = Vec<Vec<Pending<T>>>;

/// A sealed batch: its ticket, and the period that covers it once one has begun.
struct Sealed<'g, T> {
    /// A period numbered at least this covers the batch (`Periods::ticket`).
    ticket: u64,
    period: Option<Period<'g>>,
    /// The reclaimer's tick when the batch got its first removal.
    opened: u64,
    items: Vec<Pending<T>>,
}

/// One thread's part of a table (behind the shard's mutex).
pub(crate) struct Shard<'g, T> {
    /// Entries whose objects are gone (and not retired), ready for reuse.
    pub(crate) free: Vec<u32>,
    /// Removals not yet under a grace period.
    open: Vec<Pending<T>>,
    /// The reclaimer's tick when `open` got its first removal.
    open_tick: u64,
    /// Sealed batches, oldest first: those covered by a period, then those waiting for one
    /// to begin.
    sealed: VecDeque<Sealed<'g, T>>,
    /// Removals in sealed batches that no period covers yet.
    uncovered: usize,
    /// Destroyed batches' vectors, kept for the next batches (no allocation in steady
    /// churn); at most [`SPARES`].
    spares: Vec<Vec<Pending<T>>>,
    /// The list [`Writers::take_passed`] hands out, given back empty by
    /// [`Writers::destroy`].
    passed_spare: Passed<T>,
    /// Inserts minus removals made through this shard (the table's length is the sum).
    pub(crate) live: isize,
    /// Mutation check of the loom models only: a grace period begun when the batch opened.
    #[cfg(crosscall_mutant = "grace_at_open")]
    early_grace: Option<Period<'g>>,
    /// Mutation check of the loom models only: the ticket taken when the batch opened.
    #[cfg(crosscall_mutant = "ticket_at_open")]
    early_ticket: Option<u64>,
}

impl<'g, T> Shard<'g, T> {
    fn new() -> Self {
        Shard {
            free: Vec::new(),
            open: Vec::new(),
            open_tick: 0,
            sealed: VecDeque::new(),
            uncovered: 0,
            spares: Vec::new(),
            passed_spare: Vec::new(),
            live: 0,
            #[cfg(crosscall_mutant = "grace_at_open")]
            early_grace: None,
            #[cfg(crosscall_mutant = "ticket_at_open")]
            early_ticket: None,
        }
    }

    /// Whether removals of this shard still wait to be destroyed.
    fn has_pending(&self) -> bool {
        !self.open.is_empty() || !self.sealed.is_empty()
    }

    /// The ticket of the oldest sealed batch no period covers yet.
    fn oldest_uncovered(&self) -> Option<u64> {
        self.sealed
            .iter()
            .find(|b| b.period.is_none())
            .map(|b| b.ticket)
    }

    /// Whether a sealed batch without a period got its first removal before tick `tick - 1`
    /// (any, when `tick` is `u64::MAX`).
    fn has_stale_uncovered(&self, tick: u64) -> bool {
        self.sealed
            .iter()
            .any(|b| b.period.is_none() && (tick == u64::MAX || b.opened + 1 < tick))
    }

    /// Gives `period` (numbered `number`) to every sealed batch it covers.
    fn cover(&mut self, number: u64, period: &Period<'g>) {
        for batch in self.sealed.iter_mut() {
            if batch.period.is_none() && batch.ticket <= number {
                batch.period = Some(Arc::clone(period));
                self.uncovered -= batch.items.len();
            }
        }
    }
}

/// A shard's lock, alone on its cache line(s).
pub(crate) type ShardLock<'g, T> = CachePadded<Mutex<Shard<'g, T>>>;
/// A locked shard.
pub(crate) type ShardGuard<'s, 'g, T> = MutexGuard<'s, Shard<'g, T>>;

/// The table's index pool: entries never used yet, and free entries shards gave back.
struct Pool {
    free: Vec<u32>,
    /// The first index never used (entries at and above it are untouched).
    next: u64,
}

/// Everything `insert`/`remove` share, in one heap allocation that never moves (the
/// reclaimer holds a pointer to it while the table is registered).
pub(crate) struct Writers<'g, T> {
    gate: &'g Gate,
    /// The table's grace periods, shared by its shards.
    periods: Periods<'g>,
    shards: [AtomicPtr<ShardLock<'g, T>>; SHARDS],
    pool: Mutex<Pool>,
    /// [`CLOSED`] once `Handles::close` ran (SeqCst, see [`Writers::mark_closed`]);
    /// [`FORKED`] in a `fork()` child until its first `insert`/`remove` restarted the
    /// reclaimer. One word, so that writers test both with the one load they make anyway.
    flags: AtomicU8,
    /// The reclaimer's id for this table; 0 while not registered (`handle_reclaimer.rs`).
    /// A std atomic: the reclaimer is not part of the loom models (they run its pass
    /// themselves).
    pub(crate) reclaimer_id: std::sync::atomic::AtomicU64,
}

// SAFETY: the raw entry pointers in shards point into buckets the table owns and frees only
// when it drops (after unregistering from the reclaimer); they are reached only under the
// shard's mutex or by the one thread that took them out of it. Objects move between threads
// (T: Send); shared access to them goes through `Handles`, which requires `T: Sync` for that.
unsafe impl<T: Send> Send for Writers<'_, T> {}
// SAFETY: as above; all shared state is atomics or behind mutexes.
unsafe impl<T: Send> Sync for Writers<'_, T> {}

impl<'g, T> Writers<'g, T> {
    pub(crate) fn new(gate: &'g Gate) -> Self {
        Writers {
            gate,
            periods: Periods::new(),
            shards: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
            pool: Mutex::new(Pool {
                free: Vec::new(),
                next: 0,
            }),
            flags: AtomicU8::new(0),
            reclaimer_id: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The calling thread's shard, created on first use.
    #[inline]
    pub(crate) fn shard(&self) -> &ShardLock<'g, T> {
        let slot = &self.shards[thread_shard() % SHARDS];
        // Acquire pairs with the publishing compare-exchange in `new_shard`: the shard is
        // initialized. SeqCst for the closing handshake: see `mark_closed`.
        let existing = slot.load(Ordering::SeqCst);
        if !existing.is_null() {
            // SAFETY: published shards live until the table drops (`&self` borrows it).
            return unsafe { &*existing };
        }
        self.new_shard(slot)
    }

    /// Creates and publishes the shard of `slot` (or returns the one a racing thread
    /// published first). Out of line: once per thread and table.
    #[cold]
    #[inline(never)]
    fn new_shard(&self, slot: &AtomicPtr<ShardLock<'g, T>>) -> &ShardLock<'g, T> {
        let fresh = Box::into_raw(Box::new(CachePadded::new(Mutex::new(Shard::new()))));
        match slot.compare_exchange(
            std::ptr::null_mut(),
            fresh,
            Ordering::SeqCst,
            Ordering::SeqCst,
        ) {
            // SAFETY: just published; lives until the table drops.
            Ok(_) => unsafe { &*fresh },
            Err(other) => {
                // SAFETY: `fresh` was never shared; `other` is published (as above).
                drop(unsafe { Box::from_raw(fresh) });
                unsafe { &*other }
            }
        }
    }

    /// Every shard created so far.
    fn shards(&self) -> impl Iterator<Item = &ShardLock<'g, T>> {
        self.shards.iter().filter_map(|slot| {
            // SeqCst: see `mark_closed`.
            let shard = slot.load(Ordering::SeqCst);
            // SAFETY: as in `shard`.
            (!shard.is_null()).then(|| unsafe { &*shard })
        })
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.flags() & CLOSED != 0
    }

    /// [`CLOSED`] and [`FORKED`]: nonzero sends a writer off its common path.
    #[inline]
    pub(crate) fn flags(&self) -> u8 {
        // SeqCst: see `mark_closed`.
        self.flags.load(Ordering::SeqCst)
    }

    /// Marks the table as inherited by a `fork()` child (from the child's `pthread_atfork`
    /// handler, only the forking thread alive): its next writer restarts the reclaimer.
    #[cfg_attr(not(all(unix, not(miri), not(loom))), allow(dead_code))] // called only by the atfork child handler
    pub(crate) fn mark_forked(&self) {
        // Relaxed: read by this same thread, or by threads it creates later.
        self.flags.fetch_or(FORKED, Ordering::Relaxed);
    }

    /// Clears [`FORKED`]; whether it was set (the caller then restarts the reclaimer).
    pub(crate) fn clear_forked(&self) -> bool {
        // Relaxed: as in `mark_forked`; a second restart would be harmless anyway.
        self.flags.fetch_and(!FORKED, Ordering::Relaxed) & FORKED != 0
    }

    /// Marks the table closed. Every writer checks the flag under its shard's lock, and
    /// `close` then takes every shard's lock, so a writer either finished before (its effect
    /// is visible to `close`) or sees the flag. A shard created concurrently is seen by
    /// `close`'s walk or its creator sees the flag: both sides store (flag / shard pointer)
    /// then load the other with SeqCst.
    pub(crate) fn mark_closed(&self) {
        self.flags.fetch_or(CLOSED, Ordering::SeqCst);
    }

    /// Gives `shard` up to [`REFILL`] free indices from the pool (growing `entries` for new
    /// ones). Called with the shard locked (lock order: shard, then pool).
    ///
    /// # Errors
    ///
    /// [`HandleError::Full`] when every index is in use or retired,
    /// [`HandleError::OutOfMemory`] when a bucket cannot be allocated; the shard is then
    /// unchanged.
    #[inline(never)]
    pub(crate) fn refill(
        &self,
        shard: &mut Shard<'g, T>,
        entries: &Entries<T>,
    ) -> Result<(), HandleError> {
        let mut pool = lock(&self.pool);
        let take = pool.free.len().min(REFILL);
        let from = pool.free.len() - take;
        shard.free.extend(pool.free.drain(from..));
        let mut error = HandleError::Full;
        while shard.free.len() < REFILL {
            let Ok(index) = u32::try_from(pool.next) else {
                break;
            };
            if entries.get_or_grow(index).is_err() {
                error = HandleError::OutOfMemory;
                break;
            }
            pool.next += 1;
            shard.free.push(index);
        }
        // Lowest index on top: reused first.
        shard.free.reverse();
        if shard.free.is_empty() {
            Err(error)
        } else {
            Ok(())
        }
    }

    /// Appends a removal to the shard's open batch; seals the batch once it holds [`BATCH`].
    /// Returns whether this opened a new batch (the caller then makes sure the reclaimer is
    /// awake) and whether it sealed one.
    #[inline]
    pub(crate) fn push_removed(
        &self,
        shard: &mut Shard<'g, T>,
        pending: Pending<T>,
    ) -> (bool, bool) {
        let opened = shard.open.is_empty();
        if opened {
            shard.open_tick = crate::handle_reclaimer::tick();
            if shard.open.capacity() == 0 {
                shard.open = shard.spares.pop().unwrap_or_default();
                shard.open.reserve(BATCH);
            }
        }
        // Mutation check (loom models): begin the period before the batch's later removals.
        #[cfg(crosscall_mutant = "grace_at_open")]
        if opened {
            shard.early_grace = Some(self.periods.begin(self.gate).1);
        }
        // Mutation check (loom models): the ticket taken before the batch's later removals.
        #[cfg(crosscall_mutant = "ticket_at_open")]
        if opened {
            shard.early_ticket = Some(self.periods.ticket(None).0);
        }
        shard.open.push(pending);
        let seal = shard.open.len() >= BATCH;
        if seal {
            self.seal(shard);
        }
        (opened, seal)
    }

    /// Seals the shard's open batch: takes its ticket (and the latest period, if it covers
    /// older batches of the shard), and begins a period if the shard holds [`LIMIT`]
    /// uncovered removals.
    #[inline(never)]
    fn seal(&self, shard: &mut Shard<'g, T>) {
        if shard.open.is_empty() {
            return;
        }
        let items = std::mem::replace(&mut shard.open, shard.spares.pop().unwrap_or_default());
        // The removals above were unlinked before this (their compare-exchanges precede the
        // shard lock we hold), so before the ticket: see `handle_periods.rs`.
        let (ticket, latest, drawn) = self.periods.ticket(shard.oldest_uncovered());
        #[cfg(crosscall_mutant = "ticket_at_open")]
        let ticket = shard.early_ticket.take().unwrap_or(ticket);
        shard.uncovered += items.len();
        shard.sealed.push_back(Sealed {
            ticket,
            period: None,
            opened: shard.open_tick,
            items,
        });
        // Mutation check (loom models): the period begun at the batch's first removal.
        #[cfg(crosscall_mutant = "grace_at_open")]
        if let Some(early) = shard.early_grace.take() {
            let batch = shard.sealed.back_mut().expect("pushed above");
            shard.uncovered -= batch.items.len();
            batch.period = Some(early);
        }
        if let Some((number, period)) = latest {
            shard.cover(number, &period);
        }
        // A period another thread is beginning (drawn, not yet published) covers the oldest
        // batches already: do not begin a second one meanwhile (threads churning in step would
        // otherwise each begin one at their limit, within one barrier's time).
        if shard.uncovered >= LIMIT && shard.oldest_uncovered().is_some_and(|t| t > drawn) {
            let (number, period) = self.periods.begin(self.gate);
            shard.cover(number, &period);
        }
    }

    /// Gives the shard's uncovered batches the latest period, if it covers them (one begun by
    /// another thread since their seal).
    pub(crate) fn cover_latest(&self, shard: &mut Shard<'g, T>) {
        if let Some((number, period)) = shard
            .oldest_uncovered()
            .and_then(|oldest| self.periods.latest(oldest))
        {
            shard.cover(number, &period);
        }
    }

    /// Takes out every sealed batch, oldest first, whose grace period has passed (stopping at
    /// the first that has not). The caller destroys them with [`Writers::destroy`] after
    /// unlocking the shard.
    #[inline(never)]
    pub(crate) fn take_passed(&self, shard: &mut Shard<'g, T>) -> Option<Passed<T>> {
        let mut out: Option<Passed<T>> = None;
        // Consecutive batches mostly share a period: ask each period once (held, so that
        // the comparison is with a live one).
        let mut passed: Option<Period<'g>> = None;
        while let Some(period) = shard.sealed.front().and_then(|b| b.period.as_ref()) {
            if !passed.as_ref().is_some_and(|p| Arc::ptr_eq(p, period)) {
                if !period.has_passed() {
                    break;
                }
                passed = Some(Arc::clone(period));
            }
            let batch = shard.sealed.pop_front().expect("checked above").items;
            out.get_or_insert_with(|| std::mem::take(&mut shard.passed_spare))
                .push(batch);
        }
        out
    }

    /// Drops the objects of `items` (their grace period has passed and they are out of every
    /// shard), on the calling thread with no lock held, then gives their entries to `shard`'s
    /// free list (retired ones are dropped from circulation).
    #[inline(never)]
    pub(crate) fn destroy(&self, shard: &ShardLock<'g, T>, mut batches: Passed<T>) {
        for pending in batches.iter().flatten() {
            // SAFETY: the entry was unlinked by the remover's compare-exchange and its grace
            // period has passed, so no lookup holds or can obtain a reference to the object;
            // it is initialized (unlinking does not touch it) and dropped exactly once: the
            // item left its shard under the lock and is only in `items` now. Buckets live
            // while the table does, which outlives this call.
            unsafe { (*(*pending.entry).value.get()).assume_init_drop() };
        }
        let mut s = lock(shard);
        for mut items in batches.drain(..) {
            for pending in items.drain(..) {
                // SAFETY: as above, the entry lives; Relaxed: its word is only written by the
                // writer that holds it, which is us until it is on a free list.
                let word = unsafe { &*pending.entry }.word.load(Ordering::Relaxed);
                if word & RETIRED == 0 {
                    s.free.push(pending.index);
                }
            }
            if s.spares.len() < SPARES {
                s.spares.push(items);
            }
        }
        if s.passed_spare.capacity() == 0 {
            s.passed_spare = batches;
        }
        if s.free.len() > FREE_KEEP {
            let half = s.free.len() / 2;
            let mut pool = lock(&self.pool);
            pool.free.extend(s.free.drain(..half));
        }
    }

    /// Takes every removal of every shard out, whatever its grace period: for `clear` (which
    /// then waits for a period that covers them all), `close` and the table's drop (no call
    /// is inside then). Returns them with the number of shards visited.
    pub(crate) fn take_all_pending(&self) -> Vec<Pending<T>> {
        let mut out = Vec::new();
        for shard in self.shards() {
            let mut s = lock(shard);
            out.append(&mut s.open);
            for batch in std::mem::take(&mut s.sealed) {
                out.extend(batch.items);
            }
            s.uncovered = 0;
        }
        out
    }

    /// Zeroes every shard's live count and adds `live` to the calling thread's (for `clear`
    /// and `close`, which empty the table at once).
    pub(crate) fn reset_live(&self, live: isize) {
        for shard in self.shards() {
            lock(shard).live = 0;
        }
        lock(self.shard()).live = live;
    }

    /// Number of objects in the table (a snapshot: the sum over shards).
    pub(crate) fn live(&self) -> usize {
        let sum: isize = self.shards().map(|s| lock(s).live).sum();
        sum.max(0) as usize
    }

    /// The first index never used: entries below it exist.
    pub(crate) fn next_index(&self) -> u64 {
        lock(&self.pool).next
    }

    /// Gives `indices` (entries whose objects are gone) to the pool.
    pub(crate) fn free_to_pool(&self, indices: impl IntoIterator<Item = u32>) {
        lock(&self.pool).free.extend(indices);
    }

    /// One pass of the reclaimer (or of a caller that wants removals destroyed now): seals
    /// every open batch that has been open for a whole tick — opened before tick `tick - 1`
    /// (every one when `tick` is `u64::MAX`): under churn a batch fills within microseconds,
    /// so the reclaimer seals only batches that stopped growing —, begins one period for the
    /// table if a sealed batch that old has none (under churn, a thread begins one long
    /// before), and destroys the batches whose period has passed. Returns whether removals
    /// still wait.
    pub(crate) fn reclaim_pass(&self, tick: u64) -> bool {
        let mut stale = false;
        for shard in self.shards() {
            let mut s = lock(shard);
            if !s.open.is_empty() && (tick == u64::MAX || s.open_tick + 1 < tick) {
                self.seal(&mut s);
            }
            stale |= s.has_stale_uncovered(tick);
        }
        // Begun after every seal above: it covers every batch sealed so far.
        let begun = stale.then(|| self.periods.begin(self.gate));
        let mut waiting = false;
        for shard in self.shards() {
            let passed = {
                let mut s = lock(shard);
                match &begun {
                    Some((number, period)) => s.cover(*number, period),
                    None => self.cover_latest(&mut s),
                }
                let passed = self.take_passed(&mut s);
                waiting |= s.has_pending();
                passed
            };
            if let Some(items) = passed {
                self.destroy(shard, items);
            }
        }
        waiting
    }
}

impl<T> Drop for Writers<'_, T> {
    /// Frees the shards. The table has already dropped every object they listed.
    fn drop(&mut self) {
        for slot in &mut self.shards {
            let shard = slot.load(Ordering::Relaxed); // `&mut self`: no other thread
            if !shard.is_null() {
                // SAFETY: published once from `Box::into_raw` in `shard`, freed only here.
                drop(unsafe { Box::from_raw(shard) });
            }
        }
    }
}

/// Locks `mutex`, ignoring poisoning: every update under these locks completes before
/// anything that can panic (objects are dropped only outside them).
pub(crate) fn lock<S>(mutex: &Mutex<S>) -> MutexGuard<'_, S> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The calling thread's shard number: claimed once per thread from a process-wide pool of
/// small numbers and given back at thread exit, so threads alive at once have distinct
/// numbers. A thread past its thread-local destructors (a C thread calling from a pthread key
/// destructor) uses shard 0, shared.
///
/// The number sits in a `const`-initialized thread-local without a destructor, so reading it
/// is one thread-local access with no lazy-initialization state; a second thread-local,
/// touched once, gives it back at exit.
#[cfg(not(loom))]
#[inline(always)]
fn thread_shard() -> usize {
    let number = NUMBER.with(std::cell::Cell::get);
    if number != UNCLAIMED {
        return number;
    }
    claim_thread_shard()
}

#[cfg(not(loom))]
const UNCLAIMED: usize = usize::MAX;

#[cfg(not(loom))]
thread_local! {
    static NUMBER: std::cell::Cell<usize> = const { std::cell::Cell::new(UNCLAIMED) };
}

/// The pool of numbers: given back ones, and the next never given.
#[cfg(not(loom))]
static NUMBERS: std::sync::Mutex<(Vec<usize>, usize)> = std::sync::Mutex::new((Vec::new(), 0));

/// Gives the thread's number back when the thread exits.
#[cfg(not(loom))]
struct ShardNumber(usize);

#[cfg(not(loom))]
impl Drop for ShardNumber {
    fn drop(&mut self) {
        // Later calls on this thread (from other destructors) share shard 0.
        NUMBER.with(|n| n.set(0));
        let mut numbers = NUMBERS.lock().unwrap_or_else(|e| e.into_inner());
        numbers.0.push(self.0);
    }
}

#[cfg(not(loom))]
#[cold]
#[inline(never)]
fn claim_thread_shard() -> usize {
    thread_local! {
        static GUARD: ShardNumber = {
            let mut numbers = NUMBERS.lock().unwrap_or_else(|e| e.into_inner());
            let number = numbers.0.pop().unwrap_or_else(|| {
                numbers.1 += 1;
                numbers.1 - 1
            });
            ShardNumber(number)
        };
    }
    // Fails only past the thread's thread-local destructors: share shard 0 then.
    let number = GUARD.try_with(|g| g.0).unwrap_or(0);
    NUMBER.with(|n| n.set(number));
    number
}

/// Under loom every thread uses shard 0 unless a model gives it another
/// ([`set_loom_shard`]): the mapping is only a performance hint, and one shard makes the
/// models exercise the mutex handover between threads; two let a model check a period begun
/// by one shard covering another's batch.
#[cfg(loom)]
fn thread_shard() -> usize {
    LOOM_SHARD.with(std::cell::Cell::get)
}

#[cfg(loom)]
loom::thread_local! {
    static LOOM_SHARD: std::cell::Cell<usize> = std::cell::Cell::new(0);
}

/// Makes the calling (loom) thread use shard `number` of every table.
#[cfg(loom)]
pub(crate) fn set_loom_shard(number: usize) {
    LOOM_SHARD.with(|s| s.set(number));
}
