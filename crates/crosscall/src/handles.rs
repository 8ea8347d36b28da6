//! [`Handles`]: objects lent to C by number — checked on every use, looked up without
//! writing anything shared, drained with the gate.
//!
//! A C host that holds Rust objects as raw pointers turns every stale or forged pointer it
//! hands back into undefined behaviour. A `Handles<T>` table gives C a [`Handle`] (a nonzero
//! `u64`) instead; handing it back yields `&T` or a definite [`HandleError`]:
//! [`Stale`](HandleError::Stale) once the object was removed,
//! [`NotIssued`](HandleError::NotIssued) for 0, a made-up number or another table's handle.
//!
//! # How lookups stay flat across cores
//!
//! A lookup takes a [`Pass`] of the table's gate as proof that the calling thread is inside.
//! It loads the entry's state word and, if it names the handle's generation, returns the
//! object: two loads, no lock, no write to shared memory. Removal flips the state word (one
//! compare-exchange: the handle is stale from then on) and defers the drop past a *grace
//! period*: until every thread that was inside the gate at that moment has left it. That is
//! the gate's own close protocol (per-thread slots, the `membarrier` asymmetry) applied to
//! the removed objects: a lookup either saw the flipped word, or its thread was seen inside
//! and is waited for. Inserting and removing never block a lookup.
//!
//! # How inserts and removals stay flat across cores
//!
//! Each thread works in its own *shard* of the table: its own free list of entries and its
//! own batch of removals, behind a lock only it takes in steady state. Removals wait for
//! their grace period together, in batches of 64, and a grace period (one `membarrier`) is
//! shared by every thread's batches: a thread begins one once it holds 1,024 removals no
//! period covers, and that period covers every thread's batches sealed before it. A batch
//! that stops filling up is sealed, and given a period, by a background reclaimer within
//! about 3 ms. See `handle_shards.rs`, `handle_periods.rs` and `handle_reclaimer.rs`.
//!
//! # When and where an object is dropped
//!
//! - [`remove`](Handles::remove) unlinks the object at once and defers the drop (from inside
//!   the gate too, where the caller may still hold the object in this very call). The drop
//!   runs once the grace period of its batch has passed, on one of: the removing thread, at
//!   a later `insert`/`remove` on this table that seals a batch or needs free entries; the
//!   process's reclaimer thread (`crosscall-reclaim`), for a table that went idle, about
//!   3 ms after the removal; [`close`](Handles::close), [`clear`](Handles::clear) or the
//!   table's drop. So `remove` needs `T: Send`.
//! - [`remove_sync`](Handles::remove_sync) waits for a grace period of its own and drops the
//!   object on the calling thread before returning (one `membarrier` and a wait per call;
//!   refused from inside the gate). [`take`](Handles::take) does the same and returns the
//!   object instead.
//! - [`close`](Handles::close) closes the gate (draining it), drops the deferred objects on the
//!   closing thread and hands back every object still in the table.
//! - Dropping the table drops whatever is left, on the dropping thread.
//!
//! Objects are never dropped while a lock of the table is held, so a `Drop` may use the
//! table (but not close or drop it).
//!
//! # Bounds and memory
//!
//! - Capacity: 2^32 live objects (the index is 32 bits). No fixed capacity below that: the
//!   storage grows in buckets of doubling size, allocated on demand, that never move.
//! - Reuse: an entry's generation is 32 bits and never wraps: an entry that has held 2^32
//!   objects is retired for good, so a stale handle stays stale forever. (Retiring costs one
//!   entry per 2^32 removals.)
//! - Memory per live object: `size_of::<T>() + 8` bytes, rounded up to `T`'s alignment (the
//!   object is stored inline next to its state word), in buckets that hold at most twice the
//!   peak number of objects (plus 32); a freed entry costs 4 more bytes on a free list.
//!   Removed objects waiting to be dropped, per thread: at most 63 in its open batch (sealed
//!   ≤ 2 ms after the batch's first removal) and fewer than 1,024 sealed ones no grace
//!   period covers yet (plus, briefly, those sealed while another thread's period is being
//!   begun); a period begins for a batch by then, or ≤ 2 ms after its first removal on the
//!   reclaimer (destroyed ≤ 3 ms after it, idle). A covered batch is dropped once every
//!   thread that was inside the gate when its period began has left (a thread that never
//!   leaves holds back every removal made after it entered, as in any RCU scheme).
//! - Another table's handle is caught by a random per-table key mixed into the generation
//!   (see [`Handle`]): it is mistaken for a live object with probability 2^-32.
//!
//! # Examples
//!
//! ```
//! use crosscall::{Gate, HandleError, Handles};
//!
//! struct Session { user: String }
//!
//! static GATE: Gate = Gate::new();
//! static SESSIONS: Handles<Session> = Handles::new(&GATE);
//!
//! GATE.open();
//! let h = SESSIONS.insert(Session { user: "ada".into() }).unwrap();
//! let raw: u64 = h.into_raw(); // what C stores
//!
//! // A call from C: inside the gate, look the number up.
//! {
//!     let pass = GATE.enter().unwrap();
//!     let session = SESSIONS.get_raw(&pass, raw).unwrap();
//!     assert_eq!(session.user, "ada");
//!     assert_eq!(SESSIONS.get_raw(&pass, 12345).err(), Some(HandleError::NotIssued));
//! }
//!
//! let session = SESSIONS.take(h).unwrap(); // outside the gate: waits, then hands it back
//! assert_eq!(session.user, "ada");
//! let pass = GATE.enter().unwrap();
//! assert_eq!(SESSIONS.get(&pass, h).err(), Some(HandleError::Stale));
//! ```

use crate::gate::{CloseError, Gate, GateState, Pass};
use crate::handle::Handle;
use crate::handle_entries::{classify, unlinked, Entries, Entry, LIVE, RETIRED};
use crate::handle_reclaimer::{self, Reclaim};
use crate::handle_shards::{lock, Pending, ShardGuard, ShardLock, Writers};
use crate::sync::{AtomicPtr, AtomicU64, Ordering};
use std::fmt;
use std::marker::PhantomData;
use std::ptr;

/// Table key flag: the key (low 32 bits) has been drawn. The same bit as an entry's `LIVE`,
/// so the key word XOR a handle's high half is the word of the entry it names when live.
const KEY_SET: u64 = LIVE;

/// Why a handle operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandleError {
    /// The handle was issued by this table, but its object has been removed (or handed back
    /// by [`Handles::close`]).
    Stale,
    /// The handle was never issued by this table: 0, a made-up or corrupted number, or a
    /// handle of another table.
    NotIssued,
    /// The [`Pass`] given to a lookup is for another gate than the table's.
    WrongGate,
    /// The table was closed ([`Handles::close`]), or, for `insert`, its gate is closing or
    /// closed.
    Closed,
    /// [`Handles::take`] was called from inside the table's gate: waiting for the calls
    /// inside to leave would wait for this one. Nothing was removed; use
    /// [`remove`](Handles::remove), which defers the drop instead.
    WouldDeadlock,
    /// Every one of the 2^32 entries is live or retired.
    Full,
    /// The allocator refused a new bucket of entries.
    OutOfMemory,
}

impl fmt::Display for HandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HandleError::Stale => "stale handle: its object was removed from the table",
            HandleError::NotIssued => {
                "invalid handle: never issued by this table (0, forged, corrupted, or another \
                 table's handle)"
            }
            HandleError::WrongGate => "the pass is for another gate than the handle table's",
            HandleError::Closed => "the handle table (or its gate) is closed",
            HandleError::WouldDeadlock => {
                "taking an object out from inside the table's gate would deadlock (remove \
                 defers the drop instead)"
            }
            HandleError::Full => "the handle table is full (2^32 entries)",
            HandleError::OutOfMemory => "out of memory growing the handle table",
        })
    }
}

impl std::error::Error for HandleError {}

/// A refused [`Handles::insert`]: the reason, and the object given back.
pub struct InsertError<T> {
    /// Why the object was not inserted ([`HandleError::Closed`], [`HandleError::Full`] or
    /// [`HandleError::OutOfMemory`]).
    pub error: HandleError,
    /// The object that was not inserted.
    pub value: T,
}

impl<T> fmt::Debug for InsertError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InsertError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for InsertError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<T> std::error::Error for InsertError<T> {}

/// A table of objects lent to foreign code by [`Handle`], whose lookups run inside a
/// [`Gate`] and write nothing shared. See the [module docs](crate::handles) for the
/// protocol, the bounds and when objects are dropped.
///
/// # Examples
///
/// ```
/// use crosscall::{Gate, HandleError, Handles};
///
/// let gate = Gate::new();
/// gate.open();
/// let table = Handles::new(&gate);
/// let a = table.insert(String::from("a")).unwrap();
/// let b = table.insert(String::from("b")).unwrap();
///
/// {
///     let pass = gate.enter().unwrap();
///     assert_eq!(table.get(&pass, a).unwrap(), "a");
///     // Removing makes the handle stale at once; the drop waits until no call can see it.
///     table.remove(a).unwrap();
///     assert_eq!(table.get(&pass, a).err(), Some(HandleError::Stale));
/// }
///
/// // Closing drains the gate and hands back what is left.
/// assert_eq!(table.close().unwrap(), vec![String::from("b")]);
/// assert_eq!(table.remove(b), Err(HandleError::Closed));
/// ```
pub struct Handles<'g, T> {
    gate: &'g Gate,
    entries: Entries<T>,
    /// `KEY_SET | key` once the first insert drew the key. Written once (a compare-exchange
    /// from 0) before any bucket is published.
    key: AtomicU64,
    /// The write side (shards, index pool), allocated on the first insert; never moves, as
    /// the reclaimer may hold a pointer to it.
    writers: AtomicPtr<Writers<'g, T>>,
    /// Owns `T`s (drop check); `Send`/`Sync` are implemented below with the bounds they need.
    _owns: PhantomData<(T, *const ())>,
}

// SAFETY: the table owns its objects; moving it to another thread moves them (T: Send).
// Everything else is atomics and the write side, which is `Send` for `T: Send`.
unsafe impl<T: Send> Send for Handles<'_, T> {}
// SAFETY: lookups share `&T` across threads (T: Sync); `remove` on one thread drops an object
// inserted on another (T: Send). Shared state is reached through atomics and shard locks.
unsafe impl<T: Send + Sync> Sync for Handles<'_, T> {}

impl<'g, T> Handles<'g, T> {
    /// An empty table whose lookups run inside `gate`. Allocates nothing until the first
    /// insert, so it can be a `static`.
    ///
    /// ```
    /// use crosscall::{Gate, Handles};
    /// static GATE: Gate = Gate::new();
    /// static NAMES: Handles<String> = Handles::new(&GATE);
    /// assert_eq!(NAMES.len(), 0);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(gate: &'g Gate) -> Handles<'g, T> {
        Handles {
            gate,
            entries: Entries::new(),
            key: AtomicU64::new(0),
            writers: AtomicPtr::new(ptr::null_mut()),
            _owns: PhantomData,
        }
    }

    /// An empty table (loom build: not `const`).
    #[cfg(loom)]
    pub fn new(gate: &'g Gate) -> Handles<'g, T> {
        Handles {
            gate,
            entries: Entries::new(),
            key: AtomicU64::new(0),
            writers: AtomicPtr::new(ptr::null_mut()),
            _owns: PhantomData,
        }
    }

    /// The gate this table's lookups run in.
    pub fn gate(&self) -> &'g Gate {
        self.gate
    }

    /// Number of objects in the table (a snapshot).
    pub fn len(&self) -> usize {
        self.existing_writers().map_or(0, Writers::live)
    }

    /// Whether the table holds no object (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `value` and returns its handle. May also drop, on this thread, removed objects
    /// whose grace period has passed (see [`remove`](Handles::remove)).
    ///
    /// Takes only the calling thread's shard lock in steady state (see the
    /// [module docs](crate::handles)).
    ///
    /// # Errors
    ///
    /// [`HandleError::Closed`] if the table was closed or its gate is closing or closed;
    /// [`HandleError::Full`] with 2^32 entries in use; [`HandleError::OutOfMemory`]. The
    /// value comes back in the [`InsertError`].
    ///
    /// ```
    /// use crosscall::{Gate, Handles};
    /// let gate = Gate::new();
    /// let table = Handles::new(&gate);
    /// let h = table.insert(7u32).unwrap();
    /// assert_ne!(h.into_raw(), 0);
    /// ```
    pub fn insert(&self, value: T) -> Result<Handle, InsertError<T>> {
        let refuse = |error, value| Err(InsertError { error, value });
        if matches!(self.gate.state(), GateState::Closing | GateState::Closed) {
            return refuse(HandleError::Closed, value);
        }
        let key = self.key_for_insert();
        let w = self.writers_for_insert();
        let shard = w.shard();
        let mut s = lock(shard);
        if w.flags() != 0 {
            drop(s);
            return self.insert_flagged(w, value);
        }
        loop {
            if s.free.is_empty() {
                s = match self.replenish(w, shard, s) {
                    Ok(s) => s,
                    Err(error) => return refuse(error, value),
                };
            }
            let index = s.free.pop().expect("refilled above");
            let entry = self.entries.get(index).expect("free entries exist");
            // Relaxed: this thread holds the entry (off a free list), nobody else stores it.
            let word = entry.word.load(Ordering::Relaxed);
            debug_assert_eq!(word & (LIVE | RETIRED), 0, "a free entry is neither");
            let mut generation = word as u32;
            let handle = match Handle::encode(index, generation, key) {
                Some(handle) => handle,
                // Index 0 at the generation equal to the key would be handle 0: skip it.
                None if generation == u32::MAX => {
                    entry.word.store(RETIRED | word, Ordering::Relaxed);
                    continue;
                }
                None => {
                    generation += 1;
                    Handle::encode(index, generation, key).expect("one generation encodes to 0")
                }
            };
            // SAFETY: the entry is neither live nor pending (it is fresh or came off a free
            // list after its grace period), so no lookup reads its value, and this thread
            // holds it: no other writer touches it.
            unsafe { (*entry.value.get()).write(value) };
            // Release pairs with the Acquire load in `lookup` and the remover's
            // compare-exchange: the object is written before the word can match a handle.
            entry
                .word
                .store(LIVE | u64::from(generation), Ordering::Release);
            s.live += 1;
            return Ok(handle);
        }
    }

    /// `insert` off its common path: the table was closed, or this is a `fork()` child whose
    /// reclaimer must be restarted first.
    #[cold]
    #[inline(never)]
    fn insert_flagged(&self, w: &Writers<'g, T>, value: T) -> Result<Handle, InsertError<T>> {
        if w.is_closed() {
            return Err(InsertError {
                error: HandleError::Closed,
                value,
            });
        }
        if w.clear_forked() {
            handle_reclaimer::restart_after_fork();
        }
        self.insert(value)
    }

    /// Gives the calling thread's shard free entries (its free list is empty): destroys its
    /// batches whose grace period has passed (their entries come back to it), else takes
    /// some from the index pool. Out of line: once per 32 inserts or per batch.
    ///
    /// # Errors
    ///
    /// [`HandleError::Closed`] if the table closed meanwhile, or those of `Writers::refill`.
    #[cold]
    #[inline(never)]
    fn replenish<'s>(
        &self,
        w: &'s Writers<'g, T>,
        shard: &'s ShardLock<'g, T>,
        mut s: ShardGuard<'s, 'g, T>,
    ) -> Result<ShardGuard<'s, 'g, T>, HandleError> {
        // A period another thread began since this shard's last seal may cover its batches.
        w.cover_latest(&mut s);
        if let Some(passed) = w.take_passed(&mut s) {
            drop(s);
            w.destroy(shard, passed);
            s = lock(shard);
            if w.is_closed() {
                return Err(HandleError::Closed);
            }
        }
        if s.free.is_empty() {
            w.refill(&mut s, &self.entries)?;
        }
        Ok(s)
    }

    /// The object `handle` names, for as long as `pass` (the caller's proof of being inside
    /// the table's gate) lives.
    ///
    /// Two loads and a compare: no lock, no write to shared memory. The object cannot be
    /// dropped while the reference lives: removal defers the drop past every call that was
    /// inside the gate when it unlinked the object.
    ///
    /// # Errors
    ///
    /// [`HandleError::Stale`] (removed), [`HandleError::NotIssued`] (never issued by this
    /// table), [`HandleError::WrongGate`] (`pass` is for another gate).
    ///
    /// ```
    /// use crosscall::{Gate, Handles};
    /// let gate = Gate::new();
    /// gate.open();
    /// let table = Handles::new(&gate);
    /// let h = table.insert([1, 2, 3]).unwrap();
    /// let pass = gate.enter().unwrap();
    /// assert_eq!(table.get(&pass, h).unwrap()[2], 3);
    /// ```
    #[inline]
    pub fn get<'a>(&'a self, pass: &'a Pass<'_>, handle: Handle) -> Result<&'a T, HandleError> {
        if !ptr::eq(pass.gate(), self.gate) {
            return Err(HandleError::WrongGate);
        }
        self.lookup(handle.into_raw())
    }

    /// [`get`](Handles::get) for a handle as C passes it: a `u64`, where 0 is
    /// [`HandleError::NotIssued`].
    ///
    /// # Errors
    ///
    /// As [`get`](Handles::get).
    ///
    /// ```
    /// use crosscall::{Gate, HandleError, Handles};
    /// let gate = Gate::new();
    /// gate.open();
    /// let table: Handles<u8> = Handles::new(&gate);
    /// let pass = gate.enter().unwrap();
    /// assert_eq!(table.get_raw(&pass, 0), Err(HandleError::NotIssued));
    /// ```
    #[inline]
    pub fn get_raw<'a>(&'a self, pass: &'a Pass<'_>, raw: u64) -> Result<&'a T, HandleError> {
        match Handle::from_raw(raw) {
            Some(handle) => self.get(pass, handle),
            None => Err(HandleError::NotIssued),
        }
    }

    /// Not public API: [`get_raw`](Handles::get_raw) for a thread that entered the gate
    /// without a [`Pass`] (the C API's held entries). `None` if the calling thread is not
    /// inside the table's gate.
    ///
    /// # Safety
    ///
    /// The reference must not be used after the calling thread has left the gate (its last
    /// held entry's leave): the object may be dropped then.
    #[doc(hidden)]
    #[inline]
    pub unsafe fn __get_held(&self, raw: u64) -> Option<Result<&T, HandleError>> {
        if !self.gate.entered_here() {
            return None;
        }
        Some(self.lookup(raw))
    }

    /// Not public API: the common case of [`__get_held`](Handles::__get_held), decided
    /// without a call: the calling thread's cached gate is this table's and it is inside it.
    /// `None` when not decided here (another gate cached, not inside, or no object found):
    /// ask `__get_held`, which also says why.
    ///
    /// The cached gate address identifies the gate: a gate freed and another made at the same
    /// address is not entered until the thread re-caches it, and the slot it cached for the
    /// old gate has depth 0 (as for `Gate::__leave_held_fast_at`).
    ///
    /// # Safety
    ///
    /// As for [`__get_held`](Handles::__get_held).
    #[doc(hidden)]
    #[inline(always)]
    pub unsafe fn __get_held_cached(&self, raw: u64) -> Option<&T> {
        use crate::gate::local;
        // The C API's probes (`Gate::__enter_held_fast_at`): the front entry, then the gate's
        // table entry by address; anything else is the slow path's to answer.
        let gate = ptr::from_ref(self.gate) as usize;
        let (_, mut slot, addr) = local::front();
        if addr != gate {
            // SAFETY: `addr_index` is always `< CACHE_WAYS`.
            let (_, table_slot, table_addr) =
                unsafe { local::cached_with_addr(local::addr_index(gate)) };
            if table_addr != gate {
                return None;
            }
            slot = table_slot;
        }
        if !local::SLOT_NEVER_NULL && slot.is_null() {
            return None;
        }
        // SAFETY: a cached slot is owned by this thread and alive while it is cached.
        // Relaxed: only this thread writes its slot's word.
        let word = unsafe { &*slot }.word.load(Ordering::Relaxed);
        if crate::gate::slots::depth(word) == 0 {
            return None;
        }
        self.lookup(raw).ok()
    }

    /// The lookup proper; the caller has checked that the calling thread is inside the gate
    /// for as long as the returned reference lives.
    /// Takes the raw number: 0 needs no check of its own, as the one entry word it could
    /// match (index 0, live at the generation equal to the key) is never used.
    #[inline(always)]
    fn lookup(&self, raw: u64) -> Result<&T, HandleError> {
        let (biased_base, biased) = self.entries.biased(raw as u32);
        if biased_base.is_null() {
            return Err(HandleError::NotIssued);
        }
        // SAFETY: not NULL; the entry is used while `self` is borrowed.
        let entry = unsafe { Entries::at(biased_base, biased) };
        // Relaxed: the key was stored before the first bucket was published, and `biased`
        // above loaded a bucket pointer with Acquire. `KEY_SET | key` XOR the handle's high half is
        // `LIVE | generation` (KEY_SET is LIVE); before any insert it lacks LIVE and matches
        // nothing.
        let key = self.key.load(Ordering::Relaxed);
        let live = key ^ (raw >> 32);
        // Acquire pairs with the Release store in `insert`: the object is initialized.
        let word = entry.word.load(Ordering::Acquire);
        if word != live {
            return Err(classify(word, live as u32));
        }
        let value = entry.value.get();
        if value.is_null() {
            // SAFETY: a field of a live entry, never at address 0. Said so that C's found path
            // needs no NULL test of the reference (the entry's address was computed with
            // wrapping arithmetic, which the compiler cannot see is not NULL).
            unsafe { std::hint::unreachable_unchecked() }
        }
        // SAFETY: the word names this generation as live, so the value is initialized. It
        // stays so while the caller is inside the gate: removal flips the word first, then
        // its batch runs the closing-side barrier and defers the drop past every thread it
        // finds inside. By the fence pair of the gate (see `fence.rs`), a thread whose load
        // above saw the live word is one of those, and the caller stays inside (its pass is
        // borrowed) for as long as the returned reference lives.
        Ok(unsafe { (*value).assume_init_ref() })
    }

    /// Removes the object `handle` names: the handle is stale at once, and the object is
    /// dropped once no call can still be using it, in a batch with other removals (one grace
    /// period — one `membarrier` — per 1,024 removals of a thread at most, shared by every
    /// thread's batches). Works the same from inside the
    /// gate, where the caller may still hold the object in this very call.
    ///
    /// Where and when the drop runs: see the [module docs](crate::handles) (on this thread at
    /// a later `insert`/`remove`, on the reclaimer thread about 3 ms later if the table goes
    /// idle, or in `close`/`clear`/drop). [`remove_sync`](Handles::remove_sync) drops before
    /// it returns instead, at the price of a grace period of its own.
    ///
    /// # Errors
    ///
    /// [`HandleError::Stale`] (already removed), [`HandleError::NotIssued`],
    /// [`HandleError::Closed`] (the table was closed; its objects were handed back).
    ///
    /// ```
    /// use crosscall::{Gate, HandleError, Handles};
    /// let gate = Gate::new();
    /// let table = Handles::new(&gate);
    /// let h = table.insert(vec![0u8; 16]).unwrap();
    /// table.remove(h).unwrap();
    /// assert_eq!(table.remove(h), Err(HandleError::Stale));
    /// ```
    pub fn remove(&self, handle: Handle) -> Result<(), HandleError>
    where
        T: Send,
    {
        let w = self.existing_writers().ok_or(HandleError::NotIssued)?;
        let shard = w.shard();
        let (opened, passed) = {
            let mut s = lock(shard);
            if w.flags() != 0 {
                drop(s);
                return self.remove_flagged(w, handle);
            }
            let pending = self.unlink(handle)?;
            s.live -= 1;
            let (opened, sealed) = w.push_removed(&mut s, pending);
            // Checked when a batch was just sealed, not on every removal: a waiting period
            // reads other threads' slots, lines they write on every entry.
            let passed = if sealed { w.take_passed(&mut s) } else { None };
            (opened, passed)
        };
        if opened {
            self.register_with_reclaimer(w);
            handle_reclaimer::wake();
        }
        if let Some(passed) = passed {
            w.destroy(shard, passed);
        }
        Ok(())
    }

    /// `remove` off its common path: the table was closed, or this is a `fork()` child
    /// whose reclaimer must be restarted first (the parent's did not survive the fork, and
    /// the child's idle tables would keep their removed objects).
    #[cold]
    #[inline(never)]
    fn remove_flagged(&self, w: &Writers<'g, T>, handle: Handle) -> Result<(), HandleError>
    where
        T: Send,
    {
        if w.is_closed() {
            return Err(HandleError::Closed);
        }
        if w.clear_forked() {
            handle_reclaimer::restart_after_fork();
        }
        self.remove(handle)
    }

    /// Removes the object `handle` names and drops it on this thread before returning,
    /// after waiting until no call can still be using it: one grace period of its own (one
    /// `membarrier`, a few µs, plus the wait for the calls inside the gate to leave) per call.
    /// For callers that must know the object is gone (a file closed, memory returned);
    /// otherwise [`remove`](Handles::remove) is cheaper.
    ///
    /// # Errors
    ///
    /// As [`remove`](Handles::remove), plus [`HandleError::WouldDeadlock`] when called from
    /// inside the table's gate (nothing is removed then).
    ///
    /// ```
    /// use crosscall::{Gate, Handles};
    /// use std::sync::Arc;
    /// let gate = Gate::new();
    /// let table = Handles::new(&gate);
    /// let shared = Arc::new(());
    /// let h = table.insert(Arc::clone(&shared)).unwrap();
    /// table.remove_sync(h).unwrap();
    /// assert_eq!(Arc::strong_count(&shared), 1); // dropped before remove_sync returned
    /// ```
    pub fn remove_sync(&self, handle: Handle) -> Result<(), HandleError> {
        self.take(handle).map(drop)
    }

    /// Removes the object `handle` names and returns it, after waiting until no call can
    /// still be using it (as [`remove_sync`](Handles::remove_sync)).
    ///
    /// # Errors
    ///
    /// As [`remove`](Handles::remove), plus [`HandleError::WouldDeadlock`] when called from
    /// inside the table's gate (nothing is removed then).
    ///
    /// ```
    /// use crosscall::{Gate, Handles};
    /// let gate = Gate::new();
    /// let table = Handles::new(&gate);
    /// let h = table.insert(String::from("back")).unwrap();
    /// assert_eq!(table.take(h).unwrap(), "back");
    /// ```
    pub fn take(&self, handle: Handle) -> Result<T, HandleError> {
        if self.gate.entered_here() {
            return Err(HandleError::WouldDeadlock);
        }
        let w = self.existing_writers().ok_or(HandleError::NotIssued)?;
        let shard = w.shard();
        let pending = {
            let mut s = lock(shard);
            if w.is_closed() {
                return Err(HandleError::Closed);
            }
            let pending = self.unlink(handle)?;
            s.live -= 1;
            pending
        };
        let grace = self.gate.grace_begin();
        // Checked above that this thread is outside. Were it not, the panic would leak the
        // unlinked object (never dropped), which is sound.
        self.gate
            .grace_wait(&grace)
            .expect("the calling thread is outside the gate");
        // SAFETY: unlinked by our compare-exchange (so only we hold it) and its grace period
        // has passed: no lookup holds or can obtain a reference; read out exactly once.
        let value = unsafe { (*(*pending.entry).value.get()).assume_init_read() };
        // Relaxed: only the holder of the entry stores its word.
        if self.entries_word(&pending) & RETIRED == 0 {
            lock(shard).free.push(pending.index);
        }
        Ok(value)
    }

    /// Removes every object without closing the gate, and returns them once no call can
    /// still be using them (after waiting for the calls inside to leave); removed objects
    /// still waiting for their grace period are dropped on this thread. Every handle issued
    /// so far becomes [`HandleError::Stale`]; the table stays usable.
    ///
    /// # Errors
    ///
    /// [`HandleError::WouldDeadlock`] from inside the table's gate (nothing is removed).
    /// A closed table returns an empty `Vec`.
    ///
    /// ```
    /// use crosscall::{Gate, Handles};
    /// let gate = Gate::new();
    /// let table = Handles::new(&gate);
    /// table.insert('a').unwrap();
    /// assert_eq!(table.clear().unwrap(), vec!['a']);
    /// assert!(table.is_empty());
    /// ```
    pub fn clear(&self) -> Result<Vec<T>, HandleError> {
        if self.gate.entered_here() {
            return Err(HandleError::WouldDeadlock);
        }
        let Some(w) = self.existing_writers() else {
            return Ok(Vec::new());
        };
        // Removals of every shard, then every live object: unlinked before the period below
        // begins, so it covers them all.
        let earlier = w.take_all_pending();
        let mut unlinked_now = Vec::new();
        for index in 0..w.next_index() {
            let index = index as u32; // `next` <= 2^32
            let entry = self.entries.get(index).expect("entries below `next` exist");
            let word = entry.word.load(Ordering::Relaxed);
            // AcqRel as in `unlink`; a concurrent remover wins or loses the same race.
            if word & LIVE != 0
                && entry
                    .word
                    .compare_exchange(word, unlinked(word), Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            {
                unlinked_now.push(Pending { index, entry });
            }
        }
        w.reset_live(0);
        let grace = self.gate.grace_begin();
        self.gate
            .grace_wait(&grace)
            .expect("the calling thread is outside the gate");
        // What the reclaimer took out before us has been dropped once this returns.
        handle_reclaimer::settle(&w.reclaimer_id);
        let mut live = Vec::with_capacity(unlinked_now.len());
        for pending in &unlinked_now {
            // SAFETY: unlinked by our compare-exchange, grace period passed: ours alone.
            live.push(unsafe { (*(*pending.entry).value.get()).assume_init_read() });
        }
        let freed: Vec<u32> = unlinked_now
            .iter()
            .chain(earlier.iter())
            .filter(|p| self.entries_word(p) & RETIRED == 0)
            .map(|p| p.index)
            .collect();
        // An earlier removal's grace period has passed too: every thread it waits for was
        // inside before ours began, so it has left once ours is over.
        drop_pending(&earlier);
        w.free_to_pool(freed);
        Ok(live)
    }

    /// Closes the table's gate (waiting for every call inside to leave), then empties the
    /// table: removed objects still waiting are dropped on this thread (and any the reclaimer
    /// is dropping are dropped before this returns), the live ones are returned (in no
    /// particular order). Afterwards every handle of this table is [`HandleError::Stale`],
    /// and `insert`, `remove` and `take` return [`HandleError::Closed`]. Closing a closed
    /// table returns an empty `Vec`.
    ///
    /// Closing the gate directly ([`Gate::close`]) also stops lookups (no pass can be had),
    /// but leaves the objects in the table until this `close` or the table's drop.
    ///
    /// # Errors
    ///
    /// Those of [`Gate::close`] (from inside the gate: [`CloseError::WouldDeadlock`]); the
    /// table is unchanged then.
    ///
    /// ```
    /// use crosscall::{Gate, GateState, Handles};
    /// let gate = Gate::new();
    /// gate.open();
    /// let table = Handles::new(&gate);
    /// table.insert(1).unwrap();
    /// assert_eq!(table.close().unwrap(), vec![1]);
    /// assert_eq!(gate.state(), GateState::Closed);
    /// ```
    pub fn close(&self) -> Result<Vec<T>, CloseError> {
        self.gate.close()?;
        let Some(w) = self.existing_writers() else {
            return Ok(Vec::new());
        };
        w.mark_closed();
        // The gate is closed and drained: no call is inside, so every grace period has
        // passed and no lookup can run. Every writer either finished before the shard locks
        // taken here or sees the closed flag (see `Writers::mark_closed`).
        let deferred = w.take_all_pending();
        let mut live = Vec::new();
        for index in 0..w.next_index() {
            let index = index as u32; // `next` <= 2^32
            let entry = self.entries.get(index).expect("entries below `next` exist");
            let word = entry.word.load(Ordering::Acquire);
            if word & LIVE != 0
                && entry
                    .word
                    .compare_exchange(word, unlinked(word), Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            {
                // SAFETY: unlinked by our compare-exchange, nobody inside the gate: ours.
                live.push(unsafe { (*entry.value.get()).assume_init_read() });
            }
        }
        w.reset_live(0);
        drop_pending(&deferred);
        handle_reclaimer::settle(&w.reclaimer_id);
        Ok(live)
    }

    /// Not public API: seals every batch of removals now and drops those whose grace period
    /// has passed, as the reclaimer's tick does (for tests and loom models, which have no
    /// reclaimer). Returns whether removals still wait.
    #[doc(hidden)]
    pub fn __reclaim_now(&self) -> bool
    where
        T: Send,
    {
        let Some(w) = self.existing_writers() else {
            return false;
        };
        let waiting = w.reclaim_pass(u64::MAX);
        // A batch the reclaimer took out before us is dropped once this returns.
        handle_reclaimer::settle(&w.reclaimer_id);
        waiting
    }

    /// Flips the live word of `handle`'s entry to "removed": the one compare-exchange that
    /// decides which of several racing removers (or `clear`) owns the object.
    fn unlink(&self, handle: Handle) -> Result<Pending<T>, HandleError> {
        let key = self.key.load(Ordering::Relaxed);
        if key & KEY_SET == 0 {
            return Err(HandleError::NotIssued); // nothing was ever inserted
        }
        let index = handle.index();
        let entry = self.entries.get(index).ok_or(HandleError::NotIssued)?;
        let generation = handle.generation(key as u32);
        let live = LIVE | u64::from(generation);
        // AcqRel: Acquire pairs with the inserter's Release (the object is initialized for
        // whoever drops it); the grace period's barrier orders the store before its scan.
        match entry
            .word
            .compare_exchange(live, unlinked(live), Ordering::AcqRel, Ordering::Relaxed)
        {
            Ok(_) => Ok(Pending { index, entry }),
            Err(word) => Err(classify(word, generation)),
        }
    }

    /// The state word of a pending entry (Relaxed: the caller holds the entry).
    fn entries_word(&self, pending: &Pending<T>) -> u64 {
        // SAFETY: entries live as long as the table.
        unsafe { &*pending.entry }.word.load(Ordering::Relaxed)
    }

    /// The table key, drawn by the first insert (racing first inserts agree through the
    /// compare-exchange).
    #[inline]
    fn key_for_insert(&self) -> u32 {
        // Relaxed: published to lookups by the Release store of a bucket pointer, which
        // happens after this on every thread that inserts.
        let key = self.key.load(Ordering::Relaxed);
        if key & KEY_SET != 0 {
            return key as u32;
        }
        self.draw_key()
    }

    /// The first insert's half of [`key_for_insert`](Handles::key_for_insert).
    #[cold]
    #[inline(never)]
    fn draw_key(&self) -> u32 {
        let fresh = KEY_SET | u64::from(random_key());
        match self
            .key
            .compare_exchange(0, fresh, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => fresh as u32,
            Err(existing) => existing as u32,
        }
    }

    /// The write side, allocated on first use.
    #[inline]
    fn writers_for_insert(&self) -> &Writers<'g, T> {
        if let Some(w) = self.existing_writers() {
            return w;
        }
        self.new_writers()
    }

    /// The first insert's half of [`writers_for_insert`](Handles::writers_for_insert).
    #[cold]
    #[inline(never)]
    fn new_writers(&self) -> &Writers<'g, T> {
        let fresh = Box::into_raw(Box::new(Writers::new(self.gate)));
        // Release pairs with the Acquire in `existing_writers`: the write side is initialized.
        match self.writers.compare_exchange(
            ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: just published; freed only in `Drop`.
            Ok(_) => unsafe { &*fresh },
            Err(other) => {
                // SAFETY: `fresh` was never shared; `other` was published (as above).
                drop(unsafe { Box::from_raw(fresh) });
                unsafe { &*other }
            }
        }
    }

    #[inline]
    fn existing_writers(&self) -> Option<&Writers<'g, T>> {
        // Acquire pairs with the publishing compare-exchange.
        let w = self.writers.load(Ordering::Acquire);
        // SAFETY: published write sides live until the table drops.
        (!w.is_null()).then(|| unsafe { &*w })
    }

    /// Lets the reclaimer see this table's removals (first batched removal only).
    fn register_with_reclaimer(&self, w: &Writers<'g, T>)
    where
        T: Send,
    {
        let table: *const (dyn Reclaim + '_) = w;
        // SAFETY: the write side is a heap allocation that never moves; the table's drop
        // unregisters it (waiting for a pass in progress) before freeing it.
        unsafe { handle_reclaimer::register(&w.reclaimer_id, table) };
    }
}

impl<T: Send> Reclaim for Writers<'_, T> {
    fn reclaim_pass(&self, tick: u64) -> bool {
        Writers::reclaim_pass(self, tick)
    }

    fn mark_forked(&self) {
        Writers::mark_forked(self);
    }
}

/// Not public API: makes the calling loom thread use shard `number` (0 or 1) of every table,
/// for models of two shards. Every thread uses shard 0 otherwise.
#[cfg(loom)]
#[doc(hidden)]
pub fn __loom_set_shard(number: usize) {
    crate::handle_shards::set_loom_shard(number);
}

/// Drops the objects of `items`, whose grace period has passed and which nobody else holds.
fn drop_pending<T>(items: &[Pending<T>]) {
    for pending in items {
        // SAFETY: the callers took the items out of their shards (so they hold them alone)
        // after their grace period passed or with the gate drained; each object is
        // initialized and dropped exactly once here.
        unsafe { (*(*pending.entry).value.get()).assume_init_drop() };
    }
}

impl<T> Drop for Handles<'_, T> {
    /// Drops every object still in the table (live or removed), on the dropping thread.
    fn drop(&mut self) {
        let w = self.writers.load(Ordering::Relaxed); // `&mut self`: no other thread
        if w.is_null() {
            return;
        }
        // SAFETY: published by `writers_for_insert` from `Box::into_raw`, freed only here.
        let w = unsafe { Box::from_raw(w) };
        // The reclaimer lets go of this table before we drop anything.
        handle_reclaimer::unregister(&w.reclaimer_id);
        let pending = w.take_all_pending();
        drop_pending(&pending);
        for index in 0..w.next_index() {
            let index = index as u32;
            let entry: &Entry<T> = self.entries.get(index).expect("entries below `next` exist");
            if entry.word.load(Ordering::Relaxed) & LIVE != 0 {
                // SAFETY: `&mut self`: no lookup or writer runs; the value of a live entry
                // is initialized and dropped exactly once here.
                unsafe { (*entry.value.get()).assume_init_drop() };
            }
        }
    }
}

impl<T> fmt::Debug for Handles<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handles")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// A random table key: std's per-process random hasher keys over a counter.
fn random_key() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    // std atomic: only makes successive keys differ; not part of any ordering argument.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let bits = hasher.finish();
    (bits ^ (bits >> 32)) as u32
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Sets the (free) entry of `index` to `generation`, as if it had been reused that often.
    fn age(table: &Handles<'_, u32>, index: u32, generation: u32) {
        let entry = table.entries.get(index).unwrap();
        assert_eq!(entry.word.load(Ordering::Relaxed) & (LIVE | RETIRED), 0);
        entry.word.store(u64::from(generation), Ordering::Relaxed);
    }

    #[test]
    fn an_entry_retires_at_its_last_generation_instead_of_wrapping() {
        let gate = Gate::new();
        gate.open();
        let table = Handles::new(&gate);
        let _other = table.insert(0).unwrap(); // index 0, so index 1 is the one aged
        let first = table.insert(1).unwrap();
        table.remove_sync(first).unwrap();
        age(&table, first.index(), u32::MAX);
        let key = table.key.load(Ordering::Relaxed) as u32;
        let last = table.insert(2).unwrap();
        assert_eq!(last.index(), first.index());
        assert_eq!(last.generation(key), u32::MAX);
        table.remove_sync(last).unwrap();
        // Retired: never handed out again, and every handle it ever had stays stale.
        let next = table.insert(3).unwrap();
        assert_ne!(next.index(), first.index());
        let more: Vec<Handle> = (0..100).map(|i| table.insert(i).unwrap()).collect();
        assert!(more.iter().all(|h| h.index() != first.index()));
        let pass = gate.enter().unwrap();
        assert_eq!(table.get(&pass, last), Err(HandleError::Stale));
        assert_eq!(table.get(&pass, first), Err(HandleError::Stale));
        assert_eq!(*table.get(&pass, next).unwrap(), 3);
    }

    #[test]
    fn index_zero_skips_the_generation_that_would_be_handle_zero() {
        let gate = Gate::new();
        gate.open();
        let table = Handles::new(&gate);
        let first = table.insert(1).unwrap();
        assert_eq!(first.index(), 0);
        table.remove_sync(first).unwrap();
        let key = table.key.load(Ordering::Relaxed) as u32;
        age(&table, 0, key);
        let h = table.insert(2).unwrap();
        assert_eq!(h.index(), 0);
        assert_eq!(h.generation(key), key.wrapping_add(1));
        let pass = gate.enter().unwrap();
        assert_eq!(*table.get(&pass, h).unwrap(), 2);
    }
}
