//! `#[crosscall::export(..., handles(param = TABLE))]`: C passes a `u64`, the body gets `&T`;
//! a bad handle returns the error value with a last error naming the parameter and the check.

use std::sync::atomic::{AtomicI32, Ordering};

use crosscall::{Gate, Handles};

struct Counter(AtomicI32);

static GATE: Gate = Gate::new();
static COUNTERS: Handles<Counter> = Handles::new(&GATE);
static OTHER_GATE: Gate = Gate::new();
static OTHER_COUNTERS: Handles<Counter> = Handles::new(&OTHER_GATE);

/// Adds `by` to the counter and returns the new value.
#[crosscall::export(gate = GATE, on_panic = -1, handles(counter = COUNTERS))]
pub extern "C" fn counter_add(counter: &Counter, by: i32) -> i32 {
    counter.0.fetch_add(by, Ordering::Relaxed) + by
}

/// The sum of two counters, `Err` on overflow.
#[crosscall::export(gate = GATE, on_panic = -1, handles(a = COUNTERS, b = COUNTERS))]
pub extern "C" fn counter_sum(a: &Counter, b: &Counter) -> Result<i32, String> {
    let (a, b) = (a.0.load(Ordering::Relaxed), b.0.load(Ordering::Relaxed));
    a.checked_add(b)
        .ok_or_else(|| format!("{a} + {b} overflows"))
}

/// Enters `GATE` but looks up in a table of another gate: every call fails.
#[crosscall::export(gate = GATE, on_panic = -1, handles(counter = OTHER_COUNTERS))]
pub extern "C" fn counter_of_other_gate(counter: &Counter) -> i32 {
    counter.0.load(Ordering::Relaxed)
}

fn last_error() -> String {
    crosscall::last_error().unwrap_or_default()
}

#[test]
fn c_sees_u64_parameters() {
    let _: extern "C" fn(u64, i32) -> i32 = counter_add;
    let _: extern "C" fn(u64, u64) -> i32 = counter_sum;
}

#[test]
fn a_good_handle_becomes_a_reference() {
    GATE.open();
    let h = COUNTERS.insert(Counter(AtomicI32::new(40))).unwrap();
    assert_eq!(counter_add(h.into_raw(), 2), 42);
    let big = COUNTERS.insert(Counter(AtomicI32::new(i32::MAX))).unwrap();
    assert_eq!(counter_sum(h.into_raw(), h.into_raw()), 84);
    assert_eq!(counter_sum(h.into_raw(), big.into_raw()), -1);
    assert_eq!(last_error(), format!("42 + {} overflows", i32::MAX));
}

#[test]
fn bad_handles_return_the_error_value_and_name_the_check() {
    GATE.open();
    crosscall::clear_last_error();
    assert_eq!(counter_add(0, 1), -1);
    let message = last_error();
    assert!(message.contains("`counter`"), "{message}");
    assert!(message.contains("never issued by this table"), "{message}");

    let h = COUNTERS.insert(Counter(AtomicI32::new(0))).unwrap();
    COUNTERS.remove(h).unwrap();
    assert_eq!(counter_add(h.into_raw(), 1), -1);
    assert!(last_error().contains("stale handle"), "{}", last_error());

    // The second parameter is checked too, and named.
    let good = COUNTERS.insert(Counter(AtomicI32::new(1))).unwrap();
    assert_eq!(counter_sum(good.into_raw(), 12345), -1);
    assert!(last_error().contains("`b`"), "{}", last_error());

    OTHER_GATE.open();
    let other = OTHER_COUNTERS.insert(Counter(AtomicI32::new(5))).unwrap();
    assert_eq!(
        counter_add(other.into_raw(), 1),
        -1,
        "another table's handle"
    );
    assert!(last_error().contains("never issued"), "{}", last_error());
    assert_eq!(counter_of_other_gate(other.into_raw()), -1);
    assert!(last_error().contains("another gate"), "{}", last_error());
}
