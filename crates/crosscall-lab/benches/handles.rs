//! Handle lookups per call, and object lifetimes (insert + remove), 1 thread and 2 threads
//! side by side: crosscall's `Handles<T>` beside the tables Rust FFI code uses today.
//!
//! Run: `cargo bench -p crosscall-lab --bench handles` (about four minutes); only the
//! lifetimes: `cargo bench -p crosscall-lab --bench handles -- lifetime`.
//!
//! Every measured operation is one call as C would make it: get in, look a handle up, read
//! the object, get out. The tables hold 64 objects; each thread cycles through all 64
//! handles. Variants:
//!
//! - `gate entry` — `Gate::enter` + leave with no lookup: the floor the lookup adds to.
//! - `crosscall Handles` — `Gate::enter`, `Handles::get`, leave.
//! - `RwLock<HashMap<u64, Arc<T>>>` — read lock, find, clone the `Arc`, unlock, read, drop it.
//! - `sharded-slab` — `Slab::get` (its guard counts references in the entry).
//! - `ffi-support ConcurrentHandleMap` — `get` (read lock on the map, then the item's mutex).
//!
//! Lifetimes (group `handle lifetime`): each thread inserts one object and removes it again,
//! in a loop, on one shared table:
//!
//! - `crosscall Handles` — `insert` + `remove` (batched) outside the gate;
//! - `crosscall Handles inside the gate` — `Gate::enter`, `insert`, `remove`, leave;
//! - `crosscall Handles remove_sync` — `insert` + `remove_sync` (a grace period per removal);
//! - `sharded-slab` — `Slab::insert` + `Slab::remove`;
//! - `RwLock<HashMap<u64, Arc<T>>>` — write lock, insert; write lock, remove;
//! - `ffi-support ConcurrentHandleMap` — `insert` + `delete_u64`.
//!
//! "2 threads": both threads run the same number of calls, released together by a barrier
//! and each timed on its own; the figure is the per-call time of the slower thread.
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Barrier, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use crosscall::{Gate, Handle, Handles};

/// The object behind each handle.
struct Object {
    value: u64,
}

const OBJECTS: usize = 64;

static GATE: Gate = Gate::new();
static TABLE: Handles<Object> = Handles::new(&GATE);

/// Runs `iters` calls of `op(i)` on each of `threads` threads released together; returns the
/// slowest thread's time.
fn on_threads(threads: usize, iters: u64, op: &(impl Fn(usize) + Sync)) -> Duration {
    let start = Barrier::new(threads);
    let run = || {
        start.wait();
        let began = Instant::now();
        for i in 0..iters {
            op(i as usize % OBJECTS);
        }
        began.elapsed()
    };
    thread::scope(|s| {
        let others: Vec<_> = (1..threads).map(|_| s.spawn(run)).collect();
        let mine = run();
        others
            .into_iter()
            .map(|t| t.join().unwrap())
            .fold(mine, Duration::max)
    })
}

fn bench(c: &mut Criterion, name: &str, op: &(impl Fn(usize) + Sync)) {
    bench_in(c, "handle lookup", name, op);
}

fn bench_in(c: &mut Criterion, group: &str, name: &str, op: &(impl Fn(usize) + Sync)) {
    let mut group = c.benchmark_group(group);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for (threads, label) in [(1, "1 thread"), (2, "2 threads")] {
        group.bench_function(BenchmarkId::new(name, label), |b| {
            b.iter_custom(|iters| on_threads(threads, iters, op))
        });
    }
    group.finish();
}

fn lookups(c: &mut Criterion) {
    GATE.open();
    eprintln!("crosscall gate uses membarrier: {}", GATE.uses_membarrier());

    bench(c, "gate entry", &|_| {
        drop(black_box(GATE.enter().unwrap()));
    });

    let handles: Vec<Handle> = (0..OBJECTS as u64)
        .map(|value| TABLE.insert(Object { value }).unwrap())
        .collect();
    bench(c, "crosscall Handles", &|i| {
        let pass = GATE.enter().unwrap();
        let object = TABLE.get(&pass, black_box(handles[i])).unwrap();
        black_box(object.value);
    });

    let rwlock: RwLock<HashMap<u64, Arc<Object>>> = RwLock::new(
        (0..OBJECTS as u64)
            .map(|value| (value + 1, Arc::new(Object { value })))
            .collect(),
    );
    bench(c, "RwLock<HashMap<u64, Arc<T>>>", &|i| {
        let object = rwlock
            .read()
            .unwrap()
            .get(&black_box(i as u64 + 1))
            .cloned();
        black_box(object.unwrap().value);
    });

    let slab = sharded_slab::Slab::new();
    let keys: Vec<usize> = (0..OBJECTS as u64)
        .map(|value| slab.insert(Object { value }).unwrap())
        .collect();
    bench(c, "sharded-slab", &|i| {
        let object = slab.get(black_box(keys[i])).unwrap();
        black_box(object.value);
    });

    let map = ffi_support::ConcurrentHandleMap::new();
    let ids: Vec<u64> = (0..OBJECTS as u64)
        .map(|value| map.insert(Object { value }).into_u64())
        .collect();
    bench(c, "ffi-support ConcurrentHandleMap", &|i| {
        let value = map
            .get_u64(black_box(ids[i]), |o: &Object| {
                Ok::<_, ffi_support::HandleError>(o.value)
            })
            .unwrap();
        black_box(value);
    });
}

/// The table of the lifetime benchmarks (objects of their own, so the lookup table above
/// keeps its 64).
static CHURN: Handles<Object> = Handles::new(&GATE);

fn lifetimes(c: &mut Criterion) {
    GATE.open();
    let lifetime = |c: &mut Criterion, name: &str, op: &(dyn Fn(usize) + Sync)| {
        bench_in(c, "handle lifetime", name, &|i| op(i));
    };

    lifetime(c, "crosscall Handles", &|i| {
        let h = CHURN.insert(Object { value: i as u64 }).unwrap();
        CHURN.remove(black_box(h)).unwrap();
    });
    lifetime(c, "crosscall Handles inside the gate", &|i| {
        let _pass = GATE.enter().unwrap();
        let h = CHURN.insert(Object { value: i as u64 }).unwrap();
        CHURN.remove(black_box(h)).unwrap();
    });
    lifetime(c, "crosscall Handles remove_sync", &|i| {
        let h = CHURN.insert(Object { value: i as u64 }).unwrap();
        CHURN.remove_sync(black_box(h)).unwrap();
    });

    let slab = sharded_slab::Slab::new();
    lifetime(c, "sharded-slab", &|i| {
        let key = slab.insert(Object { value: i as u64 }).unwrap();
        assert!(slab.remove(black_box(key)));
    });

    let rwlock: RwLock<HashMap<u64, Arc<Object>>> = RwLock::new(HashMap::new());
    let next_key = std::sync::atomic::AtomicU64::new(1);
    lifetime(c, "RwLock<HashMap<u64, Arc<T>>>", &|i| {
        thread_local! {
            static KEYS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
        }
        // Keys from a per-thread block, as a table's own counter would hand them out.
        let key = KEYS.with(|k| {
            if k.get() % 4096 == 0 {
                k.set(next_key.fetch_add(4096, std::sync::atomic::Ordering::Relaxed));
            }
            k.set(k.get() + 1);
            k.get()
        });
        let object = Arc::new(Object { value: i as u64 });
        rwlock.write().unwrap().insert(key, object);
        black_box(rwlock.write().unwrap().remove(&black_box(key)));
    });

    let map = ffi_support::ConcurrentHandleMap::new();
    lifetime(c, "ffi-support ConcurrentHandleMap", &|i| {
        let h = map.insert(Object { value: i as u64 }).into_u64();
        map.delete_u64(black_box(h)).unwrap();
    });
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    lifetimes(&mut c);
    lookups(&mut c);
    c.final_summary();
}
