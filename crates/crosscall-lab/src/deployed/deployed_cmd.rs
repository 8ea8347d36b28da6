//! `crosscall-lab deployed`: entry cost where crosscall is deployed — a Rust cdylib that a
//! C host dlopen()s, and the C API through its shared library (`libcrosscall.so` installed) — measured from C threads
//! ([`crate::deployed::host_driver`]) next to the static figures of the lab's own runs
//! ([`crate::deployed::host_shape`]), in one table: ns per call (slowest thread, median of the
//! repeats) per thread count, instructions per call (callgrind), and the extra cost over
//! each row's baseline.
//!
//! ```text
//! cargo run --release -p crosscall-lab -- deployed
//! crosscall-lab deployed --threads 1,2 --calls 20000000 --repeat 5 --format json
//! crosscall-lab deployed --shapes ungated,export --no-callgrind
//! ```

use std::error::Error;
use std::path::PathBuf;

use crate::deployed::host_driver::{self, HostArtifacts};
use crate::deployed::host_shape::{Shape, ShapeKind};
use crate::go::go_cshared;
use crate::go::goref;
use crate::report::stats::Spread;

/// Call counts of the two callgrind runs (one thread); their difference gives per-call counts.
pub const CALLGRIND_CALLS: (u64, u64) = (100_000, 200_000);

/// Calls of the probe that sizes each shape's runs when `--calls` is not given.
const PROBE_CALLS: u64 = 200_000;

/// What to measure for each shape: thread counts, calls, repeats, instruction counts.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Thread counts.
    pub threads: Vec<usize>,
    /// Timed calls per thread per run; `None`: sized per shape for about `seconds`.
    pub calls: Option<u64>,
    /// Target duration of a run when `calls` is `None`.
    pub seconds: f64,
    /// Runs per shape and thread count.
    pub repeat: u64,
    /// Count instructions with callgrind (where valgrind is installed).
    pub callgrind: bool,
}

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
    #[arg(long, allow_negative_numbers = true, value_delimiter = ',', default_value = "1,2", value_parser = thread_count)]
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
    /// Add the Go reference: a `-buildmode=c-shared` library exporting GoAdd1, driven by the
    /// same C host, per Go toolchain found (as `crosscall-lab go` finds them).
    #[arg(long)]
    pub go: bool,
    /// A Go toolchain for the Go rows: a `go` binary or a GOROOT (repeatable; implies --go).
    #[arg(long, value_name = "PATH")]
    pub go_path: Vec<PathBuf>,
    /// With --go: use only the toolchains given with --go-path, look for no others.
    #[arg(long)]
    pub no_discover: bool,
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

/// Medians and deltas over each row's baseline (when the baseline was measured). Each
/// element is (key, label, baseline key, measurements).
///
/// ```
/// use crosscall_lab::deployed::deployed_cmd::{summarize, Measured};
/// let m = |ns: f64| Measured { calls: 10, runs: vec![(1, vec![ns])], instructions: Some(ns) };
/// let rows = summarize(&[
///     ("ungated".into(), "ungated".into(), None, m(2.0)),
///     ("export".into(), "export".into(), Some("ungated".into()), m(3.5)),
/// ]);
/// assert_eq!(rows[1].by_threads[0].delta_ns, Some(1.5));
/// assert_eq!(rows[1].delta_instructions, Some(1.5));
/// ```
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

/// The comparisons that carry to another machine: a row's whole call against a yardstick
/// row measured in the same run (`(row, yardstick)` keys).
pub const RATIO_PAIRS: [(&str, &str); 3] = [
    ("capi", "pair"),
    ("export", "ungated"),
    ("static-crosscall", "static-none"),
];

/// One row's whole call set against its yardstick's, measured side by side.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Ratio {
    /// The row's key (`capi`).
    pub shape: String,
    /// The yardstick's key (`pair`).
    pub yardstick: String,
    /// Per thread count: the row's ns per call ÷ the yardstick's (medians of the same run).
    pub time_by_threads: Vec<(usize, f64)>,
    /// Instructions per call ÷ the yardstick's (callgrind), when both were counted.
    pub instructions: Option<f64>,
}

/// The [`RATIO_PAIRS`] whose two rows are both in `rows`, then each Go row against
/// `#[export]`.
///
/// ```
/// use crosscall_lab::deployed::deployed_cmd::{ratios, summarize, Measured};
/// let m = |ns: f64| Measured { calls: 10, runs: vec![(1, vec![ns])], instructions: Some(ns * 10.0) };
/// let rows = summarize(&[
///     ("pair".into(), "pair".into(), None, m(2.0)),
///     ("capi".into(), "capi".into(), None, m(2.2)),
/// ]);
/// let ratios = ratios(&rows);
/// assert_eq!(ratios.len(), 1);
/// assert!((ratios[0].time_by_threads[0].1 - 1.1).abs() < 1e-12);
/// assert!((ratios[0].instructions.unwrap() - 1.1).abs() < 1e-12);
/// ```
pub fn ratios(rows: &[Row]) -> Vec<Ratio> {
    let find = |key: &str| rows.iter().find(|r| r.shape == key);
    // Go's c-shared rows (`go1.22.10`, …) against crosscall's `#[export]`.
    let go_pairs = rows
        .iter()
        .filter(|r| r.shape.starts_with("go"))
        .map(|r| (r.shape.as_str(), "export"));
    RATIO_PAIRS
        .iter()
        .copied()
        .chain(go_pairs)
        .filter_map(|(shape, yardstick)| {
            let (row, base) = (find(shape)?, find(yardstick)?);
            let time_by_threads = row
                .by_threads
                .iter()
                .filter_map(|f| {
                    let b = base.by_threads.iter().find(|b| b.threads == f.threads)?;
                    (b.ns_per_call > 0.0).then(|| (f.threads, f.ns_per_call / b.ns_per_call))
                })
                .collect();
            let instructions = row
                .instructions_per_call
                .zip(base.instructions_per_call)
                .filter(|&(_, b)| b > 0.0)
                .map(|(a, b)| a / b);
            Some(Ratio {
                shape: shape.to_owned(),
                yardstick: yardstick.to_owned(),
                time_by_threads,
                instructions,
            })
        })
        .collect()
}

/// The ratios as text: one line each.
fn render_ratios(rows: &[Row]) -> String {
    let ratios = ratios(rows);
    if ratios.is_empty() {
        return String::new();
    }
    let label = |key: &str| {
        rows.iter()
            .find(|r| r.shape == key)
            .map_or(key.to_owned(), |r| r.label.clone())
    };
    let mut out = String::from(
        "\nratios that carry to another machine (whole call ÷ yardstick, same run; ns above are this machine's):\n",
    );
    for ratio in &ratios {
        let times: Vec<String> = ratio
            .time_by_threads
            .iter()
            .map(|(t, r)| format!("{r:.2}× @{t}t"))
            .collect();
        let instructions = ratio
            .instructions
            .map_or(String::new(), |r| format!("; {r:.2}× the instructions"));
        out.push_str(&format!(
            "  {} ÷ {}: {}{instructions}\n",
            label(&ratio.shape),
            label(&ratio.yardstick),
            times.join(", ")
        ));
    }
    out
}

/// The table: one row per shape, ns/call per thread count, instructions, deltas.
pub fn render(rows: &[Row], threads: &[usize], repeat: u64, notes: &[String]) -> String {
    let counted = rows.iter().any(|r| r.instructions_per_call.is_some());
    let mut out = format!(
        "deployed shape: C threads (pthread_create) calling int32_t f(int32_t) = x + 1 in a loop;\n\
         ns/call of the slowest thread, median of {repeat} run(s){}\n",
        if counted {
            "; instr: per call, from callgrind at 1 thread"
        } else {
            ""
        }
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
         cdylib, dlopen()ed; capi: crosscall_gate_enter + x + 1 + crosscall_gate_leave through\n\
         crosscall-capi's shared library (cargo's libcrosscall_capi.so: what scripts/install-capi.sh\n\
         installs as libcrosscall.so, linked with -lcrosscall); pair: the same around two trivial\n\
         calls into a shared library that read and bump a thread-local word (c/trivial_pair.c).\n",
    );
    out.push_str(&render_ratios(rows));
    if rows.iter().any(|r| r.shape.starts_with("static-")) {
        out.push_str(
            "static-*: `crosscall-lab run --workload empty --queue partitioned` (Rust threads,\n\
             crosscall linked statically; ns = wall time / calls per worker).\n",
        );
    }
    if rows.iter().any(|r| r.shape.starts_with("go")) {
        out.push_str(
            "Go: GoAdd1 of a `go build -buildmode=c-shared` library (crates/crosscall-lab/go-cshared),\n\
             dlopen()ed: a C->Go callback on a C-created thread.\n",
        );
    }
    for note in notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

/// The shapes asked for, with the baselines they are compared with (and theirs), in table
/// order.
///
/// ```
/// use crosscall_lab::deployed::deployed_cmd::selected_shapes;
/// use crosscall_lab::deployed::host_shape::ShapeKind;
/// assert_eq!(selected_shapes(&[ShapeKind::Capi]), [ShapeKind::Local, ShapeKind::Capi]);
/// ```
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

impl DeployedArgs {
    /// The measurement plan these arguments ask for (thread counts deduplicated).
    pub fn plan(&self) -> Plan {
        let mut threads = self.threads.clone();
        let mut seen = Vec::new();
        threads.retain(|t| {
            let first = !seen.contains(t);
            seen.push(*t);
            first
        });
        Plan {
            threads,
            calls: self.calls,
            seconds: self.seconds,
            repeat: self.repeat,
            callgrind: !self.no_callgrind,
        }
    }
}

/// Runs `crosscall-lab deployed`.
///
/// # Errors
///
/// When building the libraries or the C host fails, a `--go-path` is not a Go toolchain, or
/// a run fails (e.g. a refused call). A missing valgrind or Go is not an error: the
/// instruction columns or the Go rows are left out, with a note.
pub fn run(args: &DeployedArgs) -> Result<(), Box<dyn Error>> {
    let quiet = args.quiet;
    let log = |line: &str| {
        if !quiet {
            eprintln!("deployed: {line}");
        }
    };
    // Toolchains first: a wrong --go-path fails before anything is built.
    let go = args.go || !args.go_path.is_empty();
    let toolchains = if go {
        checked_toolchains(&args.go_path, !args.no_discover)?
    } else {
        Vec::new()
    };
    let mut host = host_driver::build(&log)?;
    if args.keep {
        host.keep();
        log(&format!("keeping the C host in {}", host.dir.display()));
    }
    let mut notes = Vec::new();
    let mut shapes: Vec<Shape> = selected_shapes(&args.shape)
        .into_iter()
        .map(|k| Shape::builtin(k, &host))
        .collect();
    if go {
        if !shapes.iter().any(|s| s.key == ShapeKind::Ungated.name()) {
            // The Go rows are compared with the ungated cdylib.
            let at = shapes
                .iter()
                .take_while(|s| s.key == ShapeKind::Local.name())
                .count();
            shapes.insert(at, Shape::builtin(ShapeKind::Ungated, &host));
        }
        let libraries = go_cshared::build_all(&toolchains, &log);
        if libraries.is_empty() {
            let note = "no Go toolchain found: no Go rows (install one with \
                        `bash scripts/install-go.sh --only 1.22`, or pass --go-path PATH)";
            log(&format!("note: {note}"));
            notes.push(note.to_owned());
        }
        shapes.extend(
            libraries
                .iter()
                .map(|lib| Shape::go_cshared(&lib.version, &lib.library, &host)),
        );
    }
    let plan = args.plan();
    let rows = measure_all(&shapes, &plan, &host, &mut notes, &log)?;
    match args.format {
        DeployedFormat::Text => print!("{}", render(&rows, &plan.threads, args.repeat, &notes)),
        DeployedFormat::Json => {
            let json = serde_json::json!({
                "threads": plan.threads,
                "repeat": args.repeat,
                "callgrind_calls": (!args.no_callgrind).then_some([CALLGRIND_CALLS.0, CALLGRIND_CALLS.1]),
                "rows": rows,
                "ratios": ratios(&rows),
                "notes": notes,
            });
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
    }
    Ok(())
}

/// The toolchains in `explicit` (each must be one) and, with `search`, the ones
/// [`goref::discover`] finds.
///
/// # Errors
///
/// When a path in `explicit` is not a Go toolchain.
pub fn checked_toolchains(
    explicit: &[PathBuf],
    search: bool,
) -> Result<Vec<goref::Toolchain>, Box<dyn Error>> {
    let found = goref::discover(explicit, search);
    for (path, why) in &found.skipped {
        if explicit.contains(path) && !why.contains("already found") {
            return Err(format!("--go-path: {why}").into());
        }
    }
    Ok(found.toolchains)
}

/// The C-host table of `crosscall-lab go`: C-created threads calling an exported function —
/// the local C call, the ungated and `#[export]` cdylib, the C API, and each Go toolchain's
/// `//export` — at `threads`, `calls` calls per thread per run (the same for every row),
/// `repeat` runs, no instruction counts. Returns the rows and the notes.
///
/// # Errors
///
/// When building the libraries or the C host fails, or a run fails.
pub fn c_thread_table(
    toolchains: &[goref::Toolchain],
    threads: &[usize],
    calls: u64,
    repeat: u64,
    log: &dyn Fn(&str),
) -> Result<(Vec<Row>, Vec<String>), Box<dyn Error>> {
    let host = host_driver::build(log)?;
    let mut shapes: Vec<Shape> = [
        ShapeKind::Local,
        ShapeKind::Ungated,
        ShapeKind::Export,
        ShapeKind::Capi,
    ]
    .into_iter()
    .map(|k| Shape::builtin(k, &host))
    .collect();
    let libraries = go_cshared::build_all(toolchains, log);
    shapes.extend(
        libraries
            .iter()
            .map(|lib| Shape::go_cshared(&lib.version, &lib.library, &host)),
    );
    let plan = Plan {
        threads: threads.to_vec(),
        calls: Some(calls),
        seconds: 0.0,
        repeat,
        callgrind: false,
    };
    let mut notes = Vec::new();
    let rows = measure_all(&shapes, &plan, &host, &mut notes, log)?;
    notes.retain(|n| !n.contains("instruction counts"));
    if libraries.is_empty() {
        notes.push("no Go toolchain found: crosscall's rows only (see the note above)".to_owned());
    }
    Ok((rows, notes))
}

/// Sizes, measures (shapes take turns, `repeat` rounds) and counts instructions of `shapes`.
///
/// # Errors
///
/// When a run fails.
pub fn measure_all(
    shapes: &[Shape],
    plan: &Plan,
    host: &HostArtifacts,
    notes: &mut Vec<String>,
    log: &dyn Fn(&str),
) -> Result<Vec<Row>, Box<dyn Error>> {
    let mut measured: Vec<Measured> = Vec::with_capacity(shapes.len());
    for shape in shapes {
        let calls = match plan.calls {
            Some(calls) => calls,
            None => {
                let probe = shape.measure(1, PROBE_CALLS)?;
                let calls = (plan.seconds * 1e9 / probe.max(0.1)).round() as u64;
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
            runs: plan.threads.iter().map(|&t| (t, Vec::new())).collect(),
            instructions: None,
        });
    }
    let total = plan.repeat as usize * plan.threads.len() * shapes.len();
    let mut done = 0;
    for round in 1..=plan.repeat {
        for &threads in &plan.threads {
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
    if !plan.callgrind {
        notes.push("instruction counts skipped (--no-callgrind)".to_owned());
    } else if !host_driver::valgrind_available() {
        notes.push(
            "valgrind not found: no instruction counts (install valgrind, e.g. apt-get install valgrind)"
                .to_owned(),
        );
    } else {
        if shapes.iter().any(|s| !s.callgrind) {
            notes.push(
                "no instruction counts for the Go rows: Go's runtime does not run under valgrind"
                    .to_owned(),
            );
        }
        for (shape, m) in shapes.iter().zip(&mut measured) {
            if !shape.callgrind {
                continue;
            }
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
