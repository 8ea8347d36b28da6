//! The Universal Scalability Law (Gunther): how throughput `X` changes with the
//! number of workers `N`,
//!
//! ```text
//! X(N) = λN / (1 + α(N−1) + βN(N−1))
//! ```
//!
//! `λ` is the throughput of one worker, `α` the share of work that serializes
//! (contention: a global lock), `β` the cost of keeping workers coherent with each
//! other (crosstalk: a cache line bouncing between every pair of cores). With
//! `β > 0` the curve peaks at `N* = sqrt((1−α)/β)` and then falls — the "slower
//! from 32 CPUs on" shape. Fitting a sweep on a small machine and projecting it is
//! how the lab speaks about a large one.
//!
//! The fit starts from the textbook linearization and refines it with a
//! projected Levenberg–Marquardt search on the original (nonlinear) residuals,
//! keeping `α, β ≥ 0` (negative values would mean super-linear scaling, which the
//! law does not model).
//!
//! ```
//! use crosscall_lab::model::usl;
//!
//! // A curve with known coefficients is recovered from its points.
//! let truth = usl::UslFit { lambda: 1000.0, alpha: 0.05, beta: 0.001, r_squared: 1.0 };
//! let points: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0, 16.0]
//!     .iter()
//!     .map(|&n| (n, truth.throughput(n)))
//!     .collect();
//! let fit = usl::fit(&points)?;
//! assert!((fit.alpha - 0.05).abs() < 1e-6);
//! assert!((fit.beta - 0.001).abs() < 1e-8);
//! assert!((fit.peak_workers().unwrap() - (0.95f64 / 0.001).sqrt()).abs() < 1e-3);
//! # Ok::<(), usl::FitError>(())
//! ```

use std::fmt;

/// The fewest distinct worker counts a fit needs: the law has three coefficients.
pub const MIN_WORKER_COUNTS: usize = 3;

/// Coefficients of a Universal Scalability Law curve fitted to measurements.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UslFit {
    /// Throughput of a single worker (`X(1)`), in the unit of the measurements.
    pub lambda: f64,
    /// Contention coefficient `α` (≥ 0): the serialized share of the work.
    pub alpha: f64,
    /// Coherency coefficient `β` (≥ 0): pairwise crosstalk between workers.
    pub beta: f64,
    /// Coefficient of determination of the fit on the measured throughputs
    /// (1 = the curve passes through every point).
    pub r_squared: f64,
}

impl UslFit {
    /// Modelled throughput with `n` workers.
    ///
    /// ```
    /// let linear = crosscall_lab::model::usl::UslFit { lambda: 10.0, alpha: 0.0, beta: 0.0, r_squared: 1.0 };
    /// assert_eq!(linear.throughput(8.0), 80.0);
    /// ```
    pub fn throughput(&self, n: f64) -> f64 {
        self.lambda * n / self.denominator(n)
    }

    /// The worker count where throughput peaks, `N* = sqrt((1−α)/β)`.
    ///
    /// `None` when the curve has no peak: `β ≤ 0` (throughput keeps rising towards
    /// `λ/α`) or `α ≥ 1` (it never rises above one worker's).
    ///
    /// ```
    /// use crosscall_lab::model::usl::UslFit;
    /// let fit = UslFit { lambda: 1.0, alpha: 0.0, beta: 0.01, r_squared: 1.0 };
    /// assert_eq!(fit.peak_workers(), Some(10.0));
    /// let no_peak = UslFit { beta: 0.0, ..fit };
    /// assert_eq!(no_peak.peak_workers(), None);
    /// ```
    pub fn peak_workers(&self) -> Option<f64> {
        (self.beta > 0.0 && self.alpha < 1.0).then(|| ((1.0 - self.alpha) / self.beta).sqrt())
    }

    /// `1 + α(N−1) + βN(N−1)`: how much slower each worker is with `n` of them.
    fn denominator(&self, n: f64) -> f64 {
        1.0 + self.alpha * (n - 1.0) + self.beta * n * (n - 1.0)
    }
}

/// Why a set of measurements could not be fitted.
#[derive(Clone, Debug, PartialEq)]
pub enum FitError {
    /// Fewer than [`MIN_WORKER_COUNTS`] distinct worker counts were measured.
    TooFewPoints {
        /// How many distinct worker counts there were.
        got: usize,
    },
    /// The measurements cannot describe a throughput curve (a non-positive or
    /// non-finite value, a worker count below 1, …); the message says which.
    Degenerate(String),
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitError::TooFewPoints { got } => write!(
                f,
                "the scalability model needs at least {MIN_WORKER_COUNTS} different worker \
                 counts, got {got}; measure more, e.g. \
                 `crosscall-lab sweep --workers 1,2,3`"
            ),
            FitError::Degenerate(why) => write!(f, "cannot fit the scalability model: {why}"),
        }
    }
}

impl std::error::Error for FitError {}

/// Fits the law to `(workers N, throughput X)` points.
///
/// Repeated measurements at one `N` are welcome (each counts as a point), but
/// at least [`MIN_WORKER_COUNTS`] distinct `N` are needed.
///
/// # Errors
///
/// [`FitError::TooFewPoints`] with fewer than three distinct worker counts;
/// [`FitError::Degenerate`] when a worker count is below 1 or not finite, or a
/// throughput is not a positive finite number.
pub fn fit(points: &[(f64, f64)]) -> Result<UslFit, FitError> {
    validate(points)?;

    // Work on throughputs scaled to ~1 so λ, α and β have comparable magnitudes
    // in the normal equations.
    let scale = points.iter().map(|&(_, x)| x).fold(0.0, f64::max);
    let scaled: Vec<(f64, f64)> = points.iter().map(|&(n, x)| (n, x / scale)).collect();

    let start = linearized_fit(&scaled);
    let refined = refine(&scaled, start);
    let sse = sum_squared_residuals(&scaled, &refined);
    Ok(UslFit {
        lambda: refined.lambda * scale,
        r_squared: r_squared(&scaled, sse),
        ..refined
    })
}

fn validate(points: &[(f64, f64)]) -> Result<(), FitError> {
    for &(n, x) in points {
        if !n.is_finite() || n < 1.0 {
            return Err(FitError::Degenerate(format!(
                "worker counts must be at least 1, got {n}"
            )));
        }
        if !x.is_finite() || x <= 0.0 {
            return Err(FitError::Degenerate(format!(
                "throughput must be a positive number, got {x} at {n} workers"
            )));
        }
    }
    let mut counts: Vec<f64> = points.iter().map(|&(n, _)| n).collect();
    counts.sort_by(f64::total_cmp);
    counts.dedup();
    if counts.len() < MIN_WORKER_COUNTS {
        return Err(FitError::TooFewPoints { got: counts.len() });
    }
    Ok(())
}

/// The textbook starting point. `λ` comes from the fewest workers measured
/// (`X(N_min)/N_min`); then with the relative capacity `C(N) = X(N)/λ` the law
/// becomes linear in `α, β`: `N/C(N) − 1 = α(N−1) + βN(N−1)`, solved by least
/// squares without an intercept, under `α, β ≥ 0`.
fn linearized_fit(points: &[(f64, f64)]) -> UslFit {
    let n_min = points.iter().map(|&(n, _)| n).fold(f64::INFINITY, f64::min);
    let at_min: Vec<f64> = points
        .iter()
        .filter(|p| p.0 == n_min)
        .map(|p| p.1)
        .collect();
    let lambda = at_min.iter().sum::<f64>() / at_min.len() as f64 / n_min;

    // Rows (u, v, y) of y = αu + βv.
    let rows: Vec<(f64, f64, f64)> = points
        .iter()
        .map(|&(n, x)| (n - 1.0, n * (n - 1.0), lambda * n / x - 1.0))
        .collect();
    let (suu, suv, svv, suy, svy) = rows
        .iter()
        .fold((0.0, 0.0, 0.0, 0.0, 0.0), |s, &(u, v, y)| {
            (
                s.0 + u * u,
                s.1 + u * v,
                s.2 + v * v,
                s.3 + u * y,
                s.4 + v * y,
            )
        });
    let sse = |a: f64, b: f64| -> f64 {
        rows.iter()
            .map(|&(u, v, y)| (y - a * u - b * v).powi(2))
            .sum()
    };

    // Two-variable non-negative least squares: the unconstrained optimum if it is
    // feasible, otherwise the best of the solutions on the boundary.
    let det = suu * svv - suv * suv;
    let mut candidates = vec![(0.0, 0.0)];
    if det > 0.0 {
        candidates.push(((suy * svv - svy * suv) / det, (svy * suu - suy * suv) / det));
    }
    if suu > 0.0 {
        candidates.push(((suy / suu).max(0.0), 0.0));
    }
    if svv > 0.0 {
        candidates.push((0.0, (svy / svv).max(0.0)));
    }
    let (alpha, beta) = candidates
        .into_iter()
        .filter(|&(a, b)| a >= 0.0 && b >= 0.0)
        .min_by(|p, q| sse(p.0, p.1).total_cmp(&sse(q.0, q.1)))
        .unwrap_or((0.0, 0.0));
    UslFit {
        lambda,
        alpha,
        beta,
        r_squared: f64::NAN,
    }
}

/// Projected Levenberg–Marquardt on `Σ (X_i − X(N_i))²` over `(λ, α, β)` with
/// `α, β ≥ 0`. Only steps that lower the error are taken, so the result is never
/// worse than `start`.
fn refine(points: &[(f64, f64)], start: UslFit) -> UslFit {
    const MAX_ITERATIONS: usize = 200;
    let mut current = start;
    let mut error = sum_squared_residuals(points, &current);
    let mut damping = 1e-3;
    for _ in 0..MAX_ITERATIONS {
        // Normal equations JᵀJ δ = Jᵀr for the residuals r = X − X(N).
        let mut jtj = [[0.0; 3]; 3];
        let mut jtr = [0.0; 3];
        for &(n, x) in points {
            let d = current.denominator(n);
            let model = current.lambda * n / d;
            let grad = [n / d, -model * (n - 1.0) / d, -model * n * (n - 1.0) / d];
            for i in 0..3 {
                jtr[i] += grad[i] * (x - model);
                for j in 0..3 {
                    jtj[i][j] += grad[i] * grad[j];
                }
            }
        }

        // Active set: α or β sitting on its bound with the descent direction
        // pointing below zero stays fixed; only the others move this iteration.
        let fixed = [
            false,
            current.alpha <= 0.0 && jtr[1] <= 0.0,
            current.beta <= 0.0 && jtr[2] <= 0.0,
        ];

        let mut improved = false;
        while damping < 1e12 {
            let mut a = jtj;
            let mut b = jtr;
            for i in 0..3 {
                // Marquardt's scaling: damp each parameter by its own curvature.
                a[i][i] += damping * jtj[i][i].max(f64::MIN_POSITIVE);
                if fixed[i] {
                    // Replace the row and column by δ_i = 0.
                    a[i] = [0.0; 3];
                    for row in a.iter_mut() {
                        row[i] = 0.0;
                    }
                    a[i][i] = 1.0;
                    b[i] = 0.0;
                }
            }
            let Some(step) = solve3(a, b) else {
                damping *= 10.0;
                continue;
            };
            let candidate = UslFit {
                lambda: current.lambda + step[0],
                alpha: (current.alpha + step[1]).max(0.0),
                beta: (current.beta + step[2]).max(0.0),
                r_squared: f64::NAN,
            };
            let candidate_error = sum_squared_residuals(points, &candidate);
            if candidate.lambda > 0.0 && candidate_error < error {
                let gain = error - candidate_error;
                current = candidate;
                error = candidate_error;
                damping = (damping / 10.0).max(1e-12);
                improved = gain > error * 1e-14 + f64::MIN_POSITIVE;
                break;
            }
            damping *= 10.0;
        }
        if !improved {
            break;
        }
    }
    current
}

/// Solves the 3×3 system `a·x = b` by Gaussian elimination with partial pivoting;
/// `None` when it is singular.
fn solve3(mut a: [[f64; 3]; 3], mut b: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let pivot = (col..3).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..3 {
            let factor = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (cell, pivot_cell) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *cell -= factor * pivot_cell;
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = [0.0; 3];
    for row in (0..3).rev() {
        let tail: f64 = (row + 1..3).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - tail) / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

fn sum_squared_residuals(points: &[(f64, f64)], fit: &UslFit) -> f64 {
    points
        .iter()
        .map(|&(n, x)| (x - fit.throughput(n)).powi(2))
        .sum()
}

/// `1 − SSE/SST`; when every throughput is equal (SST = 0) a perfect fit scores 1.
fn r_squared(points: &[(f64, f64)], sse: f64) -> f64 {
    let mean = points.iter().map(|&(_, x)| x).sum::<f64>() / points.len() as f64;
    let sst: f64 = points.iter().map(|&(_, x)| (x - mean).powi(2)).sum();
    if sst > 0.0 {
        1.0 - sse / sst
    } else if sse <= f64::EPSILON {
        1.0
    } else {
        0.0
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refinement_reaches_a_boundary_optimum_from_a_poor_start() {
        // β = 0 exactly, starting from "all crosstalk, no contention": the search
        // has to leave β's bound behind and settle with β at (about) 0.
        let truth = UslFit {
            lambda: 2.0,
            alpha: 0.2,
            beta: 0.0,
            r_squared: 1.0,
        };
        let points: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0, 16.0]
            .iter()
            .map(|&n| (n, truth.throughput(n)))
            .collect();
        let poor = UslFit {
            lambda: 2.0,
            alpha: 0.0,
            beta: 0.2,
            r_squared: f64::NAN,
        };
        let got = refine(&points, poor);
        assert!((got.lambda - 2.0).abs() < 1e-9, "{got:?}");
        assert!((got.alpha - 0.2).abs() < 1e-9, "{got:?}");
        assert!(got.beta < 1e-12, "{got:?}");
    }

    #[test]
    fn linearization_is_exact_on_exact_data() {
        let truth = UslFit {
            lambda: 3.0,
            alpha: 0.1,
            beta: 0.02,
            r_squared: 1.0,
        };
        let points: Vec<(f64, f64)> = [1.0, 2.0, 3.0, 5.0]
            .iter()
            .map(|&n| (n, truth.throughput(n)))
            .collect();
        let got = linearized_fit(&points);
        assert!(
            (got.alpha - 0.1).abs() < 1e-12 && (got.beta - 0.02).abs() < 1e-12,
            "{got:?}"
        );
    }

    #[test]
    fn solve3_rejects_singular_systems() {
        assert_eq!(
            solve3(
                [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]],
                [1.0; 3]
            ),
            None
        );
        let x = solve3(
            [[2.0, 0.0, 0.0], [0.0, 4.0, 0.0], [1.0, 0.0, 1.0]],
            [2.0, 8.0, 4.0],
        )
        .unwrap();
        assert_eq!(x, [1.0, 2.0, 3.0]);
    }
}
