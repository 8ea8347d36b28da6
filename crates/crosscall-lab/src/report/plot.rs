//! SVG plots of throughput against worker count, one series per gate or
//! toolchain, each gate in its fixed colour and marker
//! ([`crate::report::gate_colours`]): measured medians as markers joined by
//! solid lines, the lowest–highest run at each point as a bar, the fitted
//! scalability model ([`crate::model::usl`]) as a dashed line of the same
//! colour — only as far as the model projects, with the reason in the legend
//! where it stops — and, when the model was fitted to adjusted points
//! (capacity-normalized, [`crate::model::capacity`]), those points as hollow
//! markers. The legend sits in a panel right of the data; the worker axis
//! has whole-number ticks and ends at the last point drawn.
//!
//! ```no_run
//! use crosscall_lab::report::plot::{throughput_svg, Series};
//!
//! let series = [Series {
//!     name: "crosscall".into(),
//!     points: vec![(1.0, 9.0e6), (2.0, 17.5e6), (3.0, 25.0e6)],
//!     ranges: vec![(1.0, 8.8e6, 9.1e6), (2.0, 17.0e6, 17.9e6), (3.0, 24.1e6, 25.3e6)],
//!     ..Series::default()
//! }];
//! throughput_svg("lab-out/sweep.svg".as_ref(), "seed workload", &series)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::error::Error;
use std::path::Path;

use plotters::coord::ranged1d::ValueFormatter;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::model::usl::UslFit;
use crate::report::gate_colours::{self, Marker, Rgb};
use crate::run::runner::GateKind;

/// One line on the plot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Legend label (a gate such as `crosscall`, or a toolchain such as `go1.22.10`).
    pub name: String,
    /// Measured `(workers, throughput)` points (medians, when repeated).
    pub points: Vec<(f64, f64)>,
    /// `(workers, lowest, highest)` of the repeats behind each point, drawn as
    /// a bar; empty when there were none.
    pub ranges: Vec<(f64, f64, f64)>,
    /// The points `fit` was made to when they are not `points` (e.g. the
    /// capacity-normalized ones), drawn as hollow markers; empty otherwise.
    pub fitted_points: Vec<(f64, f64)>,
    /// The model fitted to `points` (or `fitted_points`), drawn dashed when present.
    pub fit: Option<UslFit>,
    /// A curve the dashed model never goes above (the no-gate baseline's
    /// model, for a gate: a gate only adds cost to the ungated call).
    pub fit_cap: Option<UslFit>,
    /// Draw the dashed model up to this many workers (where the lab still
    /// projects); `None`: over the measured range only.
    pub fit_until: Option<f64>,
    /// Why the dashed model stops where it does (or is missing), for the legend.
    pub note: Option<String>,
}

/// How a plot is laid out beyond its data.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotOptions {
    /// The most workers a model may be drawn to (each series' `fit_until`
    /// says how far it actually goes); the axis ends at the last point drawn.
    pub project_to: Option<f64>,
    /// Y-axis label, with its unit.
    pub y_label: String,
    /// Size of the image in pixels, legend panel included.
    pub size: (u32, u32),
    /// A logarithmic worker axis (1, 2, 4, … evenly spaced) when a model is
    /// drawn more than 4× past the measurements, which a linear axis would
    /// squeeze into a corner. Ignored otherwise, and when a worker count is 0.
    pub log_workers: bool,
    /// A logarithmic throughput axis: for projections tens of times the
    /// measurements, which a linear axis squeezes against the bottom.
    pub log_throughput: bool,
    /// What each series' legend calls its fit: `model: α=…, β=…`.
    pub model_label: String,
    /// The legend line of the dashed curves.
    pub fit_legend: String,
    /// A legend line for the solid lines, if they need saying.
    pub measured_legend: Option<String>,
    /// The legend line of the hollow markers (shown only when there are some).
    pub fitted_points_legend: String,
    /// A note under the legend that holds for every series (e.g. why none was fitted).
    pub footnote: Option<String>,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            project_to: None,
            y_label: "throughput (tasks/s)".to_owned(),
            size: (1120, 620),
            log_workers: false,
            log_throughput: false,
            model_label: "model".to_owned(),
            fit_legend: "dashed: Universal Scalability Law fit".to_owned(),
            measured_legend: None,
            fitted_points_legend: "hollow: the points the fit was made to".to_owned(),
            footnote: None,
        }
    }
}

/// Width of the legend panel right of the chart, in pixels.
const LEGEND_WIDTH: u32 = 360;

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
    let measured = series.iter().flat_map(|s| {
        s.points
            .iter()
            .chain(&s.fitted_points)
            .copied()
            .chain(s.ranges.iter().flat_map(|&(n, lo, hi)| [(n, lo), (n, hi)]))
    });
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
    let limit = options
        .project_to
        .unwrap_or(max_measured_n)
        .max(max_measured_n);
    let curves: Vec<Option<Vec<(f64, f64)>>> = series
        .iter()
        .map(|s| {
            s.fit.map(|fit| {
                let until = s.fit_until.unwrap_or(max_measured_n).clamp(1.0, limit);
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
    // The axis ends at the last point drawn, measured or projected.
    let x_max = curves
        .iter()
        .flatten()
        .filter_map(|curve| curve.last().map(|p| p.0))
        .fold(max_measured_n, f64::max);
    let ys = measured
        .map(|(_, x)| x)
        .chain(curves.iter().flatten().flatten().map(|&(_, x)| x));
    let y_max = ys.clone().fold(0.0, f64::max);
    let y_top = if y_max > 0.0 { y_max * 1.06 } else { 1.0 };
    // On a log axis the bottom leaves a little room under the lowest value
    // (never below 1e-4 of the top, so a curve falling towards 0 does not
    // flatten the rest).
    let y_low = ys
        .filter(|&y| y > 0.0)
        .fold(f64::INFINITY, f64::min)
        .max(y_max * 1e-4)
        / 1.3;
    let y_log_top = y_max * 1.3;

    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let any_fit = curves.iter().any(Option::is_some);
    // Tall enough for the legend panel (title and margins included).
    let (width, height) = options.size;
    let legend_height = draw_legend(None, series, options, any_fit)?;
    let height = height.max(u32::try_from(legend_height).unwrap_or(0) + 50);
    let root = SVGBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    let (chart_area, legend_area) = root.split_horizontally(width.saturating_sub(LEGEND_WIDTH));
    let mut builder = ChartBuilder::on(&chart_area);
    builder
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(88);
    let x_min = measured_min_n.min(1.0);
    let layers = Layers {
        series,
        curves: &curves,
        options,
    };
    let log_x = options.log_workers && x_min > 0.0 && x_max > 4.0 * max_measured_n;
    let log_y = options.log_throughput && y_low.is_finite() && y_max > 0.0;
    let x_log = || (x_min * 0.85..x_max * 1.15).log_scale().base(2.0);
    // Half a worker either side, so the first and last points are off the frame.
    let x_lin = || (x_min - 0.5).max(0.0)..x_max + 0.5;
    let x_ticks = ((x_max + 0.5 - (x_min - 0.5).max(0.0)).ceil() as usize).clamp(2, 12);
    // Our own ticks on a log throughput axis: plotters' own can draw a decade twice.
    let y_log = || {
        let (bold, light) = log_ticks(y_low, y_log_top);
        (y_low..y_log_top)
            .log_scale()
            .with_key_points(bold)
            .with_light_points(light)
    };
    match (log_x, log_y) {
        (true, true) => draw(builder.build_cartesian_2d(x_log(), y_log())?, &layers, 12)?,
        (true, false) => draw(
            builder.build_cartesian_2d(x_log(), 0.0..y_top)?,
            &layers,
            12,
        )?,
        (false, true) => draw(
            builder.build_cartesian_2d(x_lin(), y_log())?,
            &layers,
            x_ticks,
        )?,
        (false, false) => draw(
            builder.build_cartesian_2d(x_lin(), 0.0..y_top)?,
            &layers,
            x_ticks,
        )?,
    }
    draw_legend(Some(&legend_area), series, options, any_fit)?;
    root.present()?;
    Ok(())
}

/// What goes on the chart, whichever x scale it has.
struct Layers<'a> {
    series: &'a [Series],
    curves: &'a [Option<Vec<(f64, f64)>>],
    options: &'a PlotOptions,
}

/// The colour of each series: its gate's, or the next grey.
fn colours(series: &[Series]) -> Vec<RGBAColor> {
    let mut others = 0;
    series
        .iter()
        .map(|s| {
            let Rgb(r, g, b) = gate_colours::colour_of(&s.name, others);
            if GateKind::ALL.iter().all(|gate| gate.name() != s.name) {
                others += 1;
            }
            RGBColor(r, g, b).to_rgba()
        })
        .collect()
}

/// The outline of a marker of `kind`, `size` pixels across, around pixel (0, 0).
fn marker_outline(kind: Marker, size: i32) -> Vec<(i32, i32)> {
    let r = size / 2;
    match kind {
        Marker::Circle | Marker::Cross => Vec::new(),
        Marker::Square => vec![
            (-r + 1, -r + 1),
            (r - 1, -r + 1),
            (r - 1, r - 1),
            (-r + 1, r - 1),
        ],
        Marker::Triangle => vec![(0, -r - 1), (r + 1, r), (-r - 1, r)],
        Marker::Diamond => vec![(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)],
    }
}

/// Draws a marker of `kind` at each of `points` (any coordinates; `draw_one`
/// draws one composed element).
macro_rules! draw_markers {
    ($draw:expr, $points:expr, $kind:expr, $size:expr, $style:expr) => {{
        let (kind, size, style): (Marker, i32, ShapeStyle) = ($kind, $size, $style);
        let r = size / 2;
        match kind {
            Marker::Circle => {
                $draw($points.map(|p| EmptyElement::at(p) + Circle::new((0, 0), r, style)))
            }
            Marker::Cross => $draw($points.map(|p| {
                EmptyElement::at(p)
                    + PathElement::new(vec![(-r, -r), (r, r)], style.stroke_width(3))
                    + PathElement::new(vec![(-r, r), (r, -r)], style.stroke_width(3))
            })),
            _ if style.filled => $draw(
                $points
                    .map(|p| EmptyElement::at(p) + Polygon::new(marker_outline(kind, size), style)),
            ),
            _ => $draw($points.map(|p| {
                let mut outline = marker_outline(kind, size);
                outline.push(outline[0]);
                EmptyElement::at(p) + PathElement::new(outline, style)
            })),
        }
    }};
}

/// Draws mesh, range bars, series and models on a chart with any f64 axes;
/// `x_ticks` is the most worker ticks (whole numbers only are labelled).
fn draw<'a, X, Y>(
    mut chart: ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    layers: &Layers<'_>,
    x_ticks: usize,
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
        .x_labels(x_ticks)
        .x_label_formatter(&|n| whole_workers(*n))
        .y_label_formatter(&|y| human(*y))
        .draw()?;

    let colours = colours(layers.series);
    for ((s, curve), &color) in layers.series.iter().zip(layers.curves).zip(&colours) {
        let marker = gate_colours::marker_of(&s.name);
        let mut points = s.points.clone();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        // The range of the repeats: a vertical bar with a cap at each end.
        let bar = color.mix(0.75).stroke_width(2);
        chart.draw_series(
            s.ranges
                .iter()
                .map(|&(n, lo, hi)| PathElement::new(vec![(n, lo), (n, hi)], bar)),
        )?;
        chart.draw_series(s.ranges.iter().flat_map(|&(n, lo, hi)| {
            [lo, hi]
                .map(|y| EmptyElement::at((n, y)) + PathElement::new(vec![(-4, 0), (4, 0)], bar))
        }))?;
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            color.stroke_width(2),
        ))?;
        draw_markers!(
            |elements| chart.draw_series(elements).map(|_| ()),
            points.iter().copied(),
            marker,
            10,
            color.filled()
        )?;
        draw_markers!(
            |elements| chart.draw_series(elements).map(|_| ()),
            s.fitted_points.iter().copied(),
            marker,
            12,
            color.stroke_width(2)
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
    Ok(())
}

/// The legend panel: per series its line and marker, its model and why its
/// projection stops; then one line per kind of mark.
/// Without an area it only measures: it returns the height the panel needs.
fn draw_legend(
    area: Option<&DrawingArea<SVGBackend<'_>, plotters::coord::Shift>>,
    series: &[Series],
    options: &PlotOptions,
    any_fit: bool,
) -> Result<i32, Box<dyn Error>> {
    let left = ("sans-serif", 15)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let small = ("sans-serif", 12)
        .into_font()
        .color(&BLACK.mix(0.75))
        .pos(Pos::new(HPos::Left, VPos::Center));
    let grey = BLACK.mix(0.6);
    let text_x = 46;
    // Characters of small text per line in the panel.
    let wrap_at = 48;
    let mut y = 28;
    for (s, color) in series.iter().zip(colours(series)) {
        if let Some(area) = area {
            area.draw(&PathElement::new(
                vec![(6, y), (36, y)],
                color.stroke_width(2),
            ))?;
            draw_markers!(
                |elements: std::iter::Map<_, _>| {
                    elements.into_iter().try_for_each(|e| area.draw(&e))
                },
                std::iter::once((21, y)),
                gate_colours::marker_of(&s.name),
                10,
                color.filled()
            )?;
            area.draw(&Text::new(s.name.clone(), (text_x, y), left.clone()))?;
        }
        y += 17;
        let mut details = Vec::new();
        if let Some(fit) = &s.fit {
            details.push(format!(
                "{}: α={}, β={}",
                options.model_label,
                coefficient(fit.alpha),
                coefficient(fit.beta)
            ));
        }
        if let Some(note) = &s.note {
            details.extend(wrap(note, wrap_at));
        }
        for line in details {
            if let Some(area) = area {
                area.draw(&Text::new(line, (text_x, y), small.clone()))?;
            }
            y += 15;
        }
        y += 8;
    }
    y += 10;
    let mut kinds: Vec<(String, &str)> = Vec::new();
    if let Some(what) = &options.measured_legend {
        kinds.push((what.clone(), "solid"));
    }
    if series.iter().any(|s| !s.ranges.is_empty()) {
        kinds.push(("bar: lowest–highest run of the repeats".to_owned(), "bar"));
    }
    if series.iter().any(|s| !s.fitted_points.is_empty()) {
        kinds.push((options.fitted_points_legend.clone(), "hollow"));
    }
    if any_fit {
        kinds.push((options.fit_legend.clone(), "dashed"));
    }
    for (what, kind) in kinds {
        if let Some(area) = area {
            match kind {
                "solid" => area.draw(&PathElement::new(
                    vec![(6, y), (36, y)],
                    grey.stroke_width(2),
                ))?,
                "bar" => area.draw(&PathElement::new(
                    vec![(21, y - 7), (21, y + 7)],
                    grey.stroke_width(2),
                ))?,
                "hollow" => area.draw(&Circle::new((21, y), 6, grey.stroke_width(2)))?,
                _ => area.draw(&DashedPathElement::new(vec![(6, y), (36, y)], 4, 3, grey))?,
            }
        }
        for line in wrap(&what, wrap_at) {
            if let Some(area) = area {
                area.draw(&Text::new(line, (text_x, y), small.clone()))?;
            }
            y += 15;
        }
        y += 6;
    }
    if let Some(note) = &options.footnote {
        y += 6;
        for line in wrap(note, wrap_at + 6) {
            if let Some(area) = area {
                area.draw(&Text::new(line, (6, y), small.clone()))?;
            }
            y += 15;
        }
    }
    Ok(y + 10)
}

/// `text` broken into lines of at most `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Ticks of a logarithmic axis from `low` to `high`: labelled at 1, 2 and 5
/// times a power of ten, grid lines at every whole multiple; each once.
fn log_ticks(low: f64, high: f64) -> (Vec<f64>, Vec<f64>) {
    let (mut bold, mut light) = (Vec::new(), Vec::new());
    if !(low > 0.0 && high > low && high.is_finite()) {
        return (bold, light);
    }
    let mut decade = 10f64.powi(low.log10().floor() as i32);
    while decade <= high {
        for m in 1..=9 {
            let v = decade * f64::from(m);
            if v >= low && v <= high {
                light.push(v);
                if matches!(m, 1 | 2 | 5) {
                    bold.push(v);
                }
            }
        }
        decade *= 10.0;
    }
    (bold, light)
}

/// A worker tick: the whole number, or nothing between whole numbers.
fn whole_workers(n: f64) -> String {
    if n > 0.0 && (n - n.round()).abs() < 1e-6 {
        format!("{}", n.round() as u64)
    } else {
        String::new()
    }
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
                ranges: vec![(1.0, 95.0, 104.0), (2.0, 140.0, 155.0)],
                fitted_points: vec![],
                fit: Some(fit),
                fit_cap: None,
                fit_until: Some(16.0),
                ..Series::default()
            },
            Series {
                name: "crosscall".into(),
                points: vec![(1.0, 110.0), (2.0, 215.0)],
                fitted_points: vec![],
                fit: None,
                fit_cap: None,
                fit_until: None,
                note: Some("not fitted: two worker counts".into()),
                ..Series::default()
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
            "model: α=0.100, β=0.010",
            "crosscall",
            "not fitted: two worker counts",
            "bar: lowest–highest run of the repeats",
            "dashed: Universal Scalability Law fit",
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
            fit_until: Some(128.0),
            ..Series::default()
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
            fit_until: Some(64.0),
            ..Series::default()
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
            "normalized model: α=0, β=0",
            "dashed: fit to normalized",
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
            ..Series::default()
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
            ..Series::default()
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
            ..Series::default()
        }];
        let err = throughput_svg(&path, "t", &negative).unwrap_err();
        assert!(err.to_string().contains("not negative"), "{err}");
        assert!(!path.exists());
    }

    #[test]
    fn worker_ticks_are_whole_and_the_axis_ends_at_the_last_point_drawn() {
        let series = [Series {
            name: "none".into(),
            points: vec![(1.0, 100.0), (2.0, 190.0)],
            fit: Some(UslFit {
                lambda: 100.0,
                alpha: 0.05,
                beta: 0.0,
                r_squared: 1.0,
            }),
            // The model would go to 128; this series is projected to 2 only.
            fit_until: None,
            ..Series::default()
        }];
        let path = scratch("ticks");
        let options = PlotOptions {
            project_to: Some(128.0),
            log_workers: true,
            ..PlotOptions::default()
        };
        throughput_svg_with(&path, "ticks", &series, &options).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let labels: Vec<&str> = svg.lines().map(str::trim).collect();
        assert!(labels.contains(&"1") && labels.contains(&"2"), "{svg}");
        for absent in ["0.2", "0.4", "1.5", "4", "128"] {
            assert!(!labels.contains(&absent), "x tick {absent} drawn");
        }
        assert_eq!(whole_workers(3.0), "3");
        let (bold, light) = log_ticks(6e6, 1.3e8);
        assert_eq!(bold, [1e7, 2e7, 5e7, 1e8]);
        assert_eq!(light.len(), 4 + 9 + 1, "{light:?}");
        assert_eq!(whole_workers(1.5), "");
        assert_eq!(wrap("one two three four", 9), ["one two", "three", "four"]);
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
