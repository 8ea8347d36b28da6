//! loom model of `PanicPolicy::Poison`: a panic that poisons the gate (stopping admission
//! without draining) races another thread's entry; then `close` drains.
//!
//! `RUSTFLAGS="--cfg loom" cargo test -p crosscall --test loom_panic_policy --release`
//! (part of `bash scripts/loom.sh`).
#![cfg(loom)]

use crosscall::{Gate, PanicOutput, PanicPolicy};
use loom::sync::Arc;
use loom::thread;

#[test]
fn poison_races_an_entry_and_close_drains() {
    // Silences only the panics inside the gate (the model's own failures still print).
    crosscall::set_panic_output(PanicOutput::Quiet);
    loom::model(|| {
        let gate = Arc::new(Gate::new());
        gate.set_panic_policy(PanicPolicy::Poison);
        gate.open();
        let other = {
            let gate = gate.clone();
            thread::spawn(move || crosscall::entry(&gate, -1, || 1))
        };
        assert_eq!(
            crosscall::entry(&gate, -1, || -> i32 { panic!("broken") }),
            -1
        );
        // Once the poisoning call returned, every later entry is refused.
        assert_eq!(crosscall::entry(&gate, -1, || 1), -1);
        assert!(crosscall::last_error().unwrap().contains("Poison"));
        // The racing entry either ran before the poisoning or was refused after it.
        let raced = other.join().unwrap();
        assert!(raced == 1 || raced == -1);
        gate.close().unwrap();
        assert_eq!(gate.in_flight(), 0);
        gate.reopen().unwrap();
        assert_eq!(crosscall::entry(&gate, -1, || 1), 1);
    });
}
