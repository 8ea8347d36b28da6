//! The storage behind a [`Handles`](crate::Handles) table: entries in buckets of doubling
//! size that are allocated on demand and never move, so a lookup finds an entry with two
//! loads and no lock while the table grows.
//!
//! Bucket `b` holds `32 << b` entries; index `i` lives in bucket `floor(log2(i + 32)) - 5`.
//! 28 buckets cover every `u32` index (2^33 - 32 entries). A bucket is published with a
//! Release store of its pointer and read with an Acquire load; it is freed only when the
//! table is dropped.

use crate::sync::{AtomicPtr, AtomicU64, Ordering};
use std::cell::UnsafeCell;
use std::collections::TryReserveError;
use std::mem::MaybeUninit;
use std::ptr;

/// State word flag: the entry holds the object of the generation in the low 32 bits.
pub(crate) const LIVE: u64 = 1 << 32;
/// State word flag: the entry has used up its generations and is never reused.
pub(crate) const RETIRED: u64 = 1 << 33;

/// The word after unlinking the live `word`: next generation, or retired at the last one.
pub(crate) fn unlinked(word: u64) -> u64 {
    let generation = word as u32;
    match generation.checked_add(1) {
        Some(next) => u64::from(next),
        None => RETIRED | u64::from(generation),
    }
}

/// Why `generation` does not match the entry's `word` (which is not `LIVE | generation`).
#[cold]
pub(crate) fn classify(word: u64, generation: u32) -> crate::HandleError {
    let current = word as u32;
    // Generations are handed out in order, so every one below the current (and, once
    // retired, every one) was issued and has been removed.
    if word & RETIRED != 0 || generation < current {
        crate::HandleError::Stale
    } else {
        crate::HandleError::NotIssued
    }
}

/// log2 of the first bucket's length.
const FIRST_SHIFT: u32 = 5;
/// Enough buckets for index `u32::MAX`: `floor(log2(2^32 - 1 + 32)) - 5 = 27`.
pub(crate) const BUCKETS: usize = (32 - FIRST_SHIFT + 1) as usize;

/// One entry: the state word that lookups check, and the object slot.
pub(crate) struct Entry<T> {
    /// Generation (low 32 bits) and the [`LIVE`] / [`RETIRED`] flags. Written by the one
    /// writer that holds the entry (an inserter that took it off a free list, a remover whose
    /// compare-exchange unlinked it); read by lookups.
    pub(crate) word: AtomicU64,
    /// The object, initialized exactly while the entry is live or its removal is pending.
    pub(crate) value: UnsafeCell<MaybeUninit<T>>,
}

/// The bucket directory. Each published pointer is *biased*: the address the bucket's
/// entry for biased index 0 would have (`base - first_biased_index` entries, computed with
/// wrapping arithmetic, never dereferenced), so that a lookup adds the biased index with no
/// subtraction. NULL while the bucket is not allocated.
pub(crate) struct Entries<T> {
    buckets: [AtomicPtr<Entry<T>>; BUCKETS],
}

/// Where index `index` lives: (bucket, offset in the bucket).
#[inline(always)]
fn locate(index: u32) -> (usize, usize) {
    let biased = u64::from(index) + (1 << FIRST_SHIFT);
    let top = 63 - biased.leading_zeros(); // floor(log2(biased)), at least FIRST_SHIFT
    ((top - FIRST_SHIFT) as usize, (biased - (1 << top)) as usize)
}

/// The biased index (`index + 32`) of bucket `bucket`'s first entry.
fn first_biased(bucket: usize) -> usize {
    1 << (bucket as u32 + FIRST_SHIFT)
}

/// Number of entries in bucket `bucket`.
fn bucket_len(bucket: usize) -> usize {
    1 << (bucket as u32 + FIRST_SHIFT)
}

impl<T> Entries<T> {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Entries<T> {
        Entries {
            buckets: [const { AtomicPtr::new(ptr::null_mut()) }; BUCKETS],
        }
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Entries<T> {
        Entries {
            buckets: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
        }
    }

    /// The entry at `index`, if its bucket has been allocated. Any thread, no lock.
    #[inline(always)]
    pub(crate) fn get(&self, index: u32) -> Option<&Entry<T>> {
        let (biased_base, biased) = self.biased(index);
        if biased_base.is_null() {
            return None;
        }
        // SAFETY: as for `at`.
        Some(unsafe { Self::at(biased_base, biased) })
    }

    /// Where `index` lives: its bucket's biased base (NULL while the bucket is not
    /// allocated) and its biased index. The lookup's form of [`get`](Entries::get): testing
    /// the base for NULL itself spares it a second test of an `Option`'s pointer.
    #[inline(always)]
    pub(crate) fn biased(&self, index: u32) -> (*mut Entry<T>, usize) {
        let biased = index as usize + (1 << FIRST_SHIFT);
        // floor(log2(biased)) - FIRST_SHIFT, below BUCKETS as `index` is a u32.
        let bucket = (usize::BITS - 1 - biased.leading_zeros()) as usize - FIRST_SHIFT as usize;
        // Acquire pairs with the Release in `get_or_grow`: the bucket's initialized entries
        // (and everything the writer did before publishing it) are visible.
        (self.buckets[bucket].load(Ordering::Acquire), biased)
    }

    /// The entry at a non-NULL biased base and biased index from [`biased`](Entries::biased).
    ///
    /// # Safety
    ///
    /// `biased_base` is not NULL, and the reference is used only while `self` is borrowed.
    #[inline(always)]
    pub(crate) unsafe fn at<'a>(biased_base: *mut Entry<T>, biased: usize) -> &'a Entry<T> {
        // SAFETY: a published bucket holds `bucket_len(bucket)` initialized entries, and its
        // biased base plus `biased` is the entry at offset `biased - first_biased(bucket)`,
        // below `bucket_len(bucket)` by `locate` (same allocation, so the wrapping arithmetic
        // lands back inside it). Buckets are freed only in `Drop` (`&mut self`), so the entry
        // lives while the caller borrows the table.
        unsafe { &*biased_base.wrapping_add(biased) }
    }

    /// The entry at `index`, allocating its bucket if needed. Only under the table's index
    /// pool lock (one allocating thread at a time).
    pub(crate) fn get_or_grow(&self, index: u32) -> Result<&Entry<T>, TryReserveError> {
        if let Some(entry) = self.get(index) {
            return Ok(entry);
        }
        let (bucket, _) = locate(index);
        let len = bucket_len(bucket);
        let mut entries: Vec<Entry<T>> = Vec::new();
        entries.try_reserve_exact(len)?;
        entries.extend((0..len).map(|_| Entry {
            word: AtomicU64::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }));
        let base = Box::into_raw(entries.into_boxed_slice()).cast::<Entry<T>>();
        // Release pairs with the Acquire in `get`. The slot was null (checked above, and
        // only the lock holder stores here).
        self.buckets[bucket].store(base.wrapping_sub(first_biased(bucket)), Ordering::Release);
        Ok(self.get(index).expect("bucket was just published"))
    }
}

impl<T> Drop for Entries<T> {
    /// Frees the buckets. The table has already dropped the objects still in them.
    fn drop(&mut self) {
        for (bucket, slot) in self.buckets.iter_mut().enumerate() {
            let biased_base = slot.load(Ordering::Relaxed); // `&mut self`: no other thread
            if !biased_base.is_null() {
                let base = biased_base.wrapping_add(first_biased(bucket));
                let entries = ptr::slice_from_raw_parts_mut(base, bucket_len(bucket));
                // SAFETY: `base` came from `Box::into_raw` of a boxed slice of exactly
                // `bucket_len(bucket)` entries in `get_or_grow`, and is freed only here.
                drop(unsafe { Box::from_raw(entries) });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{bucket_len, locate, BUCKETS};

    #[test]
    fn every_index_has_one_place() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(31), (0, 31));
        assert_eq!(locate(32), (1, 0));
        assert_eq!(locate(95), (1, 63));
        assert_eq!(locate(96), (2, 0));
        let (last, offset) = locate(u32::MAX);
        assert_eq!(last, BUCKETS - 1);
        assert!(offset < bucket_len(last));
        // Buckets tile the index space without gaps.
        let mut start = 0u64;
        for b in 0..BUCKETS {
            assert_eq!(locate(start as u32), (b, 0));
            start += bucket_len(b) as u64;
        }
        assert!(start > u64::from(u32::MAX));
    }
}
