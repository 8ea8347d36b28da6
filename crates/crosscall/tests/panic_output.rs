//! `set_panic_output`: panics inside crosscall calls go where chosen; panics elsewhere still
//! reach the hook installed before. One test: the panic hook is process-wide.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crosscall::{Gate, PanicOutput};

static GATE: Gate = Gate::new();

#[crosscall::export(gate = GATE)]
extern "C" fn fails() {
    panic!("inside the export");
}

static PREVIOUS_HOOK: AtomicUsize = AtomicUsize::new(0);
static CALLBACK_TEXTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn record(text: &str) {
    CALLBACK_TEXTS.lock().unwrap().push(text.to_owned());
}

fn panic_outside() {
    let _ = std::panic::catch_unwind(|| panic!("outside any gate"));
}

#[test]
fn exports_go_to_the_chosen_output_and_other_panics_to_the_previous_hook() {
    // The host's own hook, installed first: crosscall must chain to it.
    std::panic::set_hook(Box::new(|_| {
        PREVIOUS_HOOK.fetch_add(1, Ordering::Relaxed);
    }));
    GATE.open();

    crosscall::set_panic_output(PanicOutput::Quiet);
    fails();
    assert_eq!(
        PREVIOUS_HOOK.load(Ordering::Relaxed),
        0,
        "Quiet reached the hook"
    );
    panic_outside();
    assert_eq!(PREVIOUS_HOOK.load(Ordering::Relaxed), 1);

    crosscall::set_panic_output(PanicOutput::Callback(record));
    fails();
    panic_outside();
    assert_eq!(PREVIOUS_HOOK.load(Ordering::Relaxed), 2);
    {
        let texts = CALLBACK_TEXTS.lock().unwrap();
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert!(texts[0].starts_with("panicked at "), "{}", texts[0]);
        assert!(texts[0].ends_with(": inside the export"), "{}", texts[0]);
        assert!(texts[0].contains("panic_output.rs"), "{}", texts[0]);
    }

    // A panic on a thread inside the gate through a held pass counts as inside crosscall.
    {
        let _pass = GATE.enter().unwrap();
        let _ = std::panic::catch_unwind(|| panic!("holding a pass"));
    }
    assert_eq!(CALLBACK_TEXTS.lock().unwrap().len(), 2);

    // Stderr: crosscall's hook defers to the previous one for everything.
    crosscall::set_panic_output(PanicOutput::Stderr);
    fails();
    assert_eq!(PREVIOUS_HOOK.load(Ordering::Relaxed), 3);
    assert_eq!(CALLBACK_TEXTS.lock().unwrap().len(), 2);
    assert!(crosscall::last_error()
        .unwrap()
        .contains("fails panicked: inside the export"));
}
