//! Close latency under load: how long `StateGate::close` takes (stop admission, drain, hand
//! the state back) while 2 threads keep calling, over many close → reopen cycles.
//!
//! ```text
//! cargo run --release -p crosscall --example close_latency -- [cycles] [callers]
//! ```
//!
//! Prints the median, p90, p99 and max of the close durations (µs), the fence the gate uses,
//! and how many calls were admitted and refused. Defaults: 1000 cycles, 2 callers. Between
//! cycles the gate stays open for 200 µs so the callers are inside again when the next close
//! starts. A measurement tool, not a test: nothing here asserts a speed.

use crosscall::StateGate;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::thread;
use std::time::{Duration, Instant};

static LIB: StateGate<u64> = StateGate::new();

fn main() {
    let mut args = std::env::args().skip(1);
    let cycles: usize = args
        .next()
        .map_or(1000, |s| s.parse().expect("cycles: a number"));
    let callers: usize = args
        .next()
        .map_or(2, |s| s.parse().expect("callers: a number"));
    let stop = AtomicBool::new(false);
    let admitted = AtomicU64::new(0);
    let refused = AtomicU64::new(0);
    LIB.open(0).expect("opened once, here");
    let mut closes = Vec::with_capacity(cycles);
    thread::scope(|s| {
        for _ in 0..callers {
            s.spawn(|| {
                let (mut ok, mut no) = (0u64, 0u64);
                while !stop.load(Relaxed) {
                    match LIB.enter() {
                        Ok(state) => {
                            black_box(*state);
                            ok += 1;
                        }
                        Err(_) => no += 1,
                    }
                }
                admitted.fetch_add(ok, Relaxed);
                refused.fetch_add(no, Relaxed);
            });
        }
        thread::sleep(Duration::from_millis(20));
        for cycle in 0..cycles {
            let began = Instant::now();
            let state = LIB
                .close()
                .expect("not inside")
                .expect("this close took it");
            closes.push(began.elapsed());
            black_box(state);
            LIB.reopen(cycle as u64 + 1).expect("closed");
            thread::sleep(Duration::from_micros(200));
        }
        stop.store(true, Relaxed);
    });
    closes.sort();
    let at = |q: f64| closes[((closes.len() - 1) as f64 * q).round() as usize];
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "close latency over {cycles} close/reopen cycles, {callers} threads calling \
         ({}): median {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, max {:.1} µs; calls admitted {}, \
         refused while closed {}",
        if LIB.__uses_membarrier() {
            "membarrier"
        } else {
            "fence(SeqCst) fallback"
        },
        us(at(0.5)),
        us(at(0.9)),
        us(at(0.99)),
        us(at(1.0)),
        admitted.load(Relaxed),
        refused.load(Relaxed),
    );
}
