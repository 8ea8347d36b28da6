//! Bytes across the boundary: owned C allocations and checked copies from C pointers.
//!
//! | cgo            | crosscall                                |
//! |----------------|------------------------------------------|
//! | `C.malloc(n)`  | [`CBuf::alloc`] (zero-filled)            |
//! | `C.CBytes(b)`  | [`CBuf::copy_from`]                      |
//! | `C.free(p)`    | dropping the [`CBuf`]                    |
//! | `C.GoBytes`    | [`copy_from_c`]                          |
//! | —              | [`slice_from_c`] (borrow, no copy)       |
//! | —              | [`read_array`] / [`write_array`] (fixed size, no allocation) |
//!
//! Every allocation comes from the C allocator (`libc::malloc` family), so C may `free` a
//! pointer obtained from [`CBuf::into_raw`], and [`CBuf::from_raw`] takes back pointers C
//! got from `malloc`.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// Why a byte operation across the boundary was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BytesError {
    /// A NULL pointer where bytes were required.
    NullPointer,
    /// A length above `isize::MAX`, which no Rust slice can have.
    TooLong {
        /// The requested length.
        len: usize,
    },
    /// The C allocator returned NULL.
    AllocFailed {
        /// The requested length.
        len: usize,
    },
}

impl fmt::Display for BytesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BytesError::NullPointer => f.write_str("NULL pointer with a non-zero length"),
            BytesError::TooLong { len } => {
                write!(f, "length {len} exceeds isize::MAX")
            }
            BytesError::AllocFailed { len } => {
                write!(f, "the C allocator could not provide {len} bytes")
            }
        }
    }
}

impl std::error::Error for BytesError {}

/// An owned allocation from the C heap, freed with `libc::free` on drop.
///
/// The memory is always initialized (so it can be viewed as a `&[u8]`) and the pointer is
/// never NULL, even for length 0: a zero-length buffer still owns a one-byte allocation, so
/// [`into_raw`](CBuf::into_raw) always returns something C may pass to `free` (cgo does the
/// same for `C.malloc(0)`).
///
/// # Examples
///
/// ```
/// use crosscall::bytes::CBuf;
///
/// let mut buf = CBuf::copy_from(b"key")?;
/// buf.as_mut_slice()[0] = b'K';
/// assert_eq!(buf.as_slice(), b"Key");
/// assert_eq!(buf.len(), 3);
/// // `buf.as_ptr()` may now be handed to C for the duration of a call.
/// # Ok::<(), crosscall::bytes::BytesError>(())
/// ```
pub struct CBuf {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: `CBuf` owns its allocation exclusively (like `Vec<u8>`), and the C allocator's
// `free` may be called from any thread.
unsafe impl Send for CBuf {}
// SAFETY: shared access only reads the bytes through `&self`; mutation needs `&mut self`.
unsafe impl Sync for CBuf {}

impl CBuf {
    /// Allocates `len` zero-filled bytes on the C heap (cgo's `C.malloc`, but initialized).
    ///
    /// # Errors
    ///
    /// [`BytesError::TooLong`] if `len > isize::MAX`, [`BytesError::AllocFailed`] if the C
    /// allocator returns NULL. Running out of memory is an error here, not an abort.
    ///
    /// # Examples
    ///
    /// ```
    /// let buf = crosscall::bytes::CBuf::alloc(32)?;
    /// assert_eq!(buf.as_slice(), &[0u8; 32]);
    /// # Ok::<(), crosscall::bytes::BytesError>(())
    /// ```
    pub fn alloc(len: usize) -> Result<CBuf, BytesError> {
        check_len(len)?;
        // Zero-filled so the bytes are readable as a slice at once. Small buffers use
        // `malloc` + a fill: glibc serves `calloc` outside its per-thread cache, a slow path
        // that made cgo-style 32-byte buffers ~50% dearer in the lab's seed workload. Large
        // ones keep `calloc`, which can hand out pages the kernel already zeroed.
        // One byte for `len == 0` so the pointer is unique and freeable.
        const CALLOC_FROM: usize = 4096;
        let raw = if len < CALLOC_FROM {
            // SAFETY: `malloc` has no preconditions; the result is checked for NULL below.
            unsafe { libc::malloc(len.max(1)) }.cast::<u8>()
        } else {
            // SAFETY: `calloc` has no preconditions; the result is checked for NULL below.
            unsafe { libc::calloc(len, 1) }.cast::<u8>()
        };
        let ptr = NonNull::new(raw).ok_or(BytesError::AllocFailed { len })?;
        if len < CALLOC_FROM {
            // SAFETY: `ptr` is a fresh allocation of at least `len` bytes.
            unsafe { ptr.as_ptr().write_bytes(0, len) };
        }
        Ok(CBuf { ptr, len })
    }

    /// Copies `bytes` into a new C allocation (cgo's `C.CBytes`).
    ///
    /// # Errors
    ///
    /// [`BytesError::AllocFailed`] if the C allocator returns NULL.
    ///
    /// # Examples
    ///
    /// ```
    /// let buf = crosscall::bytes::CBuf::copy_from(&[0u8; 32])?;
    /// assert_eq!(buf.len(), 32);
    /// # Ok::<(), crosscall::bytes::BytesError>(())
    /// ```
    pub fn copy_from(bytes: &[u8]) -> Result<CBuf, BytesError> {
        let len = bytes.len();
        // Not `alloc`: zero-filling memory about to be overwritten would be wasted work.
        // SAFETY: `malloc` has no preconditions; the result is checked for NULL below.
        let raw = unsafe { libc::malloc(len.max(1)) }.cast::<u8>();
        let ptr = NonNull::new(raw).ok_or(BytesError::AllocFailed { len })?;
        // SAFETY: `ptr` is a fresh allocation of at least `len` bytes, so it is valid for
        // writes and cannot overlap `bytes`. For `len == 0` nothing is copied and the one
        // allocated byte stays unread.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr.as_ptr(), len) };
        Ok(CBuf { ptr, len })
    }

    /// Takes ownership of `len` bytes at `ptr`, which C allocated with `malloc`.
    ///
    /// # Errors
    ///
    /// [`BytesError::NullPointer`] if `ptr` is NULL, [`BytesError::TooLong`] if
    /// `len > isize::MAX`. On error nothing is taken over: the caller still owns `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must come from the C allocator (`malloc`, `calloc`, `realloc`, or
    /// [`CBuf::into_raw`]) and not be freed or used elsewhere afterwards; its first `len`
    /// bytes must be initialized and belong to that allocation.
    ///
    /// # Examples
    ///
    /// ```
    /// use crosscall::bytes::CBuf;
    ///
    /// let (ptr, len) = CBuf::copy_from(b"abc")?.into_raw();
    /// // ... C owns it for a while, then gives it back ...
    /// // SAFETY: `ptr` came from `into_raw` with this `len` and nothing else owns it.
    /// let buf = unsafe { CBuf::from_raw(ptr, len) }?;
    /// assert_eq!(buf.as_slice(), b"abc");
    /// # Ok::<(), crosscall::bytes::BytesError>(())
    /// ```
    pub unsafe fn from_raw(ptr: *mut u8, len: usize) -> Result<CBuf, BytesError> {
        check_len(len)?;
        let ptr = NonNull::new(ptr).ok_or(BytesError::NullPointer)?;
        Ok(CBuf { ptr, len })
    }

    /// Gives up ownership: the caller must free the pointer with C's `free` (or
    /// [`CBuf::from_raw`]). The pointer is never NULL.
    ///
    /// # Examples
    ///
    /// ```
    /// let (ptr, len) = crosscall::bytes::CBuf::alloc(0)?.into_raw();
    /// assert!(!ptr.is_null());
    /// assert_eq!(len, 0);
    /// // SAFETY: `ptr` came from the C allocator and is freed exactly once.
    /// unsafe { libc::free(ptr.cast()) };
    /// # Ok::<(), crosscall::bytes::BytesError>(())
    /// ```
    #[must_use = "the allocation leaks unless it is freed"]
    pub fn into_raw(self) -> (*mut u8, usize) {
        let parts = (self.ptr.as_ptr(), self.len);
        std::mem::forget(self);
        parts
    }

    /// Read-only pointer to the first byte, for passing to C.
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    /// Writable pointer to the first byte, for passing to C.
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes as a slice.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` is valid for `len` initialized bytes (struct invariant, upheld by
        // every constructor) and `&self` rules out concurrent mutation.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The bytes as a mutable slice.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes this the only access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for CBuf {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from the C allocator and this `CBuf` is its only owner.
        unsafe { libc::free(self.ptr.as_ptr().cast()) };
    }
}

impl Deref for CBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl DerefMut for CBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl AsRef<[u8]> for CBuf {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for CBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CBuf")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .finish()
    }
}

/// Copies `len` bytes at `ptr` into a new `Vec` (cgo's `C.GoBytes`).
///
/// NULL with `len == 0` is an empty vector, as C code commonly passes it.
///
/// # Errors
///
/// [`BytesError::NullPointer`] for NULL with `len > 0`, [`BytesError::TooLong`] for
/// `len > isize::MAX`.
///
/// # Safety
///
/// Unless it is NULL, `ptr` must be valid for reads of `len` initialized bytes that no one
/// writes during the call.
///
/// # Examples
///
/// ```
/// use crosscall::bytes::{copy_from_c, BytesError};
///
/// let c_side = [7u8; 4];
/// // SAFETY: `c_side` is 4 readable bytes.
/// assert_eq!(unsafe { copy_from_c(c_side.as_ptr(), 4) }?, vec![7; 4]);
/// // SAFETY: NULL is checked, never read.
/// assert_eq!(unsafe { copy_from_c(std::ptr::null(), 0) }?, Vec::<u8>::new());
/// assert_eq!(unsafe { copy_from_c(std::ptr::null(), 1) }, Err(BytesError::NullPointer));
/// # Ok::<(), BytesError>(())
/// ```
pub unsafe fn copy_from_c(ptr: *const u8, len: usize) -> Result<Vec<u8>, BytesError> {
    // SAFETY: forwarded from this function's contract.
    let bytes = unsafe { slice_from_c(ptr, len) }?;
    Ok(bytes.to_vec())
}

/// Borrows `len` bytes at `ptr` as a slice, without copying.
///
/// NULL with `len == 0` is an empty slice.
///
/// # Errors
///
/// As [`copy_from_c`].
///
/// # Safety
///
/// Unless it is NULL, `ptr` must be valid for reads of `len` initialized bytes that nobody
/// writes while the returned slice lives; the caller picks a lifetime `'a` no longer than the
/// C side keeps the memory alive (usually: the current call).
///
/// # Examples
///
/// ```
/// let c_side = *b"hello";
/// // SAFETY: `c_side` is 5 readable bytes that outlive the borrow.
/// let view = unsafe { crosscall::bytes::slice_from_c(c_side.as_ptr(), 5) }?;
/// assert_eq!(view, b"hello");
/// # Ok::<(), crosscall::bytes::BytesError>(())
/// ```
pub unsafe fn slice_from_c<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], BytesError> {
    check_len(len)?;
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(BytesError::NullPointer)
        };
    }
    // SAFETY: non-NULL, `len <= isize::MAX` (checked), and the caller guarantees `len`
    // readable, initialized, unaliased-by-writers bytes for `'a`.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Reads exactly `N` bytes at `ptr` into an array: no allocation, no alignment requirement.
///
/// # Errors
///
/// [`BytesError::NullPointer`] if `ptr` is NULL.
///
/// # Safety
///
/// Unless it is NULL, `ptr` must be valid for reads of `N` initialized bytes.
///
/// # Examples
///
/// ```
/// let key = [1u8; 32];
/// // SAFETY: `key` is 32 readable bytes.
/// let copy: [u8; 32] = unsafe { crosscall::bytes::read_array(key.as_ptr()) }?;
/// assert_eq!(copy, key);
/// # Ok::<(), crosscall::bytes::BytesError>(())
/// ```
pub unsafe fn read_array<const N: usize>(ptr: *const u8) -> Result<[u8; N], BytesError> {
    if ptr.is_null() {
        return Err(BytesError::NullPointer);
    }
    // SAFETY: non-NULL, and the caller guarantees `N` readable bytes; `read_unaligned`
    // because `[u8; N]` has alignment 1 anyway and C gives no stronger promise.
    Ok(unsafe { ptr.cast::<[u8; N]>().read_unaligned() })
}

/// Writes the `N` bytes of `src` to `ptr`: no allocation, no alignment requirement.
///
/// # Errors
///
/// [`BytesError::NullPointer`] if `ptr` is NULL; nothing is written then.
///
/// # Safety
///
/// Unless it is NULL, `ptr` must be valid for writes of `N` bytes, not overlapping `src`.
///
/// # Examples
///
/// ```
/// let mut c_array = [9u8; 32];
/// // SAFETY: `c_array` is 32 writable bytes.
/// unsafe { crosscall::bytes::write_array(c_array.as_mut_ptr(), &[0u8; 32]) }?;
/// assert_eq!(c_array, [0u8; 32]);
/// # Ok::<(), crosscall::bytes::BytesError>(())
/// ```
pub unsafe fn write_array<const N: usize>(ptr: *mut u8, src: &[u8; N]) -> Result<(), BytesError> {
    if ptr.is_null() {
        return Err(BytesError::NullPointer);
    }
    // SAFETY: non-NULL, and the caller guarantees `N` writable bytes not overlapping `src`.
    unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), ptr, N) };
    Ok(())
}

fn check_len(len: usize) -> Result<(), BytesError> {
    if len > isize::MAX as usize {
        Err(BytesError::TooLong { len })
    } else {
        Ok(())
    }
}
