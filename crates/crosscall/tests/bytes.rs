//! Bytes across the boundary: C allocations, checked copies, fixed-size forms.

use crosscall::bytes::{copy_from_c, read_array, slice_from_c, write_array, BytesError, CBuf};
use proptest::prelude::*;

proptest! {
    #[test]
    fn copy_from_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let buf = CBuf::copy_from(&bytes).unwrap();
        prop_assert_eq!(buf.len(), bytes.len());
        prop_assert_eq!(buf.is_empty(), bytes.is_empty());
        prop_assert_eq!(buf.as_slice(), &bytes[..]);
        prop_assert!(!buf.as_ptr().is_null());
    }

    #[test]
    fn copy_from_c_reads_what_c_holds(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let buf = CBuf::copy_from(&bytes).unwrap();
        // SAFETY: `buf` owns `buf.len()` initialized bytes for the whole call.
        let copied = unsafe { copy_from_c(buf.as_ptr(), buf.len()) }.unwrap();
        prop_assert_eq!(&copied, &bytes);
        // SAFETY: as above; the borrow ends before `buf` drops.
        let view = unsafe { slice_from_c(buf.as_ptr(), buf.len()) }.unwrap();
        prop_assert_eq!(view, &bytes[..]);
    }

    #[test]
    fn copy_from_c_takes_a_prefix(
        bytes in proptest::collection::vec(any::<u8>(), 1..256),
        cut in any::<prop::sample::Index>(),
    ) {
        let len = cut.index(bytes.len() + 1);
        // SAFETY: `bytes` holds at least `len` readable bytes.
        let copied = unsafe { copy_from_c(bytes.as_ptr(), len) }.unwrap();
        prop_assert_eq!(&copied[..], &bytes[..len]);
    }

    #[test]
    fn into_raw_and_from_raw_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let (ptr, len) = CBuf::copy_from(&bytes).unwrap().into_raw();
        prop_assert!(!ptr.is_null());
        prop_assert_eq!(len, bytes.len());
        // SAFETY: `ptr`/`len` came from `into_raw` and nothing else owns them.
        let back = unsafe { CBuf::from_raw(ptr, len) }.unwrap();
        prop_assert_eq!(back.as_slice(), &bytes[..]);
    }

    #[test]
    fn alloc_is_zero_filled(len in 0usize..4096) {
        let buf = CBuf::alloc(len).unwrap();
        prop_assert_eq!(buf.len(), len);
        prop_assert!(buf.iter().all(|&b| b == 0));
    }

    #[test]
    fn arrays_round_trip(bytes in any::<[u8; 32]>()) {
        let mut c_side = CBuf::alloc(32).unwrap();
        // SAFETY: `c_side` is 32 writable bytes, distinct from `bytes`.
        unsafe { write_array(c_side.as_mut_ptr(), &bytes) }.unwrap();
        prop_assert_eq!(c_side.as_slice(), &bytes[..]);
        // SAFETY: `c_side` is 32 readable bytes.
        let back: [u8; 32] = unsafe { read_array(c_side.as_ptr()) }.unwrap();
        prop_assert_eq!(back, bytes);
    }

    #[test]
    fn arrays_need_no_alignment(bytes in any::<[u8; 17]>(), offset in 0usize..8) {
        let mut backing = [0u8; 17 + 8];
        let at = backing[offset..].as_mut_ptr();
        // SAFETY: `backing[offset..]` has at least 17 writable bytes.
        unsafe { write_array(at, &bytes) }.unwrap();
        // SAFETY: the same 17 bytes, now initialized.
        let back: [u8; 17] = unsafe { read_array(at) }.unwrap();
        prop_assert_eq!(back, bytes);
        prop_assert_eq!(&backing[offset..offset + 17], &bytes[..]);
    }
}

#[test]
fn writes_through_the_slice_reach_the_pointer() {
    let mut buf = CBuf::alloc(4).unwrap();
    buf.as_mut_slice().copy_from_slice(b"abcd");
    buf[1] = b'B';
    // SAFETY: `buf` holds 4 readable bytes.
    let seen = unsafe { copy_from_c(buf.as_ptr(), 4) }.unwrap();
    assert_eq!(seen, b"aBcd");
}

#[test]
fn zero_length_buffers_own_a_freeable_pointer() {
    for buf in [CBuf::alloc(0).unwrap(), CBuf::copy_from(&[]).unwrap()] {
        assert!(buf.is_empty());
        assert_eq!(buf.as_slice(), b"");
        let (ptr, len) = buf.into_raw();
        assert!(!ptr.is_null());
        assert_eq!(len, 0);
        // SAFETY: `ptr` came from the C allocator and is freed exactly once, by C's `free`.
        unsafe { libc::free(ptr.cast()) };
    }
}

#[test]
fn from_raw_takes_over_a_c_malloc() {
    // SAFETY: plain `malloc`, checked for NULL below.
    let ptr = unsafe { libc::malloc(3) }.cast::<u8>();
    assert!(!ptr.is_null());
    // SAFETY: `ptr` is valid for 3 writes.
    unsafe { write_array(ptr, b"xyz") }.unwrap();
    // SAFETY: 3 initialized bytes from `malloc`, owned by nobody else; freed by the `CBuf`.
    let buf = unsafe { CBuf::from_raw(ptr, 3) }.unwrap();
    assert_eq!(buf.as_slice(), b"xyz");
}

#[test]
fn null_pointers_are_errors_unless_empty() {
    let null = std::ptr::null();
    // SAFETY: NULL is checked before any read.
    unsafe {
        assert_eq!(copy_from_c(null, 0), Ok(Vec::new()));
        assert_eq!(copy_from_c(null, 1), Err(BytesError::NullPointer));
        assert_eq!(slice_from_c(null, 0), Ok(&[][..]));
        assert_eq!(slice_from_c(null, 32), Err(BytesError::NullPointer));
        assert_eq!(read_array::<32>(null), Err(BytesError::NullPointer));
        assert_eq!(
            write_array(std::ptr::null_mut(), &[1u8; 4]),
            Err(BytesError::NullPointer)
        );
        assert_eq!(
            CBuf::from_raw(std::ptr::null_mut(), 0).unwrap_err(),
            BytesError::NullPointer
        );
    }
}

#[test]
fn lengths_beyond_isize_max_are_errors() {
    let huge = isize::MAX as usize + 1;
    let byte = 0u8;
    // SAFETY: the length is rejected before the pointer is read.
    let copied = unsafe { copy_from_c(&byte, huge) };
    assert_eq!(copied, Err(BytesError::TooLong { len: huge }));
    assert_eq!(
        CBuf::alloc(usize::MAX).unwrap_err(),
        BytesError::TooLong { len: usize::MAX }
    );
    let mut other = 0u8;
    // SAFETY: rejected before ownership is taken, so `other` is never freed.
    let taken = unsafe { CBuf::from_raw(&mut other, huge) };
    assert_eq!(taken.unwrap_err(), BytesError::TooLong { len: huge });
}

#[test]
fn allocation_failure_is_an_error_not_an_abort() {
    // No machine can provide isize::MAX bytes; the C allocator returns NULL.
    let len = isize::MAX as usize;
    assert_eq!(
        CBuf::alloc(len).unwrap_err(),
        BytesError::AllocFailed { len }
    );
}

#[test]
fn errors_explain_themselves() {
    let too_long = BytesError::TooLong { len: usize::MAX }.to_string();
    assert!(too_long.contains(&usize::MAX.to_string()), "{too_long}");
    let failed = BytesError::AllocFailed { len: 12345 }.to_string();
    assert!(failed.contains("12345"), "{failed}");
    assert!(BytesError::NullPointer.to_string().contains("NULL"));
    let boxed: Box<dyn std::error::Error> = Box::new(BytesError::NullPointer);
    assert!(boxed.source().is_none());
}

#[test]
fn buffers_move_between_threads() {
    let buf = CBuf::copy_from(b"across").unwrap();
    let back = std::thread::spawn(move || {
        assert_eq!(buf.as_slice(), b"across");
        buf
    })
    .join()
    .unwrap();
    assert_eq!(&*back, b"across");
}
