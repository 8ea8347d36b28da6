//! Sweeps: every gate at every worker count, repeated, interleaved so that
//! noise (a neighbour's compile, frequency changes) hits all gates alike;
//! summarized by median and range, written as JSON, CSV and an SVG plot.
use std::error::Error;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::model::calibrate::{self, Calibration};
use crate::model::reading;
use crate::model::scaling_model::{self, GateModel, Measured, Normalization, DEFAULT_PROJECTION};
use crate::report::plot;
use crate::report::stats::Spread;
use crate::run::runner::{self, GateKind, QueueKind, RunConfig, RunResult, Workload};

/// What to sweep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepConfig {
    /// Gates, in report order.
    pub gates: Vec<GateKind>,
    /// Worker counts, each ≥ 1.
    pub workers: Vec<usize>,
    /// Runs per (gate, workers) pair, ≥ 1.
    pub repeat: usize,
    /// What each task does.
    pub workload: Workload,
    /// How tasks reach the workers.
    pub queue: QueueKind,
    /// Tasks per run.
    pub tasks: u64,
}

impl SweepConfig {
    /// Every run of the sweep, in the order they are made: repeat by repeat,
    /// each repeat going through every worker count and every gate.
    pub fn schedule(&self) -> Vec<RunConfig> {
        let mut runs = Vec::with_capacity(self.repeat * self.workers.len() * self.gates.len());
        for _ in 0..self.repeat {
            for &workers in &self.workers {
                for &gate in &self.gates {
                    runs.push(RunConfig {
                        gate,
                        workload: self.workload,
                        workers,
                        tasks: self.tasks,
                        queue: self.queue,
                    });
                }
            }
        }
        runs
    }
}

/// The summary of one (gate, workers) pair over its repeats.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepPoint {
    /// Gate name.
    pub gate: String,
    /// Worker threads.
    pub workers: usize,
    /// Median throughput, tasks per second.
    pub median_tasks_per_sec: f64,
    /// Lowest throughput of the repeats.
    pub min_tasks_per_sec: f64,
    /// Highest throughput of the repeats.
    pub max_tasks_per_sec: f64,
    /// Median wall-clock milliseconds per run.
    pub median_ms: f64,
    /// Number of runs summarized.
    pub runs: usize,
    /// The throughput of every run, in the order made (for the model's
    /// bootstrap intervals; empty in files written before it was kept).
    #[serde(default)]
    pub runs_tasks_per_sec: Vec<f64>,
}

/// One row of `sweep.csv`: a [`SweepPoint`] without its runs.
#[derive(serde::Serialize)]
struct CsvRow<'a> {
    gate: &'a str,
    workers: usize,
    median_tasks_per_sec: f64,
    min_tasks_per_sec: f64,
    max_tasks_per_sec: f64,
    median_ms: f64,
    runs: usize,
}

/// The contents of `sweep.json`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepFile {
    /// Workload name.
    pub workload: String,
    /// Queue name.
    pub queue: String,
    /// Tasks per run.
    pub tasks: u64,
    /// One point per (gate, workers) pair, grouped by gate, workers ascending.
    pub points: Vec<SweepPoint>,
    /// The machine's pure-compute scaling at the largest worker count, the
    /// ceiling every gate's scaling is to be read against, and at each worker
    /// count of the sweep (`compute_scaling_by_workers`, for the
    /// capacity-normalized model). `None` in files written before it was
    /// measured; without the per-count figures no normalization is made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
}

impl SweepFile {
    /// Gate names in the order they first appear.
    pub fn gates(&self) -> Vec<&str> {
        let mut gates: Vec<&str> = Vec::new();
        for point in &self.points {
            if !gates.contains(&point.gate.as_str()) {
                gates.push(&point.gate);
            }
        }
        gates
    }

    /// `(workers, median throughput)` of one gate.
    pub fn series(&self, gate: &str) -> Vec<(f64, f64)> {
        self.points
            .iter()
            .filter(|p| p.gate == gate)
            .map(|p| (p.workers as f64, p.median_tasks_per_sec))
            .collect()
    }

    /// `c(n)` per worker count, empty when the file has none.
    pub fn scaling_by_workers(&self) -> &[calibrate::ScalingAt] {
        self.calibration
            .as_ref()
            .map_or(&[], |c| c.compute_scaling_by_workers.as_slice())
    }

    /// One gate's medians and runs, for the model.
    pub fn measured(&self, gate: &str) -> Measured {
        Measured {
            name: gate.to_owned(),
            points: self.series(gate),
            runs: self
                .points
                .iter()
                .filter(|p| p.gate == gate)
                .map(|p| (p.workers as f64, p.runs_tasks_per_sec.clone()))
                .collect(),
        }
    }

    /// The scalability models of each gate's medians (in `gates()` order):
    /// raw, and capacity-normalized when the file has a per-count calibration,
    /// with intervals from the runs ([`scaling_model::fit_all`]).
    pub fn models(&self, project: &[usize]) -> (Normalization, Vec<scaling_model::GateOutcome>) {
        let series: Vec<Measured> = self
            .gates()
            .into_iter()
            .map(|gate| self.measured(gate))
            .collect();
        scaling_model::fit_all(&series, Some(self.scaling_by_workers()), project)
    }
}

/// Runs the sweep, then calibrates the machine at each of its worker counts
/// ([`Calibration::measure_each`], [`calibrate::QUICK_WINDOW`] per count
/// and one more for a thread alone); `on_run` sees each result as it arrives
/// (for progress).
///
/// # Panics
///
/// As [`runner::run`], for an invalid worker or task count.
pub fn sweep(cfg: &SweepConfig, mut on_run: impl FnMut(&RunResult)) -> SweepFile {
    let results: Vec<RunResult> = cfg
        .schedule()
        .iter()
        .map(|run| {
            let result = runner::run(run);
            on_run(&result);
            result
        })
        .collect();
    let mut file = summarize(cfg, &results);
    if !cfg.workers.is_empty() {
        file.calibration = Some(Calibration::measure_each(
            &cfg.workers,
            calibrate::QUICK_WINDOW,
        ));
    }
    file
}

/// Groups `results` into points: gates in `cfg.gates` order, workers
/// ascending (no calibration: [`sweep`] adds it).
pub fn summarize(cfg: &SweepConfig, results: &[RunResult]) -> SweepFile {
    let mut workers = cfg.workers.clone();
    workers.sort_unstable();
    workers.dedup();
    let mut points = Vec::new();
    for gate in &cfg.gates {
        for &n in &workers {
            let group: Vec<&RunResult> = results
                .iter()
                .filter(|r| r.gate == gate.name() && r.workers == n)
                .collect();
            let throughput = Spread::of(&group.iter().map(|r| r.tasks_per_sec).collect::<Vec<_>>());
            let took = Spread::of(&group.iter().map(|r| r.took_ms).collect::<Vec<_>>());
            if let (Some(throughput), Some(took)) = (throughput, took) {
                points.push(SweepPoint {
                    gate: gate.name().to_owned(),
                    workers: n,
                    median_tasks_per_sec: throughput.median,
                    min_tasks_per_sec: throughput.min,
                    max_tasks_per_sec: throughput.max,
                    median_ms: took.median,
                    runs: group.len(),
                    runs_tasks_per_sec: group.iter().map(|r| r.tasks_per_sec).collect(),
                });
            }
        }
    }
    SweepFile {
        workload: cfg.workload.name().to_owned(),
        queue: cfg.queue.name().to_owned(),
        tasks: cfg.tasks,
        points,
        calibration: None,
    }
}

/// Where [`write_outputs`] put its files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepOutputs {
    /// `sweep.json`: the [`SweepFile`].
    pub json: PathBuf,
    /// `sweep.csv`: one row per point.
    pub csv: PathBuf,
    /// `sweep.svg`: measured throughput vs workers per gate (solid), the
    /// fitted model dashed — capacity-normalized when the sweep has a
    /// per-count calibration, with the normalized points hollow.
    pub svg: PathBuf,
}

/// Checks, before any measuring, that [`write_outputs`] will be able to write
/// into `dir`: creates it if missing, and writes and removes a probe file
/// there. A sweep takes minutes; a typo in `--out` should cost none of them.
///
/// # Errors
///
/// When `dir` cannot be created or written, or one of the output names is
/// taken by a directory; the message names the path.
pub fn check_out_dir(dir: &Path) -> Result<(), Box<dyn Error>> {
    fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create output directory {}: {e}", dir.display()))?;
    for name in ["sweep.json", "sweep.csv", "sweep.svg"] {
        let path = dir.join(name);
        if path.is_dir() {
            return Err(format!("cannot write {}: it is a directory", path.display()).into());
        }
    }
    let probe = dir.join(".crosscall-lab-write-check");
    fs::write(&probe, b"")
        .map_err(|e| format!("cannot write into output directory {}: {e}", dir.display()))?;
    fs::remove_file(&probe).map_err(|e| format!("cannot remove {}: {e}", probe.display()))?;
    Ok(())
}

/// Workers the sweep plot projects the fitted models to.
pub const PROJECT_PLOT_TO: f64 = 64.0;

/// Writes `sweep.json`, `sweep.csv` and `sweep.svg` into `dir` (created if
/// missing). The plot shows the measurements and the fitted model of each
/// gate with at least three worker counts, projected to [`PROJECT_PLOT_TO`]
/// workers on a logarithmic worker axis (see [`scaling_model::plot_options`]);
/// without any fit it is a plain linear plot.
///
/// # Errors
///
/// If the directory or a file cannot be written, or the plot cannot be drawn.
pub fn write_outputs(dir: &Path, file: &SweepFile) -> Result<SweepOutputs, Box<dyn Error>> {
    fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create output directory {}: {e}", dir.display()))?;
    let outputs = SweepOutputs {
        json: dir.join("sweep.json"),
        csv: dir.join("sweep.csv"),
        svg: dir.join("sweep.svg"),
    };
    let json = serde_json::to_string_pretty(file)?;
    fs::write(&outputs.json, json + "\n")
        .map_err(|e| format!("cannot write {}: {e}", outputs.json.display()))?;

    let mut csv = csv::Writer::from_path(&outputs.csv)
        .map_err(|e| format!("cannot write {}: {e}", outputs.csv.display()))?;
    for p in &file.points {
        csv.serialize(CsvRow {
            gate: &p.gate,
            workers: p.workers,
            median_tasks_per_sec: p.median_tasks_per_sec,
            min_tasks_per_sec: p.min_tasks_per_sec,
            max_tasks_per_sec: p.max_tasks_per_sec,
            median_ms: p.median_ms,
            runs: p.runs,
        })?;
    }
    csv.flush()?;

    // Projected where the lab projects, as far as the plot goes.
    let plotted: Vec<usize> = DEFAULT_PROJECTION
        .into_iter()
        .filter(|&n| n as f64 <= PROJECT_PLOT_TO)
        .collect();
    let (normalization, models) = file.models(&plotted);
    let baseline = models
        .iter()
        .find(|(gate, _)| gate == reading::BASELINE)
        .and_then(|(_, model)| model.as_ref().ok());
    let series: Vec<plot::Series> = models
        .iter()
        .map(|(gate, model)| {
            let mut series =
                scaling_model::plot_series(gate, file.series(gate), model.as_ref().ok(), baseline);
            series.ranges = file
                .points
                .iter()
                .filter(|p| &p.gate == gate && p.runs > 1)
                .map(|p| (p.workers as f64, p.min_tasks_per_sec, p.max_tasks_per_sec))
                .collect();
            if let Err(err) = model {
                series.note = Some(format!("not fitted: {err}"));
            }
            series
        })
        .collect();
    // One reason shared by every series is said once, under the legend.
    let mut notes: Vec<&Option<String>> = series.iter().map(|s| &s.note).collect();
    notes.dedup();
    let shared_note = match notes.as_slice() {
        [Some(note)] if series.len() > 1 => Some(note.clone()),
        _ => None,
    };
    let series: Vec<plot::Series> = if shared_note.is_some() {
        series
            .into_iter()
            .map(|s| plot::Series { note: None, ..s })
            .collect()
    } else {
        series
    };
    let title = format!(
        "{} workload, {} queue, {} tasks per run",
        file.workload, file.queue, file.tasks
    );
    if series.iter().any(|s| s.fit.is_some()) {
        // Draw the models out to a many-core machine.
        let options = scaling_model::plot_options(normalization.applied, PROJECT_PLOT_TO);
        // Short enough to fit the image: the tasks per run are in sweep.json.
        let setup = format!("{} workload, {} queue", file.workload, file.queue);
        let title = if normalization.applied {
            format!("{setup}: measured, and modelled one core per worker")
        } else {
            format!("{setup}: measured, and modelled on this machine")
        };
        let options = plot::PlotOptions {
            footnote: shared_note,
            ..options
        };
        plot::throughput_svg_with(&outputs.svg, &title, &series, &options)
    } else {
        let options = plot::PlotOptions {
            footnote: shared_note,
            ..plot::PlotOptions::default()
        };
        plot::throughput_svg_with(&outputs.svg, &title, &series, &options)
    }
    .map_err(|e| format!("cannot draw {}: {e}", outputs.svg.display()))?;
    Ok(outputs)
}

/// The sweep as a text table (median and range per point) followed by the
/// models ([`scaling_model::render`]: capacity-normalized and raw, projected
/// to [`DEFAULT_PROJECTION`]), and for a gate that could not be fitted, why.
pub fn render(file: &SweepFile) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:>7} {:>10} {:>19} {:>8} {:>11} {:>5}",
        "gate", "workers", "Mtasks/s", "range Mtasks/s", "spread", "median ms", "runs"
    );
    for p in &file.points {
        let range = format!(
            "{:.3}–{:.3}",
            p.min_tasks_per_sec / 1e6,
            p.max_tasks_per_sec / 1e6
        );
        let spread = Spread {
            median: p.median_tasks_per_sec,
            min: p.min_tasks_per_sec,
            max: p.max_tasks_per_sec,
        }
        .relative_range();
        let _ = writeln!(
            out,
            "{:<12} {:>7} {:>10.3} {:>19} {:>7.1}% {:>11.1} {:>5}",
            p.gate,
            p.workers,
            p.median_tasks_per_sec / 1e6,
            range,
            spread * 100.0,
            p.median_ms,
            p.runs
        );
    }
    let (normalization, models) = file.models(&DEFAULT_PROJECTION);
    let fitted: Vec<GateModel> = models
        .iter()
        .filter_map(|(_, model)| model.as_ref().ok().cloned())
        .collect();
    if !fitted.is_empty() {
        out.push('\n');
        let source = format!(
            "the medians above ({} workload, {} queue, {} tasks)",
            file.workload, file.queue, file.tasks
        );
        out.push_str(&scaling_model::render(
            &source,
            &normalization,
            &fitted,
            &DEFAULT_PROJECTION,
        ));
    }
    for (gate, model) in &models {
        if let Err(err) = model {
            let _ = writeln!(out, "model {gate}: not fitted: {err}");
        }
    }
    if let Some(calibration) = &file.calibration {
        let _ = writeln!(out, "{}", calibration.summary());
    }
    out
}
