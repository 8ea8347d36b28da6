//! `crosscall-lab model`: fits the Universal Scalability Law ([`crate::model::usl`]) to
//! a sweep (or to points given on the command line) and projects throughput to
//! worker counts this machine does not have.
//!
//! A sweep file with a per-worker-count calibration gets two models per gate
//! ([`crate::model::scaling_model`]): *raw (this machine)*, and *capacity-normalized
//! (one core per worker)*, from which the projections are read. Older sweep
//! files, and `--points`, get the raw model only, and the output says so.
//!
//! ```text
//! crosscall-lab model --from lab-out/sweep.json
//! crosscall-lab model --points "1:100,2:190,4:350" --project 8,64 --format json
//! ```

use std::error::Error;
use std::path::PathBuf;

use crate::model::calibrate::ScalingAt;
use crate::model::reading;
use crate::model::scaling_model::{self, GateModel, Measured};
use crate::report::plot::{self, Series};
use crate::run::runner::GateKind;
use crate::run::sweep::SweepFile;

pub use crate::model::scaling_model::DEFAULT_PROJECTION;

/// Output format of `model`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelFormat {
    /// A table for people.
    #[default]
    Text,
    /// One JSON object.
    Json,
}

/// Arguments of `crosscall-lab model`.
#[derive(Clone, Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["from", "points"])))]
pub struct ModelArgs {
    /// A sweep file written by `crosscall-lab sweep` (its JSON output); one model per gate.
    #[arg(long, value_name = "SWEEP.json")]
    pub from: Option<PathBuf>,
    /// Measurements as WORKERS:THROUGHPUT pairs, e.g. "1:100,2:190,4:350".
    #[arg(long, value_name = "N:X,...", value_parser = parse_points)]
    pub points: Option<Points>,
    /// Gates, comma-separated [default: every gate in the sweep file].
    #[arg(
        long,
        alias = "gate",
        value_enum,
        value_delimiter = ',',
        requires = "from"
    )]
    pub gates: Vec<GateKind>,
    /// Worker counts to project throughput to.
    #[arg(long, value_delimiter = ',', default_values_t = DEFAULT_PROJECTION)]
    pub project: Vec<usize>,
    /// Also draw the measurements and the models (projected) into this SVG.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: ModelFormat,
}

/// `(workers, throughput)` measurements given on the command line.
#[derive(Clone, Debug, PartialEq)]
pub struct Points(pub Vec<(f64, f64)>);

/// Runs `crosscall-lab model`: prints the models as a table or JSON.
///
/// # Errors
///
/// When the sweep file cannot be read or parsed, a gate asked for is not in
/// it, `--project` has a 0, or a series cannot be fitted — in particular when
/// it has fewer than three worker counts (the message says how to get more).
pub fn run(args: &ModelArgs) -> Result<(), Box<dyn Error>> {
    if args.project.contains(&0) {
        return Err("--project: worker counts must be at least 1".into());
    }
    let loaded = load(args)?;
    let (normalization, fits) =
        scaling_model::fit_all(&loaded.series, loaded.scaling.as_deref(), &args.project);
    let models = fits
        .into_iter()
        .map(|(name, model)| model.map_err(|err| format!("{name}: {err}")))
        .collect::<Result<Vec<GateModel>, _>>()?;
    let source = &loaded.source;
    match args.format {
        ModelFormat::Text => print!(
            "{}",
            scaling_model::render(source, &normalization, &models, &args.project)
        ),
        ModelFormat::Json => {
            let json = serde_json::json!({
                "source": source,
                "normalization": normalization,
                "models": models,
            });
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
    }
    if let Some(path) = &args.plot {
        let series: Vec<Series> = models
            .iter()
            .map(|m| {
                let baseline = models.iter().find(|b| b.name == reading::BASELINE);
                let mut series =
                    scaling_model::plot_series(&m.name, m.raw.points.clone(), Some(m), baseline);
                series.ranges = loaded
                    .series
                    .iter()
                    .filter(|measured| measured.name == m.name)
                    .flat_map(|measured| &measured.runs)
                    .filter(|(_, runs)| runs.len() > 1)
                    .map(|(n, runs)| {
                        let low = runs.iter().copied().fold(f64::INFINITY, f64::min);
                        let high = runs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        (*n, low, high)
                    })
                    .collect();
                series
            })
            .collect();
        let project_to = args.project.iter().copied().max().unwrap_or(1) as f64;
        let measured_max = models
            .iter()
            .flat_map(|m| &m.raw.points)
            .map(|p| p.0)
            .fold(1.0, f64::max);
        let mut options = scaling_model::plot_options(normalization.applied, project_to);
        // Near projections read better on a linear axis; far ones squeeze the
        // measurements into a corner (the plot also keeps a linear axis when
        // no projection is drawn that far).
        options.log_workers = project_to > 4.0 * measured_max;
        // The legend says which line is raw and which normalized.
        plot::throughput_svg_with(
            path,
            &format!("scalability model ({source})"),
            &series,
            &options,
        )
        .map_err(|err| format!("cannot write the plot {}: {err}", path.display()))?;
        eprintln!("plot written to {}", path.display());
    }
    Ok(())
}

/// What `model` fits: named series, where they came from, and the
/// per-worker-count calibration to normalize them with.
#[derive(Debug)]
struct Loaded {
    source: String,
    series: Vec<Measured>,
    /// `None` for `--points`; from a sweep file, its per-count calibration
    /// (empty for files written before it was measured).
    scaling: Option<Vec<ScalingAt>>,
}

/// The named series to fit, and a description of where they came from.
fn load(args: &ModelArgs) -> Result<Loaded, Box<dyn Error>> {
    if let Some(points) = &args.points {
        return Ok(Loaded {
            source: "--points".to_owned(),
            series: vec![Measured {
                name: "points".to_owned(),
                points: points.0.clone(),
                runs: runs_by_workers(&points.0),
            }],
            scaling: None,
        });
    }
    let path = args
        .from
        .as_ref()
        .ok_or("give --from SWEEP.json or --points N:X,...")?;
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read sweep file {}: {err}", path.display()))?;
    let file: SweepFile = serde_json::from_str(&text).map_err(|err| {
        format!(
            "{} is not a sweep file (from `crosscall-lab sweep`): {err}",
            path.display()
        )
    })?;
    let available = file.gates();
    for gate in &args.gates {
        if !available.contains(&gate.name()) {
            return Err(format!(
                "gate \"{gate}\" is not in {} (it has: {})",
                path.display(),
                available.join(", ")
            )
            .into());
        }
    }
    let series: Vec<Measured> = available
        .iter()
        .filter(|gate| args.gates.is_empty() || args.gates.iter().any(|g| g.name() == **gate))
        .map(|gate| file.measured(gate))
        .collect();
    if series.is_empty() {
        return Err(format!("{} has no measurements", path.display()).into());
    }
    let source = format!(
        "{}: {} workload, {} queue, {} tasks",
        path.display(),
        file.workload,
        file.queue,
        file.tasks
    );
    Ok(Loaded {
        source,
        series,
        scaling: Some(file.scaling_by_workers().to_vec()),
    })
}

/// `--points` grouped by worker count: repeated counts are the repeats the
/// intervals are drawn from.
fn runs_by_workers(points: &[(f64, f64)]) -> Vec<(f64, Vec<f64>)> {
    let mut runs: Vec<(f64, Vec<f64>)> = Vec::new();
    for &(n, x) in points {
        match runs.iter_mut().find(|(m, _)| *m == n) {
            Some((_, xs)) => xs.push(x),
            None => runs.push((n, vec![x])),
        }
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    runs
}

/// Parses `--points`: comma-separated `WORKERS:THROUGHPUT` pairs.
fn parse_points(text: &str) -> Result<Points, String> {
    text.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (n, x) = pair
                .split_once(':')
                .ok_or_else(|| format!("{pair:?} is not WORKERS:THROUGHPUT (e.g. 4:350)"))?;
            let n: f64 = n
                .trim()
                .parse()
                .map_err(|_| format!("bad worker count in {pair:?}"))?;
            let x: f64 = x
                .trim()
                .parse()
                .map_err(|_| format!("bad throughput in {pair:?}"))?;
            Ok((n, x))
        })
        .collect::<Result<_, _>>()
        .map(Points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_parse_and_bad_pairs_are_named() {
        assert_eq!(
            parse_points("1:100, 2:190,4:350.5,").unwrap().0,
            [(1.0, 100.0), (2.0, 190.0), (4.0, 350.5)]
        );
        assert!(parse_points("1:100,2")
            .unwrap_err()
            .contains("\"2\" is not WORKERS:THROUGHPUT"));
        assert!(parse_points("x:100")
            .unwrap_err()
            .contains("bad worker count"));
        assert!(parse_points("1:fast")
            .unwrap_err()
            .contains("bad throughput"));
    }

    fn args(points: &str) -> ModelArgs {
        ModelArgs {
            from: None,
            points: Some(parse_points(points).unwrap()),
            gates: Vec::new(),
            project: DEFAULT_PROJECTION.to_vec(),
            plot: None,
            format: ModelFormat::Text,
        }
    }

    #[test]
    fn too_few_worker_counts_fail_with_a_plain_message() {
        let err = run(&args("1:100,2:190,2:191")).unwrap_err().to_string();
        assert!(err.contains("at least 3"), "{err}");
        assert!(err.contains("sweep --workers"), "{err}");
    }

    #[test]
    fn projections_follow_the_fit() {
        use crate::model::usl::UslFit;
        let truth = UslFit {
            lambda: 100.0,
            alpha: 0.1,
            beta: 0.001,
            r_squared: 1.0,
        };
        let points: Vec<(f64, f64)> = [1.0, 2.0, 4.0]
            .iter()
            .map(|&n| (n, truth.throughput(n)))
            .collect();
        let model = GateModel::fit("g", points, None, &[8, 64]).unwrap();
        for p in &model.raw.projected {
            let want = truth.throughput(p.workers as f64);
            assert!(
                (p.model_throughput - want).abs() < 1e-6 * want,
                "{p:?}, want {want}"
            );
        }
        let peak = model.raw.peak_workers.unwrap();
        assert!((peak - (0.9f64 / 0.001).sqrt()).abs() < 1e-3);
        let (normalization, _) = scaling_model::Normalization::of(None, &[]);
        let table = scaling_model::render("test", &normalization, &[model], &[8, 64]);
        assert!(table.contains("X(8)") && table.contains("X(64)"), "{table}");
        assert!(table.lines().any(|l| l.starts_with("g ")), "{table}");
    }

    #[test]
    fn a_sweep_file_yields_one_model_per_gate() {
        let file = serde_json::json!({
            "workload": "seed", "queue": "shared", "tasks": 1000,
            "points": [
                {"gate": "mutex", "workers": 1, "median_tasks_per_sec": 100.0, "min_tasks_per_sec": 99.0, "max_tasks_per_sec": 101.0, "median_ms": 10.0, "runs": 3},
                {"gate": "mutex", "workers": 2, "median_tasks_per_sec": 120.0, "min_tasks_per_sec": 119.0, "max_tasks_per_sec": 121.0, "median_ms": 8.3, "runs": 3},
                {"gate": "mutex", "workers": 3, "median_tasks_per_sec": 110.0, "min_tasks_per_sec": 109.0, "max_tasks_per_sec": 111.0, "median_ms": 9.1, "runs": 3},
                {"gate": "none", "workers": 1, "median_tasks_per_sec": 100.0, "min_tasks_per_sec": 99.0, "max_tasks_per_sec": 101.0, "median_ms": 10.0, "runs": 3},
                {"gate": "none", "workers": 2, "median_tasks_per_sec": 195.0, "min_tasks_per_sec": 190.0, "max_tasks_per_sec": 199.0, "median_ms": 5.1, "runs": 3},
                {"gate": "none", "workers": 3, "median_tasks_per_sec": 280.0, "min_tasks_per_sec": 270.0, "max_tasks_per_sec": 290.0, "median_ms": 3.6, "runs": 3}
            ]
        });
        let path =
            std::env::temp_dir().join(format!("crosscall-model-{}.json", std::process::id()));
        std::fs::write(&path, file.to_string()).unwrap();
        let mut model_args = args("1:1");
        model_args.points = None;
        model_args.from = Some(path.clone());
        let loaded = load(&model_args).unwrap();
        assert!(loaded.source.contains("seed workload"), "{}", loaded.source);
        let names: Vec<&str> = loaded.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["mutex", "none"]);
        assert_eq!(
            loaded.series[1].points,
            [(1.0, 100.0), (2.0, 195.0), (3.0, 280.0)]
        );
        // No calibration in the file: nothing to normalize with.
        assert_eq!(loaded.scaling, Some(vec![]));

        model_args.gates = vec![GateKind::Counter];
        let err = load(&model_args).unwrap_err().to_string();
        std::fs::remove_file(&path).unwrap();
        assert!(
            err.contains("\"counter\" is not in") && err.contains("mutex, none"),
            "{err}"
        );
    }
}
