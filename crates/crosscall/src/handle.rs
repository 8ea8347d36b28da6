//! [`Handle`]: the number C holds for an object lent out by a [`Handles`](crate::Handles)
//! table, and its bit layout.
//!
//! ```text
//!  63                              32 31                               0
//! +----------------------------------+----------------------------------+
//! |     generation XOR table key     |              index               |
//! +----------------------------------+----------------------------------+
//! ```
//!
//! - **index** (32 bits): the entry in the table, so a table can hold 2^32 objects at once.
//! - **generation** (32 bits): how many objects the entry held before this one. Removing an
//!   object advances it, so every earlier handle of the entry reads as removed. It never
//!   wraps: an entry that has held 2^32 objects is retired for good.
//! - **table key**: a random 32-bit number per table, XORed into the generation. A handle of
//!   another table (or a made-up number) decodes here to a random generation, which matches
//!   the entry's current one with probability 2^-32; otherwise the lookup reports "never
//!   issued by this table". The key costs no bits, so neither the capacity nor the reuse
//!   bound is traded for it.
//!
//! 0 is never a handle: the one combination that would encode to 0 (index 0 with a
//! generation equal to the key) is skipped.

use std::fmt;
use std::num::NonZeroU64;

/// A checked reference to an object in a [`Handles`](crate::Handles) table, as a nonzero
/// `u64` that C can store.
///
/// A handle is only a number: copying it is free, and using it after its object was removed,
/// or with another table, gives an error, never undefined behaviour.
///
/// # Examples
///
/// ```
/// use crosscall::Handle;
///
/// assert!(Handle::from_raw(0).is_none()); // 0 is never a handle
/// let h = Handle::from_raw(0x0000_0007_0000_0002).unwrap();
/// assert_eq!(h.into_raw(), 0x0000_0007_0000_0002);
/// assert_eq!(h.index(), 2);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct Handle(NonZeroU64);

impl Handle {
    /// The handle C handed back as a number, or `None` for 0 (never a handle).
    #[inline]
    pub const fn from_raw(raw: u64) -> Option<Handle> {
        match NonZeroU64::new(raw) {
            Some(raw) => Some(Handle(raw)),
            None => None,
        }
    }

    /// The number to give to C.
    #[inline]
    pub const fn into_raw(self) -> u64 {
        self.0.get()
    }

    /// The table entry this handle names (its low 32 bits).
    #[inline]
    pub const fn index(self) -> u32 {
        self.0.get() as u32
    }

    /// The generation this handle carries, given its table's key.
    #[inline]
    pub(crate) const fn generation(self, key: u32) -> u32 {
        (self.0.get() >> 32) as u32 ^ key
    }

    /// Encodes `(index, generation)` for a table with `key`; `None` for the one combination
    /// that would be 0.
    #[inline]
    pub(crate) fn encode(index: u32, generation: u32, key: u32) -> Option<Handle> {
        Handle::from_raw((u64::from(generation ^ key) << 32) | u64::from(index))
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({:#018x})", self.0)
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#018x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Handle;

    #[test]
    fn encoding_round_trips_and_skips_zero() {
        let key = 0xdead_beef;
        let h = Handle::encode(5, 9, key).unwrap();
        assert_eq!(h.index(), 5);
        assert_eq!(h.generation(key), 9);
        assert_ne!(h.generation(key ^ 1), 9);
        assert!(Handle::encode(0, key, key).is_none());
        assert!(Handle::encode(1, key, key).is_some());
        assert!(Handle::encode(0, key ^ 1, key).is_some());
    }
}
