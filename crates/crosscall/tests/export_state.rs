//! `#[crosscall::export(state = …)]` end to end: the generated `extern "C"` functions take no
//! state parameter, the body gets the state of the generation it was admitted to, and every
//! refusal becomes the error value plus a last error.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use crosscall::{last_error, StateGate};

struct Scale {
    factor: i64,
    calls: AtomicU64,
}

static SCALE: StateGate<Scale> = StateGate::new();

#[crosscall::export(state = SCALE, on_panic = i64::MIN)]
pub extern "C" fn scale(s: &Scale, x: i64) -> Result<i64, String> {
    s.calls.fetch_add(1, Ordering::Relaxed);
    x.checked_mul(s.factor)
        .ok_or_else(|| format!("{x} * {} overflows", s.factor))
}

#[crosscall::export(state = SCALE, on_panic = -1, abort_on_panic)]
pub extern "C" fn factor(s: &'_ Scale) -> i64 {
    s.factor
}

#[crosscall::export(state = SCALE, on_panic = 0)]
pub extern "C" fn ignores_state(_: &Scale, a: u8, b: u8) -> u8 {
    a.wrapping_add(b)
}

#[test]
fn state_is_supplied_per_generation_and_refusals_become_error_values() {
    // C's view of the functions: no state parameter.
    let c_scale: extern "C" fn(i64) -> i64 = scale;
    let c_factor: extern "C" fn() -> i64 = factor;
    let c_add: extern "C" fn(u8, u8) -> u8 = ignores_state;

    // An early caller waits for the first opening.
    let early = thread::spawn(move || c_scale(5));
    thread::sleep(Duration::from_millis(5));
    SCALE
        .open(Scale {
            factor: 3,
            calls: AtomicU64::new(0),
        })
        .unwrap();
    assert_eq!(early.join().unwrap(), 15);
    assert_eq!(c_factor(), 3);
    assert_eq!(c_add(250, 10), 4);
    assert_eq!(c_scale(i64::MAX), i64::MIN);
    assert_eq!(
        last_error().as_deref(),
        Some(&*format!("{} * 3 overflows", i64::MAX))
    );
    let first = SCALE.close().unwrap().unwrap();
    assert_eq!(first.calls.load(Ordering::Relaxed), 2);

    assert_eq!(c_scale(1), i64::MIN);
    assert_eq!(
        last_error().as_deref(),
        Some("crosscall: the gate is closed")
    );
    assert_eq!(c_factor(), -1);

    SCALE
        .reopen(Scale {
            factor: -2,
            calls: AtomicU64::new(0),
        })
        .unwrap();
    assert_eq!(c_scale(4), -8);
    assert_eq!(c_factor(), -2);
    let second = SCALE.close().unwrap().unwrap();
    assert_eq!(second.calls.load(Ordering::Relaxed), 1);
}
