//! Per-thread, cache-padded nesting counters: one per (thread, gate) pair.
//!
//! A gate keeps a push-only list of slots. A thread claims a free slot the first time it
//! enters a gate and keeps it (in its `thread_exit` state, and cached in the fast path's
//! thread-local) until it exits; then the slot is
//! marked free and the next new thread reuses it, so memory follows the number of threads
//! alive at once, not the number that ever entered.
//!
//! Slots are reference counted: the gate's list holds one reference, the owning thread's
//! state another, so a thread exiting after the gate was dropped still writes to live
//! memory.
//!
//! # The slot word
//!
//! A slot is one word written only by its owner: the nesting depth in the low
//! [`DEPTH_BITS`] bits and, above them, a count of *outermost* entries (entries made at
//! depth 0). The count lets a grace period (`grace.rs`) finish even on a thread that is
//! almost never outside the gate: if the count moved, the thread was at depth 0 in between,
//! so every call it had in progress before has left.

use crate::gate::close_wake;
use crate::gate::local::{self, Table, CACHE_WAYS, EMPTY_KEY, SPILL_WAYS};
use crate::gate::thread_exit;
use crate::gate::{key_id, open_key};
use crate::sync::{Arc, AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use crossbeam_utils::CachePadded;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ptr;

/// Bits of the slot word that hold the nesting depth. 16 keeps `OUTERMOST_ENTRY` a small
/// immediate on every architecture; deeper nesting of one gate on one thread is refused.
pub(crate) const DEPTH_BITS: u32 = 16;
/// The depth part of a slot word.
pub(crate) const DEPTH_MASK: usize = (1 << DEPTH_BITS) - 1;
/// Added to a slot word by an entry at depth 0: depth 1, and one more outermost entry.
pub(crate) const OUTERMOST_ENTRY: usize = (1 << DEPTH_BITS) + 1;

/// The nesting depth held in a slot word.
#[inline(always)]
pub(crate) fn depth(word: usize) -> usize {
    word & DEPTH_MASK
}

/// The outermost-entry count held in a slot word (wraps; only compared for change).
#[inline(always)]
pub(crate) fn outermost_entries(word: usize) -> usize {
    word >> DEPTH_BITS
}

/// One thread's entries in one gate, alone on its cache line(s) so that the owner's
/// writes never invalidate a line another thread writes (`CachePadded` sizes the padding per
/// architecture: 128 bytes on x86_64 because of the adjacent-line prefetcher).
///
/// `repr(C)`: the x86_64 leave reads `close_waiters` at its offset (see [`store_leaving`]).
#[repr(C)]
pub(crate) struct Slot {
    /// Depth and outermost-entry count (see the module docs). Written only by the owning
    /// thread (plain load + store, no read-modify-write); read by `close`, `in_flight` and
    /// grace periods.
    pub(crate) word: AtomicUsize,
    /// Closers waiting for this slot's depth to drop (see `close_wake`): nonzero only while a
    /// close drains. Beside `word` so a leave's check reads the line it just wrote.
    close_waiters: AtomicUsize,
    /// Whether a live thread owns this slot.
    in_use: AtomicBool,
    /// Whether the owner's entries end when it exits (entries made through the C API, which
    /// have no `Pass` to leak): the slot is then zeroed instead of kept.
    leave_at_exit: bool,
    /// Next slot in the gate's list; set before the slot is published, never changed.
    next: *const CachePadded<Slot>,
}

impl Slot {
    /// Whether a live thread owns this slot (a snapshot).
    pub(crate) fn owned(&self) -> bool {
        // Relaxed: a statistic; orders nothing.
        self.in_use.load(Ordering::Relaxed)
    }
}

// SAFETY: `next` is written once before the slot is published and never changed; it is only
// dereferenced through `SlotList::iter`, while the list (which keeps every slot alive) is
// borrowed. Everything else in a slot is atomic.
unsafe impl Send for Slot {}
// SAFETY: as above.
unsafe impl Sync for Slot {}

pub(crate) type PaddedSlot = CachePadded<Slot>;

impl Drop for Slot {
    fn drop(&mut self) {
        // `CachePadded` puts the slot at offset 0: this is the address `register` listed.
        crate::gate::fork::unregister((self as *const Slot).cast());
    }
}

impl Slot {
    /// In a `fork()` child, for a slot whose owner did not survive the fork: its entries no
    /// longer count (depth 0; the outermost-entry count moves on, as a leave would show it to a
    /// grace period) and the slot is free for another thread (see `fork.rs`).
    #[cfg_attr(any(not(unix), miri), allow(dead_code))] // no fork handling off unix or under Miri
    pub(crate) fn reset_after_fork(&self) {
        let word = self.word.load(Ordering::Relaxed);
        if depth(word) != 0 {
            // Release: as a leave.
            self.word.store(
                (word & !DEPTH_MASK).wrapping_add(1 << DEPTH_BITS),
                Ordering::Release,
            );
        }
        // Release: as `release`.
        self.in_use.store(false, Ordering::Release);
    }
}

/// The gate's list of slots.
pub(crate) struct SlotList {
    head: AtomicPtr<PaddedSlot>,
    /// Copied into every slot (see `Slot::leave_at_exit`).
    leave_at_exit: bool,
}

// SAFETY: the raw pointers in the list point to `Arc`-owned slots that are only freed in
// `Drop` (which has `&mut self`); all shared state in a slot is atomic.
unsafe impl Send for SlotList {}
// SAFETY: as above.
unsafe impl Sync for SlotList {}

impl SlotList {
    #[cfg(not(loom))]
    pub(crate) const fn new(leave_at_exit: bool) -> SlotList {
        SlotList {
            head: AtomicPtr::new(ptr::null_mut()),
            leave_at_exit,
        }
    }

    #[cfg(loom)]
    pub(crate) fn new(leave_at_exit: bool) -> SlotList {
        SlotList {
            head: AtomicPtr::new(ptr::null_mut()),
            leave_at_exit,
        }
    }

    /// Claims a free slot for the calling thread, or adds a new one.
    pub(crate) fn claim(&self) -> Arc<PaddedSlot> {
        // Raw pointers as `push` published them: an `Arc` re-made from one may free the slot
        // (a pointer derived from a `&PaddedSlot` may not: Miri reports that).
        for raw in self.iter_raw() {
            // SAFETY: as in `iter`.
            let slot = unsafe { &*raw };
            // Acquire pairs with the Release in `release`: the previous owner's last depth
            // store (0) happens before we reuse the slot.
            if !slot.in_use.load(Ordering::Relaxed)
                && slot
                    .in_use
                    .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                // SAFETY: every slot in the list came from `Arc::into_raw` in `push` and the
                // list's own reference keeps it alive while `self` is borrowed.
                unsafe {
                    Arc::increment_strong_count(raw);
                    return Arc::from_raw(raw);
                }
            }
        }
        self.push()
    }

    fn push(&self) -> Arc<PaddedSlot> {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            let slot = Arc::new(CachePadded::new(Slot {
                word: AtomicUsize::new(0),
                close_waiters: AtomicUsize::new(0),
                in_use: AtomicBool::new(true),
                leave_at_exit: self.leave_at_exit,
                next: head,
            }));
            let raw = Arc::into_raw(slot.clone()) as *mut PaddedSlot;
            // Release publishes the slot's initialized fields to `iter`'s Acquire load.
            match self
                .head
                .compare_exchange(head, raw, Ordering::Release, Ordering::Acquire)
            {
                Ok(_) => {
                    // Listed for `fork()`'s child handler (unlisted in `Slot::drop`).
                    crate::gate::fork::register(Arc::as_ptr(&slot));
                    return slot;
                }
                Err(now) => {
                    // SAFETY: `raw` came from `into_raw` just above and was never published.
                    drop(unsafe { Arc::from_raw(raw) });
                    head = now;
                }
            }
        }
    }

    /// [`SlotList::iter`] as the pointers `push` published (from `Arc::into_raw`).
    fn iter_raw(&self) -> impl Iterator<Item = *const PaddedSlot> + '_ {
        // Acquire pairs with the Release in `push`.
        let mut cur = self.head.load(Ordering::Acquire) as *const PaddedSlot;
        std::iter::from_fn(move || {
            if cur.is_null() {
                return None;
            }
            let this = cur;
            // SAFETY: as in `iter`; the reference lives for this read of `next` only, and
            // `this` keeps the provenance `push` gave it.
            cur = unsafe { (&*this).next };
            Some(this)
        })
    }

    /// Every slot ever added, in use or not.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &PaddedSlot> {
        // Acquire pairs with the Release in `push`.
        self.iter_from(self.head.load(Ordering::Acquire))
    }

    /// The slots from `head` (a value of the list's head seen earlier) on: the list only
    /// grows at the front, so this is the same set every time.
    fn iter_from(&self, head: *mut PaddedSlot) -> impl Iterator<Item = &PaddedSlot> {
        let mut cur = head as *const PaddedSlot;
        std::iter::from_fn(move || {
            // SAFETY: non-null pointers in the list are live `Arc`s owned by the list, freed
            // only in `Drop`, which cannot run while `self` is borrowed.
            let slot = unsafe { cur.as_ref()? };
            cur = slot.next;
            Some(slot)
        })
    }

    /// Number of slots allocated (in use or free): bounded by the most threads that were
    /// inside, or attached to, the gate at one time.
    pub(crate) fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether entries of this list's gate end when their thread exits (the C API's gates).
    pub(crate) fn leave_at_exit(&self) -> bool {
        self.leave_at_exit
    }

    /// Asks the owner of every slot added since `since` (a head an earlier call returned;
    /// NULL: every slot) to wake closers when it leaves (see `close_wake`); returns the head
    /// armed from. Undo with [`SlotList::disarm`] and the last head returned. The caller then
    /// runs the closing barrier before it reads the slots, so every leave from an armed slot
    /// either is seen by that read or sees the flag.
    pub(crate) fn arm(&self, since: *mut PaddedSlot) -> *mut PaddedSlot {
        // Acquire pairs with the Release in `push`.
        let head = self.head.load(Ordering::Acquire);
        for slot in self.iter_from(head) {
            if ptr::eq(slot, since) {
                break;
            }
            // AcqRel: under loom the leave's read of the flag is a read-modify-write of this
            // location, which stands in for the asymmetric fence pair (see `store_leaving`);
            // natively the ordering comes from the closing barrier that follows.
            slot.close_waiters.fetch_add(1, Ordering::AcqRel);
        }
        head
    }

    /// Undoes [`SlotList::arm`] (given the last head it returned).
    pub(crate) fn disarm(&self, head: *mut PaddedSlot) {
        for slot in self.iter_from(head) {
            // Relaxed: a leave that still sees the flag only wakes closers spuriously.
            slot.close_waiters.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Drop for SlotList {
    fn drop(&mut self) {
        // Acquire pairs with the Release in `push` (`&mut self` makes it uncontended).
        let mut cur = self.head.load(Ordering::Acquire) as *const PaddedSlot;
        while !cur.is_null() {
            // SAFETY: we own the list's reference to each slot; `next` is read before the
            // reference is given up.
            let slot = unsafe { Arc::from_raw(cur) };
            cur = slot.next;
        }
    }
}

/// Marks a slot free for reuse by another thread.
fn release(slot: &PaddedSlot) {
    let word = slot.word.load(Ordering::Relaxed);
    if depth(word) > 0 && slot.leave_at_exit {
        // The thread exits inside C API entries: they end with it, as a leave.
        store_leaving_and_wake(slot, word & !DEPTH_MASK);
    } else if depth(word) > 0 {
        // A thread that exits while it still holds a Pass (one leaked with `mem::forget`)
        // keeps its slot: the depth stays visible, so `close` keeps waiting for that call, as
        // it must.
        return;
    }
    // Release pairs with the Acquire in `claim`.
    slot.in_use.store(false, Ordering::Release);
}

/// The slots the current thread owns, released when the thread exits: dropped at thread exit
/// by `thread_exit` (a pthread key destructor on unix, a thread-local destructor elsewhere).
///
/// Keyed by gate id (O(1) whatever the number of gates the thread entered); slots of gates
/// that were dropped meanwhile are pruned when the map has doubled since the last pruning, so
/// a thread that outlives thousands of gates keeps memory for the live ones only.
pub(crate) struct OwnedSlots {
    /// Made on first use (a `const` empty map needs Rust 1.85; the MSRV is older).
    by_gate: Option<IdMap>,
    /// Size at which the next new slot prunes dead gates' slots first.
    prune_at: usize,
    /// The table `Local::table` points to (from `Box::into_raw`, freed in `Drop`; NULL
    /// until made), made when the thread claims its second slot: a thread with one gate
    /// finds it in the front entry and never needs one. Raw, not a `Box`: `Local::table`
    /// aliases it, and every access goes through a raw pointer.
    table: *mut Table,
    /// The spill table the table's `spill` points to (as `table`), made with it.
    spill: *mut SpillTable,
}

/// One spill-table entry: a gate's key, this thread's slot in it, and the gate's address
/// (the C API's probe compares it before it reads the gate). Empty: `EMPTY_KEY`, NULL, 0.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct SpillEntry {
    key: usize,
    slot: *const PaddedSlot,
    addr: usize,
}

const EMPTY_SPILL: SpillEntry = SpillEntry {
    key: EMPTY_KEY,
    slot: ptr::null(),
    addr: 0,
};

/// The second level of a thread's gate cache: [`SPILL_WAYS`] direct-mapped entries (see
/// `local::spill_index`), behind the table's [`CACHE_WAYS`]. A table miss probes it and,
/// on a hit, moves the entry into the table: a thread alternating between many gates pays a
/// few dozen instructions per entry instead of the slow path's lock-free but long walk.
pub(crate) struct SpillTable([SpillEntry; SPILL_WAYS]);

/// Smallest `OwnedSlots::prune_at`: a thread with a few gates never prunes.
const PRUNE_MIN: usize = 16;

type IdMap = HashMap<usize, Arc<PaddedSlot>, BuildHasherDefault<IdHasher>>;

/// Hashes a gate id (a small sequential number) by one multiplication: ids are not chosen by
/// an adversary, so no DoS-resistant hasher is needed, and this one has a `const` default.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_usize(&mut self, id: usize) {
        self.write_u64(id as u64);
    }

    fn write_u64(&mut self, id: u64) {
        // Fibonacci hashing: spreads sequential ids over the high bits hashbrown uses too.
        self.0 = (self.0 ^ id).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl OwnedSlots {
    pub(crate) const fn new() -> OwnedSlots {
        OwnedSlots {
            by_gate: None,
            prune_at: PRUNE_MIN,
            table: ptr::null_mut(),
            spill: ptr::null_mut(),
        }
    }

    /// Makes the thread's table and spill table (once) and points `Local::table` to it.
    /// Allocates: only on a slow path that claims a slot (which allocates too), never in a
    /// signal handler's entry (`signal.rs`).
    fn ensure_table(&mut self) {
        if !self.table.is_null() {
            return;
        }
        let spill = Box::into_raw(Box::new(SpillTable([EMPTY_SPILL; SPILL_WAYS])));
        let mut table = Table::empty();
        // SAFETY: `spill` is a live allocation this state owns.
        table.spill = unsafe { ptr::addr_of!((*spill).0[0]) };
        let table = Box::into_raw(Box::new(table));
        // Filled before it is published: an entry interrupting this (a signal handler) sees
        // the empty table or this one, both complete. Same thread: a compiler fence orders it.
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
        // SAFETY: the calling thread's own `Local`; the tables live until `Drop` below, which
        // points it back to the empty table first.
        unsafe { (*local::local()).table = table };
        self.table = table;
        self.spill = spill;
    }

    /// Records gate `id`'s slot in spill entry `index` (a thread with a table only).
    fn spill(&mut self, index: usize, key: usize, slot: *const PaddedSlot, addr: usize) {
        if self.spill.is_null() {
            return;
        }
        // As in `set_cached`: a probe interrupting this (a signal handler) sees the old
        // entry, an empty one, or the new one; the compiler fences keep the order (same
        // thread).
        // SAFETY: `self.spill` is this thread's live spill table, accessed only by this
        // thread and only through raw pointers; `index < SPILL_WAYS` (`spill_index`).
        unsafe {
            let entry: *mut SpillEntry = ptr::addr_of_mut!((*self.spill).0[index]);
            (*entry).key = EMPTY_KEY;
            (*entry).addr = 0;
            std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
            (*entry).slot = slot;
            std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
            (*entry).key = key;
            (*entry).addr = addr;
        }
    }

    fn len(&self) -> usize {
        self.by_gate.as_ref().map_or(0, HashMap::len)
    }

    fn get(&self, id: usize) -> Option<&Arc<PaddedSlot>> {
        self.by_gate.as_ref()?.get(&id)
    }

    /// Drops slots of gates that no longer exist (only our reference is left), once the map
    /// has doubled since the last time: amortized O(1) per new slot.
    fn prune_if_grown(&mut self) {
        if self.len() < self.prune_at {
            return;
        }
        // The cache may point into a slot dropped here: forget it first, so no entry (say,
        // from a signal handler) can reach a freed slot before it is set again.
        forget_cached();
        if !self.spill.is_null() {
            for index in 0..SPILL_WAYS {
                // SAFETY: as in `spill`; the key goes first.
                unsafe {
                    let entry: *mut SpillEntry = ptr::addr_of_mut!((*self.spill).0[index]);
                    (*entry).key = EMPTY_KEY;
                    (*entry).addr = 0;
                    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
                    (*entry).slot = ptr::null();
                }
            }
        }
        if let Some(map) = self.by_gate.as_mut() {
            map.retain(|_, slot| Arc::strong_count(slot) > 1);
        }
        self.prune_at = (self.len() * 2).max(PRUNE_MIN);
    }

    /// Whether `slot` is one of these (for `fork.rs`).
    #[cfg_attr(any(not(unix), miri), allow(dead_code))] // no fork handling off unix or under Miri
    pub(crate) fn contains(&self, slot: *const PaddedSlot) -> bool {
        self.by_gate
            .iter()
            .flatten()
            .any(|(_, owned)| Arc::as_ptr(owned) == slot)
    }
}

impl Drop for OwnedSlots {
    fn drop(&mut self) {
        // The cache points into these slots; forget it before they may be freed.
        forget_cached();
        // SAFETY: the calling thread's own `Local` (the state being dropped is this
        // thread's); then nothing points to the tables but `self`, which frees them (made
        // with `Box::into_raw` in `ensure_table`).
        unsafe {
            (*local::local()).table = local::empty_table();
            std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
            if !self.table.is_null() {
                drop(Box::from_raw(self.table));
                drop(Box::from_raw(self.spill));
            }
        }
        // In gate order, not the map's: the same order every time (loom needs that).
        let mut owned: Vec<_> = self.by_gate.iter_mut().flat_map(HashMap::drain).collect();
        owned.sort_unstable_by_key(|(id, _)| *id);
        for (_, slot) in owned {
            release(&slot);
        }
    }
}

/// The calling thread's slot for gate `id`, if its front entry or table entry `index` (the
/// gate's `cache_index`) holds it.
#[inline]
pub(crate) fn cached(id: usize, index: usize) -> Option<*const PaddedSlot> {
    let (key, slot, _) = local::front();
    if key != EMPTY_KEY && key_id(key) == id {
        return Some(slot);
    }
    // SAFETY: a gate's `cache_index` is `< CACHE_WAYS`.
    let (key, slot) = unsafe { local::cached(index) };
    (key != EMPTY_KEY && key_id(key) == id).then_some(slot)
}

/// Fills the calling thread's front entry.
fn set_front(key: usize, slot: *const PaddedSlot, gate_addr: usize) {
    let local = local::local();
    // The key goes last, after an empty key: an entry that interrupts this (a signal handler
    // on this thread) sees either the old triple, or no key, or the new triple, never the
    // new key beside the old slot (which would admit it into the new gate while it counts
    // itself in the old gate's slot). Compiler fences suffice: same thread.
    // SAFETY: the calling thread's own `Local`, accessed only by this thread; nothing holds
    // a reference into it.
    unsafe {
        (*local).gate_key = EMPTY_KEY;
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
        (*local).slot = slot;
        (*local).gate_addr = gate_addr;
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
        (*local).gate_key = key;
    }
}

/// Fills table entry `index` of the calling thread's own table (it has one: the empty
/// table is never written).
fn set_cached(index: usize, key: usize, slot: *const PaddedSlot, gate_addr: usize) {
    assert!(index < CACHE_WAYS);
    let table = local::table();
    // Every caller has made the table (`claim_for`), found its spill table through it
    // (`refill`, `refill_at`: the empty table has none) or checked (`forget_cached`).
    debug_assert!(table != local::empty_table());
    // As in `set_front`: the key goes last, after an empty key.
    // SAFETY: the calling thread's own table (not the static one: see above), alive while
    // `Local::table` points to it, accessed only by this thread; nothing holds a reference
    // into it. `index` is in bounds (asserted).
    unsafe {
        (*table).keys[index] = EMPTY_KEY;
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
        (*table).slots[index] = slot;
        (*table).addrs[index] = gate_addr;
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
        (*table).keys[index] = key;
    }
}

/// Empties the calling thread's front entry and every entry of its table.
fn forget_cached() {
    set_front(EMPTY_KEY, local::empty_slot(), local::empty_addr());
    if local::table() == local::empty_table() {
        return;
    }
    for index in 0..CACHE_WAYS {
        set_cached(index, EMPTY_KEY, local::empty_slot(), local::empty_addr());
    }
}

/// How the calling thread holds a slot for one entry.
pub(crate) enum Claim {
    /// Owned until the thread exits; the pointer stays valid while the gate lives.
    Owned(*const PaddedSlot),
    /// Claimed for this entry only (the thread's exit is past the point where it could
    /// release an owned slot, see `thread_exit`); the entry holds this reference and must [`release_temporary`] it when it leaves.
    Temporary(Arc<PaddedSlot>),
}

/// The calling thread's slot for gate `id` at `gate_addr` (claiming one from `list` on
/// first use), made the cached one: in the front entry while it is the thread's only gate,
/// else in table entry `index` (the gate's `cache_index`) and the spill table, with the front
/// entry empty (so that the fast path goes past it without announcing anything). The caller
/// has attached the thread first: a cached slot implies it (or that the thread has already
/// detached, when it enters again from a later round of its exit's destructors: attaching
/// would then be a no-op anyway).
pub(crate) fn claim_for(id: usize, index: usize, gate_addr: usize, list: &SlotList) -> Claim {
    let owned = thread_exit::with_slots(true, |owned| {
        let mut owned = owned.borrow_mut();
        let slot = match owned.get(id) {
            Some(slot) => Arc::as_ptr(slot),
            None => {
                owned.prune_if_grown();
                let slot = list.claim();
                let ptr = Arc::as_ptr(&slot);
                owned
                    .by_gate
                    .get_or_insert_with(IdMap::default)
                    .insert(id, slot);
                ptr
            }
        };
        let key = open_key(id);
        if owned.len() == 1 {
            // Invariant: a full front entry means an empty table (and spill table), so a
            // front probe that announced and withdrew is never followed by a table hit that
            // skips the slow path's wake (`Gate::enter_cached`).
            set_front(key, slot, gate_addr);
        } else {
            owned.ensure_table();
            set_front(EMPTY_KEY, local::empty_slot(), local::empty_addr());
            let spill_index = local::spill_index(id, gate_addr, list.leave_at_exit, index);
            owned.spill(spill_index, key, slot, gate_addr);
            set_cached(index, key, slot, gate_addr);
        }
        slot
    });
    match owned {
        Some(slot) => Claim::Owned(slot),
        None => Claim::Temporary(list.claim()),
    }
}

/// The calling thread's slot for gate `id` at `gate_addr` (a C API gate: `c_api`) from its
/// spill table, made the cached one in table entry `index` (the gate's `cache_index`): the
/// table-miss path before the slow one.
pub(crate) fn refill(
    id: usize,
    index: usize,
    gate_addr: usize,
    c_api: bool,
) -> Option<*const PaddedSlot> {
    // SAFETY: the calling thread's table (its own or the static empty one), alive while
    // `Local::table` points to it.
    let spill = unsafe { (*local::table()).spill };
    if spill.is_null() {
        return None;
    }
    // SAFETY: a non-NULL `spill` points to the `SPILL_WAYS` entries of this thread's live
    // spill table (freed only after `Local::table` stops pointing to its table), and
    // `spill_index < SPILL_WAYS`.
    let entry = unsafe { *spill.add(local::spill_index(id, gate_addr, c_api, index)) };
    if entry.key == EMPTY_KEY || key_id(entry.key) != id {
        return None;
    }
    set_cached(index, entry.key, entry.slot, gate_addr);
    Some(entry.slot)
}

/// For the C API's table miss: the calling thread's `(key, slot)` for the C API gate at
/// `gate_addr` from its spill table, matched by address (the gate is not read), and made the
/// cached one in its table entry.
pub(crate) fn refill_at(gate_addr: usize) -> Option<(usize, *const PaddedSlot)> {
    // SAFETY: as in `refill`.
    let spill = unsafe { (*local::table()).spill };
    if spill.is_null() {
        return None;
    }
    let index = local::addr_index(gate_addr);
    // SAFETY: as in `refill`.
    let entry = unsafe { *spill.add(local::spill_index(0, gate_addr, true, index)) };
    if entry.addr != gate_addr || entry.slot.is_null() {
        return None;
    }
    set_cached(index, entry.key, entry.slot, gate_addr);
    Some((entry.key, entry.slot))
}

/// The calling thread's slot for gate `id` (cached in table entry `index`, its
/// `cache_index`), if it has one, without claiming.
pub(crate) fn owned_slot(id: usize, index: usize) -> Option<*const PaddedSlot> {
    if let Some(slot) = cached(id, index) {
        return Some(slot);
    }
    thread_exit::with_slots(false, |owned| {
        // `try_borrow`: a signal handler may have interrupted a borrow (`signal.rs`).
        owned.try_borrow().ok()?.get(id).map(Arc::as_ptr)
    })
    .flatten()
}

// `store_leaving`'s `cmp` reads `close_waiters` 8 bytes after `word`.
const _: () = assert!(std::mem::offset_of!(Slot, word) == 0);
const _: () = assert!(std::mem::offset_of!(Slot, close_waiters) == 8);

/// Stores `word` into `slot` as a leave does (or a refused entry withdrawing its
/// announcement: anything that may bring its depth to 0), and says whether a closer waits
/// for it: the caller then calls `close_wake::wake` (last, so that it can be a tail call).
/// The fast path of every leave: a Release store to the thread's own slot, then one load of
/// a flag that is only set while a close drains.
#[must_use = "a closer may be waiting: call close_wake::wake"]
#[inline(always)]
pub(crate) fn store_leaving(slot: &Slot, word: usize) -> bool {
    // Release: everything the call did happens before a closer's Acquire scan sees it gone.
    slot.word.store(word, Ordering::Release);
    // The leaving half of an asymmetric fence pair whose other half is the closer's closing
    // barrier after `SlotList::arm`: either the closer's scan sees this store, or this load
    // sees its flag. The closer's membarrier supplies the hardware barrier, so only the
    // compiler must keep the load below the store. (Gates on the `fence(SeqCst)` fallback
    // have no barrier here: a wake may be missed, and their closer naps at most
    // `close_wake::BACKSTOP_FENCED` before it looks again.)
    #[cfg(not(loom))]
    std::sync::atomic::compiler_fence(Ordering::SeqCst);
    #[cfg(not(loom))]
    let waiting = closer_waits(slot);
    // loom has no membarrier: a read-modify-write of the flag's own location, which `arm`
    // also writes with one, orders the two sides exactly (see `Gate::closing_barrier`).
    #[cfg(loom)]
    let waiting = slot.close_waiters.fetch_add(0, Ordering::AcqRel) != 0;
    waiting
}

/// Whether a closer armed `slot` (the leave's flag check, after the compiler fence).
///
/// On x86_64 with `asm` labels (`cfg(crosscall_asm_goto)`, see `build.rs`) the load and the
/// test are one `cmp` against memory, then a branch: one instruction fewer than the atomic
/// load the compiler would otherwise put in a register first. The `cmp` reads the word as a
/// Relaxed load would (an aligned 8-byte read is single-copy atomic on x86_64), which is all
/// the fence pair needs.
#[cfg(not(loom))]
#[inline(always)]
fn closer_waits(slot: &Slot) -> bool {
    #[cfg(all(crosscall_asm_goto, target_arch = "x86_64", not(miri)))]
    {
        let mut waits = false;
        // SAFETY: reads the 8-byte `close_waiters` of a live slot (offset asserted above),
        // as a Relaxed atomic load of it would, and sets only the flags; no stack.
        unsafe {
            std::arch::asm!(
                "cmp qword ptr [{slot} + 8], 0",
                "jne {waits}",
                slot = in(reg) slot,
                waits = label { waits = true; },
                options(readonly, nostack),
            );
        }
        waits
    }
    #[cfg(not(all(crosscall_asm_goto, target_arch = "x86_64", not(miri))))]
    {
        // Relaxed: ordered by the fence pair (see `store_leaving`).
        slot.close_waiters.load(Ordering::Relaxed) != 0
    }
}

/// [`store_leaving`], then the wake it asks for.
#[inline(always)]
pub(crate) fn store_leaving_and_wake(slot: &Slot, word: usize) {
    if store_leaving(slot, word) {
        close_wake::wake();
    }
}

/// Wakes closers if `slot` (the calling thread's cached slot, or `local::empty_slot()`) is
/// armed. For a fast path that withdrew an announcement from it with a plain store: the slow
/// path that follows makes up for the flag check the fast path leaves out (so that its
/// failure exit needs no call).
pub(crate) fn wake_if_armed(slot: *const PaddedSlot) {
    // SAFETY: a cached slot is alive while the thread owns it (or the never-freed dummy).
    let Some(slot) = (unsafe { slot.as_ref() }) else {
        return;
    };
    // The same fence pair as in `store_leaving`: either the closer's scan sees the withdrawn
    // word, or this load sees its flag.
    #[cfg(not(loom))]
    let waiting = {
        std::sync::atomic::compiler_fence(Ordering::SeqCst);
        // Relaxed: ordered by the fence pair.
        slot.close_waiters.load(Ordering::Relaxed) != 0
    };
    #[cfg(loom)]
    let waiting = slot.close_waiters.fetch_add(0, Ordering::AcqRel) != 0;
    if waiting {
        close_wake::wake();
    }
}

/// Frees a slot claimed with [`Claim::Temporary`] once its entry has left (depth 0). The
/// entry's own reference keeps the slot alive even if the gate is gone by now.
pub(crate) fn release_temporary(slot: Arc<PaddedSlot>) {
    release(&slot);
}

/// Whether the calling thread is inside any gate right now (an owned slot at depth > 0).
/// For the panic hook (`panic_output.rs`): read only while a panic starts, never on entry.
pub(crate) fn inside_any_gate() -> bool {
    thread_exit::with_slots(false, |owned| {
        // `try_borrow`: a panic inside `claim_for` must not panic again here.
        owned.try_borrow().is_ok_and(|owned| {
            owned
                .by_gate
                .iter()
                .flatten()
                // Relaxed: each of these slots is written only by this very thread.
                .any(|(_, slot)| depth(slot.word.load(Ordering::Relaxed)) > 0)
        })
    })
    .unwrap_or(false)
}
