//! `crosscall-lab`: reproduces the cgo many-core callback workload and compares
//! entry strategies. With no subcommand: the seed reproduction, every gate.
use std::error::Error;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use crosscall_lab::cli_values::{repeat_count, task_count, worker_count, worker_list};
use crosscall_lab::deployed::deployed_cmd;
use crosscall_lab::go::go_cmd;
use crosscall_lab::model::calibrate::Calibration;
use crosscall_lab::model::model_cmd;
use crosscall_lab::report::comparison::{self as report, QueueCost};
use crosscall_lab::report::progress::Progress;
use crosscall_lab::run::runner::{self, GateKind, QueueKind, RunConfig, RunResult, Workload};
use crosscall_lab::run::sweep::{self, SweepConfig};

/// Reproduces, measures and explains many-core C→host callback contention.
///
/// With no subcommand, runs the seed reproduction: every gate on the seed
/// workload, printed like the original Go program, then compared in one table.
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
    /// The seed reproduction (what runs without a subcommand).
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
    #[arg(long, value_parser = worker_count)]
    workers: Option<usize>,
    /// What each task does.
    #[arg(long, value_enum, default_value_t = Workload::Seed)]
    workload: Workload,
    /// How tasks reach the workers [default: shared; partitioned for
    /// `--workload empty`, so its figure is the entry and not the queue].
    #[arg(long, value_enum)]
    queue: Option<QueueKind>,
}

impl Common {
    /// `--queue`, or the workload's default.
    fn queue(&self) -> QueueKind {
        self.queue.unwrap_or_else(|| self.workload.default_queue())
    }
}

#[derive(Args, Debug, Clone)]
struct SeedArgs {
    #[command(flatten)]
    common: Common,
    /// Tasks per run.
    #[arg(long, default_value_t = 10_000_000, value_parser = task_count)]
    tasks: u64,
    /// Runs per gate; gates take turns, and the table shows medians.
    #[arg(long, default_value_t = 1, value_parser = repeat_count)]
    repeat: u64,
    /// Gates to compare, comma-separated [default: all].
    #[arg(long, value_enum, value_delimiter = ',')]
    gates: Vec<GateKind>,
    /// Output format (`json`: one object with every run and the table rows).
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
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Args, Debug)]
struct SweepArgs {
    /// Worker counts: a list and/or ranges, e.g. `1,2,4` or `1..=8` [default: 1..=CPUs].
    #[arg(long, value_parser = |text: &str| worker_list(text).map(WorkerList))]
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

/// The seed reproduction: each gate in turn (`repeat` rounds), printed like
/// the Go original, then the comparison table and the harness floor.
fn seed(args: &SeedArgs) -> Result<(), Box<dyn Error>> {
    let gates = gates_or_all(&args.gates);
    let workers = workers_or_cpus(args.common.workers);
    let repeat = args.repeat as usize;
    let text = args.format == Format::Text;
    let config = |gate| RunConfig {
        gate,
        workload: args.common.workload,
        workers,
        tasks: args.tasks,
        queue: args.common.queue(),
    };
    if text {
        println!(
            "seed reproduction: workload {}, {} queue, {} tasks per run, {} gate(s) × {} round(s), gates take turns",
            args.common.workload,
            args.common.queue(),
            args.tasks,
            gates.len(),
            repeat
        );
    }
    // Per round: every gate, the harness floor, and (for a shared queue)
    // `none` on a partitioned queue, so the queue's cost is told apart.
    let queue_is_shared = args.common.queue() != QueueKind::Partitioned;
    let per_round = gates.len() + 1 + usize::from(queue_is_shared);
    // One more step at the end: the machine's own scaling ceiling.
    let progress = Progress::new(repeat * per_round + 1, args.quiet);
    let mut runs: Vec<RunResult> = Vec::new();
    let mut floors: Vec<RunResult> = Vec::new();
    let mut nones_partitioned: Vec<RunResult> = Vec::new();
    for round in 1..=repeat {
        for &gate in &gates {
            progress.start(&format!("{gate} (round {round}/{repeat})"));
            let result = runner::run(&config(gate));
            if text {
                progress.println(&format!(
                    "gate {gate}\nnumWorkers = {}\ntook {:.0}ms",
                    result.workers, result.took_ms
                ));
            }
            progress.finish_one();
            runs.push(result);
        }
        progress.start(&format!("harness floor (round {round}/{repeat})"));
        floors.push(runner::queue_floor(&config(GateKind::None)));
        progress.finish_one();
        if queue_is_shared {
            progress.start(&format!("none, partitioned (round {round}/{repeat})"));
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
    let queue = median_run(&floors).map(|drained_empty| QueueCost {
        description: args.common.queue().description().to_owned(),
        drained_empty,
        none_partitioned: median_run(&nones_partitioned),
    });
    if text {
        println!();
        print!("{}", report::render(&rows, queue.as_ref(), Some(&ceiling)));
    } else {
        let summary = serde_json::json!({
            "workload": args.common.workload,
            "queue": args.common.queue(),
            "workers": workers,
            "tasks": args.tasks,
            "repeat": repeat,
            "rows": rows,
            "queue_cost": queue,
            "calibration": ceiling,
            "runs": runs,
        });
        println!("{summary}");
    }
    Ok(())
}

/// The run with the median time (the upper median for an even count).
fn median_run(runs: &[RunResult]) -> Option<RunResult> {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| a.took_ms.total_cmp(&b.took_ms));
    sorted.get(sorted.len() / 2).cloned()
}

fn run(args: &RunArgs) -> Result<(), Box<dyn Error>> {
    let result = runner::run(&RunConfig {
        gate: args.gate,
        workload: args.common.workload,
        workers: workers_or_cpus(args.common.workers),
        tasks: args.tasks,
        queue: args.common.queue(),
    });
    match args.format {
        Format::Json => println!("{}", serde_json::to_string(&result)?),
        Format::Text => {
            println!("numWorkers = {}", result.workers);
            println!("took {:.0}ms", result.took_ms);
            println!(
                "gate {}, workload {}, {} queue: {:.1} ns/task, {:.2} Mtasks/s",
                result.gate,
                result.workload,
                result.queue,
                result.ns_per_task,
                result.tasks_per_sec / 1e6
            );
        }
    }
    Ok(())
}

fn sweep(args: &SweepArgs) -> Result<(), Box<dyn Error>> {
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
