//! Runs a handle lookup inside the gate N times on one thread, for instruction counts under
//! callgrind:
//!
//! ```text
//! cargo build --release -p crosscall --example handle_cost
//! for v in entry lookup; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/handle_cost $v 1000000 2>&1 | grep refs
//! done
//! ```
//!
//! (total refs of `lookup` − total refs of `entry`) / N = instructions a `Handles::get`
//! adds to the gate's entry.

use crosscall::{Gate, Handle, Handles};
use std::hint::black_box;

static GATE: Gate = Gate::new();
static TABLE: Handles<u64> = Handles::new(&GATE);

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_else(|| "lookup".into());
    let n: usize = args
        .next()
        .map(|s| s.parse().expect("N must be a whole number"))
        .unwrap_or(1_000_000);
    GATE.open();
    let handles: Vec<Handle> = (0..64u64).map(|v| TABLE.insert(v).unwrap()).collect();
    let lookup = match variant.as_str() {
        "entry" => false,
        "lookup" => true,
        other => {
            eprintln!("unknown variant {other:?}: entry | lookup");
            std::process::exit(2);
        }
    };
    // Warm up: the first entry claims the thread's slot (the slow path, not measured).
    drop(GATE.enter());
    let mut sum = 0u64;
    for i in 0..n {
        let pass = GATE.enter().expect("open");
        let h = black_box(handles[i % 64]);
        if lookup {
            sum += *TABLE.get(&pass, h).expect("live");
        } else {
            sum += black_box(h.index() as u64);
        }
    }
    println!("{sum}");
}
