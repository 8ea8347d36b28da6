//! `crosscall-lab go`: the Go reference program ([`crate::go::goref`]) built with
//! every Go toolchain found, run next to the Rust gates on the same workload
//! (seed), interleaved, in one table with the speed-up of crosscall over each.
//! Both drain a shared queue filled before the clock starts: Go a buffered
//! channel, the Rust rows the lab's default [`QueueKind::Shared`] (a
//! pre-filled array and one shared atomic cursor).
//!
//! ```text
//! crosscall-lab go --workers 1,2 --tasks 2000000 --repeat 3
//! crosscall-lab go --go /usr/lib/go-1.19 --go .go/go1.22.10/bin/go --no-discover
//! ```
//!
//! A second table puts each toolchain's C-host shape — C-created pthreads calling an
//! `//export`ed Go function in a `-buildmode=c-shared` library ([`crate::go::go_cshared`]) —
//! beside crosscall's `#[export]` cdylib and C API, all driven by the same C host with the
//! same call count (see [`crate::deployed::deployed_cmd`]).

use std::error::Error;
use std::path::PathBuf;

use crate::deployed::deployed_cmd;
use crate::go::goref::{self, GoProgram};
use crate::report::stats::Spread;
use crate::run::runner::{self, GateKind, QueueKind, RunConfig, Workload};

/// Output format of `go`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum GoFormat {
    /// A table for people.
    #[default]
    Text,
    /// One JSON object.
    Json,
}

/// Arguments of `crosscall-lab go`.
#[derive(Clone, Debug, clap::Args)]
pub struct GoArgs {
    /// A Go toolchain to compare: a `go` binary or a GOROOT (repeatable). Added
    /// to the ones found in .go/ (scripts/install-go.sh), /usr/lib/go-*/ and PATH.
    #[arg(long = "go", value_name = "PATH")]
    pub go: Vec<PathBuf>,
    /// Use only the toolchains given with --go; do not look for others (without any
    /// --go: measure the Rust gates only, as on a machine without Go).
    #[arg(long)]
    pub no_discover: bool,
    /// Worker counts (comma-separated; default: the number of CPUs).
    #[arg(long, allow_negative_numbers = true, value_delimiter = ',', value_parser = crate::cli_values::worker_count)]
    pub workers: Vec<usize>,
    /// Tasks per run (the seed default, as in the original repro).
    #[arg(long, default_value_t = 10_000_000, value_parser = crate::cli_values::task_count)]
    pub tasks: u64,
    /// Runs per implementation and worker count; the table shows medians.
    #[arg(long, default_value_t = 3, value_parser = crate::cli_values::repeat_count)]
    pub repeat: u64,
    /// Rust gates to run next to Go, comma-separated [default: all].
    #[arg(long = "gates", alias = "gate", value_enum, value_delimiter = ',')]
    pub gate: Vec<GateKind>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: GoFormat,
    /// Calls per thread per run in the second table (C-created threads calling an
    /// exported function); the same for every row.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub cthread_calls: u64,
    /// Skip the second table (it builds crosscall's libraries and a C host, see `deployed`).
    #[arg(long)]
    pub no_cthread: bool,
}

/// What a row measures: a Go toolchain's cgo or one of the Rust gates.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Implementation {
    /// The Go reference program built by this toolchain version (`go1.22.10`).
    Go(String),
    /// The Rust lab with this gate.
    Rust(GateKind),
}

impl Implementation {
    /// The label used in tables: `go1.22.10`, `rust:crosscall`.
    pub fn label(&self) -> String {
        match self {
            Implementation::Go(version) => version.clone(),
            Implementation::Rust(gate) => format!("rust:{}", gate.name()),
        }
    }
}

/// One row of the comparison: an implementation at one worker count.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Row {
    /// `go1.22.10`, `rust:mutex`, …
    pub implementation: String,
    /// Worker count.
    pub workers: usize,
    /// Runs measured.
    pub runs: usize,
    /// Median wall-clock time of a run, ms.
    pub median_ms: f64,
    /// Fastest run, ms.
    pub min_ms: f64,
    /// Slowest run, ms.
    pub max_ms: f64,
    /// Median time per task, ns (all workers together).
    pub ns_per_task: f64,
    /// How many times faster `rust:crosscall` is at this worker count
    /// (`median_ms / crosscall's median_ms`); `None` when crosscall was not run.
    pub crosscall_speedup: Option<f64>,
}

/// One measured run, before summarizing.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// What ran.
    pub implementation: Implementation,
    /// With how many workers.
    pub workers: usize,
    /// How long it took, ms.
    pub took_ms: f64,
}

/// Runs `crosscall-lab go`.
///
/// # Errors
///
/// When a `--go` path is not a Go toolchain, a Go program fails to run or
/// prints something unexpected, or the output cannot be written. Finding no Go
/// at all is not an error: the Rust rows are still measured, with a note on how
/// to install Go.
pub fn run(args: &GoArgs) -> Result<(), Box<dyn Error>> {
    let found = goref::discover(&args.go, !args.no_discover);
    for (path, why) in &found.skipped {
        if args.go.contains(path) && !why.contains("already found") {
            return Err(format!("--go: {why}").into());
        }
    }
    let programs = build_all(&found.toolchains);
    let note = programs.is_empty().then(|| {
        "no Go toolchain found: install them with scripts/install-go.sh \
         (or `scripts/install-go.sh --only 1.22` for one), or pass --go PATH; \
         measuring the Rust gates only"
            .to_owned()
    });
    if let Some(note) = &note {
        eprintln!("note: {note}");
    }

    let workers = if args.workers.is_empty() {
        vec![std::thread::available_parallelism().map_or(1, |n| n.get())]
    } else {
        args.workers.clone()
    };
    let most_workers = workers.iter().copied().max().unwrap_or(1);
    crate::cli_values::tasks_cover_workers(args.tasks, most_workers)?;
    let gates = if args.gate.is_empty() {
        GateKind::ALL.to_vec()
    } else {
        args.gate.clone()
    };
    let measurements = measure(
        &programs,
        &gates,
        &workers,
        args.tasks,
        args.repeat as usize,
    )?;
    let rows = summarize(&measurements, args.tasks);
    let cthread = if args.no_cthread {
        None
    } else {
        let log = |line: &str| eprintln!("{line}");
        Some(deployed_cmd::c_thread_table(
            &found.toolchains,
            &workers,
            args.cthread_calls,
            args.repeat,
            &log,
        )?)
    };

    match args.format {
        GoFormat::Text => {
            print!("{}", render(&rows, args.tasks, note.as_deref()));
            if let Some((cthread_rows, cthread_notes)) = &cthread {
                println!(
                    "\nC-created threads calling an exported function ({} calls per thread per run)",
                    args.cthread_calls
                );
                print!(
                    "{}",
                    deployed_cmd::render(cthread_rows, &workers, args.repeat, cthread_notes)
                );
            }
        }
        GoFormat::Json => {
            let toolchains: Vec<_> = found
                .toolchains
                .iter()
                .map(|t| serde_json::json!({ "version": t.version, "go": t.go }))
                .collect();
            let json = serde_json::json!({
                "workload": Workload::Seed.name(),
                "queue": QueueKind::Shared.name(),
                "tasks": args.tasks,
                "repeat": args.repeat,
                "toolchains": toolchains,
                "rows": rows,
                "note": note,
                "cthread": cthread.as_ref().map(|(rows, notes)| serde_json::json!({
                    "calls": args.cthread_calls,
                    "threads": workers,
                    "rows": rows,
                    "notes": notes,
                })),
            });
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
    }
    Ok(())
}

/// Builds the reference program with each toolchain; one that fails to build
/// is reported and left out.
fn build_all(toolchains: &[goref::Toolchain]) -> Vec<GoProgram> {
    let cache = goref::default_cache_dir();
    toolchains
        .iter()
        .filter_map(|toolchain| {
            eprintln!(
                "building the Go reference with {} ({})",
                toolchain.version,
                toolchain.go.display()
            );
            toolchain
                .build_reference(&cache)
                .map_err(|err| eprintln!("warning: leaving {} out: {err}", toolchain.version))
                .ok()
        })
        .collect()
}

/// Runs everything `repeat` times, interleaved (every implementation once per
/// round) so a slow spell on the shared machine hits all of them alike.
fn measure(
    programs: &[GoProgram],
    gates: &[GateKind],
    workers: &[usize],
    tasks: u64,
    repeat: usize,
) -> Result<Vec<Measurement>, Box<dyn Error>> {
    let per_round = programs.len() + gates.len();
    let total = workers.len() * repeat * per_round;
    let mut measurements = Vec::with_capacity(total);
    for &n in workers {
        for round in 0..repeat {
            for program in programs {
                let run = program.run(n, tasks)?;
                measurements.push(Measurement {
                    implementation: Implementation::Go(program.version.clone()),
                    workers: n,
                    took_ms: run.took_ms,
                });
                progress(measurements.len(), total, round, measurements.last());
            }
            for &gate in gates {
                let config = RunConfig {
                    gate,
                    workload: Workload::Seed,
                    workers: n,
                    tasks,
                    queue: QueueKind::Shared,
                };
                let result = runner::run(&config);
                measurements.push(Measurement {
                    implementation: Implementation::Rust(gate),
                    workers: n,
                    took_ms: result.took_ms,
                });
                progress(measurements.len(), total, round, measurements.last());
            }
        }
    }
    Ok(measurements)
}

fn progress(done: usize, total: usize, round: usize, last: Option<&Measurement>) {
    if let Some(m) = last {
        eprintln!(
            "[{done}/{total}] round {} {:<16} workers={:<3} took {:.1}ms",
            round + 1,
            m.implementation.label(),
            m.workers,
            m.took_ms
        );
    }
}

/// Medians per (implementation, workers), in first-measured order, with the
/// speed-up of `rust:crosscall` over each at the same worker count.
/// Every run had `tasks` tasks.
pub fn summarize(measurements: &[Measurement], tasks: u64) -> Vec<Row> {
    let mut keys: Vec<(&Implementation, usize)> = Vec::new();
    for m in measurements {
        if !keys.contains(&(&m.implementation, m.workers)) {
            keys.push((&m.implementation, m.workers));
        }
    }
    let times_of = |implementation: &Implementation, workers: usize| -> Vec<f64> {
        measurements
            .iter()
            .filter(|m| &m.implementation == implementation && m.workers == workers)
            .map(|m| m.took_ms)
            .collect()
    };
    let crosscall = Implementation::Rust(GateKind::Crosscall);
    keys.iter()
        .filter_map(|&(implementation, workers)| {
            let times = times_of(implementation, workers);
            let spread = Spread::of(&times)?;
            let reference = Spread::of(&times_of(&crosscall, workers)).map(|s| s.median);
            Some(Row {
                implementation: implementation.label(),
                workers,
                runs: times.len(),
                median_ms: spread.median,
                min_ms: spread.min,
                max_ms: spread.max,
                ns_per_task: spread.median * 1e6 / tasks as f64,
                crosscall_speedup: reference.filter(|&r| r > 0.0).map(|r| spread.median / r),
            })
        })
        .collect()
}

/// The comparison table; `tasks` is the task count of every run.
pub fn render(rows: &[Row], tasks: u64, note: Option<&str>) -> String {
    let mut out = format!(
        "seed workload, {tasks} tasks; Go: buffered channel, Rust: {} queue; medians of the runs\n\
         {:<18} {:>7} {:>5} {:>11} {:>21} {:>9} {:>18}\n",
        QueueKind::Shared.name(),
        "implementation",
        "workers",
        "runs",
        "ms",
        "min..max ms",
        "ns/task",
        "crosscall speed-up"
    );
    for row in rows {
        let speedup = row
            .crosscall_speedup
            .map_or_else(|| "-".to_owned(), |s| format!("{s:.2}x"));
        out.push_str(&format!(
            "{:<18} {:>7} {:>5} {:>11.1} {:>21} {:>9.1} {:>18}\n",
            row.implementation,
            row.workers,
            row.runs,
            row.median_ms,
            format!("{:.1}..{:.1}", row.min_ms, row.max_ms),
            row.ns_per_task,
            speedup
        ));
    }
    out.push_str(
        "\nns/task: wall-clock time per task with all workers together; \
         crosscall speed-up: this row's time / rust:crosscall's (same workers).\n",
    );
    if let Some(note) = note {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(implementation: Implementation, workers: usize, took_ms: f64) -> Measurement {
        Measurement {
            implementation,
            workers,
            took_ms,
        }
    }

    #[test]
    fn rows_are_medians_with_the_speedup_of_crosscall_at_the_same_worker_count() {
        let go = || Implementation::Go("go1.22.10".into());
        let cc = || Implementation::Rust(GateKind::Crosscall);
        let measurements = [
            m(go(), 1, 4000.0),
            m(cc(), 1, 400.0),
            m(go(), 1, 4400.0),
            m(cc(), 1, 420.0),
            m(go(), 1, 9000.0),
            m(cc(), 1, 380.0),
            m(go(), 2, 3000.0),
            m(cc(), 2, 200.0),
        ];
        let rows = summarize(&measurements, 1_000_000);
        let labels: Vec<(&str, usize)> = rows
            .iter()
            .map(|r| (r.implementation.as_str(), r.workers))
            .collect();
        assert_eq!(
            labels,
            [
                ("go1.22.10", 1),
                ("rust:crosscall", 1),
                ("go1.22.10", 2),
                ("rust:crosscall", 2)
            ]
        );
        assert_eq!(
            (
                rows[0].median_ms,
                rows[0].min_ms,
                rows[0].max_ms,
                rows[0].runs
            ),
            (4400.0, 4000.0, 9000.0, 3)
        );
        assert_eq!(rows[0].ns_per_task, 4400.0);
        assert_eq!(rows[0].crosscall_speedup, Some(11.0));
        assert_eq!(rows[1].crosscall_speedup, Some(1.0));
        assert_eq!(rows[2].crosscall_speedup, Some(15.0));
        let table = render(&rows, 1_000_000, None);
        assert!(
            table.contains("11.00x") && table.contains("15.00x"),
            "{table}"
        );
    }

    #[test]
    fn without_crosscall_there_is_no_speedup_and_the_note_is_shown() {
        let rows = summarize(&[m(Implementation::Rust(GateKind::Mutex), 2, 10.0)], 1000);
        assert_eq!(rows[0].implementation, "rust:mutex");
        assert_eq!(rows[0].crosscall_speedup, None);
        let table = render(&rows, 1000, Some("no Go toolchain found"));
        assert!(
            table
                .lines()
                .any(|l| l.starts_with("rust:mutex") && l.trim_end().ends_with('-')),
            "{table}"
        );
        assert!(table.contains("note: no Go toolchain found"), "{table}");
    }
}
