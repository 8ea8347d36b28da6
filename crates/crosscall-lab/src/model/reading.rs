//! A fitted scalability model ([`crate::model::usl`]) read out in one plain sentence:
//! does a second worker already hurt, is there any contention to see at all,
//! and if so where does throughput stop growing.
//!
//! A sweep's no-gate series is the floor of what it can resolve: whatever it
//! loses (the harness, and on an oversubscribed machine the cost of time
//! slicing that capacity normalization cannot remove) is not any gate's.
//! [`reading_against`] reads a gate against it.
//!
//! ```
//! use crosscall_lab::model::reading::plain_reading;
//! use crosscall_lab::model::usl::UslFit;
//!
//! let mutex = UslFit { lambda: 36e6, alpha: 5.5, beta: 0.0, r_squared: 0.9 };
//! assert_eq!(
//!     plain_reading(&mutex, 64),
//!     "contention α=5.5 — throughput falls as soon as a second worker arrives"
//! );
//! let free = UslFit { lambda: 84e6, alpha: 0.0, beta: 0.0, r_squared: 1.0 };
//! assert_eq!(plain_reading(&free, 64), "α≈0, β≈0 — no measurable contention; scales with cores");
//! ```

use crate::model::usl::UslFit;

/// Below this extra cost per worker at the horizon (`α(N−1) + βN(N−1)`, 0 for
/// linear scaling), the model is read as "no contention": within 5% of
/// linear, the size of run-to-run noise in a sweep.
const NEGLIGIBLE_LOSS: f64 = 0.05;

/// The name of the no-gate series in a sweep, the baseline gates are read against.
pub const BASELINE: &str = "none";

/// [`plain_reading`], but read against `baseline` (the no-gate series' fit,
/// when there is one): a gate that loses no more than the baseline does up to
/// `measured_up_to` workers (to within noise) has no contention of its own,
/// and the baseline itself is named as the floor when it is not
/// contention-free. The comparison stays within the measured range: beyond
/// it, both fits are extrapolations.
///
/// ```
/// use crosscall_lab::model::reading::reading_against;
/// use crosscall_lab::model::usl::UslFit;
///
/// let floor = UslFit { lambda: 110.0, alpha: 0.12, beta: 0.0, r_squared: 1.0 };
/// let gate = UslFit { lambda: 90.0, alpha: 0.08, ..floor };
/// assert_eq!(
///     reading_against(&gate, Some(&floor), 4.0, 64),
///     "α=0.080, β=0 — no contention beyond the no-gate baseline (α=0.120, β=0); scales like no gate"
/// );
/// ```
pub fn reading_against(
    fit: &UslFit,
    baseline: Option<&UslFit>,
    measured_up_to: f64,
    horizon: usize,
) -> String {
    let Some(base) = baseline else {
        return plain_reading(fit, horizon);
    };
    let loss = |f: &UslFit, n: f64| f.alpha * (n - 1.0) + f.beta * n * (n - 1.0);
    if loss(base, horizon.max(2) as f64) <= NEGLIGIBLE_LOSS {
        return plain_reading(fit, horizon);
    }
    if fit == base {
        return format!(
            "α={}, β={} — the harness's own cost on this machine: the floor the gates are \
             read against",
            short(fit.alpha),
            short(fit.beta)
        );
    }
    // Within noise (10% of the baseline's loss, or NEGLIGIBLE_LOSS) of the
    // baseline at the largest measured count, or below it.
    let n = measured_up_to.max(2.0);
    let within = loss(base, n) + (0.1 * loss(base, n)).max(NEGLIGIBLE_LOSS);
    if fit.throughput(2.0) >= fit.throughput(1.0) && loss(fit, n) <= within {
        return format!(
            "α={}, β={} — no contention beyond the no-gate baseline (α={}, β={}); scales like no gate",
            short(fit.alpha),
            short(fit.beta),
            short(base.alpha),
            short(base.beta)
        );
    }
    plain_reading(fit, horizon)
}

/// The sentence for a fit the lab declines to read at `horizon` workers
/// (its projection there is too uncertain): the coefficients and why.
///
/// ```
/// use crosscall_lab::model::reading::undecided;
/// use crosscall_lab::model::usl::UslFit;
///
/// let fit = UslFit { lambda: 1.0, alpha: 0.9, beta: 0.0, r_squared: 0.1 };
/// assert_eq!(
///     undecided(&fit, 64, "too wide"),
///     "α=0.900, β=0 — not read at 64 workers: too wide"
/// );
/// ```
pub fn undecided(fit: &UslFit, horizon: usize, why: &str) -> String {
    format!(
        "α={}, β={} — not read at {horizon} workers: {why}",
        short(fit.alpha),
        short(fit.beta)
    )
}

/// One sentence on what `fit` means for scaling up to `horizon` workers.
pub fn plain_reading(fit: &UslFit, horizon: usize) -> String {
    let horizon = horizon.max(2) as f64;
    let loss = |n: f64| fit.alpha * (n - 1.0) + fit.beta * n * (n - 1.0);
    // What dominates the cost of the second worker: α, or β counted for both
    // of the pair.
    let dominant = if fit.alpha >= 2.0 * fit.beta {
        format!("contention α={}", short(fit.alpha))
    } else {
        format!("crosstalk β={}", short(fit.beta))
    };
    if fit.throughput(2.0) < fit.throughput(1.0) {
        return format!("{dominant} — throughput falls as soon as a second worker arrives");
    }
    if loss(horizon) <= NEGLIGIBLE_LOSS {
        return "α≈0, β≈0 — no measurable contention; scales with cores".to_owned();
    }
    let times = |n: f64| fit.throughput(n) / fit.lambda;
    if let Some(peak) = fit.peak_workers().filter(|&n| n <= horizon) {
        return format!(
            "{dominant} — throughput peaks near {peak:.0} workers ({:.1}× one worker), then falls",
            times(peak)
        );
    }
    format!(
        "{dominant} — {:.1}× one worker at {horizon:.0} workers ({:.0}% of linear){}",
        times(horizon),
        100.0 / (1.0 + loss(horizon)),
        if fit.beta == 0.0 && fit.alpha > 0.0 {
            format!(", levelling off towards {:.0}×", 1.0 / fit.alpha)
        } else {
            String::new()
        }
    )
}

/// `5.5`, `0.051`, `3.2e-5`: two or three significant digits.
fn short(value: f64) -> String {
    if value == 0.0 {
        "0".to_owned()
    } else if value >= 1.0 {
        format!("{value:.1}")
    } else if value >= 1e-3 {
        format!("{value:.3}")
    } else {
        format!("{value:.1e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(alpha: f64, beta: f64) -> UslFit {
        UslFit {
            lambda: 100.0,
            alpha,
            beta,
            r_squared: 1.0,
        }
    }

    #[test]
    fn a_second_worker_that_hurts_is_said_first() {
        let crosstalk = plain_reading(&fit(0.1, 0.6), 64);
        assert_eq!(
            crosstalk,
            "crosstalk β=0.600 — throughput falls as soon as a second worker arrives"
        );
    }

    #[test]
    fn small_coefficients_are_no_contention_only_if_small_at_the_horizon() {
        // α·63 = 0.032: within noise of linear at 64 workers.
        assert!(plain_reading(&fit(0.0005, 0.0), 64).starts_with("α≈0, β≈0"));
        // The same α is 12% off linear at 256 workers: it is reported.
        let far = plain_reading(&fit(0.0005, 0.0), 256);
        assert!(
            far.starts_with("contention α=5.0e-4 — ")
                && far.contains("levelling off towards 2000×"),
            "{far}"
        );
    }

    #[test]
    fn gates_are_read_against_a_lossy_baseline() {
        let base = fit(0.12, 0.0);
        assert!(reading_against(&base, Some(&base), 4.0, 64).contains("the floor the gates are"));
        // Equal to the floor at 4 workers, though β would make it worse far out.
        assert!(
            reading_against(&fit(0.12, 0.0), Some(&fit(0.0, 0.03)), 4.0, 64)
                .contains("no contention beyond the no-gate baseline")
        );
        // Worse than the floor by more than noise: read on its own.
        assert_eq!(
            reading_against(&fit(0.2, 0.0), Some(&base), 4.0, 64),
            plain_reading(&fit(0.2, 0.0), 64)
        );
        // A second worker that hurts is never "like no gate".
        assert!(
            reading_against(&fit(3.5, 0.0), Some(&fit(4.0, 0.0)), 4.0, 64)
                .ends_with("falls as soon as a second worker arrives")
        );
        // A contention-free baseline adds nothing.
        let clean = fit(0.0, 0.0);
        assert_eq!(
            reading_against(&fit(0.05, 0.0), Some(&clean), 4.0, 64),
            plain_reading(&fit(0.05, 0.0), 64)
        );
        assert_eq!(
            reading_against(&fit(0.05, 0.0), None, 4.0, 64),
            plain_reading(&fit(0.05, 0.0), 64)
        );
    }

    #[test]
    fn a_peak_inside_the_horizon_is_named() {
        // N* = sqrt(0.999 / 0.001) ≈ 31.6.
        let got = plain_reading(&fit(0.001, 0.001), 64);
        assert!(
            got.starts_with("crosstalk β=0.001 — throughput peaks near 32 workers ("),
            "{got}"
        );
    }

    #[test]
    fn contention_without_a_peak_gives_the_share_of_linear() {
        // α = 0.05 at 64 workers: 64 / (1 + 0.05·63) = 15.4×, 24% of linear.
        let got = plain_reading(&fit(0.05, 0.0), 64);
        assert_eq!(
            got,
            "contention α=0.050 — 15.4× one worker at 64 workers (24% of linear), \
             levelling off towards 20×"
        );
    }
}
