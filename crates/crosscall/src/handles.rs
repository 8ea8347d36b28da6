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
//! object: two loads, no lock, no write to shared memory. Removal flips the state word
//! (under the table's writer lock, shared only by `insert` / `remove`), then waits for — or
//! defers the drop past — a *grace period*: until every thread that was inside the gate at
//! that moment has left it. That is the gate's own close protocol (per-thread slots, the
//! `membarrier` asymmetry) applied to one object: a lookup either saw the flipped word, or
//! its thread was seen inside and is waited for. Inserting and removing never block a
//! lookup.
//!
//! # When and where an object is dropped
//!
//! - [`remove`](Handles::remove) from a thread *outside* the gate waits for the grace period
//!   and drops the object on that thread before returning.
//! - [`remove`](Handles::remove) from *inside* the gate (the caller may still hold the object
//!   in this very call) unlinks it at once and defers the drop: it runs on the thread of the
//!   first later `insert`, `remove` or `take` on this table that finds the grace period
//!   over, or in [`close`](Handles::close), or when the table is dropped.
//! - [`take`](Handles::take) waits like `remove` and returns the object instead.
//! - [`close`](Handles::close) closes the gate (draining it), drops the deferred objects on the
//!   closing thread and hands back every object still in the table.
//! - Dropping the table drops whatever is left, on the dropping thread.
//!
//! Objects are never dropped while the table's writer lock is held, so a `Drop` may use the
//! table.
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
//!   peak number of objects (plus 32); a freed entry costs 4 more bytes on the free list.
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
use crate::grace::Grace;
use crate::handle::Handle;
use crate::handle_entries::{Entries, Entry};
use crate::sync::{AtomicU64, Mutex, MutexGuard, Ordering};
use std::fmt;
use std::marker::PhantomData;
use std::ptr;

/// State word flag: the entry holds the object of the generation in the low 32 bits.
const LIVE: u64 = 1 << 32;
/// State word flag: the entry has used up its generations and is never reused.
const RETIRED: u64 = 1 << 33;
/// Table key flag: the key (low 32 bits) has been drawn.
const KEY_SET: u64 = 1 << 32;

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
///     // Removing from inside the gate cannot wait for this very call: the drop is deferred.
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
    /// `KEY_SET | key` once the first insert drew the key. Written once under the writer
    /// lock before the first bucket is published.
    key: AtomicU64,
    writer: Mutex<Writer<'g>>,
    /// Owns `T`s (drop check); `Send`/`Sync` are implemented below with the bounds they need.
    _owns: PhantomData<(T, *const ())>,
}

// SAFETY: the table owns its objects; moving it to another thread moves them (T: Send).
// Everything else is atomics, a Mutex, and grace records that name the gate's slots.
unsafe impl<T: Send> Send for Handles<'_, T> {}
// SAFETY: lookups share `&T` across threads (T: Sync); `remove` on one thread drops an object
// inserted on another (T: Send). Shared state is reached through atomics and the writer lock.
unsafe impl<T: Send + Sync> Sync for Handles<'_, T> {}

/// What only `insert` / `remove` / `take` / `close` touch, under the lock.
struct Writer<'g> {
    /// Entries whose objects are gone (and not retired), ready for reuse.
    free: Vec<u32>,
    /// The first index never used (entries at and above it are untouched).
    next: u64,
    /// Unlinked entries whose objects are still in place until their grace period passes.
    pending: Vec<(Grace<'g>, u32)>,
    /// Live objects.
    live: usize,
    closed: bool,
}

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
            writer: Mutex::new(Writer {
                free: Vec::new(),
                next: 0,
                pending: Vec::new(),
                live: 0,
                closed: false,
            }),
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
            writer: Mutex::new(Writer {
                free: Vec::new(),
                next: 0,
                pending: Vec::new(),
                live: 0,
                closed: false,
            }),
            _owns: PhantomData,
        }
    }

    /// The gate this table's lookups run in.
    pub fn gate(&self) -> &'g Gate {
        self.gate
    }

    /// Number of objects in the table (a snapshot).
    pub fn len(&self) -> usize {
        self.writer().live
    }

    /// Whether the table holds no object (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `value` and returns its handle. Also drops, on this thread, deferred objects
    /// whose grace period has passed (see [`remove`](Handles::remove)).
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
        let mut reclaimed = Vec::new();
        let result = self.insert_locked(value, &mut reclaimed);
        drop(reclaimed); // outside the lock: a `Drop` may use the table
        result
    }

    fn insert_locked(&self, value: T, reclaimed: &mut Vec<T>) -> Result<Handle, InsertError<T>> {
        let mut w = self.writer();
        if w.closed || matches!(self.gate.state(), GateState::Closing | GateState::Closed) {
            return Err(InsertError {
                error: HandleError::Closed,
                value,
            });
        }
        self.reclaim(&mut w, reclaimed);
        let key = self.key_for_insert();
        loop {
            let (index, recycled) = match w.free.pop() {
                Some(index) => (index, true),
                None => match u32::try_from(w.next) {
                    Ok(index) => (index, false),
                    Err(_) => {
                        return Err(InsertError {
                            error: HandleError::Full,
                            value,
                        })
                    }
                },
            };
            let entry = match self.entries.get_or_grow(index) {
                Ok(entry) => entry,
                Err(_) => {
                    if recycled {
                        w.free.push(index);
                    }
                    return Err(InsertError {
                        error: HandleError::OutOfMemory,
                        value,
                    });
                }
            };
            if !recycled {
                w.next += 1;
            }
            // Relaxed: only lock holders store to the word.
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
            // SAFETY: the entry is neither live nor pending (it is fresh or came off the free
            // list after its grace period), so no lookup reads its value and, as we hold the
            // writer lock, no other writer touches it.
            unsafe { (*entry.value.get()).write(value) };
            // Release pairs with the Acquire load in `lookup`: the object is written before
            // the word can match a handle.
            entry
                .word
                .store(LIVE | u64::from(generation), Ordering::Release);
            w.live += 1;
            return Ok(handle);
        }
    }

    /// The object `handle` names, for as long as `pass` (the caller's proof of being inside
    /// the table's gate) lives.
    ///
    /// Two loads and a compare: no lock, no write to shared memory. The object cannot be
    /// dropped while the reference lives: removal waits for (or defers the drop past) every
    /// call that was inside the gate when it unlinked the object.
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
        self.lookup(handle)
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
        Some(match Handle::from_raw(raw) {
            Some(handle) => self.lookup(handle),
            None => Err(HandleError::NotIssued),
        })
    }

    /// The lookup proper; the caller has checked that the calling thread is inside the gate
    /// for as long as the returned reference lives.
    #[inline]
    fn lookup(&self, handle: Handle) -> Result<&T, HandleError> {
        let Some(entry) = self.entries.get(handle.index()) else {
            return Err(HandleError::NotIssued);
        };
        // Relaxed: the key was stored before the first bucket was published, and `get` above
        // loaded a bucket pointer with Acquire.
        let key = self.key.load(Ordering::Relaxed) as u32;
        let generation = handle.generation(key);
        // Acquire pairs with the Release store in `insert`: the object is initialized.
        let word = entry.word.load(Ordering::Acquire);
        if word != LIVE | u64::from(generation) {
            return Err(classify(word, generation));
        }
        // SAFETY: the word names this generation as live, so the value is initialized. It
        // stays so while the caller is inside the gate: removal flips the word first, then
        // runs the closing-side barrier and waits for (or defers past) every thread it finds
        // inside. By the fence pair of the gate (see `fence.rs`), a thread whose load above
        // saw the live word is one of those, and the caller stays inside (its pass is
        // borrowed) for as long as the returned reference lives.
        Ok(unsafe { (*entry.value.get()).assume_init_ref() })
    }

    /// Removes the object `handle` names and drops it once no call can still be using it:
    /// before returning when called from outside the gate (after waiting for the calls inside
    /// to leave), later when called from inside (see the [module docs](crate::handles)).
    /// On success it also drops deferred objects whose grace period has passed. Each removal
    /// runs the closing-side barrier once (one `membarrier` call, a few µs).
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
    pub fn remove(&self, handle: Handle) -> Result<(), HandleError> {
        let index = self.unlink(handle)?;
        let grace = self.gate.grace_begin();
        let mut reclaimed = Vec::new();
        match self.gate.grace_wait(&grace) {
            Ok(()) => {
                let mut w = self.writer();
                reclaimed.push(self.take_value(&mut w, index));
                self.reclaim(&mut w, &mut reclaimed);
            }
            Err(_) => {
                // Inside the gate: this very call may hold the object. Defer.
                let mut w = self.writer();
                w.pending.push((grace, index));
                self.reclaim(&mut w, &mut reclaimed);
            }
        }
        drop(reclaimed); // outside the lock
        Ok(())
    }

    /// Removes the object `handle` names and returns it, after waiting until no call can
    /// still be using it.
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
        let index = self.unlink(handle)?;
        let grace = self.gate.grace_begin();
        if self.gate.grace_wait(&grace).is_err() {
            // Unreachable (checked above); deferring keeps it sound regardless.
            self.writer().pending.push((grace, index));
            return Err(HandleError::WouldDeadlock);
        }
        let mut reclaimed = Vec::new();
        let value = {
            let mut w = self.writer();
            let value = self.take_value(&mut w, index);
            self.reclaim(&mut w, &mut reclaimed);
            value
        };
        drop(reclaimed);
        Ok(value)
    }

    /// Removes every object without closing the gate, and returns them once no call can
    /// still be using them (after waiting for the calls inside to leave); deferred objects
    /// are dropped on this thread. Every handle issued so far becomes
    /// [`HandleError::Stale`]; the table stays usable.
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
        let (unlinked_now, earlier) = {
            let mut w = self.writer();
            let mut unlinked_now = Vec::new();
            for index in 0..w.next {
                let index = index as u32; // `next` <= 2^32
                let entry = self.entries.get(index).expect("entries below `next` exist");
                let word = entry.word.load(Ordering::Relaxed);
                if word & LIVE != 0 {
                    // Release: as in `unlink`.
                    entry.word.store(unlinked(word), Ordering::Release);
                    unlinked_now.push(index);
                }
            }
            w.live = 0;
            (unlinked_now, std::mem::take(&mut w.pending))
        };
        let grace = self.gate.grace_begin();
        // Checked above that this thread is outside. Were it not, the panic would leak the
        // unlinked objects (never dropped), which is sound.
        self.gate
            .grace_wait(&grace)
            .expect("the calling thread is outside the gate");
        let mut live = Vec::with_capacity(unlinked_now.len());
        let mut deferred = Vec::with_capacity(earlier.len());
        {
            let mut w = self.writer();
            for index in unlinked_now {
                live.push(self.take_value(&mut w, index));
            }
            // An earlier grace period has passed too: every thread it waits for was inside
            // before ours began, so it has left once ours is over.
            for (_, index) in earlier {
                deferred.push(self.take_value(&mut w, index));
            }
        }
        drop(deferred);
        Ok(live)
    }

    /// Closes the table's gate (waiting for every call inside to leave), then empties the
    /// table: deferred objects are dropped on this thread, the live ones are returned (in no
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
        let mut live = Vec::new();
        let mut deferred = Vec::new();
        {
            let mut w = self.writer();
            w.closed = true;
            // The gate is closed and drained: no call is inside, so every grace period has
            // passed and no lookup can run.
            for (_, index) in std::mem::take(&mut w.pending) {
                deferred.push(self.take_value(&mut w, index));
            }
            for index in 0..w.next {
                let index = index as u32; // `next` <= 2^32
                let entry = self.entries.get(index).expect("entries below `next` exist");
                let word = entry.word.load(Ordering::Relaxed);
                if word & LIVE != 0 {
                    entry.word.store(unlinked(word), Ordering::Relaxed);
                    live.push(self.take_value(&mut w, index));
                }
            }
            w.live = 0;
        }
        drop(deferred);
        Ok(live)
    }

    /// Flips the live word of `handle`'s entry to "removed" under the writer lock.
    fn unlink(&self, handle: Handle) -> Result<u32, HandleError> {
        let mut w = self.writer();
        if w.closed {
            return Err(HandleError::Closed);
        }
        let key = self.key.load(Ordering::Relaxed);
        if key & KEY_SET == 0 {
            return Err(HandleError::NotIssued); // nothing was ever inserted
        }
        let index = handle.index();
        let entry = self.entries.get(index).ok_or(HandleError::NotIssued)?;
        let generation = handle.generation(key as u32);
        let word = entry.word.load(Ordering::Relaxed);
        if word != LIVE | u64::from(generation) {
            return Err(classify(word, generation));
        }
        // Release is not needed by lookups (one that sees the new word does not read the
        // value); the grace period's barrier orders this store before its slot scan.
        entry.word.store(unlinked(word), Ordering::Release);
        w.live -= 1;
        Ok(index)
    }

    /// Moves the object out of unlinked entry `index` and frees the entry for reuse (unless
    /// retired). The entry's grace period must have passed.
    fn take_value(&self, w: &mut MutexGuard<'_, Writer<'g>>, index: u32) -> T {
        let entry = self.entries.get(index).expect("an unlinked entry exists");
        // SAFETY: the entry was unlinked and its grace period has passed, so no lookup holds
        // or can obtain a reference to the value; it is initialized (unlinking does not touch
        // it) and, under the lock, read out exactly once (the index leaves `pending` or the
        // remover's hands here).
        let value = unsafe { (*entry.value.get()).assume_init_read() };
        if entry.word.load(Ordering::Relaxed) & RETIRED == 0 {
            w.free.push(index);
        }
        value
    }

    /// Moves out the deferred objects whose grace period has passed, into `out` (dropped by
    /// the caller after unlocking).
    fn reclaim(&self, w: &mut MutexGuard<'_, Writer<'g>>, out: &mut Vec<T>) {
        let mut i = 0;
        while i < w.pending.len() {
            if w.pending[i].0.has_passed() {
                let (_, index) = w.pending.swap_remove(i);
                out.push(self.take_value(w, index));
            } else {
                i += 1;
            }
        }
    }

    /// The table key, drawn on first use. Called under the writer lock, before any bucket is
    /// published.
    fn key_for_insert(&self) -> u32 {
        let key = self.key.load(Ordering::Relaxed);
        if key & KEY_SET != 0 {
            return key as u32;
        }
        let fresh = random_key();
        // Relaxed: published to lookups by the Release store of the first bucket pointer.
        self.key
            .store(KEY_SET | u64::from(fresh), Ordering::Relaxed);
        fresh
    }

    fn writer(&self) -> MutexGuard<'_, Writer<'g>> {
        // Every update of `Writer` completes before anything that can panic (user code runs
        // only outside the lock), so a poisoned lock holds consistent state.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T> Drop for Handles<'_, T> {
    /// Drops every object still in the table (live or deferred), on the dropping thread.
    fn drop(&mut self) {
        let mut w = self.writer();
        let pending: Vec<u32> = w.pending.drain(..).map(|(_, index)| index).collect();
        let next = w.next;
        drop(w);
        let drop_at = |index: u32| {
            let entry = self.entries.get(index).expect("entries below `next` exist");
            // SAFETY: `&mut self`: no lookup or writer runs; the value of a live or pending
            // entry is initialized and dropped exactly once here.
            unsafe { (*entry.value.get()).assume_init_drop() };
        };
        for index in pending {
            drop_at(index);
        }
        for index in 0..next {
            let index = index as u32;
            let entry: &Entry<T> = self.entries.get(index).expect("entries below `next` exist");
            if entry.word.load(Ordering::Relaxed) & LIVE != 0 {
                drop_at(index);
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

/// The word after unlinking the live `word`: next generation, or retired at the last one.
fn unlinked(word: u64) -> u64 {
    let generation = word as u32;
    match generation.checked_add(1) {
        Some(next) => u64::from(next),
        None => RETIRED | u64::from(generation),
    }
}

/// Why `generation` does not match the entry's `word` (which is not `LIVE | generation`).
#[cold]
fn classify(word: u64, generation: u32) -> HandleError {
    let current = word as u32;
    // Generations are handed out in order, so every one below the current (and, once
    // retired, every one) was issued and has been removed.
    if word & RETIRED != 0 || generation < current {
        HandleError::Stale
    } else {
        HandleError::NotIssued
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
        table.remove(first).unwrap();
        age(&table, first.index(), u32::MAX);
        let key = table.key.load(Ordering::Relaxed) as u32;
        let last = table.insert(2).unwrap();
        assert_eq!(last.index(), first.index());
        assert_eq!(last.generation(key), u32::MAX);
        table.remove(last).unwrap();
        // Retired: never handed out again, and every handle it ever had stays stale.
        let next = table.insert(3).unwrap();
        assert_ne!(next.index(), first.index());
        assert!(table.writer().free.iter().all(|&i| i != first.index()));
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
        table.remove(first).unwrap();
        let key = table.key.load(Ordering::Relaxed) as u32;
        age(&table, 0, key);
        let h = table.insert(2).unwrap();
        assert_eq!(h.index(), 0);
        assert_eq!(h.generation(key), key.wrapping_add(1));
        let pass = gate.enter().unwrap();
        assert_eq!(*table.get(&pass, h).unwrap(), 2);
    }
}
