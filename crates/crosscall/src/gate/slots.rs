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

use crate::gate::local::{self, EMPTY_KEY};
use crate::gate::thread_exit;
use crate::gate::{key_id, open_key};
use crate::sync::{Arc, AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use crossbeam_utils::CachePadded;
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
pub(crate) struct Slot {
    /// Depth and outermost-entry count (see the module docs). Written only by the owning
    /// thread (plain load + store, no read-modify-write); read by `close`, `in_flight` and
    /// grace periods.
    pub(crate) word: AtomicUsize,
    /// Whether a live thread owns this slot.
    in_use: AtomicBool,
    /// Whether the owner's entries end when it exits (entries made through the C API, which
    /// have no `Pass` to leak): the slot is then zeroed instead of kept.
    leave_at_exit: bool,
    /// Next slot in the gate's list; set before the slot is published, never changed.
    next: *const CachePadded<Slot>,
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
        let mut cur = self.head.load(Ordering::Acquire) as *const PaddedSlot;
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
        // The thread exits inside C API entries: they end with it. Release: as a leave.
        slot.word.store(word & !DEPTH_MASK, Ordering::Release);
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
pub(crate) struct OwnedSlots(Vec<(usize, Arc<PaddedSlot>)>);

impl OwnedSlots {
    pub(crate) const fn new() -> OwnedSlots {
        OwnedSlots(Vec::new())
    }

    /// Whether `slot` is one of these (for `fork.rs`).
    pub(crate) fn contains(&self, slot: *const PaddedSlot) -> bool {
        self.0.iter().any(|(_, owned)| Arc::as_ptr(owned) == slot)
    }
}

impl Drop for OwnedSlots {
    fn drop(&mut self) {
        // The cache points into these slots; forget it before they may be freed.
        forget_cached();
        for (_, slot) in self.0.drain(..) {
            release(&slot);
        }
    }
}

/// The calling thread's cached (gate key, slot): the fast path's only lookup, one
/// thread-local access. When nothing is cached: ([`EMPTY_KEY`], `local::empty_slot()`).
#[inline(always)]
pub(crate) fn cached_any() -> (usize, *const PaddedSlot) {
    local::cached()
}

/// The calling thread's slot for gate `id`, if it is the one cached.
#[inline]
pub(crate) fn cached(id: usize) -> Option<*const PaddedSlot> {
    let (key, slot) = cached_any();
    (key != EMPTY_KEY && key_id(key) == id).then_some(slot)
}

fn set_cached(key: usize, slot: *const PaddedSlot, gate_addr: usize) {
    let local = local::local();
    // The key goes last, after an empty key: an entry that interrupts this (a signal
    // handler on this thread) sees either the old triple, or no key, or the new triple,
    // never the new key beside the old slot (which would admit it into the new gate while
    // it counts itself in the old gate's slot). Compiler fences suffice: same thread.
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

fn forget_cached() {
    set_cached(EMPTY_KEY, local::empty_slot(), local::empty_addr());
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
/// first use), made the cached one. The caller has attached the thread first: a cached slot
/// implies it (or that the thread has already detached, when it enters again from a later
/// round of its exit's destructors: attaching would then be a no-op anyway).
pub(crate) fn claim_for(id: usize, gate_addr: usize, list: &SlotList) -> Claim {
    let owned = thread_exit::with_slots(true, |owned| {
        let mut owned = owned.borrow_mut();
        let slot = match owned.0.iter().find(|(gid, _)| *gid == id) {
            Some((_, slot)) => Arc::as_ptr(slot),
            None => {
                // Drop slots of gates that no longer exist (only our reference is left),
                // so a thread that outlives many gates does not accumulate them. The cache
                // may point into one of them: forget it first, so no entry (say, from a
                // signal handler) can reach a freed slot before it is set again below.
                forget_cached();
                owned.0.retain(|(_, slot)| Arc::strong_count(slot) > 1);
                let slot = list.claim();
                let ptr = Arc::as_ptr(&slot);
                owned.0.push((id, slot));
                ptr
            }
        };
        set_cached(open_key(id), slot, gate_addr);
        slot
    });
    match owned {
        Some(slot) => Claim::Owned(slot),
        None => Claim::Temporary(list.claim()),
    }
}

/// The calling thread's slot for gate `id`, if it has one, without claiming.
pub(crate) fn owned_slot(id: usize) -> Option<*const PaddedSlot> {
    if let Some(slot) = cached(id) {
        return Some(slot);
    }
    thread_exit::with_slots(false, |owned| {
        // `try_borrow`: a signal handler may have interrupted a borrow (`signal.rs`).
        owned
            .try_borrow()
            .ok()?
            .0
            .iter()
            .find(|(gid, _)| *gid == id)
            .map(|(_, slot)| Arc::as_ptr(slot))
    })
    .flatten()
}

/// Frees a slot claimed with [`Claim::Temporary`] once its entry has left (depth 0). The
/// entry's own reference keeps the slot alive even if the gate is gone by now.
pub(crate) fn release_temporary(slot: Arc<PaddedSlot>) {
    release(&slot);
}
