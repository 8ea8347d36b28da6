//! Entry cost per gate: nanoseconds for one enter + leave around an empty
//! body, with 1 thread and with 2 threads entering side by side.
//!
//! Run: `cargo bench -p crosscall-lab --bench entry` (about two minutes).
//! The crosscall gate's `fence(SeqCst)` fallback is measured by re-running
//! this binary with `CROSSCALL_DISABLE_MEMBARRIER=1` (the choice is made once
//! per process), so those figures print last.
use std::hint::black_box;
use std::process::Command;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion};
use crosscall::Gate;
use crosscall_lab::gates::{AtomicGate, CounterGate, EntryGate, MutexGate, NoGate};

static CROSSCALL: Gate = Gate::new();

/// Measures `op` alone, then `op` on this thread while a second thread runs
/// the same `op` concurrently (only this thread's time is reported).
fn one_and_two_threads(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    op: &(impl Fn() + Sync),
) {
    group.bench_function(BenchmarkId::new(name, "1 thread"), |b| b.iter(op));
    group.bench_function(BenchmarkId::new(name, "2 threads"), |b| {
        b.iter_custom(|iters| side_by_side(iters, op))
    });
}

fn side_by_side(iters: u64, op: &(impl Fn() + Sync)) -> Duration {
    let start = Barrier::new(2);
    thread::scope(|s| {
        s.spawn(|| {
            start.wait();
            for _ in 0..iters {
                op();
            }
        });
        start.wait();
        let began = Instant::now();
        for _ in 0..iters {
            op();
        }
        began.elapsed()
    })
}

/// A reference gate's full call around an empty body.
fn reference<G: EntryGate>(group: &mut BenchmarkGroup<'_, WallTime>) {
    let gate = G::new_static();
    gate.open();
    one_and_two_threads(group, G::NAME, &|| {
        black_box(gate.call(0, || black_box(1)));
    });
}

/// The bare crosscall gate: `enter` + drop of the `Pass`.
fn crosscall_gate(group: &mut BenchmarkGroup<'_, WallTime>, name: &str) {
    CROSSCALL.open();
    one_and_two_threads(group, name, &|| {
        drop(black_box(CROSSCALL.enter()));
    });
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    let fence_fallback = std::env::var_os(crosscall::DISABLE_MEMBARRIER_ENV).is_some();
    {
        let mut group = criterion.benchmark_group("entry");
        if fence_fallback {
            crosscall_gate(&mut group, "crosscall gate, fence fallback");
        } else {
            reference::<NoGate>(&mut group);
            reference::<AtomicGate>(&mut group);
            reference::<MutexGate>(&mut group);
            reference::<CounterGate>(&mut group);
            crosscall_gate(&mut group, "crosscall gate");
            one_and_two_threads(&mut group, "crosscall::entry", &|| {
                black_box(crosscall::entry(&CROSSCALL, 0, || black_box(1)));
            });
            one_and_two_threads(&mut group, "crosscall::entry_or_abort", &|| {
                black_box(crosscall::entry_or_abort(&CROSSCALL, 0, || black_box(1)));
            });
        }
        group.finish();
    }
    criterion.final_summary();
    if !fence_fallback {
        let status = std::env::current_exe().and_then(|exe| {
            Command::new(exe)
                .args(std::env::args_os().skip(1))
                .env(crosscall::DISABLE_MEMBARRIER_ENV, "1")
                .status()
        });
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => eprintln!("the fence-fallback run failed: {status}"),
            Err(err) => eprintln!("cannot start the fence-fallback run: {err}"),
        }
    }
}
