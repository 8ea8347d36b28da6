//! The scalability model of a set of measured series (a sweep's gates): the
//! Universal Scalability Law ([`crate::model::usl`]) fitted to the raw measurements
//! and, when a per-worker-count calibration is at hand, to the
//! capacity-normalized ones ([`crate::model::capacity`]); projections to bigger
//! machines; and one plain sentence per gate ([`crate::model::reading`]).
//!
//! The raw fit describes *this machine*: past its core count the throughput is
//! capped by the cores, and the fit's β measures that cap. The normalized fit
//! is what the projections to 8…128 workers are made from.
//!
//! ```
//! use crosscall_lab::model::calibrate::ScalingAt;
//! use crosscall_lab::model::scaling_model::{GateModel, Normalization};
//!
//! // A gate with no contention on a 2-core machine: 3 and 4 workers only get 2 cores.
//! let raw = vec![(1.0, 100.0), (2.0, 200.0), (3.0, 200.0), (4.0, 200.0)];
//! let by_workers: Vec<ScalingAt> = (1..=4)
//!     .map(|n| ScalingAt { workers: n, scaling: n.min(2) as f64 })
//!     .collect();
//! let (normalization, normalized) = Normalization::of(Some(&by_workers), &[raw.clone()]);
//! assert!(normalization.applied);
//! let model = GateModel::fit("none", raw, normalized.map(|mut all| all.remove(0)), &[64])?;
//! assert!(model.raw.fit.beta > 0.01); // the machine's cap, read as crosstalk
//! let fair = model.normalized.as_ref().unwrap();
//! assert!(fair.fit.alpha < 1e-6 && fair.fit.beta < 1e-9);
//! assert!((fair.projected[0].model_throughput - 6400.0).abs() < 1e-3);
//! # Ok::<(), crosscall_lab::model::usl::FitError>(())
//! ```

use std::fmt::Write as _;

use crate::model::bootstrap::{self, Interval, Judgement, NoInterval};
use crate::model::calibrate::ScalingAt;
use crate::model::capacity;
use crate::model::reading::{self, plain_reading, reading_against};
use crate::model::units::si;
use crate::model::usl::{self, FitError, UslFit};
use crate::report::plot::{PlotOptions, Series};

/// Worker counts projected to unless told otherwise.
pub const DEFAULT_PROJECTION: [usize; 5] = [8, 16, 32, 64, 128];

/// The worker count the plain readings speak about: the many-core machine
/// the lab's projections are for.
pub const READING_HORIZON: usize = 64;

/// The law fitted to one series, with its peak and projections.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Fitted {
    /// The points fitted, `(workers, throughput)`.
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
    /// Intervals of the coefficients over the repeats (`None`: no interval,
    /// `interval_note` says why).
    pub intervals: Option<CoefficientIntervals>,
    /// Why there are no intervals.
    pub interval_note: Option<String>,
    /// The projection to [`READING_HORIZON`] workers the reading speaks of
    /// (`None` until assessed by [`fit_all`]).
    pub at_reading_horizon: Option<Projection>,
}

/// Modelled throughput at one worker count, and whether the lab stands
/// behind it ([`bootstrap`]).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Projection {
    /// Worker count.
    pub workers: usize,
    /// The fitted curve's value, in the unit of the measurements (tasks/s
    /// for sweeps), before the baseline cap: for reference only.
    pub model_throughput: f64,
    /// The projection the lab stands behind: the model's value capped at the
    /// baseline's, or `None` when it declines to project (`declined` says why).
    pub throughput: Option<f64>,
    /// The 90% bootstrap interval over the repeats (capped like the figure).
    pub interval: Option<Interval>,
    /// The model's value was above the no-gate baseline's and was capped to it.
    pub capped_at_baseline: bool,
    /// Why there is no figure.
    pub declined: Option<String>,
}

/// 90% bootstrap intervals of a fit's coefficients.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct CoefficientIntervals {
    /// Of `λ`.
    pub lambda: Option<Interval>,
    /// Of `α`.
    pub alpha: Option<Interval>,
    /// Of `β`.
    pub beta: Option<Interval>,
    /// Of `N*` (`None` also when too many replicates have no peak).
    pub peak_workers: Option<Interval>,
}

impl Fitted {
    /// Fits `points` and projects to `project`.
    ///
    /// # Errors
    ///
    /// As [`usl::fit`].
    pub fn new(points: Vec<(f64, f64)>, project: &[usize]) -> Result<Fitted, FitError> {
        let fit = usl::fit(&points)?;
        let peak_workers = fit.peak_workers();
        Ok(Fitted {
            projected: project
                .iter()
                .map(|&workers| Projection {
                    workers,
                    model_throughput: fit.throughput(workers as f64),
                    throughput: None,
                    interval: None,
                    capped_at_baseline: false,
                    declined: Some(NOT_ASSESSED.to_owned()),
                })
                .collect(),
            peak_throughput: peak_workers.map(|n| fit.throughput(n)),
            peak_workers,
            points,
            fit,
            intervals: None,
            interval_note: Some(NOT_ASSESSED.to_owned()),
            at_reading_horizon: None,
        })
    }

    /// Gives every projection its interval from `replicates` (one fit per
    /// bootstrap replicate of the same basis), caps it at `baseline` (the
    /// no-gate fit and its replicates, for every series but the baseline's
    /// own), and projects or declines ([`bootstrap::judge`]).
    pub fn assess(
        &mut self,
        replicates: Result<&[Option<UslFit>], &NoInterval>,
        baseline: Option<(&UslFit, Option<&[Option<UslFit>]>)>,
    ) {
        let of = |pick: fn(&UslFit) -> f64, reps: &[Option<UslFit>]| {
            bootstrap::percentile_interval(
                &reps
                    .iter()
                    .map(|f| f.as_ref().map(pick))
                    .collect::<Vec<_>>(),
            )
            .ok()
        };
        match replicates {
            Ok(reps) => {
                self.intervals = Some(CoefficientIntervals {
                    lambda: of(|f| f.lambda, reps),
                    alpha: of(|f| f.alpha, reps),
                    beta: of(|f| f.beta, reps),
                    // A replicate without a peak counts as a failed value:
                    // with too many of them there is no interval.
                    peak_workers: bootstrap::percentile_interval(
                        &reps
                            .iter()
                            .map(|f| f.as_ref().and_then(UslFit::peak_workers))
                            .collect::<Vec<_>>(),
                    )
                    .ok(),
                });
                self.interval_note = None;
            }
            Err(why) => {
                self.intervals = None;
                self.interval_note = Some(why.0.clone());
            }
        }
        let fit = self.fit;
        for p in &mut self.projected {
            *p = project_at(&fit, p.workers, replicates, baseline);
        }
        self.at_reading_horizon = Some(project_at(&fit, READING_HORIZON, replicates, baseline));
    }
}

/// The projection of `fit` to `workers`: capped at the baseline, with its
/// interval over `replicates` (each capped at the same replicate of the
/// baseline), projected or declined ([`bootstrap::judge`]).
fn project_at(
    fit: &UslFit,
    workers: usize,
    replicates: Result<&[Option<UslFit>], &NoInterval>,
    baseline: Option<(&UslFit, Option<&[Option<UslFit>]>)>,
) -> Projection {
    let n = workers as f64;
    let model_throughput = fit.throughput(n);
    let base_figure = baseline.map(|(fit, _)| fit.throughput(n));
    let (figure, capped_at_baseline) = bootstrap::cap_at_baseline(model_throughput, base_figure);
    let interval = replicates.map_err(Clone::clone).and_then(|reps| {
        let values: Vec<Option<f64>> = reps
            .iter()
            .enumerate()
            .map(|(b, fit)| {
                let value = fit.as_ref()?.throughput(n);
                let base = match baseline {
                    None => None,
                    Some((_, Some(base_reps))) => Some(base_reps.get(b)?.as_ref()?.throughput(n)),
                    Some((fit, None)) => Some(fit.throughput(n)),
                };
                Some(bootstrap::cap_at_baseline(value, base).0)
            })
            .collect();
        bootstrap::percentile_interval(&values)
    });
    let (throughput, declined) = match interval
        .clone()
        .map(|iv| bootstrap::judge(figure, Some(iv)))
    {
        Ok(Judgement::Projected(x)) => (Some(x), None),
        Ok(Judgement::Declined(why)) | Err(NoInterval(why)) => (None, Some(why)),
    };
    Projection {
        workers,
        model_throughput,
        throughput,
        interval: interval.ok(),
        capped_at_baseline,
        declined,
    }
}

/// Why a fit made alone (not through [`fit_all`]) projects nothing.
const NOT_ASSESSED: &str = "no interval: fitted without its repeats";

/// Which fit a reading is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// The measurements as they are (this machine).
    Raw,
    /// The capacity-normalized measurements (one core per worker).
    Normalized,
}

/// Both models of one gate (or series).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GateModel {
    /// Gate name (or `points` for points given on the command line).
    pub name: String,
    /// Fitted to the measurements as they are: describes this machine.
    pub raw: Fitted,
    /// Fitted to the capacity-normalized measurements (`None` without a
    /// per-worker-count calibration): what the projections are for.
    pub normalized: Option<Fitted>,
    /// One sentence on what the model means (of `normalized` when present;
    /// read against the no-gate series by [`fit_all`] when it has one).
    pub reading: String,
    /// Which fit `reading` is of.
    pub reading_basis: Basis,
}

impl GateModel {
    /// Fits `raw` and, when given, `normalized` (the same worker counts), and
    /// projects both to `project`.
    ///
    /// # Errors
    ///
    /// As [`usl::fit`]; the raw points are fitted first.
    pub fn fit(
        name: &str,
        raw: Vec<(f64, f64)>,
        normalized: Option<Vec<(f64, f64)>>,
        project: &[usize],
    ) -> Result<GateModel, FitError> {
        let raw = Fitted::new(raw, project)?;
        let normalized = normalized
            .map(|points| Fitted::new(points, project))
            .transpose()?;
        let (basis, read) = match &normalized {
            Some(fitted) => (Basis::Normalized, fitted),
            None => (Basis::Raw, &raw),
        };
        Ok(GateModel {
            name: name.to_owned(),
            reading: plain_reading(&read.fit, READING_HORIZON),
            reading_basis: basis,
            raw,
            normalized,
        })
    }

    /// The model the projections are read from: normalized when present.
    pub fn projecting(&self) -> &Fitted {
        self.normalized.as_ref().unwrap_or(&self.raw)
    }
}

/// `(workers, throughput)` points of one series.
pub type Curve = Vec<(f64, f64)>;

/// Whether the series were capacity-normalized, with what, or why not.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Normalization {
    /// `true` when every series was normalized.
    pub applied: bool,
    /// How (when applied) or why not.
    pub note: String,
    /// `c(n)` used, ascending by worker count (empty when not applied).
    pub compute_scaling_by_workers: Vec<ScalingAt>,
}

impl Normalization {
    /// Normalizes every series with `by_workers` — all or none: if one point
    /// lacks a calibration, nothing is normalized and the note says why.
    pub fn of(
        by_workers: Option<&[ScalingAt]>,
        series: &[Vec<(f64, f64)>],
    ) -> (Normalization, Option<Vec<Curve>>) {
        let not_applied = |note: String| Normalization {
            applied: false,
            note,
            compute_scaling_by_workers: Vec::new(),
        };
        let Some(by_workers) = by_workers else {
            return (
                not_applied(
                    "no calibration given: raw fit only, projections describe this machine"
                        .to_owned(),
                ),
                None,
            );
        };
        match series
            .iter()
            .map(|points| capacity::normalize(points, by_workers))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(normalized) => (
                Normalization {
                    applied: true,
                    note: format!(
                        "X'(n) = X(n)·n/c(n), c(n) = pure-compute scaling of n threads here \
                         (c = {}); assumes a worker's progress is proportional to its CPU \
                         share: fair for gates without shared writes, a best case for \
                         lock-based ones",
                        capacity::describe(by_workers)
                    ),
                    compute_scaling_by_workers: by_workers.to_vec(),
                },
                Some(normalized),
            ),
            Err(err) => (not_applied(err.to_string()), None),
        }
    }
}

/// One measured series: its name, the points to fit, and every run behind
/// them (for the intervals).
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    /// Series (gate) name.
    pub name: String,
    /// `(workers, throughput)` points to fit (a sweep's medians).
    pub points: Curve,
    /// Per worker count, the throughput of every run (empty: none known).
    pub runs: Vec<(f64, Vec<f64>)>,
}

/// A series name and its models, or why it could not be fitted.
pub type GateOutcome = (String, Result<GateModel, FitError>);

/// One fit per bootstrap replicate: raw, and normalized when applied.
type ReplicateFits = (Vec<Option<UslFit>>, Option<Vec<Option<UslFit>>>);

/// Fits every series, normalized with `by_workers` when it covers them all
/// (see [`Normalization::of`]); a series that cannot be fitted keeps its error.
/// Every projection gets its bootstrap interval from the series' runs, is
/// capped at the no-gate series' projection, and is declined where the
/// interval is wider than the figure ([`Fitted::assess`]).
pub fn fit_all(
    series: &[Measured],
    by_workers: Option<&[ScalingAt]>,
    project: &[usize],
) -> (Normalization, Vec<GateOutcome>) {
    let raw: Vec<Vec<(f64, f64)>> = series.iter().map(|s| s.points.clone()).collect();
    let (normalization, normalized) = Normalization::of(by_workers, &raw);
    let mut normalized = normalized.map(Vec::into_iter);
    let mut models: Vec<GateOutcome> = series
        .iter()
        .map(|s| {
            let normalized = normalized.as_mut().and_then(Iterator::next);
            (
                s.name.clone(),
                GateModel::fit(&s.name, s.points.clone(), normalized, project),
            )
        })
        .collect();
    let scaling = by_workers.filter(|_| normalization.applied);
    let replicates: Vec<Result<ReplicateFits, NoInterval>> = series
        .iter()
        .map(|s| {
            let curves = bootstrap::replicate_curves(&s.name, &s.runs)?;
            let raw = curves.iter().map(|c| usl::fit(c).ok()).collect();
            let normalized = scaling.map(|by| {
                curves
                    .iter()
                    .map(|c| {
                        capacity::normalize(c, by)
                            .ok()
                            .and_then(|p| usl::fit(&p).ok())
                    })
                    .collect()
            });
            Ok((raw, normalized))
        })
        .collect();
    let base_index = models
        .iter()
        .position(|(name, model)| name == reading::BASELINE && model.is_ok());
    let base_model = base_index.and_then(|i| models[i].1.as_ref().ok().cloned());
    let base_reps = base_index.and_then(|i| replicates[i].as_ref().ok());
    for (index, (_, model)) in models.iter_mut().enumerate() {
        let Ok(model) = model else { continue };
        let reps = replicates[index].as_ref();
        let is_base = Some(index) == base_index;
        let base_raw = base_model
            .as_ref()
            .filter(|_| !is_base)
            .map(|b| (&b.raw.fit, base_reps.map(|r| r.0.as_slice())));
        model.raw.assess(reps.map(|r| r.0.as_slice()), base_raw);
        if let Some(normalized) = &mut model.normalized {
            let base_normalized = base_model
                .as_ref()
                .filter(|_| !is_base)
                .and_then(|b| b.normalized.as_ref())
                .map(|b| (&b.fit, base_reps.and_then(|r| r.1.as_deref())));
            let no_reps = NoInterval("no normalized replicates".to_owned());
            let reps = match reps {
                Ok((_, Some(normalized_reps))) => Ok(normalized_reps.as_slice()),
                Ok((_, None)) => Err(&no_reps),
                Err(why) => Err(why),
            };
            normalized.assess(reps, base_normalized);
        }
    }
    // Read every gate against the no-gate series, when it was fitted.
    let baseline = models
        .iter()
        .find(|(name, _)| name == reading::BASELINE)
        .and_then(|(_, model)| model.as_ref().ok())
        .map(|m| m.projecting().fit);
    if let Some(base) = baseline {
        for model in models.iter_mut().filter_map(|(_, m)| m.as_mut().ok()) {
            let fitted = model.projecting();
            let measured_up_to = fitted.points.iter().map(|p| p.0).fold(1.0, f64::max);
            model.reading =
                reading_against(&fitted.fit, Some(&base), measured_up_to, READING_HORIZON);
        }
    }
    // No sentence about a horizon the lab declines to project to.
    for model in models.iter_mut().filter_map(|(_, m)| m.as_mut().ok()) {
        let fitted = model.projecting();
        if let Some(Projection {
            declined: Some(why),
            ..
        }) = &fitted.at_reading_horizon
        {
            model.reading = reading::undecided(&fitted.fit, READING_HORIZON, why);
        }
    }
    (normalization, models)
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

/// Label of the normalized table and plot.
pub const NORMALIZED_LABEL: &str = "capacity-normalized (one core per worker)";
/// Label of the raw table and plot.
pub const RAW_LABEL: &str = "raw (this machine)";

/// The text report: what was fitted, then one line per gate (its fit and its
/// projections, read from the normalized fit when applied), one plain reading
/// per gate, and what every `—` means — each reason once, under a letter.
pub fn render(
    source: &str,
    normalization: &Normalization,
    models: &[GateModel],
    project: &[usize],
) -> String {
    let mut out = format!(
        "Universal Scalability Law  X(N) = λN / (1 + α(N−1) + βN(N−1)), fitted to {source}\n"
    );
    if normalization.applied {
        let _ = writeln!(
            out,
            "figures below: {NORMALIZED_LABEL}, X'(n) = X(n)·n/c(n), c = {}",
            capacity::describe(&normalization.compute_scaling_by_workers)
        );
    } else {
        let _ = writeln!(
            out,
            "figures below: {RAW_LABEL} (past its cores they measure the machine, not the gate); \
             {NORMALIZED_LABEL}: not available: {}",
            normalization.note
        );
    }
    let mut reasons = Reasons::default();
    let baseline = models.iter().find(|m| m.name == reading::BASELINE);
    out.push('\n');
    let _ = write!(
        out,
        "{:<12} {:>12} {:>7} {:>9} {:>9}",
        "gate", "λ (1 worker)", "α", "β", "peak at"
    );
    for n in project {
        let _ = write!(out, " {:>9}", format!("X({n})"));
    }
    out.push('\n');
    for model in models {
        let fitted = model.projecting();
        let peak_interval = fitted.intervals.and_then(|i| i.peak_workers);
        let peak = match fitted.peak_workers {
            None => "no peak".to_owned(),
            Some(n) => match bootstrap::judge(n, peak_interval) {
                Judgement::Projected(n) => format!("{n:.1}"),
                Judgement::Declined(why) => {
                    let why = fitted.interval_note.as_deref().unwrap_or(&why);
                    format!("—{}", reasons.letter(why))
                }
            },
        };
        let _ = write!(
            out,
            "{:<12} {:>12} {:>7.3} {:>9} {:>9}",
            model.name,
            si(fitted.fit.lambda),
            fitted.fit.alpha,
            if fitted.fit.beta == 0.0 {
                "0".to_owned()
            } else {
                format!("{:.2e}", fitted.fit.beta)
            },
            peak
        );
        for projection in &fitted.projected {
            // A gate's figure where the baseline's is declined has nothing capping it:
            // it is not shown (it would read as the best gate there).
            let uncapped = model.name != reading::BASELINE
                && baseline.is_some_and(|b| {
                    b.projecting()
                        .projected
                        .iter()
                        .any(|p| p.workers == projection.workers && p.throughput.is_none())
                });
            let cell = match (projection.throughput, &projection.declined) {
                (Some(_), _) if uncapped => format!("—{}", reasons.letter(UNCAPPED)),
                (Some(x), _) if projection.capped_at_baseline => format!("{}*", si(x)),
                (Some(x), _) => si(x),
                (None, why) => format!(
                    "—{}",
                    reasons.letter(why.as_deref().unwrap_or("the model gives no figure"))
                ),
            };
            let _ = write!(out, " {cell:>9}");
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\nwhat each gate's fit says, read at {READING_HORIZON} workers:"
    );
    for model in models {
        let reading = match model.reading.split_once(" — not read at ") {
            Some((_, rest)) => {
                let why = rest.split_once(": ").map_or(rest, |(_, why)| why);
                format!(
                    "not read at {READING_HORIZON} workers (—{})",
                    reasons.letter(why)
                )
            }
            None => model.reading.clone(),
        };
        let _ = writeln!(out, "  {:<12} {reading}", model.name);
    }
    if !reasons.0.is_empty() {
        out.push_str("\n— no figure, because:\n");
        for (i, why) in reasons.0.iter().enumerate() {
            let _ = writeln!(out, "  {}: {why}", letter(i));
        }
    }
    out.push('\n');
    if models
        .iter()
        .flat_map(|m| &m.projecting().projected)
        .any(|p| p.capped_at_baseline && p.throughput.is_some())
    {
        out.push_str(
            "*: capped at none's projection: a gate adds cost to the ungated call, it never \
             removes any.\n",
        );
    }
    out.push_str(
        "λ: one worker's throughput (tasks/s); α: contention (serialized share); β: crosstalk \
         (coherency cost per pair);\npeak at: the worker count where throughput peaks (no peak: \
         it keeps growing); X(n): projected throughput at n workers.\n",
    );
    if normalization.applied {
        let _ = writeln!(
            out,
            "normalized figures assume a worker's progress is proportional to its CPU share: a \
             fair estimate for gates\nwithout shared writes, a best case for lock-based ones. \
             The {RAW_LABEL} fits, and every interval: --format json."
        );
    } else {
        out.push_str("Every interval: --format json.\n");
    }
    out
}

/// Why a gate's projection is not shown where the baseline's is declined.
const UNCAPPED: &str = "none's own projection here is declined, so nothing caps this gate's \
(a gate only adds cost to the ungated call): its figure is in --format json";

/// The reasons a figure is missing, each once, in the order first met.
#[derive(Default)]
struct Reasons(Vec<String>);

impl Reasons {
    /// The letter of `why` (its kind: intervals wider than their figures are one reason,
    /// whatever their bounds).
    fn letter(&mut self, why: &str) -> char {
        let kind = if why.contains("wider than the figure") {
            "its 90% bootstrap interval over the repeats is wider than the figure itself: the \
             repeats disagree too much to project that far (more repeats, or a quieter machine, \
             narrow it)"
                .to_owned()
        } else if why == "no interval" {
            "no interval could be made from the repeats".to_owned()
        } else {
            why.to_owned()
        };
        let index = match self.0.iter().position(|known| *known == kind) {
            Some(index) => index,
            None => {
                self.0.push(kind);
                self.0.len() - 1
            }
        };
        letter(index)
    }
}

/// `a`, `b`, … for the `index`-th reason.
fn letter(index: usize) -> char {
    char::from(b'a' + (index % 26) as u8)
}

/// The plot series of one gate: raw measurements (solid); its normalized
/// points (hollow) and the fit drawn dashed — normalized when present —
/// never above `baseline`'s fit (the no-gate series', same basis) and only
/// as far as the lab projects: to the largest worker count in `project` it
/// gives a figure for, and, for a gate, no further than the baseline's own
/// projection goes (past it nothing would cap the gate). Where the dashed
/// line stops short, or is missing, the series' note says why.
pub fn plot_series(
    name: &str,
    raw: Vec<(f64, f64)>,
    model: Option<&GateModel>,
    baseline: Option<&GateModel>,
) -> Series {
    let measured_max = raw.iter().map(|p| p.0).fold(1.0, f64::max);
    let read_until = |m: &GateModel| {
        m.projecting()
            .projected
            .iter()
            .filter(|p| p.throughput.is_some())
            .map(|p| p.workers as f64)
            .fold(measured_max, f64::max)
    };
    let cap = baseline.filter(|b| b.name != name);
    let own_until = model.map(read_until);
    let cap_until = cap.map(read_until);
    let fit_until = own_until.map(|own| cap_until.map_or(own, |c| own.min(c)));
    let note = model.zip(fit_until).and_then(|(m, until)| {
        let projected = &m.projecting().projected;
        let furthest = projected
            .iter()
            .map(|p| p.workers as f64)
            .fold(0.0, f64::max);
        if until >= furthest || furthest <= measured_max {
            return None;
        }
        let stops = if until <= measured_max {
            "no projection".to_owned()
        } else {
            format!("projected to {until} workers only")
        };
        // Which limit binds: the gate's own projection, or the baseline's (the cap).
        let cap_binds = cap_until.is_some_and(|c| own_until.is_some_and(|own| c < own));
        let own_declined = projected
            .iter()
            .find(|p| p.workers as f64 > until && p.throughput.is_none());
        Some(match (cap_binds, own_declined, cap) {
            (true, _, Some(b)) | (false, None, Some(b)) => format!(
                "{stops}: {}'s projection, which caps every gate (a gate only adds cost), is \
                 declined beyond {}",
                b.name,
                if until <= measured_max {
                    "the measurements".to_owned()
                } else {
                    format!("{until} workers")
                }
            ),
            (_, Some(p), _) => {
                let why = p.declined.as_deref().unwrap_or("the model gives no figure");
                // The figures are in the text output; the legend keeps the reason.
                let why = if why.contains("wider than the figure") {
                    "its 90% interval is wider than the figure"
                } else {
                    why
                };
                format!("{stops}: at {} workers {why}", p.workers)
            }
            _ => stops,
        })
    });
    Series {
        name: name.to_owned(),
        points: raw,
        fitted_points: model
            .and_then(|m| m.normalized.as_ref())
            .map(|f| f.points.clone())
            .unwrap_or_default(),
        fit: model.map(|m| m.projecting().fit),
        fit_cap: cap.map(|b| b.projecting().fit),
        fit_until,
        ranges: Vec::new(),
        note,
    }
}

/// How a model plot is drawn: projected to `project_to` on a logarithmic
/// worker axis; with normalized fits, also a logarithmic throughput axis
/// (the projections are tens of times the measurements) and legends that say
/// which line is which.
pub fn plot_options(normalized: bool, project_to: f64) -> PlotOptions {
    if normalized {
        PlotOptions {
            project_to: Some(project_to),
            log_workers: true,
            log_throughput: true,
            model_label: "normalized model".to_owned(),
            fit_legend: format!("dashed: USL fit to the {NORMALIZED_LABEL} points"),
            measured_legend: Some(format!("solid, filled: measured, {RAW_LABEL}")),
            fitted_points_legend: "hollow: capacity-normalized X·n/c(n)".to_owned(),
            ..PlotOptions::default()
        }
    } else {
        PlotOptions {
            project_to: Some(project_to),
            log_workers: true,
            fit_legend: format!("dashed: USL fit to the {RAW_LABEL} points"),
            ..PlotOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_cores() -> Vec<ScalingAt> {
        (1..=4)
            .map(|n| ScalingAt {
                workers: n,
                scaling: n.min(2) as f64,
            })
            .collect()
    }

    #[test]
    fn normalization_is_all_or_nothing() {
        let full = vec![(1.0, 10.0), (2.0, 20.0), (4.0, 20.0)];
        let (norm, points) = Normalization::of(Some(&two_cores()), std::slice::from_ref(&full));
        assert!(norm.applied && norm.note.contains("c = 1.00@1 2.00@2"));
        assert_eq!(points.unwrap()[0], [(1.0, 10.0), (2.0, 20.0), (4.0, 40.0)]);

        let five = vec![(1.0, 10.0), (5.0, 20.0)];
        let (norm, points) = Normalization::of(Some(&two_cores()), &[full.clone(), five]);
        assert!(!norm.applied && norm.note.contains("no calibration at 5 workers"));
        assert!(points.is_none() && norm.compute_scaling_by_workers.is_empty());

        let (norm, points) = Normalization::of(Some(&[]), &[full]);
        assert!(!norm.applied && norm.note.contains("older lab"), "{norm:?}");
        assert!(points.is_none());
    }

    /// A series whose every point was measured `repeats` times with the given
    /// relative deviations around the point.
    fn measured(name: &str, points: &[(f64, f64)], deviations: &[f64]) -> Measured {
        Measured {
            name: name.to_owned(),
            points: points.to_vec(),
            runs: points
                .iter()
                .map(|&(n, x)| (n, deviations.iter().map(|d| x * (1.0 + d)).collect()))
                .collect(),
        }
    }

    fn usl_points(lambda: f64, alpha: f64, counts: &[f64]) -> Vec<(f64, f64)> {
        let fit = UslFit {
            lambda,
            alpha,
            beta: 0.0,
            r_squared: 1.0,
        };
        counts.iter().map(|&n| (n, fit.throughput(n))).collect()
    }

    #[test]
    fn the_report_labels_both_fits_and_reads_the_normalized_one() {
        let raw = vec![(1.0, 100.0), (2.0, 200.0), (3.0, 200.0), (4.0, 200.0)];
        let series = [measured("none", &raw, &[0.0, 0.0])];
        let (norm, models) = fit_all(&series, Some(&two_cores()), &[8, 64]);
        let model = models[0].1.clone().unwrap();
        assert_eq!(model.reading_basis, Basis::Normalized);
        assert_eq!(
            model.reading,
            "α≈0, β≈0 — no measurable contention; scales with cores"
        );
        let text = render("test", &norm, std::slice::from_ref(&model), &[8, 64]);
        assert!(
            text.contains(&format!("figures below: {NORMALIZED_LABEL}")),
            "{text}"
        );
        // Where the raw fits are: said once, not a second table.
        assert!(text.contains(&format!("The {RAW_LABEL} fits")), "{text}");
        // One line per gate: the normalized row projects 64 × λ.
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("none ")).collect();
        assert_eq!(rows.len(), 1, "{text}");
        assert!(rows[0].ends_with("6.4k"), "{}", rows[0]);
        assert!(rows[0].contains("no peak"), "{}", rows[0]);
        assert!(
            text.lines().any(|l| l.starts_with("  none ")
                && l.ends_with("α≈0, β≈0 — no measurable contention; scales with cores")),
            "{text}"
        );
        assert!(!text.contains("— no figure, because"), "{text}");
    }

    /// The issue's case: noise gave `none` a large α and a gate a small one;
    /// the gate must not be projected above the ungated baseline.
    #[test]
    fn a_gate_is_never_projected_above_the_baseline() {
        let counts = [1.0, 2.0, 3.0, 4.0];
        let series = [
            measured(
                "none",
                &usl_points(20e6, 0.165, &counts),
                &[0.0, 0.001, -0.001],
            ),
            measured(
                "crosscall",
                &usl_points(19e6, 0.023, &counts),
                &[0.0, 0.001, -0.001],
            ),
        ];
        let (norm, models) = fit_all(&series, None, &[8, 128]);
        let none = models[0].1.as_ref().unwrap();
        let gate = models[1].1.as_ref().unwrap();
        for (g, base) in gate.raw.projected.iter().zip(&none.raw.projected) {
            let (x, base_x) = (g.throughput.unwrap(), base.throughput.unwrap());
            assert!(
                g.model_throughput > base_x,
                "the model itself goes above: {g:?}"
            );
            assert!(x <= base_x && g.capped_at_baseline, "{g:?} vs {base:?}");
            assert!(g.interval.unwrap().high <= base.interval.unwrap().high + 1e-6 * base_x);
        }
        assert!(!none.raw.projected[0].capped_at_baseline);
        let text = render("test", &norm, &[none.clone(), gate.clone()], &[8, 128]);
        let row = text.lines().find(|l| l.starts_with("crosscall ")).unwrap();
        assert!(row.ends_with('*'), "{row}");
        assert!(text.contains("*: capped at none's projection"), "{text}");
    }

    /// Where none's projection is declined nothing caps a gate's: the text
    /// does not show the gate's figure there (it would read as the best gate).
    #[test]
    fn a_gate_is_not_shown_where_the_baseline_is_declined() {
        let counts = [1.0, 2.0, 3.0, 4.0];
        let series = [
            measured("none", &usl_points(20e6, 0.05, &counts), &[-0.3, 0.0, 0.3]),
            measured(
                "mutex",
                &usl_points(10e6, 0.5, &counts),
                &[0.0, 0.001, -0.001],
            ),
        ];
        let (norm, models) = fit_all(&series, None, &[128]);
        let none = models[0].1.as_ref().unwrap();
        let mutex = models[1].1.as_ref().unwrap();
        assert_eq!(none.raw.projected[0].throughput, None);
        assert!(mutex.raw.projected[0].throughput.is_some());
        // The plot draws neither past the measurements, and says why for the gate.
        let series = plot_series("mutex", mutex.raw.points.clone(), Some(mutex), Some(none));
        assert_eq!(series.fit_until, Some(4.0));
        let note = series.note.unwrap();
        assert!(
            note.starts_with("no projection: none's projection, which caps every gate"),
            "{note}"
        );
        let own = plot_series("none", none.raw.points.clone(), Some(none), Some(none));
        assert_eq!(own.fit_until, Some(4.0));
        assert!(own
            .note
            .unwrap()
            .contains("at 128 workers its 90% interval is wider"));
        let text = render("test", &norm, &[none.clone(), mutex.clone()], &[128]);
        let row = text.lines().find(|l| l.starts_with("mutex ")).unwrap();
        let letter = row.rsplit('—').next().unwrap();
        assert!(
            text.contains(&format!(
                "  {letter}: none's own projection here is declined"
            )),
            "{text}"
        );
    }

    #[test]
    fn the_peak_is_shown_only_where_its_interval_allows() {
        let truth = UslFit {
            lambda: 10e6,
            alpha: 0.05,
            beta: 0.02,
            r_squared: 1.0,
        };
        let points: Vec<(f64, f64)> = [1.0, 2.0, 3.0, 4.0, 5.0]
            .iter()
            .map(|&n| (n, truth.throughput(n)))
            .collect();
        let peak_cell = |deviations: &[f64]| {
            let (norm, models) = fit_all(&[measured("g", &points, deviations)], None, &[8]);
            let model = models[0].1.clone().unwrap();
            let text = render("test", &norm, &[model], &[8]);
            let row = text
                .lines()
                .find(|l| l.starts_with("g "))
                .unwrap()
                .to_owned();
            row.split_whitespace().nth(4).unwrap().to_owned()
        };
        let sure = peak_cell(&[0.0, 0.0]);
        let want = format!("{:.1}", truth.peak_workers().unwrap());
        assert_eq!(sure, want);
        assert_eq!(peak_cell(&[-0.45, 0.0, 0.45]), "—a");
    }

    #[test]
    fn projections_are_declined_where_the_interval_is_wider_than_the_figure() {
        let counts = [1.0, 2.0, 3.0, 4.0];
        // Runs 60% apart: far projections swing by more than themselves.
        let noisy = [measured(
            "mutex",
            &usl_points(10e6, 0.05, &counts),
            &[-0.3, 0.0, 0.3],
        )];
        let (norm, models) = fit_all(&noisy, None, &[2, 128]);
        let model = models[0].1.as_ref().unwrap();
        let near = &model.raw.projected[0];
        let far = &model.raw.projected[1];
        assert!(
            near.throughput.is_some() && near.declined.is_none(),
            "{near:?}"
        );
        let interval = far.interval.unwrap();
        assert!(interval.width() > far.model_throughput, "{far:?}");
        assert_eq!(far.throughput, None);
        assert!(far
            .declined
            .as_ref()
            .unwrap()
            .contains("wider than the figure"));
        let text = render("test", &norm, std::slice::from_ref(model), &[2, 128]);
        let row = text.lines().find(|l| l.starts_with("mutex ")).unwrap();
        assert!(row.ends_with("—a"), "{row}");
        assert!(
            text.contains(
                "  a: its 90% bootstrap interval over the repeats is wider than the figure itself"
            ),
            "{text}"
        );

        // One run per point: no interval, nothing projected, and the reason given.
        let single = [measured("mutex", &usl_points(10e6, 0.05, &counts), &[0.0])];
        let (norm, models) = fit_all(&single, None, &[8]);
        let model = models[0].1.as_ref().unwrap();
        assert_eq!(model.raw.projected[0].throughput, None);
        let text = render("test", &norm, std::slice::from_ref(model), &[8]);
        let reason = text
            .lines()
            .find(|l| l.starts_with("  a: "))
            .unwrap_or_else(|| panic!("no reason a in {text}"));
        assert!(reason.contains("one run at N = 1"), "{text}");
    }

    #[test]
    fn without_calibration_the_raw_fit_is_read_and_the_reason_given() {
        let raw = vec![(1.0, 100.0), (2.0, 200.0), (3.0, 300.0)];
        let (norm, normalized) = Normalization::of(None, std::slice::from_ref(&raw));
        assert!(normalized.is_none());
        let model = GateModel::fit("points", raw, None, &[8]).unwrap();
        assert_eq!(model.reading_basis, Basis::Raw);
        assert_eq!(model.projecting(), &model.raw);
        let text = render("test", &norm, &[model], &[8]);
        assert!(
            text.contains(&format!(
                "{NORMALIZED_LABEL}: not available: no calibration"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!("figures below: {RAW_LABEL}")),
            "{text}"
        );
    }
}
