//! `#[crosscall::export]` end to end: the generated `extern "C"` functions, called directly.

use std::fmt;
use std::panic;
use std::sync::Mutex;

use crosscall::{last_error, EnterError, Gate};

/// Tests that swap the process-wide panic hook take turns.
static PANIC_HOOK: Mutex<()> = Mutex::new(());

fn quietly<R>(f: impl FnOnce() -> R) -> R {
    let _turn = PANIC_HOOK.lock().unwrap_or_else(|p| p.into_inner());
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(panic::AssertUnwindSafe(f));
    panic::set_hook(previous);
    result.unwrap_or_else(|payload| panic::resume_unwind(payload))
}

mod gates {
    use crosscall::Gate;

    pub static DIVIDE: Gate = Gate::new();
    pub static PLAIN: Gate = Gate::new();
}

#[derive(Debug)]
enum DivideError {
    ByZero,
    Overflow,
}

impl fmt::Display for DivideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DivideError::ByZero => f.write_str("division by zero"),
            DivideError::Overflow => f.write_str("quotient overflows"),
        }
    }
}

/// Divides; `Err` and panics come back to C as `i32::MIN`.
#[crosscall::export(gate = gates::DIVIDE, on_panic = i32::MIN)]
#[no_mangle]
pub extern "C" fn crosscall_test_divide(a: i32, b: i32) -> Result<i32, DivideError> {
    if b == 0 {
        return Err(DivideError::ByZero);
    }
    if a == 13 {
        panic!("unlucky numerator");
    }
    a.checked_div(b).ok_or(DivideError::Overflow)
}

#[test]
fn result_functions_return_ok_values_and_map_errors() {
    gates::DIVIDE.open();
    let typed: extern "C" fn(i32, i32) -> i32 = crosscall_test_divide;
    assert_eq!(typed(12, 4), 3);
    crosscall::clear_last_error();

    assert_eq!(crosscall_test_divide(1, 0), i32::MIN);
    assert_eq!(last_error().as_deref(), Some("division by zero"));
    assert_eq!(crosscall_test_divide(i32::MIN, -1), i32::MIN);
    assert_eq!(last_error().as_deref(), Some("quotient overflows"));

    assert_eq!(quietly(|| crosscall_test_divide(13, 1)), i32::MIN);
    let message = last_error().unwrap();
    assert!(message.contains("unlucky numerator"), "{message}");

    assert_eq!(crosscall_test_divide(10, 5), 2);
    assert_eq!(
        last_error(),
        Some(message),
        "success leaves the last error alone"
    );
    assert_eq!(gates::DIVIDE.in_flight(), 0);
}

/// Declarations the linker resolves to the exported symbols: proves the symbol attributes
/// survived the macro.
mod linked {
    extern "C" {
        pub fn crosscall_test_divide(a: i32, b: i32) -> i32;
        pub fn crosscall_test_renamed_symbol(x: u32) -> u32;
    }
}

static SYMBOLS: Gate = Gate::new();

#[crosscall::export(gate = SYMBOLS, on_panic = 0)]
#[export_name = "crosscall_test_renamed_symbol"]
pub extern "C" fn renamed(x: u32) -> u32 {
    x + 1
}

#[test]
fn symbol_attributes_are_kept() {
    SYMBOLS.open();
    gates::DIVIDE.open();
    // SAFETY: the declarations above match the exported definitions exactly.
    unsafe {
        assert_eq!(linked::crosscall_test_renamed_symbol(41), 42);
        assert_eq!(linked::crosscall_test_divide(9, 3), 3);
    }
    assert_eq!(renamed(1), 2);
}

static CLOSED: Gate = Gate::new();

#[crosscall::export(gate = CLOSED, on_panic = -1)]
pub extern "C" fn on_closed_gate() -> i64 {
    unreachable!("a closed gate never runs the body")
}

#[crosscall::export(gate = CLOSED, on_panic = -2)]
pub extern "C" fn result_on_closed_gate() -> Result<i64, String> {
    unreachable!("a closed gate never runs the body")
}

#[test]
fn a_closed_gate_returns_the_error_value() {
    CLOSED.open();
    CLOSED.close().unwrap();
    let expected = format!("crosscall: {}", EnterError::Closed);
    crosscall::clear_last_error();
    assert_eq!(on_closed_gate(), -1);
    assert_eq!(last_error(), Some(expected.clone()));
    crosscall::clear_last_error();
    assert_eq!(result_on_closed_gate(), -2);
    assert_eq!(last_error(), Some(expected));
}

/// # Safety
///
/// `out` must be NULL or point to `len` writable bytes.
#[crosscall::export(gate = gates::PLAIN, on_panic = ())]
pub unsafe extern "C" fn fill(out: *mut u8, len: usize, byte: u8) {
    assert!(!out.is_null(), "out is NULL");
    // SAFETY: the caller passes `len` writable bytes at `out` (checked non-NULL above).
    unsafe { std::ptr::write_bytes(out, byte, len) };
}

#[test]
fn unit_functions_work_and_panics_stop_at_the_barrier() {
    gates::PLAIN.open();
    let mut buf = [0u8; 8];
    // SAFETY: `buf` is 8 writable bytes; NULL is checked by `fill`.
    unsafe {
        fill(buf.as_mut_ptr(), buf.len(), 7);
        assert_eq!(buf, [7; 8]);
        quietly(|| fill(std::ptr::null_mut(), 1, 7));
    }
    assert!(last_error().unwrap().contains("out is NULL"));
}

/// `?` converts errors with `From`, as in any function returning `Result`.
#[crosscall::export(gate = gates::PLAIN, on_panic = -1)]
pub extern "C" fn parse_digit(c: u8) -> std::io::Result<i32> {
    let text = std::str::from_utf8(std::slice::from_ref(&c))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let digit: i32 = text
        .parse()
        .map_err(|_| std::io::Error::other(format!("{text:?} is not a digit")))?;
    Ok(digit)
}

#[test]
fn result_aliases_and_question_mark_work() {
    gates::PLAIN.open();
    assert_eq!(parse_digit(b'7'), 7);
    assert_eq!(parse_digit(b'x'), -1);
    assert_eq!(last_error().as_deref(), Some("\"x\" is not a digit"));
}

/// # Safety
///
/// `ptr` must point to `len` readable bytes.
#[crosscall::export(gate = gates::PLAIN, on_panic = u64::MAX)]
pub unsafe extern "C" fn checksum<'a>(
    ptr: *const u8,
    len: usize,
) -> Result<u64, crosscall::BytesError> {
    // SAFETY: forwarded from this function's contract.
    let bytes: &'a [u8] = unsafe { crosscall::bytes::slice_from_c(ptr, len) }?;
    Ok(bytes.iter().map(|&b| u64::from(b)).sum())
}

#[test]
fn unsafe_functions_with_lifetimes_work() {
    gates::PLAIN.open();
    let data = [1u8, 2, 3];
    // SAFETY: `data` is 3 readable bytes; NULL is checked by `slice_from_c`.
    unsafe {
        assert_eq!(checksum(data.as_ptr(), 3), 6);
        assert_eq!(checksum(std::ptr::null(), 0), 0);
        assert_eq!(checksum(std::ptr::null(), 3), u64::MAX);
    }
    assert_eq!(
        last_error(),
        Some(crosscall::BytesError::NullPointer.to_string())
    );
}

static ABORTING: Gate = Gate::new();

#[crosscall::export(gate = ABORTING, on_panic = -1, abort_on_panic)]
pub extern "C" fn strict_half(x: i32) -> Result<i32, String> {
    if x % 2 != 0 {
        return Err(format!("{x} is odd"));
    }
    Ok(x / 2)
}

#[crosscall::export(gate = ABORTING, on_panic = false, abort_on_panic)]
pub extern "C" fn strict_is_positive(x: i32) -> bool {
    x > 0
}

#[test]
fn abort_mode_still_maps_errors_and_refusals() {
    ABORTING.open();
    assert_eq!(strict_half(8), 4);
    assert_eq!(strict_half(3), -1);
    assert_eq!(last_error().as_deref(), Some("3 is odd"));
    assert!(strict_is_positive(1));
    ABORTING.close().unwrap();
    assert!(!strict_is_positive(1));
    assert_eq!(
        last_error(),
        Some(format!("crosscall: {}", EnterError::Closed))
    );
}

static THREADED: Gate = Gate::new();

#[crosscall::export(gate = THREADED, on_panic = 0)]
pub extern "C" fn attached_here() -> u8 {
    u8::from(crosscall::attach::is_attached())
}

#[test]
fn exported_functions_attach_their_thread() {
    THREADED.open();
    let seen = std::thread::spawn(|| {
        assert!(!crosscall::attach::is_attached());
        attached_here()
    })
    .join()
    .unwrap();
    assert_eq!(seen, 1);
}
