//! Runs one entry strategy N times on one thread, for instruction counts under callgrind:
//!
//! ```text
//! cargo build --release -p crosscall --example entry_cost
//! for v in none membarrier fallback entry state entry_state rr4 rr8 rr16 same1 same4 same8 nested; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/entry_cost $v 1000000 2>&1 | grep refs
//! done
//! ```
//!
//! (total refs of a variant − total refs of `none`) / N = instructions the entry adds per
//! call. Instruction counts are repeatable on a noisy machine, unlike nanoseconds.

use crosscall::{Gate, StateGate};
use std::hint::black_box;

static MEMBARRIER: Gate = Gate::new();
static FALLBACK: Gate = Gate::new_fence_fallback();
/// The state-carrying gate: the body gets the state (`&u64`) instead of nothing.
static STATE: StateGate<u64> = StateGate::new();
/// Gates a thread alternates between (`rr4`, `rr8`, `rr16`, `nested`): the `entry` path
/// (what `#[export]` runs) through gate `i % k`.
static MANY: [Gate; 16] = [const { Gate::new() }; 16];

/// `crosscall::entry` through gate `i % K`, round-robin.
fn round_robin<const K: u64>(i: u64) -> u64 {
    crosscall::entry(&MANY[(i % K) as usize], 0, || body(i))
}

/// `k - 1` for `same1`/`same4`/`same8`: the same code for every `k`, so that one gate and
/// several gates are compared with the same harness (the index arithmetic included).
static MASK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// `crosscall::entry` through gate `i & MASK`.
fn round_robin_masked(i: u64) -> u64 {
    // Relaxed: a value set once before the loop.
    let mask = MASK.load(std::sync::atomic::Ordering::Relaxed);
    crosscall::entry(&MANY[(i & mask) as usize], 0, || body(i))
}

#[inline(never)]
fn body(x: u64) -> u64 {
    black_box(x)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_else(|| "membarrier".into());
    let n: u64 = args
        .next()
        .map(|s| s.parse().expect("N must be a whole number"))
        .unwrap_or(1_000_000);
    MEMBARRIER.open();
    MANY.iter().for_each(Gate::open);
    FALLBACK.open();
    STATE.open(1).expect("opened once, here");
    let one: fn(u64) -> u64 = match variant.as_str() {
        "none" => body,
        "membarrier" => |i| {
            let _p = MEMBARRIER.enter().expect("open");
            body(i)
        },
        "fallback" => |i| {
            let _p = FALLBACK.enter().expect("open");
            body(i)
        },
        "entry" => |i| crosscall::entry(&MEMBARRIER, 0, || body(i)),
        // The body also reads the state (one load): compare with `membarrier` / `entry`.
        "state" => |i| {
            let state = STATE.enter().expect("open");
            body(i ^ *state)
        },
        "entry_state" => |i| crosscall::entry_state(&STATE, 0, |state| body(i ^ *state)),
        "rr4" => round_robin::<4>,
        "rr8" => round_robin::<8>,
        "rr16" => round_robin::<16>,
        // One harness for 1, 4 or 8 gates (see `MASK`): the ratio is the gates' alone.
        "same1" | "same4" | "same8" => {
            let k: u64 = variant[4..].parse().expect("a number");
            MASK.store(k - 1, std::sync::atomic::Ordering::Relaxed);
            round_robin_masked
        }
        // Two pairs per call: gate 1 entered inside gate 0.
        "nested" => |i| crosscall::entry(&MANY[0], 0, || crosscall::entry(&MANY[1], 0, || body(i))),
        other => {
            eprintln!(
                "unknown variant {other:?}: none | membarrier | fallback | entry | state | \
                 entry_state | rr4 | rr8 | rr16 | same1 | same4 | same8 | nested"
            );
            std::process::exit(2);
        }
    };
    // Warm up: the first entries claim the thread's slots (the slow path, not measured).
    for i in 0..16 {
        black_box(one(i));
    }
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(one(black_box(i)));
    }
    black_box(acc);
}
