//! `crosscall-lab deployed`: entry cost where crosscall is deployed — a Rust cdylib that a
//! C host dlopen()s, and the C API through `libcrosscall_capi.so` — measured from C threads
//! ([`crate::host_driver`]) next to the static figures of the lab's own runs
//! ([`crate::host_shape`]), in one table: ns per call (slowest thread, median of the
//! repeats) per thread count, instructions per call (callgrind), and the extra cost over
//! each row's baseline.
//!
//! ```text
//! cargo run --release -p crosscall-lab -- deployed
//! crosscall-lab deployed --threads 1,2 --calls 20000000 --repeat 5 --format json
//! crosscall-lab deployed --shapes ungated,export --no-callgrind
//! ```

use std::error::Error;

use crate::host_driver::{self, HostArtifacts};
use crate::host_shape::{Shape, ShapeKind};
use crate::stats::Spread;

/// Call counts of the two callgrind runs (one thread); their difference gives per-call counts.
pub const CALLGRIND_CALLS: (u64, u64) = (100_000, 200_000);

/// Calls of the probe that sizes each shape's runs when `--calls` is not given.
const PROBE_CALLS: u64 = 200_000;

/// Output format of `deployed`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DeployedFormat {
    /// A table for people.
    #[default]
    Text,
    /// One JSON object.
    Json,
}

/// Arguments of `crosscall-lab deployed`.
#[derive(Clone, Debug, clap::Args)]
pub struct DeployedArgs {
    /// Thread counts (comma-separated); each thread is created by the C host.
    #[arg(long, value_delimiter = ',', default_value = "1,2", value_parser = thread_count)]
    pub threads: Vec<usize>,
    /// Timed calls per thread [default: sized per shape for about --seconds per run].
    #[arg(long, value_parser = call_count)]
    pub calls: Option<u64>,
    /// Target duration of one run when --calls is not given.
    #[arg(long, default_value_t = 0.3, value_parser = seconds)]
    pub seconds: f64,
    /// Runs per shape and thread count (shapes take turns); the table shows medians.
    #[arg(long, default_value_t = 5, value_parser = crate::cli_values::repeat_count)]
    pub repeat: u64,
    /// Shapes to measure, comma-separated [default: all]; a shape's baseline is added.
    #[arg(long = "shapes", alias = "shape", value_enum, value_delimiter = ',')]
    pub shape: Vec<ShapeKind>,
    /// Skip the instruction counts (valgrind --tool=callgrind).
    #[arg(long)]
    pub no_callgrind: bool,
    /// Keep the built C host and libraries (their directory is printed) for reruns by hand.
    #[arg(long)]
    pub keep: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: DeployedFormat,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A thread count: 1 ..= 4096.
fn thread_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n @ 1..=4096) => Ok(n),
        Ok(n) => Err(format!("thread counts must be 1..=4096, got {n}")),
        Err(_) => Err(format!("`{text}` is not a thread count")),
    }
}

/// Calls per thread: 1 ..= 1e9 (the C host sums results in an int32 range).
fn call_count(text: &str) -> Result<u64, String> {
    let calls: u64 = text
        .replace('_', "")
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number"))?;
    if !(1..=1_000_000_000).contains(&calls) {
        return Err(format!("calls must be 1..=1000000000, got {calls}"));
    }
    Ok(calls)
}

fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 600.0 => Ok(s),
        _ => Err(format!(
            "`{text}` is not a duration in seconds (0 < s <= 600)"
        )),
    }
}

/// One thread count of a row.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ThreadFigure {
    /// Threads.
    pub threads: usize,
    /// Median over the runs of the slowest thread's ns per call.
    pub ns_per_call: f64,
    /// Fastest run.
    pub min_ns_per_call: f64,
    /// Slowest run.
    pub max_ns_per_call: f64,
    /// `ns_per_call` minus the baseline's at the same thread count.
    pub delta_ns: Option<f64>,
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Row {
    /// Key (`export`, `capi`, `go1.22.10`, …).
    pub shape: String,
    /// Label in the table.
    pub label: String,
    /// The key of the row the deltas are over.
    pub baseline: Option<String>,
    /// Timed calls per thread per run.
    pub calls: u64,
    /// Runs per thread count.
    pub runs: usize,
    /// Per thread count.
    pub by_threads: Vec<ThreadFigure>,
    /// Instructions per call (callgrind, one thread), if measured.
    pub instructions_per_call: Option<f64>,
    /// Instructions per call minus the baseline's.
    pub delta_instructions: Option<f64>,
}

/// Raw measurements of one shape, before summarizing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Measured {
    /// Calls per thread per run.
    pub calls: u64,
    /// Per thread count (in `--threads` order): the ns per call of every run.
    pub runs: Vec<(usize, Vec<f64>)>,
    /// Callgrind's instructions per call.
    pub instructions: Option<f64>,
}

/// Medians and deltas over each row's baseline (when the baseline was measured).
pub fn summarize(shapes: &[(String, String, Option<String>, Measured)]) -> Vec<Row> {
    let mut rows: Vec<Row> = shapes
        .iter()
        .map(|(key, label, baseline, m)| Row {
            shape: key.clone(),
            label: label.clone(),
            baseline: baseline.clone(),
            calls: m.calls,
            runs: m.runs.first().map_or(0, |(_, r)| r.len()),
            by_threads: m
                .runs
                .iter()
                .filter_map(|(threads, runs)| {
                    let spread = Spread::of(runs)?;
                    Some(ThreadFigure {
                        threads: *threads,
                        ns_per_call: spread.median,
                        min_ns_per_call: spread.min,
                        max_ns_per_call: spread.max,
                        delta_ns: None,
                    })
                })
                .collect(),
            instructions_per_call: m.instructions,
            delta_instructions: None,
        })
        .collect();
    let snapshot = rows.clone();
    for row in &mut rows {
        let Some(base) = row
            .baseline
            .as_ref()
            .and_then(|b| snapshot.iter().find(|r| &r.shape == b))
        else {
            continue;
        };
        for figure in &mut row.by_threads {
            figure.delta_ns = base
                .by_threads
                .iter()
                .find(|b| b.threads == figure.threads)
                .map(|b| figure.ns_per_call - b.ns_per_call);
        }
        row.delta_instructions = row
            .instructions_per_call
            .zip(base.instructions_per_call)
            .map(|(a, b)| a - b);
    }
    rows
}

fn fmt_opt(value: Option<f64>, decimals: usize, signed: bool) -> String {
    // A difference that rounds to zero prints as +0.0, not -0.0.
    let scale = 10f64.powi(decimals as i32);
    let value = value.map(|v| if (v * scale).round() == 0.0 { 0.0 } else { v });
    match value {
        Some(v) if signed => format!("{v:+.decimals$}"),
        Some(v) => format!("{v:.decimals$}"),
        None => "-".to_owned(),
    }
}

/// The table: one row per shape, ns/call per thread count, instructions, deltas.
pub fn render(rows: &[Row], threads: &[usize], repeat: u64, notes: &[String]) -> String {
    let mut out = format!(
        "deployed shape: C threads (pthread_create) calling int32_t f(int32_t) = x + 1 in a loop;\n\
         ns/call of the slowest thread, median of {repeat} run(s); instr/call from callgrind at 1 thread\n"
    );
    let mut header = format!("{:<34} {:>11}", "shape", "calls");
    for t in threads {
        header.push_str(&format!(" {:>10}", format!("ns@{t}t")));
    }
    header.push_str(&format!(" {:>10}", "instr"));
    for t in threads {
        header.push_str(&format!(" {:>9}", format!("Δns@{t}t")));
    }
    header.push_str(&format!(" {:>8}  over", "Δinstr"));
    out.push_str(&header);
    out.push('\n');
    for row in rows {
        let mut line = format!("{:<34} {:>11}", row.label, row.calls);
        let figure = |t: usize| row.by_threads.iter().find(|f| f.threads == t);
        for &t in threads {
            line.push_str(&format!(
                " {:>10}",
                fmt_opt(figure(t).map(|f| f.ns_per_call), 2, false)
            ));
        }
        line.push_str(&format!(
            " {:>10}",
            fmt_opt(row.instructions_per_call, 1, false)
        ));
        for &t in threads {
            line.push_str(&format!(
                " {:>9}",
                fmt_opt(figure(t).and_then(|f| f.delta_ns), 2, true)
            ));
        }
        line.push_str(&format!(
            " {:>8}  {}",
            fmt_opt(row.delta_instructions, 1, true),
            row.baseline.as_deref().unwrap_or("-")
        ));
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str(
        "\nΔ: this row minus the row named under `over` (same thread count): the cost of the entry.\n\
         local: the loop and an indirect call; ungated/export*: symbols of the crosscall-hostbench\n\
         cdylib, dlopen()ed; capi: crosscall_gate_enter + x + 1 + crosscall_gate_leave, linked\n\
         against libcrosscall_capi.so; static-*: `crosscall-lab run --workload empty --queue\n\
         partitioned` (Rust threads, crosscall linked statically; ns = wall time / calls per worker).\n",
    );
    for note in notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

/// The shapes asked for, with the baselines they are compared with (and theirs), in table
/// order.
pub fn selected_shapes(asked: &[ShapeKind]) -> Vec<ShapeKind> {
    if asked.is_empty() {
        return ShapeKind::ALL.to_vec();
    }
    let mut wanted = asked.to_vec();
    let mut i = 0;
    while let Some(&kind) = wanted.get(i) {
        if let Some(base) = kind.baseline().filter(|b| !wanted.contains(b)) {
            wanted.push(base);
        }
        i += 1;
    }
    ShapeKind::ALL
        .into_iter()
        .filter(|kind| wanted.contains(kind))
        .collect()
}

/// Runs `crosscall-lab deployed`.
///
/// # Errors
///
/// When building the libraries or the C host fails, or a run fails (e.g. a refused call).
/// A missing valgrind is not an error: the instruction columns stay empty, with a note.
pub fn run(args: &DeployedArgs) -> Result<(), Box<dyn Error>> {
    let quiet = args.quiet;
    let log = |line: &str| {
        if !quiet {
            eprintln!("deployed: {line}");
        }
    };
    let mut host = host_driver::build(&log)?;
    if args.keep {
        host.keep();
        log(&format!("keeping the C host in {}", host.dir.display()));
    }
    let kinds = selected_shapes(&args.shape);
    let shapes: Vec<Shape> = kinds.iter().map(|&k| Shape::builtin(k, &host)).collect();
    let mut notes = Vec::new();
    let rows = measure_all(&shapes, args, &host, &mut notes, &log)?;
    match args.format {
        DeployedFormat::Text => print!("{}", render(&rows, &args.threads, args.repeat, &notes)),
        DeployedFormat::Json => {
            let json = serde_json::json!({
                "threads": args.threads,
                "repeat": args.repeat,
                "callgrind_calls": (!args.no_callgrind).then_some([CALLGRIND_CALLS.0, CALLGRIND_CALLS.1]),
                "rows": rows,
                "notes": notes,
            });
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
    }
    Ok(())
}

/// Sizes, measures (shapes take turns, `repeat` rounds) and counts instructions of `shapes`.
///
/// # Errors
///
/// When a run fails.
pub fn measure_all(
    shapes: &[Shape],
    args: &DeployedArgs,
    host: &HostArtifacts,
    notes: &mut Vec<String>,
    log: &dyn Fn(&str),
) -> Result<Vec<Row>, Box<dyn Error>> {
    let mut measured: Vec<Measured> = Vec::with_capacity(shapes.len());
    for shape in shapes {
        let calls = match args.calls {
            Some(calls) => calls,
            None => {
                let probe = shape.measure(1, PROBE_CALLS)?;
                let calls = (args.seconds * 1e9 / probe.max(0.1)).round() as u64;
                let calls = calls.clamp(PROBE_CALLS, 1_000_000_000);
                log(&format!(
                    "{}: probe {probe:.2} ns/call -> {calls} calls per thread",
                    shape.key
                ));
                calls
            }
        };
        measured.push(Measured {
            calls,
            runs: args.threads.iter().map(|&t| (t, Vec::new())).collect(),
            instructions: None,
        });
    }
    let total = args.repeat as usize * args.threads.len() * shapes.len();
    let mut done = 0;
    for round in 1..=args.repeat {
        for &threads in &args.threads {
            for (shape, m) in shapes.iter().zip(&mut measured) {
                let ns = shape.measure(threads, m.calls)?;
                if let Some((_, runs)) = m.runs.iter_mut().find(|(t, _)| *t == threads) {
                    runs.push(ns);
                }
                done += 1;
                log(&format!(
                    "[{done}/{total}] round {round} {:<18} threads={threads} {ns:.2} ns/call",
                    shape.key
                ));
            }
        }
    }
    if args.no_callgrind {
        notes.push("instruction counts skipped (--no-callgrind)".to_owned());
    } else if !host_driver::valgrind_available() {
        notes.push(
            "valgrind not found: no instruction counts (install valgrind, e.g. apt-get install valgrind)"
                .to_owned(),
        );
    } else {
        for (shape, m) in shapes.iter().zip(&mut measured) {
            log(&format!(
                "callgrind: {} at {} and {} calls",
                shape.key, CALLGRIND_CALLS.0, CALLGRIND_CALLS.1
            ));
            m.instructions = Some(shape.instructions(CALLGRIND_CALLS, &host.dir)?);
        }
    }
    let keyed: Vec<_> = shapes
        .iter()
        .zip(measured)
        .map(|(s, m)| (s.key.clone(), s.label.clone(), s.baseline.clone(), m))
        .collect();
    Ok(summarize(&keyed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(runs: Vec<(usize, Vec<f64>)>, instructions: Option<f64>) -> Measured {
        Measured {
            calls: 1000,
            runs,
            instructions,
        }
    }

    #[test]
    fn deltas_are_over_the_named_baseline_at_the_same_thread_count() {
        let rows = summarize(&[
            (
                "ungated".into(),
                "u".into(),
                None,
                measured(vec![(1, vec![2.0, 3.0, 2.5]), (2, vec![4.0])], Some(10.0)),
            ),
            (
                "export".into(),
                "e".into(),
                Some("ungated".into()),
                measured(vec![(1, vec![9.0, 8.0, 7.0]), (2, vec![5.0])], Some(69.0)),
            ),
            (
                "capi".into(),
                "c".into(),
                Some("local".into()),
                measured(vec![(1, vec![30.0])], None),
            ),
        ]);
        assert_eq!(rows[0].by_threads[0].ns_per_call, 2.5);
        assert_eq!(rows[0].by_threads[0].delta_ns, None);
        assert_eq!(rows[1].by_threads[0].delta_ns, Some(5.5));
        assert_eq!(rows[1].by_threads[1].delta_ns, Some(1.0));
        assert_eq!(rows[1].delta_instructions, Some(59.0));
        // The baseline was not measured: no delta rather than a wrong one.
        assert_eq!(rows[2].by_threads[0].delta_ns, None);
        let table = render(&rows, &[1, 2], 3, &["a note".to_owned()]);
        assert!(
            table.contains("+5.50") && table.contains("+59.0"),
            "{table}"
        );
        assert!(table.contains("note: a note"), "{table}");
    }

    #[test]
    fn asking_for_a_shape_brings_its_baselines() {
        assert_eq!(
            selected_shapes(&[ShapeKind::Export]),
            [ShapeKind::Local, ShapeKind::Ungated, ShapeKind::Export]
        );
        assert_eq!(
            selected_shapes(&[ShapeKind::StaticCrosscall]),
            [ShapeKind::StaticNone, ShapeKind::StaticCrosscall]
        );
        assert_eq!(selected_shapes(&[]), ShapeKind::ALL);
    }

    #[test]
    fn bad_counts_are_refused_with_the_reason() {
        assert!(thread_count("0").unwrap_err().contains("1..=4096"));
        assert!(call_count("0").unwrap_err().contains("1..=1000000000"));
        assert_eq!(call_count("1_000"), Ok(1000));
        assert!(seconds("-1").is_err());
    }
}
