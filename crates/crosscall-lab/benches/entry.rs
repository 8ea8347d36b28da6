//! Entry cost per gate: nanoseconds for one enter + leave around an empty
//! body, with 1 thread and with 2 threads entering side by side.
//!
//! Run: `cargo bench -p crosscall-lab --bench entry` (well under two minutes).
//! The crosscall gate is measured twice in this one process: a `Gate::new()`
//! (membarrier on the closing side where the kernel has it) and a
//! `Gate::new_fence_fallback()` (`fence(SeqCst)` on every entry). Which fence
//! each uses is printed to stderr before measuring.
//!
//! "2 threads": both threads run the same number of calls, released together
//! by a barrier and each timed on its own; the figure is the per-call time of
//! the *slower* thread, i.e. what a 2-worker run waits for (on an unequal or
//! contended pair of vCPUs, the mean would hide the slow one).
use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion};
use crosscall::{Gate, StateGate};
use crosscall_lab::gates::{
    ArcSwapGate, AtomicGate, CgoCthreadGate, CounterGate, EntryGate, MutexGate, NoGate, RwLockGate,
};

/// The product gate, with the fastest fence available.
static CROSSCALL: Gate = Gate::new();
/// The same gate forced onto the `fence(SeqCst)` fallback.
static CROSSCALL_FENCE: Gate = Gate::new_fence_fallback();
/// The state-carrying gate (fastest fence), holding a `u64` the body reads.
static CROSSCALL_STATE: StateGate<u64> = StateGate::new();

/// Measures `op` alone, then on two threads at once (see the module docs).
/// Both go through the same timing loop ([`on_threads`]), so the two figures
/// differ only in the second thread.
fn one_and_two_threads(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    op: &(impl Fn() + Sync),
) {
    for (threads, label) in [(1, "1 thread"), (2, "2 threads")] {
        group.bench_function(BenchmarkId::new(name, label), |b| {
            b.iter_custom(|iters| on_threads(threads, iters, op))
        });
    }
}

/// Runs `iters` calls of `op` on each of `threads` threads (this one and
/// `threads - 1` spawned) released together; returns the slowest thread's time.
fn on_threads(threads: usize, iters: u64, op: &(impl Fn() + Sync)) -> Duration {
    let start = Barrier::new(threads);
    let run = || {
        start.wait();
        let began = Instant::now();
        for _ in 0..iters {
            op();
        }
        began.elapsed()
    };
    thread::scope(|s| {
        let others: Vec<_> = (1..threads).map(|_| s.spawn(run)).collect();
        let mine = run();
        others
            .into_iter()
            .map(|other| other.join().expect("a bench thread panicked"))
            .fold(mine, Duration::max)
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

/// The bare crosscall gate: `enter`, the same empty body as the reference gates' `call`,
/// then the `Pass` drops (leaves).
fn crosscall_gate(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, gate: &'static Gate) {
    gate.open();
    one_and_two_threads(group, name, &|| {
        black_box(match gate.enter() {
            Ok(_pass) => black_box(1),
            Err(_) => 0,
        });
    });
}

/// Says (and checks) which fence each crosscall gate uses, before measuring.
fn report_fences() {
    let fence = |gate: &Gate| {
        if gate.uses_membarrier() {
            "compiler fence + membarrier(2) on close"
        } else {
            "fence(SeqCst) on every entry"
        }
    };
    eprintln!("crosscall gate: {}", fence(&CROSSCALL));
    if !CROSSCALL.uses_membarrier() {
        eprintln!(
            "  (membarrier unavailable here, or {} is set: both crosscall rows measure the fallback)",
            crosscall::DISABLE_MEMBARRIER_ENV
        );
    }
    eprintln!(
        "crosscall gate, fence fallback: {}",
        fence(&CROSSCALL_FENCE)
    );
    assert!(
        !CROSSCALL_FENCE.uses_membarrier(),
        "Gate::new_fence_fallback() must never use membarrier"
    );
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(50)
        .configure_from_args();
    report_fences();
    let mut group = criterion.benchmark_group("entry");
    reference::<NoGate>(&mut group);
    reference::<AtomicGate>(&mut group);
    reference::<MutexGate>(&mut group);
    reference::<CounterGate>(&mut group);
    reference::<CgoCthreadGate>(&mut group);
    reference::<RwLockGate>(&mut group);
    reference::<ArcSwapGate>(&mut group);
    crosscall_gate(&mut group, "crosscall gate", &CROSSCALL);
    crosscall_gate(
        &mut group,
        "crosscall gate, fence fallback",
        &CROSSCALL_FENCE,
    );
    one_and_two_threads(&mut group, "crosscall::entry", &|| {
        black_box(crosscall::entry(&CROSSCALL, 0, || black_box(1)));
    });
    one_and_two_threads(&mut group, "crosscall::entry_or_abort", &|| {
        black_box(crosscall::entry_or_abort(&CROSSCALL, 0, || black_box(1)));
    });
    CROSSCALL_STATE
        .open(1)
        .expect("the state gate opens once, here");
    one_and_two_threads(&mut group, "crosscall state gate", &|| {
        black_box(match CROSSCALL_STATE.enter() {
            Ok(state) => black_box(*state),
            Err(_) => 0,
        });
    });
    one_and_two_threads(&mut group, "crosscall::entry_state", &|| {
        black_box(crosscall::entry_state(&CROSSCALL_STATE, 0, |state| {
            black_box(*state)
        }));
    });
    group.finish();
    criterion.final_summary();
}
