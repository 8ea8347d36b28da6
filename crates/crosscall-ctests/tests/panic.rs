//! The panic barrier of an exported Rust callback, called from a C thread (see
//! `c/panic_tests.c`).

use std::panic;
use std::sync::{Arc, Mutex, PoisonError};

use crosscall_ctests::{c, CALLBACK_GATE};

#[test]
fn panic_becomes_error_value() {
    CALLBACK_GATE.open();

    // The C test makes a callback panic on purpose. Record panic messages instead of letting
    // the default hook print them (with a backtrace under RUST_BACKTRACE), so that a passing
    // run is quiet; they are printed if the test fails. This binary runs no other test, so
    // replacing the process-wide hook for a while disturbs nothing.
    let messages = Arc::new(Mutex::new(Vec::<String>::new()));
    let previous = panic::take_hook();
    let record = Arc::clone(&messages);
    panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "(a non-string panic payload)".to_string());
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(format!("{message} (at {location})"));
    }));
    let outcome = panic::catch_unwind(c::ctest_panic_becomes_error_value);
    panic::set_hook(previous);

    let messages = messages
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if let Err(failure) = outcome {
        eprintln!("panics while the C test ran:\n  {}", messages.join("\n  "));
        panic::resume_unwind(failure);
    }
    assert!(
        matches!(messages.as_slice(), [only] if only.starts_with("ctest_div: cannot divide 7 by zero")),
        "expected exactly the callback's intended panic, got: {messages:?}"
    );
}
