//! Capacity-normalized throughput: what `n` workers would deliver if each had
//! a core of its own, estimated from a run where they shared fewer cores.
//!
//! A sweep on a 2-core machine measures 3 and 4 workers *oversubscribed*:
//! their throughput is capped by the 2 cores, and a scalability fit to those
//! points measures the machine, not the gate. The calibration
//! ([`crate::model::calibrate`]) says how much compute `n` threads got together,
//! `c(n)` (pure arithmetic, nothing shared: about `min(n, cores)`). With it,
//!
//! ```text
//! X'(n) = X(n) · n / c(n)
//! ```
//!
//! rescales the measured throughput `X(n)` from the `c(n)` cores' worth of
//! CPU the workers got to the `n` cores they would have on a big machine.
//!
//! **The assumption**: a worker's progress is proportional to the CPU share it
//! gets, so giving each of `n` time-sliced workers a whole core would multiply
//! their throughput by `n / c(n)`.
//!
//! **Its limit**: it rescales time, it cannot replay the run with every worker
//! running at once. Two things differ when threads outnumber cores, and the
//! normalization removes neither:
//!
//! - Only about `c(n)` workers run at any moment, so only that many contend
//!   for a shared lock or cache line at once. On `n` real cores all `n` do,
//!   and contention grows with that. For gates with shared writes (a mutex, a
//!   shared counter) normalized figures are therefore *optimistic*: read them
//!   as a best case, not a prediction.
//! - A worker descheduled while holding a lock stalls every worker waiting
//!   for it until it runs again. That only exists when threads are
//!   descheduled; it makes lock-based gates look worse here, never better,
//!   and pulls against the first effect without cancelling it in general.
//!
//! For gates whose workers share no writes (no gate, a per-thread gate) both
//! effects vanish and the normalized figure is a fair estimate.
//!
//! `c(n)` above `n` is measurement noise (`n` threads cannot get more than
//! `n` cores), so it is capped at `n`: normalization never lowers a figure.
//!
//! ```
//! use crosscall_lab::model::calibrate::ScalingAt;
//! use crosscall_lab::model::capacity;
//!
//! // 4 workers on 2 cores delivered 150 tasks/s; each with its own core: 300.
//! let scaling = [ScalingAt { workers: 2, scaling: 2.0 }, ScalingAt { workers: 4, scaling: 2.0 }];
//! let normalized = capacity::normalize(&[(1.0, 80.0), (4.0, 150.0)], &scaling)?;
//! assert_eq!(normalized, [(1.0, 80.0), (4.0, 300.0)]);
//! # Ok::<(), capacity::NormalizeError>(())
//! ```

use std::fmt;

use crate::model::calibrate::ScalingAt;

/// `X · n / c`, with `c` capped at `n` (more than `n` cores' worth of compute
/// for `n` threads is noise).
///
/// ```
/// use crosscall_lab::model::capacity::normalized_throughput;
/// assert_eq!(normalized_throughput(90.0, 3, 2.0), 135.0);
/// assert_eq!(normalized_throughput(90.0, 2, 2.04), 90.0);
/// ```
pub fn normalized_throughput(throughput: f64, workers: usize, scaling: f64) -> f64 {
    let n = workers as f64;
    throughput * n / scaling.min(n)
}

/// Why a series could not be normalized.
#[derive(Clone, Debug, PartialEq)]
pub enum NormalizeError {
    /// The calibration has no per-worker-count figures (a sweep file written
    /// before they were measured).
    NoPerCountCalibration,
    /// A worker count of the series was not calibrated.
    Uncalibrated {
        /// The worker count.
        workers: f64,
    },
    /// A calibrated scaling is not a positive finite number.
    BadScaling {
        /// The worker count.
        workers: usize,
        /// Its recorded scaling.
        scaling: f64,
    },
}

impl fmt::Display for NormalizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NormalizeError::NoPerCountCalibration => write!(
                f,
                "the sweep file has no per-worker-count calibration (written by an older \
                 lab); no capacity normalization — re-run `crosscall-lab sweep` for it"
            ),
            NormalizeError::Uncalibrated { workers } => write!(
                f,
                "no calibration at {workers} workers; no capacity normalization"
            ),
            NormalizeError::BadScaling { workers, scaling } => write!(
                f,
                "calibrated scaling at {workers} workers is {scaling}, not a positive number; \
                 no capacity normalization"
            ),
        }
    }
}

impl std::error::Error for NormalizeError {}

/// Normalizes `(workers, throughput)` points with the per-count scaling
/// `by_workers` (`c(1) = 1` whether listed or not).
///
/// # Errors
///
/// [`NormalizeError::NoPerCountCalibration`] when `by_workers` is empty,
/// [`NormalizeError::Uncalibrated`] when a point's worker count is not in it,
/// [`NormalizeError::BadScaling`] when its scaling is not positive and finite.
pub fn normalize(
    points: &[(f64, f64)],
    by_workers: &[ScalingAt],
) -> Result<Vec<(f64, f64)>, NormalizeError> {
    if by_workers.is_empty() {
        return Err(NormalizeError::NoPerCountCalibration);
    }
    points
        .iter()
        .map(|&(n, x)| {
            let at = by_workers
                .iter()
                .find(|s| s.workers as f64 == n)
                .copied()
                .or_else(|| {
                    (n == 1.0).then_some(ScalingAt {
                        workers: 1,
                        scaling: 1.0,
                    })
                })
                .ok_or(NormalizeError::Uncalibrated { workers: n })?;
            if !(at.scaling.is_finite() && at.scaling > 0.0) {
                return Err(NormalizeError::BadScaling {
                    workers: at.workers,
                    scaling: at.scaling,
                });
            }
            Ok((n, normalized_throughput(x, at.workers, at.scaling)))
        })
        .collect()
}

/// `c = 1.00@1 1.97@2 2.05@4`: the scaling table on one line, for reports.
pub fn describe(by_workers: &[ScalingAt]) -> String {
    by_workers
        .iter()
        .map(|s| format!("{:.2}@{}", s.scaling, s.workers))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(workers: usize, scaling: f64) -> ScalingAt {
        ScalingAt { workers, scaling }
    }

    #[test]
    fn oversubscribed_points_are_scaled_by_workers_over_cores_got() {
        let scaling = [at(1, 1.0), at(2, 1.97), at(3, 2.0), at(4, 2.05)];
        let got = normalize(
            &[(1.0, 84.0), (2.0, 172.0), (3.0, 142.0), (4.0, 148.0)],
            &scaling,
        )
        .unwrap();
        let want = [
            84.0,
            172.0 * 2.0 / 1.97,
            142.0 * 3.0 / 2.0,
            148.0 * 4.0 / 2.05,
        ];
        for ((n, x), want) in got.iter().zip(want) {
            assert!((x - want).abs() < 1e-9 * want, "at {n}: {x} vs {want}");
        }
    }

    #[test]
    fn scaling_above_the_thread_count_is_capped() {
        // Two threads cannot get 2.1 cores: the point stays as measured.
        assert_eq!(normalized_throughput(200.0, 2, 2.1), 200.0);
        // Below one core's worth (a crowded machine) raises it further.
        assert_eq!(normalized_throughput(50.0, 2, 0.5), 200.0);
    }

    #[test]
    fn one_worker_needs_no_calibration_entry() {
        let got = normalize(&[(1.0, 10.0), (2.0, 15.0)], &[at(2, 1.5)]).unwrap();
        assert_eq!(got, [(1.0, 10.0), (2.0, 20.0)]);
    }

    #[test]
    fn missing_or_bad_calibration_is_refused_with_the_reason() {
        assert_eq!(
            normalize(&[(1.0, 10.0)], &[]),
            Err(NormalizeError::NoPerCountCalibration)
        );
        assert!(NormalizeError::NoPerCountCalibration
            .to_string()
            .contains("re-run `crosscall-lab sweep`"));
        assert_eq!(
            normalize(&[(1.0, 10.0), (3.0, 12.0)], &[at(2, 1.9)]),
            Err(NormalizeError::Uncalibrated { workers: 3.0 })
        );
        assert_eq!(
            normalize(&[(2.0, 10.0)], &[at(2, 0.0)]),
            Err(NormalizeError::BadScaling {
                workers: 2,
                scaling: 0.0
            })
        );
    }

    #[test]
    fn the_table_reads_on_one_line() {
        assert_eq!(describe(&[at(1, 1.0), at(4, 2.049)]), "1.00@1 2.05@4");
    }
}
