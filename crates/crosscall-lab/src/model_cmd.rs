//! `crosscall-lab model`: fits the Universal Scalability Law ([`crate::usl`]) to
//! a sweep (or to points given on the command line) and projects throughput to
//! worker counts this machine does not have.
//!
//! ```text
//! crosscall-lab model --from lab-out/sweep.json
//! crosscall-lab model --points "1:100,2:190,4:350" --project 8,64 --format json
//! ```

use std::error::Error;
use std::path::PathBuf;

use crate::plot::{self, PlotOptions, Series};
use crate::sweep::SweepFile;
use crate::usl::{self, UslFit};

/// Worker counts projected to when `--project` is not given.
pub const DEFAULT_PROJECTION: [usize; 5] = [8, 16, 32, 64, 128];

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
    /// Only these gates from the sweep file (repeatable or comma-separated).
    #[arg(long, value_delimiter = ',', requires = "from")]
    pub gate: Vec<String>,
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

/// The model of one series.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Model {
    /// Gate name (or `points` for `--points`).
    pub name: String,
    /// The measurements fitted, `(workers, throughput)`.
    #[serde(serialize_with = "points_as_objects")]
    pub points: Vec<(f64, f64)>,
    /// The fitted coefficients.
    pub fit: UslFit,
    /// `N*`, where throughput peaks (`None`: it does not).
    pub peak_workers: Option<f64>,
    /// Modelled throughput at `N*`.
    pub peak_throughput: Option<f64>,
    /// Modelled throughput at each projected worker count.
    pub projected: Vec<Projection>,
}

/// Modelled throughput at one worker count.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Projection {
    /// Worker count.
    pub workers: usize,
    /// Modelled throughput, in the unit of the measurements (tasks/s for sweeps).
    pub throughput: f64,
}

impl Model {
    /// Fits `points` and projects to `project`.
    ///
    /// # Errors
    ///
    /// As [`usl::fit`], with the series name in front.
    pub fn fit(
        name: &str,
        points: Vec<(f64, f64)>,
        project: &[usize],
    ) -> Result<Model, Box<dyn Error>> {
        let fit = usl::fit(&points).map_err(|err| format!("{name}: {err}"))?;
        let peak_workers = fit.peak_workers();
        Ok(Model {
            name: name.to_owned(),
            projected: project
                .iter()
                .map(|&workers| Projection {
                    workers,
                    throughput: fit.throughput(workers as f64),
                })
                .collect(),
            peak_throughput: peak_workers.map(|n| fit.throughput(n)),
            peak_workers,
            points,
            fit,
        })
    }
}

/// `[{"workers": N, "throughput": X}, …]` rather than bare pairs, for readers of the JSON.
fn points_as_objects<S: serde::Serializer>(points: &[(f64, f64)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(points.len()))?;
    for &(workers, throughput) in points {
        seq.serialize_element(
            &serde_json::json!({ "workers": workers, "throughput": throughput }),
        )?;
    }
    seq.end()
}

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
    let (source, series) = load(args)?;
    let models = series
        .into_iter()
        .map(|(name, points)| Model::fit(&name, points, &args.project))
        .collect::<Result<Vec<_>, _>>()?;
    match args.format {
        ModelFormat::Text => print!("{}", render(&source, &models, &args.project)),
        ModelFormat::Json => {
            let json = serde_json::json!({ "source": source, "models": models });
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
    }
    if let Some(path) = &args.plot {
        let series: Vec<Series> = models
            .iter()
            .map(|m| Series {
                name: m.name.clone(),
                points: m.points.clone(),
                fit: Some(m.fit),
            })
            .collect();
        let project_to = args.project.iter().max().map(|&n| n as f64);
        let measured_max = models
            .iter()
            .flat_map(|m| &m.points)
            .map(|p| p.0)
            .fold(1.0, f64::max);
        let options = PlotOptions {
            project_to,
            // Far projections on a linear axis squeeze the measurements into a corner.
            log_workers: project_to.is_some_and(|n| n > 4.0 * measured_max),
            ..PlotOptions::default()
        };
        plot::throughput_svg_with(
            path,
            &format!("scalability model ({source})"),
            &series,
            &options,
        )?;
        eprintln!("plot written to {}", path.display());
    }
    Ok(())
}

/// A series name and its `(workers, throughput)` measurements.
type NamedPoints = (String, Vec<(f64, f64)>);

/// The named series to fit, and a description of where they came from.
fn load(args: &ModelArgs) -> Result<(String, Vec<NamedPoints>), Box<dyn Error>> {
    if let Some(points) = &args.points {
        return Ok((
            "--points".to_owned(),
            vec![("points".to_owned(), points.0.clone())],
        ));
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
    for gate in &args.gate {
        if !available.contains(&gate.as_str()) {
            return Err(format!(
                "gate {gate:?} is not in {} (it has: {})",
                path.display(),
                available.join(", ")
            )
            .into());
        }
    }
    let series: Vec<NamedPoints> = available
        .iter()
        .filter(|gate| args.gate.is_empty() || args.gate.iter().any(|g| g == *gate))
        .map(|gate| (gate.to_string(), file.series(gate)))
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
    Ok((source, series))
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

/// The text table: coefficients, peak and projections, one row per model.
pub fn render(source: &str, models: &[Model], project: &[usize]) -> String {
    let mut out = format!(
        "Universal Scalability Law  X(N) = λN / (1 + α(N−1) + βN(N−1))\nfitted to {source}\n\n"
    );
    let mut header = format!(
        "{:<12} {:>6} {:>10} {:>8} {:>10} {:>7} {:>7}",
        "series", "counts", "λ", "α", "β", "r²", "N*"
    );
    for n in project {
        header.push_str(&format!(" {:>9}", format!("X({n})")));
    }
    out.push_str(&header);
    out.push('\n');
    for model in models {
        let mut counts: Vec<f64> = model.points.iter().map(|p| p.0).collect();
        counts.sort_by(f64::total_cmp);
        counts.dedup();
        let peak = model
            .peak_workers
            .map_or_else(|| "none".to_owned(), |n| format!("{n:.1}"));
        out.push_str(&format!(
            "{:<12} {:>6} {:>10} {:>8.4} {:>10} {:>7.4} {:>7}",
            model.name,
            counts.len(),
            si(model.fit.lambda),
            model.fit.alpha,
            if model.fit.beta == 0.0 {
                "0".to_owned()
            } else {
                format!("{:.3e}", model.fit.beta)
            },
            model.fit.r_squared,
            peak
        ));
        for projection in &model.projected {
            out.push_str(&format!(" {:>9}", si(projection.throughput)));
        }
        out.push('\n');
    }
    out.push_str(
        "\nλ: one worker's throughput; α: contention (serialized share); β: crosstalk \
         (coherency cost per pair);\nN*: worker count where throughput peaks; X(n): \
         projected throughput (tasks/s) at n workers.\n",
    );
    out
}

/// `12.3M`-style numbers for the table.
fn si(value: f64) -> String {
    match value.abs() {
        v if v >= 1e9 => format!("{:.2}G", value / 1e9),
        v if v >= 1e6 => format!("{:.2}M", value / 1e6),
        v if v >= 1e3 => format!("{:.1}k", value / 1e3),
        _ => format!("{value:.1}"),
    }
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
            gate: Vec::new(),
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
        let model = Model::fit("g", points, &[8, 64]).unwrap();
        for p in &model.projected {
            let want = truth.throughput(p.workers as f64);
            assert!(
                (p.throughput - want).abs() < 1e-6 * want,
                "{p:?}, want {want}"
            );
        }
        let peak = model.peak_workers.unwrap();
        assert!((peak - (0.9f64 / 0.001).sqrt()).abs() < 1e-3);
        let table = render("test", &[model], &[8, 64]);
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
        let (source, series) = load(&model_args).unwrap();
        assert!(source.contains("seed workload"), "{source}");
        let names: Vec<&str> = series.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(names, ["mutex", "none"]);
        assert_eq!(series[1].1, [(1.0, 100.0), (2.0, 195.0), (3.0, 280.0)]);

        model_args.gate = vec!["counter".into()];
        let err = load(&model_args).unwrap_err().to_string();
        std::fs::remove_file(&path).unwrap();
        assert!(
            err.contains("\"counter\" is not in") && err.contains("mutex, none"),
            "{err}"
        );
    }
}
