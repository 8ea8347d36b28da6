//! `crosscall-lab`: reproduces the cgo many-core callback workload and compares
//! entry strategies. With no subcommand: every gate on the seed workload, then on lean.
use std::error::Error;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use crosscall_lab::cli_values::{
    repeat_count, task_count, tasks_cover_workers, worker_count, worker_list,
};
use crosscall_lab::deployed::deployed_cmd;
use crosscall_lab::go::go_cmd;
use crosscall_lab::model::calibrate::Calibration;
use crosscall_lab::model::model_cmd;
use crosscall_lab::report::comparison::{self as report, QueueCost};
use crosscall_lab::report::progress::Progress;
use crosscall_lab::report::stats::Spread;
use crosscall_lab::run::runner::{self, GateKind, QueueKind, RunConfig, RunResult, Workload};
use crosscall_lab::run::sweep::{self, SweepConfig};

/// Reproduces, measures and explains many-core C→host callback contention.
///
/// With no subcommand: every gate on the seed workload (the cgo original,
/// malloc-bound), then on the lean one (no allocations: where the contention
/// collapse shows), 3 rounds each, each compared in one table (~30 s on 2 CPUs).
#[derive(Parser, Debug)]
#[command(
    name = "crosscall-lab",
    version,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    seed: SeedArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// What runs without a subcommand: seed then lean, every gate (`--workload` for one).
    Seed(SeedArgs),
    /// One configuration; prints the time (`--format json`: one JSON object).
    Run(RunArgs),
    /// Every gate at several worker counts, repeated; writes JSON, CSV and a plot.
    Sweep(SweepArgs),
    /// Fits the scalability model to a sweep and projects it to more cores.
    Model(model_cmd::ModelArgs),
    /// Builds and runs the Go reference with every Go toolchain found.
    Go(go_cmd::GoArgs),
    /// Entry cost where crosscall is deployed: a dlopen()ed cdylib and the C API's .so,
    /// called from C threads, next to the static figures.
    Deployed(deployed_cmd::DeployedArgs),
}

/// Options shared by every measuring command.
#[derive(Args, Debug, Clone)]
struct Common {
    /// Worker threads [default: the number of CPUs].
    #[arg(long, value_parser = worker_count, allow_negative_numbers = true)]
    workers: Option<usize>,
    /// What each task does [default: seed; with no subcommand: seed, then lean].
    #[arg(long, value_enum)]
    workload: Option<Workload>,
    /// How tasks reach the workers [default: shared; partitioned for
    /// `--workload empty`, so its figure is the entry and not the queue].
    #[arg(long, value_enum)]
    queue: Option<QueueKind>,
}

impl Common {
    /// `--workload`, or seed.
    fn workload(&self) -> Workload {
        self.workload.unwrap_or(Workload::Seed)
    }

    /// `--queue`, or `workload`'s default.
    fn queue_for(&self, workload: Workload) -> QueueKind {
        self.queue.unwrap_or_else(|| workload.default_queue())
    }
}

#[derive(Args, Debug, Clone)]
struct SeedArgs {
    #[command(flatten)]
    common: Common,
    /// Tasks per run [default: 3000000 for seed, 10000000 for lean and empty:
    /// ~0.3 s per run on 2 CPUs].
    #[arg(long, value_parser = task_count)]
    tasks: Option<u64>,
    /// Rounds; gates take turns in each, and the tables show the median and
    /// the range (one round: single runs on a busy machine can flip a ranking).
    #[arg(long, default_value_t = 3, value_parser = repeat_count)]
    repeat: u64,
    /// Gates to compare, comma-separated [default: all].
    #[arg(long, value_enum, value_delimiter = ',')]
    gates: Vec<GateKind>,
    /// Output format (`json`: one object per workload, one per line, with every run and
    /// the table rows).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// No progress bar on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Entry strategy.
    #[arg(long, value_enum, default_value_t = GateKind::Crosscall)]
    gate: GateKind,
    #[command(flatten)]
    common: Common,
    /// Tasks.
    #[arg(long, default_value_t = 10_000_000, value_parser = task_count)]
    tasks: u64,
    /// Runs; the figure is their median, and the text says how far they spread.
    #[arg(long, default_value_t = 1, value_parser = repeat_count)]
    repeat: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Args, Debug)]
struct SweepArgs {
    /// Worker counts: a list and/or ranges, e.g. `1,2,4` or `1..=8` [default: 1..=CPUs].
    #[arg(long, allow_negative_numbers = true, value_parser = |text: &str| worker_list(text).map(WorkerList))]
    workers: Option<WorkerList>,
    /// Gates, comma-separated [default: all].
    #[arg(long, value_enum, value_delimiter = ',')]
    gates: Vec<GateKind>,
    /// Runs per (gate, workers) pair.
    #[arg(long, default_value_t = 3, value_parser = repeat_count)]
    repeat: u64,
    /// What each task does.
    #[arg(long, value_enum, default_value_t = Workload::Seed)]
    workload: Workload,
    /// How tasks reach the workers [default: shared; partitioned for
    /// `--workload empty`].
    #[arg(long, value_enum)]
    queue: Option<QueueKind>,
    /// Tasks per run.
    #[arg(long, default_value_t = 1_000_000, value_parser = task_count)]
    tasks: u64,
    /// Directory for sweep.json, sweep.csv and sweep.svg.
    #[arg(long, default_value = "lab-out/sweep")]
    out: PathBuf,
    /// Measure nothing: read OUT/sweep.json and write its CSV, plot and report again
    /// (after a change to the lab's plots or model).
    #[arg(long)]
    replot: bool,
    /// No progress bar on stderr.
    #[arg(long, short)]
    quiet: bool,
}

/// Parsed `--workers` list of `sweep`.
#[derive(Clone, Debug)]
struct WorkerList(Vec<usize>);

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

fn workers_or_cpus(workers: Option<usize>) -> usize {
    workers.unwrap_or_else(cpus)
}

fn gates_or_all(gates: &[GateKind]) -> Vec<GateKind> {
    if gates.is_empty() {
        GateKind::ALL.to_vec()
    } else {
        gates.to_vec()
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        None => seed(&cli.seed),
        Some(Command::Seed(args)) => seed(&args),
        Some(Command::Run(args)) => run(&args),
        Some(Command::Sweep(args)) => sweep(&args),
        Some(Command::Model(args)) => model_cmd::run(&args),
        Some(Command::Go(args)) => go_cmd::run(&args),
        Some(Command::Deployed(args)) => deployed_cmd::run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("crosscall-lab: error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Tasks per run when `--tasks` is not given: ~0.3 s per run on 2 CPUs.
fn default_tasks(workload: Workload) -> u64 {
    match workload {
        Workload::Seed => 3_000_000,
        Workload::Lean | Workload::Empty => 10_000_000,
    }
}

/// What a newcomer reads before the first figure: what the default run
/// measures, what to expect, and where the contention collapse shows.
fn tour_intro(workers: usize, repeat: usize, gates: usize) -> String {
    format!(
        "crosscall-lab: {gates} entry strategies (\"gates\") on the same work, side by side, \
         {workers} worker(s), {repeat} round(s), gates taking turns.\n\
         \n\
         part 1, seed: the cgo original (golang/go#60961) task for task, five allocations each.\n\
         \x20 malloc/free dominate it, so expect the gates within about 1.3× of each other, in an\n\
         \x20 order that can change between runs: the entry is a small share of a seed task.\n\
         part 2, lean: the same data flow with no allocations, so the entry is most of the task.\n\
         \x20 Expect the contention collapse here: mutex (cgo before Go 1.22), counter, rwlock,\n\
         \x20 arcswap and cgo-cthread several times crosscall's time, crosscall with none.\n\
         \n\
         Each part ends in a table (median and range of the rounds) and one line per gate:\n\
         its time / crosscall's. On a busy machine two workers share less than two cores and\n\
         the gaps shrink (the last line of each part prints the machine's own ceiling).\n\
         One workload only: --workload seed|lean|empty. More workers than CPUs, projected:\n\
         `sweep` then `model` (README, \"The lab\").\n"
    )
}

/// The default run (and `seed`): without `--workload`, the seed reproduction
/// then the lean workload; with it, that workload alone.
fn seed(args: &SeedArgs) -> Result<(), Box<dyn Error>> {
    let workloads = match args.common.workload {
        Some(workload) => vec![workload],
        None => vec![Workload::Seed, Workload::Lean],
    };
    let gates = gates_or_all(&args.gates);
    let workers = workers_or_cpus(args.common.workers);
    for &workload in &workloads {
        tasks_cover_workers(
            args.tasks.unwrap_or_else(|| default_tasks(workload)),
            workers,
        )?;
    }
    let repeat = args.repeat as usize;
    let text = args.format == Format::Text;
    if text && args.common.workload.is_none() {
        println!("{}", tour_intro(workers, repeat, gates.len()));
    }
    for (part, &workload) in workloads.iter().enumerate() {
        let tasks = args.tasks.unwrap_or_else(|| default_tasks(workload));
        let queue = args.common.queue_for(workload);
        if text {
            if workloads.len() > 1 {
                println!("=== part {} of {}: {workload}", part + 1, workloads.len());
            }
            println!(
                "workload {workload}, {queue} queue, {tasks} tasks per run, {} gate(s) × {repeat} round(s), gates take turns",
                gates.len(),
            );
        }
        let summary = measure_workload(args, &gates, workload, queue, workers, tasks)?;
        if text {
            println!();
            print!("{}", summary.text);
            if part + 1 < workloads.len() {
                println!();
            }
        } else {
            println!("{}", summary.json);
        }
    }
    Ok(())
}

/// One workload's part of [`seed`], rendered as text and as JSON.
struct WorkloadSummary {
    text: String,
    json: serde_json::Value,
}

/// Every gate on `workload` (`repeat` rounds, gates taking turns), the
/// harness floor, and the machine's own scaling ceiling.
fn measure_workload(
    args: &SeedArgs,
    gates: &[GateKind],
    workload: Workload,
    queue: QueueKind,
    workers: usize,
    tasks: u64,
) -> Result<WorkloadSummary, Box<dyn Error>> {
    let repeat = args.repeat as usize;
    let text = args.format == Format::Text;
    let config = |gate| RunConfig {
        gate,
        workload,
        workers,
        tasks,
        queue,
    };
    // Per round: every gate, the harness floor, and (for a shared queue)
    // `none` on a partitioned queue, so the queue's cost is told apart.
    let queue_is_shared = queue != QueueKind::Partitioned;
    let per_round = gates.len() + 1 + usize::from(queue_is_shared);
    // One more step at the end: the machine's own scaling ceiling.
    let progress = Progress::new(repeat * per_round + 1, args.quiet);
    let mut runs: Vec<RunResult> = Vec::new();
    let mut floors: Vec<RunResult> = Vec::new();
    let mut nones_partitioned: Vec<RunResult> = Vec::new();
    for round in 1..=repeat {
        for &gate in gates {
            progress.start(&format!("{workload}: {gate} (round {round}/{repeat})"));
            let result = runner::run(&config(gate));
            // The seed's runs are printed as the Go original prints them.
            if text && workload == Workload::Seed {
                progress.println(&format!(
                    "gate {:<12} numWorkers = {}  took {:.0}ms",
                    gate.to_string(),
                    result.workers,
                    result.took_ms
                ));
            }
            progress.finish_one();
            runs.push(result);
        }
        progress.start(&format!(
            "{workload}: harness floor (round {round}/{repeat})"
        ));
        floors.push(runner::queue_floor(&config(GateKind::None)));
        progress.finish_one();
        if queue_is_shared {
            progress.start(&format!(
                "{workload}: none, partitioned (round {round}/{repeat})"
            ));
            nones_partitioned.push(runner::run(&RunConfig {
                queue: QueueKind::Partitioned,
                ..config(GateKind::None)
            }));
            progress.finish_one();
        }
    }
    let rows = report::comparison(&runs);
    progress.start("machine calibration");
    let ceiling = Calibration::quick(workers);
    progress.finish_one();
    progress.finish();
    let queue_cost = median_run(&floors).map(|drained_empty| QueueCost {
        description: queue.description().to_owned(),
        drained_empty,
        none_partitioned: median_run(&nones_partitioned),
    });
    let json = serde_json::json!({
        "workload": workload,
        "queue": queue,
        "workers": workers,
        "tasks": tasks,
        "repeat": repeat,
        "rows": rows,
        "queue_cost": queue_cost,
        "calibration": ceiling,
        "runs": runs,
    });
    Ok(WorkloadSummary {
        text: report::render(&rows, queue_cost.as_ref(), Some(&ceiling)),
        json,
    })
}

/// The run with the median time (the upper median for an even count).
fn median_run(runs: &[RunResult]) -> Option<RunResult> {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| a.took_ms.total_cmp(&b.took_ms));
    sorted.get(sorted.len() / 2).cloned()
}

fn run(args: &RunArgs) -> Result<(), Box<dyn Error>> {
    let workers = workers_or_cpus(args.common.workers);
    tasks_cover_workers(args.tasks, workers)?;
    let config = RunConfig {
        gate: args.gate,
        workload: args.common.workload(),
        workers,
        tasks: args.tasks,
        queue: args.common.queue_for(args.common.workload()),
    };
    let runs: Vec<RunResult> = (0..args.repeat).map(|_| runner::run(&config)).collect();
    let ns: Vec<f64> = runs.iter().map(|r| r.ns_per_task).collect();
    let spread = Spread::of(&ns).ok_or("no run produced a time")?;
    let median = median_run(&runs).ok_or("no run produced a time")?;
    match args.format {
        // One run: the run itself, as before `--repeat`; several: the median
        // run's fields, the spread of ns/task, and every run.
        Format::Json if runs.len() == 1 => println!("{}", serde_json::to_string(&median)?),
        Format::Json => {
            let mut summary = serde_json::to_value(&median)?;
            summary["repeat"] = runs.len().into();
            summary["ns_per_task_spread"] = serde_json::to_value(spread)?;
            summary["runs"] = serde_json::to_value(&runs)?;
            println!("{summary}");
        }
        Format::Text => {
            println!("numWorkers = {}", median.workers);
            for (i, result) in runs.iter().enumerate() {
                if runs.len() == 1 {
                    println!("took {:.0}ms", result.took_ms);
                } else {
                    println!(
                        "took {:.0}ms (run {}/{})",
                        result.took_ms,
                        i + 1,
                        runs.len()
                    );
                }
            }
            println!(
                "gate {}, workload {}, {} queue: {:.1} ns/task, {:.2} Mtasks/s",
                median.gate,
                median.workload,
                median.queue,
                median.ns_per_task,
                median.tasks_per_sec / 1e6
            );
            if runs.len() > 1 {
                println!(
                    "median of {} runs; ns/task ranged {:.1}–{:.1} ({:.0}% of the median): \
                     compare gates side by side in one `seed --gates a,b` run, not across runs",
                    runs.len(),
                    spread.min,
                    spread.max,
                    spread.relative_range() * 100.0
                );
            } else {
                println!(
                    "one run: single runs on a shared machine can flip a ranking; \
                     add --repeat 5 for the median and the spread"
                );
            }
        }
    }
    Ok(())
}

fn sweep(args: &SweepArgs) -> Result<(), Box<dyn Error>> {
    if args.replot {
        let path = args.out.join("sweep.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|err| format!("--replot: cannot read {}: {err}", path.display()))?;
        let file: sweep::SweepFile = serde_json::from_str(&text)
            .map_err(|err| format!("--replot: {} is not a sweep file: {err}", path.display()))?;
        let outputs = sweep::write_outputs(&args.out, &file)?;
        print!("{}", sweep::render(&file));
        println!(
            "wrote {}, {}, {}",
            outputs.json.display(),
            outputs.csv.display(),
            outputs.svg.display()
        );
        return Ok(());
    }
    let cfg = SweepConfig {
        gates: gates_or_all(&args.gates),
        workers: args
            .workers
            .clone()
            .map_or_else(|| (1..=cpus()).collect(), |list| list.0),
        repeat: args.repeat as usize,
        workload: args.workload,
        queue: args.queue.unwrap_or_else(|| args.workload.default_queue()),
        tasks: args.tasks,
    };
    // Before minutes of measuring, not after.
    tasks_cover_workers(cfg.tasks, cfg.workers.iter().copied().max().unwrap_or(1))?;
    sweep::check_out_dir(&args.out)?;
    let schedule = cfg.schedule();
    let progress = Progress::new(schedule.len(), args.quiet);
    if let Some(first) = schedule.first() {
        progress.start(&format!("{} ×{}", first.gate, first.workers));
    }
    let mut done = 0;
    let file = sweep::sweep(&cfg, |_result| {
        done += 1;
        progress.finish_one();
        match schedule.get(done) {
            Some(next) => progress.start(&format!("{} ×{}", next.gate, next.workers)),
            None => progress.start("machine calibration"),
        }
    });
    progress.finish();
    let outputs = sweep::write_outputs(&args.out, &file)?;
    print!("{}", sweep::render(&file));
    println!(
        "wrote {}, {}, {}",
        outputs.json.display(),
        outputs.csv.display(),
        outputs.svg.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
