//! How sure a fitted figure is: a percentile bootstrap over the repeats of a
//! sweep, and the rules the lab projects by.
//!
//! Each replicate draws, at every worker count, as many runs as were measured
//! there (with replacement) and takes their median — the same summary the
//! point estimate uses — then fits the model again. The spread of a figure
//! over [`RESAMPLES`] replicates, cut at [`LOW_QUANTILE`] and
//! [`HIGH_QUANTILE`], is its interval. The random draws are seeded from
//! [`SEED`] and the series' name, so the same sweep file always gives the same
//! intervals.
//!
//! Two rules turn figures into projections a reader can trust:
//! - a gate adds cost to the ungated baseline, so it is never projected above
//!   it ([`cap_at_baseline`]);
//! - where the interval is wider than the figure itself, or there is no
//!   interval (one run per worker count), the lab declines to project
//!   ([`judge`]).
//!
//! ```
//! use crosscall_lab::model::bootstrap::{judge, Interval, Judgement};
//!
//! let sure = judge(100.0, Some(Interval { low: 90.0, high: 120.0 }));
//! assert_eq!(sure, Judgement::Projected(100.0));
//! let unsure = judge(100.0, Some(Interval { low: 40.0, high: 150.0 }));
//! assert!(matches!(unsure, Judgement::Declined(_)));
//! ```

use crate::model::units::si as short;
use crate::report::stats::Spread;

/// Bootstrap replicates per series.
pub const RESAMPLES: usize = 400;
/// The interval's lower quantile (a 90% interval).
pub const LOW_QUANTILE: f64 = 0.05;
/// The interval's upper quantile.
pub const HIGH_QUANTILE: f64 = 0.95;
/// The fixed seed the draws start from (mixed with the series' name).
pub const SEED: u64 = 0x6372_6f73_7363_616c; // "crosscal"
/// The share of replicates that must fit for an interval to be given.
const MIN_FITTED_SHARE: f64 = 0.9;

/// A range a figure lies in with 90% confidence (over the repeats).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

impl Interval {
    /// `high - low`.
    pub fn width(&self) -> f64 {
        self.high - self.low
    }
}

/// Why a series has no interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoInterval(pub String);

/// Each point's runs resampled with replacement and summarized by their
/// median: [`RESAMPLES`] curves of `(workers, throughput)`, deterministic for
/// a given `name` and `runs`.
///
/// `runs` holds, per worker count, every measured throughput there.
///
/// # Errors
///
/// When a worker count has fewer than two runs (nothing to resample) or no
/// runs are given at all.
///
/// # Examples
///
/// ```
/// use crosscall_lab::model::bootstrap::replicate_curves;
///
/// let runs = vec![(1.0, vec![10.0, 11.0]), (2.0, vec![19.0, 20.0, 21.0])];
/// let curves = replicate_curves("none", &runs)?;
/// assert_eq!(curves, replicate_curves("none", &runs)?); // seeded: the same every time
/// assert!(curves.iter().all(|c| (10.0..=11.0).contains(&c[0].1)));
/// # Ok::<(), crosscall_lab::model::bootstrap::NoInterval>(())
/// ```
pub fn replicate_curves(
    name: &str,
    runs: &[(f64, Vec<f64>)],
) -> Result<Vec<Vec<(f64, f64)>>, NoInterval> {
    if runs.is_empty() || runs.iter().all(|(_, r)| r.is_empty()) {
        return Err(NoInterval(
            "the runs behind the points are not known (a sweep file from an older lab, \
             or no repeats given): no interval"
                .to_owned(),
        ));
    }
    if let Some((workers, _)) = runs.iter().find(|(_, r)| r.len() < 2) {
        return Err(NoInterval(format!(
            "one run at N = {workers}: no interval without repeats (sweep --repeat 3 or \
             more; with --points, give each worker count several times)"
        )));
    }
    let mut rng = fastrand::Rng::with_seed(SEED ^ fnv1a(name));
    let mut draw = Vec::new();
    Ok((0..RESAMPLES)
        .map(|_| {
            runs.iter()
                .map(|(workers, values)| {
                    draw.clear();
                    draw.extend((0..values.len()).map(|_| values[rng.usize(..values.len())]));
                    let median = Spread::of(&draw).map_or(f64::NAN, |s| s.median);
                    (*workers, median)
                })
                .collect()
        })
        .collect())
}

/// The [`LOW_QUANTILE`]–[`HIGH_QUANTILE`] interval of the finite `values`
/// (one per replicate; `None` for a replicate that could not be fitted).
///
/// # Errors
///
/// When fewer than 90% of the replicates gave a value.
pub fn percentile_interval(values: &[Option<f64>]) -> Result<Interval, NoInterval> {
    let mut finite: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if finite.is_empty() || (finite.len() as f64) < MIN_FITTED_SHARE * values.len() as f64 {
        return Err(NoInterval(format!(
            "only {} of {} bootstrap replicates could be fitted",
            finite.len(),
            values.len()
        )));
    }
    finite.sort_by(f64::total_cmp);
    let at = |q: f64| finite[((finite.len() - 1) as f64 * q).round() as usize];
    Ok(Interval {
        low: at(LOW_QUANTILE),
        high: at(HIGH_QUANTILE),
    })
}

/// A gate's projected throughput read as cost added to the baseline's: never
/// above `baseline` (`None`: no baseline to cap at). Returns the figure and
/// whether it was capped.
///
/// ```
/// use crosscall_lab::model::bootstrap::cap_at_baseline;
///
/// assert_eq!(cap_at_baseline(232e6, Some(52e6)), (52e6, true));
/// assert_eq!(cap_at_baseline(40e6, Some(52e6)), (40e6, false));
/// assert_eq!(cap_at_baseline(40e6, None), (40e6, false));
/// ```
pub fn cap_at_baseline(figure: f64, baseline: Option<f64>) -> (f64, bool) {
    match baseline {
        Some(base) if figure > base => (base, true),
        _ => (figure, false),
    }
}

/// What the lab says about one projected figure.
#[derive(Clone, Debug, PartialEq)]
pub enum Judgement {
    /// The figure, its interval no wider than itself.
    Projected(f64),
    /// No number: why.
    Declined(String),
}

/// Projects `figure` when its interval is known and no wider than the figure;
/// declines otherwise.
pub fn judge(figure: f64, interval: Option<Interval>) -> Judgement {
    match interval {
        None => Judgement::Declined("no interval".to_owned()),
        // NaN bounds fail this test too, and are declined.
        Some(interval) if interval.width() <= figure => Judgement::Projected(figure),
        Some(interval) => Judgement::Declined(format!(
            "the 90% interval ({}–{}) is wider than the figure ({})",
            short(interval.low),
            short(interval.high),
            short(figure)
        )),
    }
}

/// FNV-1a of `text`: a stable per-series seed (std's hashers are not stable
/// across releases).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicates_are_deterministic_and_differ_between_series() {
        let runs = vec![(1.0, vec![1.0, 2.0, 3.0]), (2.0, vec![4.0, 5.0, 6.0])];
        let a = replicate_curves("mutex", &runs).unwrap();
        assert_eq!(a.len(), RESAMPLES);
        assert_eq!(a, replicate_curves("mutex", &runs).unwrap());
        assert_ne!(a, replicate_curves("atomic", &runs).unwrap());
        // Medians of draws from the runs stay within the runs' range, and the
        // replicates do vary.
        assert!(a.iter().all(|c| (1.0..=3.0).contains(&c[0].1)));
        assert!(a.iter().any(|c| c[0].1 != a[0][0].1));
    }

    #[test]
    fn single_runs_give_no_interval() {
        let err = replicate_curves("none", &[(1.0, vec![5.0, 6.0]), (2.0, vec![9.0])]).unwrap_err();
        assert!(err.0.contains("one run at N = 2"), "{err:?}");
        let err = replicate_curves("none", &[(1.0, vec![]), (2.0, vec![])]).unwrap_err();
        assert!(err.0.contains("not known"), "{err:?}");
        assert!(replicate_curves("none", &[]).is_err());
    }

    #[test]
    fn the_interval_spans_the_middle_ninety_percent() {
        let values: Vec<Option<f64>> = (0..=100).map(|v| Some(f64::from(v))).collect();
        assert_eq!(
            percentile_interval(&values).unwrap(),
            Interval {
                low: 5.0,
                high: 95.0
            }
        );
        let mostly_failed: Vec<Option<f64>> =
            (0..10).map(|v| (v < 5).then_some(f64::from(v))).collect();
        assert!(percentile_interval(&mostly_failed)
            .unwrap_err()
            .0
            .contains("only 5 of 10"));
    }

    #[test]
    fn a_figure_is_declined_when_its_interval_is_wider_than_itself() {
        assert_eq!(
            judge(
                10.0,
                Some(Interval {
                    low: 5.0,
                    high: 15.0
                })
            ),
            Judgement::Projected(10.0)
        );
        assert!(matches!(
            judge(10.0, Some(Interval { low: 2.0, high: 12.5 })),
            Judgement::Declined(why) if why.contains("wider than the figure")
        ));
        assert!(matches!(judge(10.0, None), Judgement::Declined(_)));
        assert!(matches!(
            judge(
                10.0,
                Some(Interval {
                    low: f64::NAN,
                    high: 1.0
                })
            ),
            Judgement::Declined(_)
        ));
    }

    #[test]
    fn no_gate_is_projected_above_the_baseline() {
        for (figure, base) in [(1.0, 2.0), (3.0, 2.0), (2.0, 2.0)] {
            let (capped, was) = cap_at_baseline(figure, Some(base));
            assert!(capped <= base);
            assert_eq!(was, figure > base);
        }
    }
}
