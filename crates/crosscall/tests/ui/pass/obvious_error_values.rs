//! Without `on_panic`: pointers → null, `Option` → `None`, `bool` → `false`, `()` →
//! nothing, and `Result<T, E>` by `T`'s rule; checked on a closed gate (every call refused).

use std::ffi::c_char;

static GATE: crosscall::Gate = crosscall::Gate::new();

#[crosscall::export(gate = GATE)]
pub extern "C" fn name() -> *const c_char {
    c"lib".as_ptr()
}

#[crosscall::export(gate = GATE)]
pub extern "C" fn buffer() -> *mut u8 {
    std::ptr::NonNull::dangling().as_ptr()
}

#[crosscall::export(gate = GATE)]
pub extern "C" fn callback() -> Option<extern "C" fn()> {
    extern "C" fn noop() {}
    Some(noop)
}

#[crosscall::export(gate = GATE)]
pub extern "C" fn ready() -> bool {
    true
}

#[crosscall::export(gate = GATE)]
pub extern "C" fn touch() {}

#[crosscall::export(gate = GATE)]
pub extern "C" fn checked(ok: bool) -> Result<bool, String> {
    if ok { Ok(true) } else { Err("not ok".into()) }
}

#[crosscall::export(gate = GATE)]
pub extern "C" fn lookup(ok: bool) -> Result<*const c_char, String> {
    if ok { Ok(c"found".as_ptr()) } else { Err("missing".into()) }
}

#[crosscall::export(gate = GATE)]
pub extern "C" fn boom() -> bool {
    panic!("boom")
}

fn main() {
    std::panic::set_hook(Box::new(|_| {}));
    GATE.open();
    assert!(!name().is_null());
    assert!(!buffer().is_null());
    assert!(callback().is_some());
    assert!(ready());
    assert!(checked(true));
    assert!(!checked(false));
    assert_eq!(crosscall::last_error().as_deref(), Some("not ok"));
    assert!(!lookup(true).is_null());
    assert!(lookup(false).is_null());
    assert!(!boom());
    assert_eq!(crosscall::last_error().as_deref(), Some("crosscall: boom panicked: boom"));
    GATE.close().unwrap();
    assert!(name().is_null());
    assert!(buffer().is_null());
    assert!(callback().is_none());
    assert!(!ready());
    touch();
    assert_eq!(crosscall::last_error().as_deref(), Some("crosscall: the gate is closed"));
}
