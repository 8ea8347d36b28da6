//! The per-thread last error message.

use std::ffi::CStr;

use crosscall::{clear_last_error, last_error, set_last_error};

#[test]
fn set_read_clear() {
    clear_last_error();
    assert_eq!(last_error(), None);
    set_last_error("first");
    set_last_error(format_args!("second {}", 2));
    assert_eq!(last_error().as_deref(), Some("second 2"));
    // Reading does not consume.
    assert_eq!(last_error().as_deref(), Some("second 2"));
    clear_last_error();
    assert_eq!(last_error(), None);
}

#[test]
fn each_thread_has_its_own_message() {
    set_last_error("main thread");
    let threads: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                assert_eq!(last_error(), None, "a new thread starts without a message");
                for round in 0..100 {
                    set_last_error(format_args!("thread {i} round {round}"));
                    assert_eq!(last_error(), Some(format!("thread {i} round {round}")));
                }
                last_error()
            })
        })
        .collect();
    for (i, thread) in threads.into_iter().enumerate() {
        assert_eq!(thread.join().unwrap(), Some(format!("thread {i} round 99")));
    }
    assert_eq!(last_error().as_deref(), Some("main thread"));
}

#[test]
fn the_c_pointer_is_nul_terminated_and_null_when_empty() {
    clear_last_error();
    assert!(crosscall::__private::last_error_ptr().is_null());
    set_last_error("for C");
    let ptr = crosscall::__private::last_error_ptr();
    assert!(!ptr.is_null());
    // SAFETY: non-NULL pointers from `last_error_ptr` are NUL-terminated and live until
    // this thread's next set/clear, which comes after this read.
    let text = unsafe { CStr::from_ptr(ptr) };
    assert_eq!(text.to_bytes(), b"for C");
    clear_last_error();
    assert!(crosscall::__private::last_error_ptr().is_null());
}

#[test]
fn interior_nul_bytes_are_replaced_not_truncated() {
    set_last_error("before\0after");
    assert_eq!(last_error().as_deref(), Some("before\u{FFFD}after"));
    // SAFETY: as in the test above.
    let text = unsafe { CStr::from_ptr(crosscall::__private::last_error_ptr()) };
    assert_eq!(text.to_str().unwrap(), "before\u{FFFD}after");
}

#[test]
fn display_may_read_the_previous_message() {
    struct Wrapping;
    impl std::fmt::Display for Wrapping {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "outer({})", last_error().unwrap_or_default())
        }
    }
    set_last_error("inner");
    set_last_error(Wrapping);
    assert_eq!(last_error().as_deref(), Some("outer(inner)"));
}
