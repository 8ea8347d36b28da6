//! Runs N tasks on W worker threads and times them: the queue, the workers
//! and the clock, with no knowledge of what a task does.
use std::collections::VecDeque;
use std::fmt;
use std::hint::black_box;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// How tasks reach the workers.
///
/// Every shared kind is filled with all task ids before the clock starts and
/// drained by all workers; they differ in what taking one task costs. The
/// harness floor (`runner::queue_floor`) measures each with no work attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueKind {
    /// The default: a pre-filled array of task ids drained through one shared
    /// atomic cursor (one `fetch_add` per task). A shared, pre-filled queue
    /// that every worker drains, as in the original repro, at the least cost
    /// a shared queue can have, so the entry cost stays measurable.
    Shared,
    /// One bounded `crossbeam-channel` holding every task: the closest Rust
    /// analogue of the original repro's buffered Go channel. Its `recv`
    /// contends on the channel's head, and at 2 workers it can take more time
    /// than the seed's work, hiding the entry cost.
    Channel,
    /// A `Mutex<VecDeque>`: lock, take one, unlock — the steps of Go's
    /// `chanrecv` on a buffered channel, one for one.
    Locked,
    /// Each worker owns a contiguous range of tasks; nothing is shared.
    Partitioned,
}

impl QueueKind {
    /// Every queue kind, the default first.
    pub const ALL: [QueueKind; 4] = [
        QueueKind::Shared,
        QueueKind::Channel,
        QueueKind::Locked,
        QueueKind::Partitioned,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            QueueKind::Shared => "shared",
            QueueKind::Channel => "channel",
            QueueKind::Locked => "locked",
            QueueKind::Partitioned => "partitioned",
        }
    }

    /// What taking a task from this queue does, in one plain sentence (for
    /// report footers).
    pub fn description(self) -> &'static str {
        match self {
            QueueKind::Shared => {
                "a pre-filled array of task ids that all workers drain through one shared \
                 atomic cursor (one fetch_add per task)"
            }
            QueueKind::Channel => {
                "a pre-filled bounded crossbeam channel that all workers receive from \
                 (the closest analogue of Go's buffered channel)"
            }
            QueueKind::Locked => {
                "a pre-filled VecDeque behind a mutex: lock, take one, unlock \
                 (Go's chanrecv, step for step)"
            }
            QueueKind::Partitioned => {
                "each worker runs its own contiguous range of task ids; nothing is shared"
            }
        }
    }
}

impl fmt::Display for QueueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs `task` `tasks` times on `workers` threads fed through `queue`; returns
/// the wall-clock time from the moment all workers are ready until the last
/// one is done. Filling the queue and spawning threads are not timed.
///
/// # Panics
///
/// If `workers` is 0 or `tasks` exceeds `u32::MAX` (task ids are `u32`, like
/// the reference's `chan int32`), or if a task panics.
pub(crate) fn drive(
    workers: usize,
    tasks: u64,
    queue: QueueKind,
    task: impl Fn() + Sync,
) -> Duration {
    assert!(workers > 0, "at least one worker is needed");
    let tasks = u32::try_from(tasks).expect("the task count must fit in a u32");
    match queue {
        QueueKind::Shared => drive_shared(workers, tasks, &task),
        QueueKind::Channel => drive_channel(workers, tasks, &task),
        QueueKind::Locked => drive_locked(workers, tasks, &task),
        QueueKind::Partitioned => drive_partitioned(workers, tasks, &task),
    }
}

/// The shared queue: every worker claims the next index with one
/// `fetch_add` on a shared cursor and reads the task from a pre-filled array.
/// Still one shared cache line written per task, but the least a shared queue
/// can cost (~19 ns/task at 2 workers on the project's 2-core machines).
fn drive_shared(workers: usize, tasks: u32, task: &(impl Fn() + Sync)) -> Duration {
    let queue: Vec<u32> = (0..tasks).collect();
    let cursor = AtomicUsize::new(0);
    timed(workers, |_worker| {
        // Relaxed: the cursor only hands out distinct indices; the array was
        // written before the workers started (ordered by the start barrier).
        while let Some(id) = queue.get(cursor.fetch_add(1, Ordering::Relaxed)) {
            black_box(id);
            task();
        }
    })
}

/// The channel queue: a bounded `crossbeam-channel` holding every task id.
///
/// A Go buffered channel is a bounded multi-producer multi-consumer FIFO that
/// receivers drain until it is closed; `crossbeam_channel::bounded` is the
/// Rust channel with exactly that contract (and the one `std::sync::mpsc` is
/// built from), so it is what a Rust port of the repro would use. It is not
/// the same machine: Go's `chanrecv` takes the channel's lock for every
/// receive (see [`QueueKind::Locked`]), crossbeam's array flavor claims a slot
/// with a compare-and-swap on the shared head and writes the slot's stamp.
/// Either way every task writes shared cache lines, so the queue itself
/// contends: on 2 cores its `recv` took ~60% of the seed's time at 2 workers,
/// hiding the entry cost; that is why it is not the default.
fn drive_channel(workers: usize, tasks: u32, task: &(impl Fn() + Sync)) -> Duration {
    let (sender, receiver) = crossbeam_channel::bounded::<u32>(tasks.max(1) as usize);
    for id in 0..tasks {
        sender
            .send(id)
            .expect("the receiver is alive and the channel has room");
    }
    // `close(queue)`: workers stop when it is empty.
    drop(sender);
    timed(workers, |_worker| {
        for _id in receiver.iter() {
            task();
        }
    })
}

/// Go's `chanrecv` step for step: lock the queue, take the next task, unlock.
fn drive_locked(workers: usize, tasks: u32, task: &(impl Fn() + Sync)) -> Duration {
    let queue = Mutex::new((0..tasks).collect::<VecDeque<u32>>());
    timed(workers, |_worker| loop {
        let next = queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        match next {
            Some(_id) => task(),
            None => break,
        }
    })
}

/// Worker `w` runs ids `ranges[w]`; the ranges split `0..tasks` evenly.
fn drive_partitioned(workers: usize, tasks: u32, task: &(impl Fn() + Sync)) -> Duration {
    timed(workers, |worker| {
        for _id in partition(tasks, workers, worker) {
            task();
        }
    })
}

/// The `worker`-th of `workers` near-equal contiguous slices of `0..tasks`.
fn partition(tasks: u32, workers: usize, worker: usize) -> Range<u32> {
    let (tasks, workers, worker) = (u64::from(tasks), workers as u64, worker as u64);
    let start = tasks * worker / workers;
    let end = tasks * (worker + 1) / workers;
    // Both bounds are at most `tasks`, which came from a u32.
    start as u32..end as u32
}

/// Spawns `workers` threads running `work(index)`; the clock starts once all
/// are ready to go and stops when all have finished.
fn timed(workers: usize, work: impl Fn(usize) + Sync) -> Duration {
    let ready = Barrier::new(workers + 1);
    let go = Barrier::new(workers + 1);
    let mut start = None;
    thread::scope(|scope| {
        for worker in 0..workers {
            let (ready, go, work) = (&ready, &go, &work);
            thread::Builder::new()
                .name(format!("lab-worker-{worker}"))
                .spawn_scoped(scope, move || {
                    ready.wait();
                    go.wait();
                    work(worker);
                })
                .expect("spawning a worker thread");
        }
        ready.wait();
        start = Some(Instant::now());
        go.wait();
        // Leaving the scope joins every worker (and re-raises their panics).
    });
    start.expect("the clock was started").elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn partitions_cover_every_task_once() {
        for (tasks, workers) in [(10, 3), (0, 2), (7, 7), (5, 8), (1_000_003, 4)] {
            let mut next = 0;
            for worker in 0..workers {
                let range = partition(tasks, workers, worker);
                assert_eq!(range.start, next, "tasks={tasks} workers={workers}");
                next = range.end;
            }
            assert_eq!(next, tasks);
        }
    }

    #[test]
    fn every_queue_runs_every_task_exactly_once() {
        for queue in QueueKind::ALL {
            for workers in [1, 3] {
                let done = AtomicU64::new(0);
                drive(workers, 1000, queue, || {
                    done.fetch_add(1, Ordering::Relaxed);
                });
                assert_eq!(done.load(Ordering::Relaxed), 1000, "{queue} x{workers}");
            }
        }
    }

    #[test]
    fn tasks_run_on_the_worker_threads() {
        let main = thread::current().id();
        drive(2, 50, QueueKind::Shared, || {
            assert_ne!(thread::current().id(), main)
        });
    }
}
