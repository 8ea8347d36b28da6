//! One lab run: a gate, a workload, a queue, N workers, T tasks → the time.
use std::fmt;
use std::hint::black_box;
use std::sync::{Mutex, PoisonError};

use crate::gates::{
    ArcSwapGate, AtomicGate, CgoCthreadGate, CounterGate, CrosscallGate, EntryGate, MutexGate,
    NoGate, RwLockGate,
};
use crate::run::c_workload::{self, VALUE_LEN};
use crate::run::driver;
use crate::run::workloads::{self, TaskError};

pub use crate::run::driver::QueueKind;
pub use crate::run::workloads::Workload;

/// Which entry strategy the callbacks go through (see [`crate::gates`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GateKind {
    /// No gate: the floor.
    None,
    /// cgo before Go 1.22: a pthread mutex on every call.
    Mutex,
    /// cgo since Go 1.22, 1.22's C-side fix alone: an atomic init flag (what
    /// a C-thread callback pays from Go 1.27 on).
    Atomic,
    /// Go 1.22–1.26 on a C-created thread: the atomic flag, then a lock and
    /// unlock of the closed `main_init_done` channel's runtime lock
    /// (golang/go#77522). Leaves out the rest of the cgo callback.
    #[value(name = "cgo-cthread")]
    #[serde(rename = "cgo-cthread")]
    CgoCthread,
    /// One shared in-flight counter with drain (`run-down`, `TaskTracker`).
    Counter,
    /// std `RwLock<Option<Arc<T>>>`, read guard per call; shutdown
    /// write-locks (waits for calls in flight) and takes the state.
    Rwlock,
    /// `arc-swap` `ArcSwapOption<T>::load()` per call; shutdown stores
    /// `None` and does not drain (the old state drops with its last reader).
    Arcswap,
    /// crosscall: gate + thread attach + panic barrier.
    Crosscall,
}

impl GateKind {
    /// Every gate, in report order (the floor first, the product last).
    pub const ALL: [GateKind; 8] = [
        GateKind::None,
        GateKind::Mutex,
        GateKind::Atomic,
        GateKind::CgoCthread,
        GateKind::Counter,
        GateKind::Rwlock,
        GateKind::Arcswap,
        GateKind::Crosscall,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            GateKind::None => NoGate::NAME,
            GateKind::Mutex => MutexGate::NAME,
            GateKind::Atomic => AtomicGate::NAME,
            GateKind::CgoCthread => CgoCthreadGate::NAME,
            GateKind::Counter => CounterGate::NAME,
            GateKind::Rwlock => RwLockGate::NAME,
            GateKind::Arcswap => ArcSwapGate::NAME,
            GateKind::Crosscall => CrosscallGate::NAME,
        }
    }
}

impl fmt::Display for GateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One configuration to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunConfig {
    /// Entry strategy.
    pub gate: GateKind,
    /// What each task does.
    pub workload: Workload,
    /// Worker threads (≥ 1).
    pub workers: usize,
    /// Tasks in total (1 ..= `u32::MAX`).
    pub tasks: u64,
    /// How tasks reach the workers.
    pub queue: QueueKind,
}

/// The measurement of one run. Serialized as the `run --format json` object.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunResult {
    /// Gate name (or `queue-only` for [`queue_floor`]).
    pub gate: String,
    /// Workload name.
    pub workload: String,
    /// Queue name.
    pub queue: String,
    /// Worker threads.
    pub workers: usize,
    /// Tasks run.
    pub tasks: u64,
    /// Wall-clock milliseconds from start to the last task's end.
    pub took_ms: f64,
    /// `took_ms * 1e6 / tasks`: wall-clock nanoseconds per task (all
    /// workers together, so it falls as workers are added if they scale).
    pub ns_per_task: f64,
    /// `tasks / seconds`.
    pub tasks_per_sec: f64,
}

impl RunResult {
    fn new(gate: &str, workload: &str, cfg: &RunConfig, took: std::time::Duration) -> RunResult {
        let nanos = took.as_nanos() as f64;
        RunResult {
            gate: gate.to_owned(),
            workload: workload.to_owned(),
            queue: cfg.queue.name().to_owned(),
            workers: cfg.workers,
            tasks: cfg.tasks,
            took_ms: nanos / 1e6,
            ns_per_task: nanos / cfg.tasks as f64,
            tasks_per_sec: cfg.tasks as f64 / (nanos / 1e9),
        }
    }
}

/// Runs serialize: the C side has one callback registry per process, and
/// runs measured side by side must not share the CPUs.
static EXCLUSIVE: Mutex<()> = Mutex::new(());

/// Measures `cfg`: makes a fresh gate, opens it, registers the workload's
/// callbacks, starts the clock, drains the tasks, stops the clock, closes the
/// gate (draining where the gate can).
///
/// # Panics
///
/// If `cfg.workers` is 0, `cfg.tasks` is 0 or above `u32::MAX`, or a call is
/// refused during the run (a lab bug).
///
/// # Examples
///
/// ```
/// use crosscall_lab::run::runner::{run, GateKind, QueueKind, RunConfig, Workload};
///
/// let result = run(&RunConfig {
///     gate: GateKind::Crosscall,
///     workload: Workload::Seed,
///     workers: 2,
///     tasks: 1000,
///     queue: QueueKind::Shared,
/// });
/// assert_eq!((result.gate.as_str(), result.tasks), ("crosscall", 1000));
/// assert!(result.took_ms > 0.0);
/// ```
pub fn run(cfg: &RunConfig) -> RunResult {
    assert!(cfg.tasks > 0, "at least one task is needed");
    let _exclusive = EXCLUSIVE.lock().unwrap_or_else(PoisonError::into_inner);
    match cfg.gate {
        GateKind::None => run_through::<NoGate>(cfg),
        GateKind::Mutex => run_through::<MutexGate>(cfg),
        GateKind::Atomic => run_through::<AtomicGate>(cfg),
        GateKind::CgoCthread => run_through::<CgoCthreadGate>(cfg),
        GateKind::Counter => run_through::<CounterGate>(cfg),
        GateKind::Rwlock => run_through::<RwLockGate>(cfg),
        GateKind::Arcswap => run_through::<ArcSwapGate>(cfg),
        GateKind::Crosscall => run_through::<CrosscallGate>(cfg),
    }
}

fn run_through<G: EntryGate>(cfg: &RunConfig) -> RunResult {
    let gate = G::new_static();
    G::installed().install(gate);
    workloads::register::<G>(cfg.workload);
    gate.open();
    let took = match cfg.workload {
        Workload::Seed => driver::drive(cfg.workers, cfg.tasks, cfg.queue, || {
            let value = workloads::seed_task::<false>().unwrap_or_else(|err| failed(err));
            // Go: `if v := getValue(); len(v) != valueLen { panic(...) }`
            assert_eq!(
                value.len(),
                VALUE_LEN,
                "get_value returned a value of the wrong length"
            );
            black_box(value);
        }),
        Workload::Lean => driver::drive(cfg.workers, cfg.tasks, cfg.queue, || {
            black_box(workloads::lean_task::<false>().unwrap_or_else(|err| failed(err)));
        }),
        Workload::Empty => driver::drive(cfg.workers, cfg.tasks, cfg.queue, || {
            workloads::empty_task().unwrap_or_else(|err| failed(err));
        }),
    };
    gate.close();
    workloads::unregister();
    G::installed().uninstall();
    RunResult::new(G::NAME, cfg.workload.name(), cfg, took)
}

#[cold]
fn failed(err: TaskError) -> ! {
    panic!("a task failed during a timed run: {err}")
}

/// Measures the harness alone: the same queue, workers and clock as `run`,
/// with tasks that do nothing. Its `ns_per_task` is what the queue costs, to
/// subtract from (or compare with) the runs' figures. Reported with gate
/// `queue-only` and workload `nothing`; `cfg.gate` and `cfg.workload` are
/// ignored.
///
/// # Panics
///
/// As [`run`].
pub fn queue_floor(cfg: &RunConfig) -> RunResult {
    assert!(cfg.tasks > 0, "at least one task is needed");
    let _exclusive = EXCLUSIVE.lock().unwrap_or_else(PoisonError::into_inner);
    let took = driver::drive(cfg.workers, cfg.tasks, cfg.queue, || {});
    RunResult::new("queue-only", "nothing", cfg, took)
}

/// Why [`check`] found a workload wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// A call failed.
    Task(TaskError),
    /// The value C returned is not the 32 zero bytes the callback wrote.
    WrongValue(Vec<u8>),
    /// A call went through after the gate was closed.
    NotRefused,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Task(err) => write!(f, "{err}"),
            CheckError::WrongValue(value) => write!(f, "wrong value {value:02x?}"),
            CheckError::NotRefused => f.write_str("a call was admitted after close"),
        }
    }
}

impl std::error::Error for CheckError {}

/// Runs `calls` tasks of `workload` through gate `gate` on the calling
/// thread, with C's stack array and the value buffer pre-filled with non-zero
/// garbage, and checks every value comes back as exactly the 32 zero bytes the
/// callback wrote. Then closes the gate and checks one more call is refused
/// (except through `none`, which has nothing to refuse with).
///
/// # Errors
///
/// The first failed call, the first wrong value, or a call admitted after
/// `close`.
pub fn check(gate: GateKind, workload: Workload, calls: usize) -> Result<(), CheckError> {
    let _exclusive = EXCLUSIVE.lock().unwrap_or_else(PoisonError::into_inner);
    match gate {
        GateKind::None => check_through::<NoGate>(workload, calls),
        GateKind::Mutex => check_through::<MutexGate>(workload, calls),
        GateKind::Atomic => check_through::<AtomicGate>(workload, calls),
        GateKind::CgoCthread => check_through::<CgoCthreadGate>(workload, calls),
        GateKind::Counter => check_through::<CounterGate>(workload, calls),
        GateKind::Rwlock => check_through::<RwLockGate>(workload, calls),
        GateKind::Arcswap => check_through::<ArcSwapGate>(workload, calls),
        GateKind::Crosscall => check_through::<CrosscallGate>(workload, calls),
    }
}

fn check_through<G: EntryGate>(workload: Workload, calls: usize) -> Result<(), CheckError> {
    let gate = G::new_static();
    G::installed().install(gate);
    workloads::register::<G>(workload);
    gate.open();
    let mut outcome = (0..calls).try_for_each(|_| check_one(workload));
    gate.close();
    if outcome.is_ok() && G::NAME != NoGate::NAME {
        outcome = match check_one(workload) {
            Err(CheckError::Task(TaskError::Refused(c_workload::REFUSED))) => Ok(()),
            Err(other) => Err(other),
            Ok(()) => Err(CheckError::NotRefused),
        };
    }
    workloads::unregister();
    G::installed().uninstall();
    outcome
}

fn check_one(workload: Workload) -> Result<(), CheckError> {
    let value = match workload {
        Workload::Seed => workloads::seed_task::<true>().map_err(CheckError::Task)?,
        Workload::Lean => workloads::lean_task::<true>()
            .map_err(CheckError::Task)?
            .to_vec(),
        Workload::Empty => {
            return workloads::empty_task().map_err(CheckError::Task);
        }
    };
    if value == [0u8; VALUE_LEN] {
        Ok(())
    } else {
        Err(CheckError::WrongValue(value))
    }
}
