//! SVG plots of throughput against worker count, one series per gate or
//! toolchain, each gate in its fixed colour ([`crate::report::gate_colours`]):
//! measured points as markers joined by solid lines, the fitted
//! scalability model ([`crate::model::usl`]) as a dashed line of the same colour,
//! and, when the model was fitted to adjusted points (capacity-normalized,
//! [`crate::model::capacity`]), those points as hollow markers.
//!
//! ```no_run
//! use crosscall_lab::report::plot::{throughput_svg, Series};
//!
//! let series = [Series {
//!     name: "crosscall".into(),
//!     points: vec![(1.0, 9.0e6), (2.0, 17.5e6), (3.0, 25.0e6)],
//!     fitted_points: vec![],
//!     fit: None,
//!     fit_cap: None,
//!     fit_until: None,
//! }];
//! throughput_svg("lab-out/sweep.svg".as_ref(), "seed workload", &series)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::error::Error;
use std::path::Path;

use plotters::coord::ranged1d::ValueFormatter;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::model::usl::UslFit;
use crate::report::gate_colours::{self, Rgb};
use crate::run::runner::GateKind;

/// One line on the plot.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend label (a gate such as `crosscall`, or a toolchain such as `go1.22.10`).
    pub name: String,
    /// Measured `(workers, throughput)` points.
    pub points: Vec<(f64, f64)>,
    /// The points `fit` was made to when they are not `points` (e.g. the
    /// capacity-normalized ones), drawn as hollow markers; empty otherwise.
    pub fitted_points: Vec<(f64, f64)>,
    /// The model fitted to `points` (or `fitted_points`), drawn dashed when present.
    pub fit: Option<UslFit>,
    /// A curve the dashed model never goes above (the no-gate baseline's
    /// model, for a gate: a gate only adds cost to the ungated call).
    pub fit_cap: Option<UslFit>,
    /// Draw the dashed model only up to this many workers (where the lab
    /// still projects; `None`: as far as the plot goes).
    pub fit_until: Option<f64>,
}

/// How a plot is laid out beyond its data.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotOptions {
    /// Draw the fitted models out to this many workers (beyond the measurements),
    /// so a 2-core sweep can be read at 64 cores. `None`: up to the last measurement.
    pub project_to: Option<f64>,
    /// Y-axis label, with its unit.
    pub y_label: String,
    /// Size of the image in pixels.
    pub size: (u32, u32),
    /// A logarithmic worker axis (1, 2, 4, … evenly spaced): for projections
    /// far beyond the measurements, which a linear axis squeezes into a corner.
    /// Ignored when a worker count is 0.
    pub log_workers: bool,
    /// A logarithmic throughput axis: for projections tens of times the
    /// measurements, which a linear axis squeezes against the bottom.
    pub log_throughput: bool,
    /// What each series' legend calls its fit: `mutex  (model: α=…, β=…)`.
    pub model_label: String,
    /// The legend line of the dashed curves (`, projected` is added when
    /// `project_to` is set).
    pub fit_legend: String,
    /// A legend line for the solid lines, if they need saying.
    pub measured_legend: Option<String>,
    /// The legend line of the hollow markers (shown only when there are some).
    pub fitted_points_legend: String,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            project_to: None,
            y_label: "throughput (tasks/s)".to_owned(),
            size: (960, 600),
            log_workers: false,
            log_throughput: false,
            model_label: "model".to_owned(),
            fit_legend: "dashed: Universal Scalability Law fit".to_owned(),
            measured_legend: None,
            fitted_points_legend: "hollow: the points the fit was made to".to_owned(),
        }
    }
}

/// Writes an SVG of throughput vs workers for `series` to `path`, fits drawn
/// dashed over the measured range (see [`throughput_svg_with`] to project them).
///
/// # Errors
///
/// When there is nothing to draw (no series has a point), a point is not finite
/// or is negative (or not positive, on a logarithmic axis), or the file cannot
/// be written.
pub fn throughput_svg(path: &Path, title: &str, series: &[Series]) -> Result<(), Box<dyn Error>> {
    throughput_svg_with(path, title, series, &PlotOptions::default())
}

/// [`throughput_svg`] with explicit [`PlotOptions`].
///
/// # Errors
///
/// As [`throughput_svg`].
pub fn throughput_svg_with(
    path: &Path,
    title: &str,
    series: &[Series],
    options: &PlotOptions,
) -> Result<(), Box<dyn Error>> {
    let measured = series
        .iter()
        .flat_map(|s| s.points.iter().chain(&s.fitted_points).copied());
    if let Some((n, x)) = measured
        .clone()
        .find(|&(n, x)| !(n.is_finite() && x.is_finite() && n >= 0.0 && x >= 0.0))
    {
        return Err(format!("cannot plot the point ({n}, {x}): workers and throughput must be finite and not negative").into());
    }
    if options.log_throughput {
        if let Some((n, x)) = measured.clone().find(|&(_, x)| x <= 0.0) {
            return Err(format!(
                "cannot plot the point ({n}, {x}) on a logarithmic throughput axis: \
                 throughput must be positive"
            )
            .into());
        }
    }
    let max_measured_n = measured.clone().map(|(n, _)| n).fold(f64::NAN, f64::max);
    let measured_min_n = measured.clone().map(|(n, _)| n).fold(f64::NAN, f64::min);
    if max_measured_n.is_nan() {
        return Err("nothing to plot: no series has a measured point".into());
    }
    let x_max = options
        .project_to
        .unwrap_or(max_measured_n)
        .max(max_measured_n);
    let curves: Vec<Option<Vec<(f64, f64)>>> = series
        .iter()
        .map(|s| {
            s.fit.map(|fit| {
                let until = s.fit_until.map_or(x_max, |n| n.min(x_max));
                let mut curve = model_curve(&fit, until);
                if let Some(cap) = &s.fit_cap {
                    for point in &mut curve {
                        point.1 = point.1.min(cap.throughput(point.0).max(0.0));
                    }
                }
                curve
            })
        })
        .collect();
    let ys = measured
        .map(|(_, x)| x)
        .chain(curves.iter().flatten().flatten().map(|&(_, x)| x));
    let y_max = ys.clone().fold(0.0, f64::max);
    // The legend sits in the upper left, above the data: one line per series,
    // plus one per explanation. Leave that much headroom (a line is about
    // 4.5% of the plot's height at the default size), and keep the range
    // non-empty for all-zero data.
    let any_fit = series.iter().any(|s| s.fit.is_some());
    let any_fitted_points = series.iter().any(|s| !s.fitted_points.is_empty());
    let legend_lines = (series.len()
        + usize::from(any_fit)
        + usize::from(any_fitted_points)
        + usize::from(options.measured_legend.is_some())) as f64;
    let headroom = 0.08 + 0.045 * legend_lines;
    let y_top = if y_max > 0.0 {
        y_max * (1.0 + headroom)
    } else {
        1.0
    };
    // On a log axis the headroom is a share of the decades shown; the bottom
    // leaves a little room under the lowest value (never below 1e-4 of the top,
    // so a curve falling towards 0 does not flatten the rest).
    let y_low = ys
        .filter(|&y| y > 0.0)
        .fold(f64::INFINITY, f64::min)
        .max(y_max * 1e-4)
        / 1.3;
    let y_log_top = if y_max > 0.0 && y_low.is_finite() {
        y_low * (y_max / y_low).powf(1.0 / (1.0 - headroom.min(0.6)))
    } else {
        1.0
    };

    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let root = SVGBackend::new(path, options.size).into_drawing_area();
    root.fill(&WHITE)?;
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(88);
    let x_min = measured_min_n.min(1.0);
    let layers = Layers {
        series,
        curves: &curves,
        any_fit,
        any_fitted_points,
        options,
    };
    let log_x = options.log_workers && x_min > 0.0;
    let log_y = options.log_throughput && y_low.is_finite() && y_max > 0.0;
    let x_log = || (x_min * 0.9..x_max * 1.1).log_scale().base(2.0);
    let y_log = || (y_low..y_log_top).log_scale();
    match (log_x, log_y) {
        (true, true) => draw(builder.build_cartesian_2d(x_log(), y_log())?, &layers)?,
        (true, false) => draw(builder.build_cartesian_2d(x_log(), 0.0..y_top)?, &layers)?,
        (false, true) => draw(
            builder.build_cartesian_2d(0.0..x_max * 1.05, y_log())?,
            &layers,
        )?,
        (false, false) => draw(
            builder.build_cartesian_2d(0.0..x_max * 1.05, 0.0..y_top)?,
            &layers,
        )?,
    }
    root.present()?;
    Ok(())
}

/// What goes on the chart, whichever x scale it has.
struct Layers<'a> {
    series: &'a [Series],
    curves: &'a [Option<Vec<(f64, f64)>>],
    any_fit: bool,
    any_fitted_points: bool,
    options: &'a PlotOptions,
}

/// Draws mesh, series, models and legend on a chart with any f64 axes.
fn draw<'a, X, Y>(
    mut chart: ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    layers: &Layers<'_>,
) -> Result<(), Box<dyn Error>>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc("workers (threads)")
        .y_desc(layers.options.y_label.as_str())
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .x_label_formatter(&|n| human(*n))
        .y_label_formatter(&|y| human(*y))
        .draw()?;

    let mut others = 0;
    for (s, curve) in layers.series.iter().zip(layers.curves) {
        let Rgb(r, g, b) = gate_colours::colour_of(&s.name, others);
        if GateKind::ALL.iter().all(|gate| gate.name() != s.name) {
            others += 1;
        }
        let color = RGBColor(r, g, b).to_rgba();
        let mut points = s.points.clone();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let label = match &s.fit {
            Some(fit) => format!(
                "{}  ({}: α={}, β={})",
                s.name,
                layers.options.model_label,
                coefficient(fit.alpha),
                coefficient(fit.beta)
            ),
            None => s.name.clone(),
        };
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
        chart.draw_series(
            s.fitted_points
                .iter()
                .map(|&p| Circle::new(p, 5, color.stroke_width(2))),
        )?;
        if let Some(curve) = curve {
            chart.draw_series(DashedLineSeries::new(
                curve.iter().copied(),
                8,
                6,
                color.stroke_width(1),
            ))?;
        }
    }
    // One legend line per kind of mark, drawn in grey.
    let grey = BLACK.mix(0.6);
    if let Some(what) = &layers.options.measured_legend {
        chart
            .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
            .label(what.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey.stroke_width(2)));
    }
    if layers.any_fitted_points {
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label(layers.options.fitted_points_legend.as_str())
            .legend(move |(x, y)| Circle::new((x + 10, y), 5, grey.stroke_width(2)));
    }
    if layers.any_fit {
        let what = match layers.options.project_to {
            Some(_) => format!("{}, projected", layers.options.fit_legend),
            None => layers.options.fit_legend.clone(),
        };
        chart
            .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
            .label(what)
            .legend(move |(x, y)| DashedPathElement::new([(x, y), (x + 20, y)], 4, 3, grey));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}

/// The model sampled densely enough to look smooth from 1 worker to `x_max`
/// on either axis: evenly spaced (for a linear axis) merged with geometrically
/// spaced (for a logarithmic one, and where the curve bends most).
fn model_curve(fit: &UslFit, x_max: f64) -> Vec<(f64, f64)> {
    const STEPS: usize = 200;
    let start = 1.0_f64.min(x_max);
    let even = (0..=STEPS).map(|i| start + (x_max - start) * i as f64 / STEPS as f64);
    let ratio = x_max / start;
    let geometric = (0..=STEPS).map(|i| start * ratio.powf(i as f64 / STEPS as f64));
    let mut workers: Vec<f64> = even.chain(geometric).collect();
    workers.sort_by(f64::total_cmp);
    workers.dedup();
    workers
        .into_iter()
        .map(|n| (n, fit.throughput(n).max(0.0)))
        .collect()
}

/// α and β for the legend: `0`, `0.071`, `4.65e-5`.
fn coefficient(value: f64) -> String {
    if value == 0.0 {
        "0".to_owned()
    } else if value.abs() >= 1e-3 {
        format!("{value:.3}")
    } else {
        format!("{value:.2e}")
    }
}

/// Axis numbers as `12.5M`, `900k`, `1.25k`: throughputs span many orders of magnitude.
fn human(value: f64) -> String {
    let (scaled, suffix) = [(1e9, "G"), (1e6, "M"), (1e3, "k")]
        .into_iter()
        .find(|&(unit, _)| value.abs() >= unit)
        .map_or((value, ""), |(unit, suffix)| (value / unit, suffix));
    let digits = format!("{scaled:.2}");
    let digits = digits.trim_end_matches('0').trim_end_matches('.');
    format!("{digits}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!(
            "crosscall-lab-plot-{}-{name}.svg",
            std::process::id()
        ))
    }

    #[test]
    fn writes_an_svg_naming_every_series_and_model() {
        let fit = UslFit {
            lambda: 100.0,
            alpha: 0.1,
            beta: 0.01,
            r_squared: 1.0,
        };
        let series = [
            Series {
                name: "mutex".into(),
                points: vec![(2.0, 150.0), (1.0, 100.0), (3.0, 170.0)],
                fitted_points: vec![],
                fit: Some(fit),
                fit_cap: None,
                fit_until: None,
            },
            Series {
                name: "crosscall".into(),
                points: vec![(1.0, 110.0), (2.0, 215.0)],
                fitted_points: vec![],
                fit: None,
                fit_cap: None,
                fit_until: None,
            },
        ];
        let path = scratch("series");
        let options = PlotOptions {
            project_to: Some(16.0),
            ..PlotOptions::default()
        };
        throughput_svg_with(&path, "seed workload", &series, &options).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(
            svg.starts_with("<svg") || svg.contains("<svg"),
            "not an SVG"
        );
        for needle in [
            "seed workload",
            "mutex  (model: α=0.100, β=0.010)",
            "crosscall",
            "dashed: Universal Scalability Law fit, projected",
            "workers (threads)",
            "tasks/s",
        ] {
            assert!(svg.contains(needle), "SVG lacks {needle:?}");
        }
        // Projected to 16 workers: the x axis is labelled beyond the last measurement.
        let labels: Vec<&str> = svg.lines().map(str::trim).collect();
        assert!(
            labels.contains(&"16.0") || labels.contains(&"16"),
            "x axis not projected"
        );
    }

    #[test]
    fn a_logarithmic_worker_axis_reaches_the_projection() {
        let fit = UslFit {
            lambda: 100.0,
            alpha: 0.0,
            beta: 0.00004,
            r_squared: 1.0,
        };
        let series = [Series {
            name: "lean".into(),
            points: vec![(1.0, 100.0), (2.0, 200.0), (3.0, 299.0)],
            fitted_points: vec![],
            fit: Some(fit),
            fit_cap: None,
            fit_until: None,
        }];
        let path = scratch("log");
        let options = PlotOptions {
            project_to: Some(128.0),
            log_workers: true,
            ..PlotOptions::default()
        };
        throughput_svg_with(&path, "log", &series, &options).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let labels: Vec<&str> = svg.lines().map(str::trim).collect();
        // Powers of two, as worker counts are usually swept.
        for tick in ["1", "2", "4", "64", "128"] {
            assert!(labels.contains(&tick), "no x tick {tick}");
        }
        assert!(svg.contains("β=4.00e-5"), "legend coefficient");
    }

    #[test]
    fn hollow_fitted_points_and_a_log_throughput_axis_are_labelled() {
        let fit = UslFit {
            lambda: 100.0,
            alpha: 0.0,
            beta: 0.0,
            r_squared: 1.0,
        };
        let series = [Series {
            name: "none".into(),
            points: vec![(1.0, 100.0), (2.0, 200.0), (4.0, 200.0)],
            fitted_points: vec![(1.0, 100.0), (2.0, 200.0), (4.0, 400.0)],
            fit: Some(fit),
            fit_cap: None,
            fit_until: None,
        }];
        let path = scratch("loglog");
        let options = PlotOptions {
            project_to: Some(64.0),
            log_workers: true,
            log_throughput: true,
            model_label: "normalized model".into(),
            fit_legend: "dashed: fit to normalized".into(),
            measured_legend: Some("solid: measured".into()),
            fitted_points_legend: "hollow: normalized".into(),
            ..PlotOptions::default()
        };
        throughput_svg_with(&path, "loglog", &series, &options).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        for needle in [
            "none  (normalized model: α=0, β=0)",
            "dashed: fit to normalized, projected",
            "solid: measured",
            "hollow: normalized",
        ] {
            assert!(svg.contains(needle), "SVG lacks {needle:?}");
        }
        // The projection reaches 64 × 100 = 6.4k on the throughput axis.
        let labels: Vec<&str> = svg.lines().map(str::trim).collect();
        assert!(labels.iter().any(|l| l.ends_with('k')), "no k tick");

        let zero = [Series {
            name: "none".into(),
            points: vec![(1.0, 0.0)],
            fitted_points: vec![],
            fit: None,
            fit_cap: None,
            fit_until: None,
        }];
        let err = throughput_svg_with(&path, "t", &zero, &options).unwrap_err();
        assert!(err.to_string().contains("must be positive"), "{err}");
    }

    #[test]
    fn refuses_empty_or_invalid_data() {
        let path = scratch("empty");
        let empty = [Series {
            name: "none".into(),
            points: vec![],
            fitted_points: vec![],
            fit: None,
            fit_cap: None,
            fit_until: None,
        }];
        let err = throughput_svg(&path, "t", &empty).unwrap_err();
        assert!(err.to_string().contains("nothing to plot"), "{err}");
        let negative = [Series {
            name: "none".into(),
            points: vec![(1.0, -3.0)],
            fitted_points: vec![],
            fit: None,
            fit_cap: None,
            fit_until: None,
        }];
        let err = throughput_svg(&path, "t", &negative).unwrap_err();
        assert!(err.to_string().contains("not negative"), "{err}");
        assert!(!path.exists());
    }

    #[test]
    fn axis_numbers_are_short() {
        assert_eq!(human(12_500_000.0), "12.5M");
        assert_eq!(human(900_000.0), "900k");
        assert_eq!(human(1_250.0), "1.25k");
        assert_eq!(human(0.5), "0.5");
        assert_eq!(human(0.0), "0");
    }
}
