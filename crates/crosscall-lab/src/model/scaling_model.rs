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
//! assert!((fair.projected[0].throughput - 6400.0).abs() < 1e-3);
//! # Ok::<(), crosscall_lab::model::usl::FitError>(())
//! ```

use std::fmt::Write as _;

use crate::model::calibrate::ScalingAt;
use crate::model::capacity;
use crate::model::reading::{self, plain_reading, reading_against};
use crate::model::usl::{self, FitError, UslFit};
use crate::plot::{PlotOptions, Series};

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
}

/// Modelled throughput at one worker count.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Projection {
    /// Worker count.
    pub workers: usize,
    /// Modelled throughput, in the unit of the measurements (tasks/s for sweeps).
    pub throughput: f64,
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

/// A series name and its `(workers, throughput)` measurements.
pub type NamedPoints = (String, Curve);

/// A series name and its models, or why it could not be fitted.
pub type GateOutcome = (String, Result<GateModel, FitError>);

/// Fits every series, normalized with `by_workers` when it covers them all
/// (see [`Normalization::of`]); a series that cannot be fitted keeps its error.
pub fn fit_all(
    series: &[NamedPoints],
    by_workers: Option<&[ScalingAt]>,
    project: &[usize],
) -> (Normalization, Vec<GateOutcome>) {
    let raw: Vec<Vec<(f64, f64)>> = series.iter().map(|s| s.1.clone()).collect();
    let (normalization, normalized) = Normalization::of(by_workers, &raw);
    let mut normalized = normalized.map(Vec::into_iter);
    let mut models: Vec<GateOutcome> = series
        .iter()
        .map(|(name, points)| {
            let normalized = normalized.as_mut().and_then(Iterator::next);
            (
                name.clone(),
                GateModel::fit(name, points.clone(), normalized, project),
            )
        })
        .collect();
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

/// The text report: the normalized table (when applied), the raw table, one
/// reading per model and a legend.
pub fn render(
    source: &str,
    normalization: &Normalization,
    models: &[GateModel],
    project: &[usize],
) -> String {
    let mut out = format!(
        "Universal Scalability Law  X(N) = λN / (1 + α(N−1) + βN(N−1))\nfitted to {source}\n\n"
    );
    if normalization.applied {
        let _ = writeln!(
            out,
            "{NORMALIZED_LABEL}: X'(n) = X(n)·n/c(n), c = {}",
            capacity::describe(&normalization.compute_scaling_by_workers)
        );
        let normalized: Vec<(&str, &Fitted)> = models
            .iter()
            .filter_map(|m| m.normalized.as_ref().map(|f| (m.name.as_str(), f)))
            .collect();
        table(&mut out, &normalized, project);
        out.push('\n');
        let _ = writeln!(
            out,
            "{RAW_LABEL}: throughput past this machine's cores is capped by them; \
             these N* and X(n) describe this machine, not a bigger one"
        );
    } else {
        let _ = writeln!(
            out,
            "{RAW_LABEL}: N* and X(n) describe this machine; past its cores they \
             measure the machine, not the gate"
        );
    }
    let raw: Vec<(&str, &Fitted)> = models.iter().map(|m| (m.name.as_str(), &m.raw)).collect();
    table(&mut out, &raw, project);
    if !normalization.applied {
        let _ = writeln!(
            out,
            "{NORMALIZED_LABEL}: not available: {}",
            normalization.note
        );
    }
    let _ = writeln!(
        out,
        "\nreading ({} fit, at {READING_HORIZON} workers):",
        if normalization.applied {
            NORMALIZED_LABEL
        } else {
            RAW_LABEL
        }
    );
    for model in models {
        let _ = writeln!(out, "  {}: {}", model.name, model.reading);
    }
    out.push_str(
        "\nλ: one worker's throughput; α: contention (serialized share); β: crosstalk \
         (coherency cost per pair);\nN*: worker count where throughput peaks; X(n): \
         projected throughput (tasks/s) at n workers.\n",
    );
    if normalization.applied {
        out.push_str(
            "normalized figures assume a worker's progress is proportional to its CPU share: \
             a fair estimate for gates\nwithout shared writes, a best case for lock-based ones \
             (only ~c(n) of n oversubscribed workers contend at once).\n",
        );
    }
    out
}

/// One table: coefficients, peak and projections, one row per fit.
fn table(out: &mut String, rows: &[(&str, &Fitted)], project: &[usize]) {
    let _ = write!(
        out,
        "{:<12} {:>6} {:>10} {:>8} {:>10} {:>7} {:>7}",
        "series", "counts", "λ", "α", "β", "r²", "N*"
    );
    for n in project {
        let _ = write!(out, " {:>9}", format!("X({n})"));
    }
    out.push('\n');
    for (name, fitted) in rows {
        let mut counts: Vec<f64> = fitted.points.iter().map(|p| p.0).collect();
        counts.sort_by(f64::total_cmp);
        counts.dedup();
        let peak = fitted
            .peak_workers
            .map_or_else(|| "none".to_owned(), |n| format!("{n:.1}"));
        let _ = write!(
            out,
            "{:<12} {:>6} {:>10} {:>8.4} {:>10} {:>7.4} {:>7}",
            name,
            counts.len(),
            si(fitted.fit.lambda),
            fitted.fit.alpha,
            if fitted.fit.beta == 0.0 {
                "0".to_owned()
            } else {
                format!("{:.3e}", fitted.fit.beta)
            },
            fitted.fit.r_squared,
            peak
        );
        for projection in &fitted.projected {
            let _ = write!(out, " {:>9}", si(projection.throughput));
        }
        out.push('\n');
    }
}

/// The plot series of one gate: raw measurements (solid); its normalized
/// points (hollow) and the fit drawn dashed — normalized when present.
pub fn plot_series(name: &str, raw: Vec<(f64, f64)>, model: Option<&GateModel>) -> Series {
    Series {
        name: name.to_owned(),
        points: raw,
        fitted_points: model
            .and_then(|m| m.normalized.as_ref())
            .map(|f| f.points.clone())
            .unwrap_or_default(),
        fit: model.map(|m| m.projecting().fit),
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

    #[test]
    fn the_report_labels_both_fits_and_reads_the_normalized_one() {
        let raw = vec![(1.0, 100.0), (2.0, 200.0), (3.0, 200.0), (4.0, 200.0)];
        let (norm, normalized) = Normalization::of(Some(&two_cores()), std::slice::from_ref(&raw));
        let model =
            GateModel::fit("none", raw, normalized.map(|mut n| n.remove(0)), &[8, 64]).unwrap();
        assert_eq!(model.reading_basis, Basis::Normalized);
        assert_eq!(
            model.reading,
            "α≈0, β≈0 — no measurable contention; scales with cores"
        );
        let text = render("test", &norm, std::slice::from_ref(&model), &[8, 64]);
        let normalized_at = text.find(NORMALIZED_LABEL).unwrap();
        let raw_at = text.find(RAW_LABEL).unwrap();
        assert!(normalized_at < raw_at, "{text}");
        // The normalized row projects 64 × λ; the raw one does not.
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("none ")).collect();
        assert_eq!(rows.len(), 2, "{text}");
        assert!(rows[0].ends_with("6.4k"), "{}", rows[0]);
        assert!(!rows[1].ends_with("6.4k"), "{}", rows[1]);
        assert!(text.contains("  none: α≈0, β≈0"), "{text}");
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
            text.contains(&format!("reading ({RAW_LABEL} fit")),
            "{text}"
        );
    }
}
