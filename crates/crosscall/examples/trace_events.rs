//! Prints the `tracing` events of a gate's slow paths: a caller that waits for `open`, a
//! close that drains a call in flight, a refused entry, a caught panic.
//!
//! ```sh
//! cargo run -p crosscall --features tracing --example trace_events
//! ```

use std::time::Duration;

use crosscall::Gate;

static GATE: Gate = Gate::new();

#[crosscall::export(gate = GATE, on_panic = -1)]
pub extern "C" fn example_checked_div(a: i32, b: i32) -> i32 {
    a / b // b == 0 panics: caught, -1 to C
}

fn main() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_target(true)
        .init();
    // The barrier reports the panic (event and last error); the default hook's backtrace
    // would only repeat it.
    std::panic::set_hook(Box::new(|_| {}));

    std::thread::scope(|s| {
        // Waits for `open` (a "waited for open" event when it gets in).
        let early = s.spawn(|| GATE.enter().map(drop));
        std::thread::sleep(Duration::from_millis(20));
        GATE.open();
        early.join().unwrap().unwrap();

        assert_eq!(example_checked_div(7, 0), -1); // "panic caught"

        // A call in flight while the gate closes: "close started", then "close finished"
        // with the drain time once the call leaves.
        let pass = GATE.enter().unwrap();
        let closer = s.spawn(|| GATE.close());
        std::thread::sleep(Duration::from_millis(5));
        drop(pass);
        closer.join().unwrap().unwrap();
    });

    // "entry refused": the gate is closed.
    assert!(GATE.enter().is_err());
    println!("{:#?}", GATE.stats());
}
