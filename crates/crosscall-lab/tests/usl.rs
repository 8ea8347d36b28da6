//! The Universal Scalability Law fit recovers known curves and refuses bad input.

use crosscall_lab::model::usl::{fit, FitError, UslFit};

fn curve(lambda: f64, alpha: f64, beta: f64) -> UslFit {
    UslFit {
        lambda,
        alpha,
        beta,
        r_squared: 1.0,
    }
}

fn sample(truth: &UslFit, workers: &[f64]) -> Vec<(f64, f64)> {
    workers.iter().map(|&n| (n, truth.throughput(n))).collect()
}

/// Deterministic multiplicative noise in [-amplitude, +amplitude], sign and size
/// varying from point to point (a fixed pseudo-random sequence, no RNG state).
fn with_noise(points: &[(f64, f64)], amplitude: f64) -> Vec<(f64, f64)> {
    points
        .iter()
        .enumerate()
        .map(|(i, &(n, x))| (n, x * (1.0 + amplitude * (i as f64 * 2.399_963).sin())))
        .collect()
}

fn assert_close(what: &str, got: f64, want: f64, tolerance: f64) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: got {got}, want {want} ± {tolerance}"
    );
}

#[test]
fn recovers_exact_curves() {
    let workers = [1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0];
    for truth in [
        curve(1_000.0, 0.05, 0.001),
        curve(3.5e6, 0.2, 0.0),
        curve(42.0, 0.0, 0.0005),
        curve(8.0e5, 0.02, 0.0002),
        curve(1.0, 0.6, 0.01),
    ] {
        let got = fit(&sample(&truth, &workers)).unwrap();
        assert_close("lambda", got.lambda / truth.lambda, 1.0, 1e-6);
        assert_close("alpha", got.alpha, truth.alpha, 1e-6);
        assert_close("beta", got.beta, truth.beta, 1e-8);
        assert_close("r²", got.r_squared, 1.0, 1e-9);
    }
}

#[test]
fn recovers_lambda_without_a_one_worker_measurement() {
    // λ has to come from the fit, not from X(1).
    let truth = curve(500.0, 0.08, 0.002);
    let got = fit(&sample(&truth, &[2.0, 4.0, 6.0, 8.0, 12.0])).unwrap();
    assert_close("lambda", got.lambda, 500.0, 1e-3);
    assert_close("alpha", got.alpha, 0.08, 1e-6);
    assert_close("beta", got.beta, 0.002, 1e-8);
}

#[test]
fn recovers_coefficients_through_noise() {
    // ±2% noise on a curve that peaks at N* = sqrt(0.97/0.0008) ≈ 34.8.
    let truth = curve(10_000.0, 0.03, 0.0008);
    let workers: Vec<f64> = (1..=48).map(f64::from).collect();
    let got = fit(&with_noise(&sample(&truth, &workers), 0.02)).unwrap();
    assert_close("lambda", got.lambda / truth.lambda, 1.0, 0.03);
    assert_close("alpha", got.alpha, truth.alpha, 0.01);
    assert_close("beta", got.beta / truth.beta, 1.0, 0.15);
    let peak = got.peak_workers().expect("a retrograde curve has a peak");
    assert_close("N*", peak, truth.peak_workers().unwrap(), 3.0);
    assert!(
        got.r_squared > 0.95 && got.r_squared < 1.0,
        "r² = {}",
        got.r_squared
    );
}

#[test]
fn repeated_measurements_at_one_worker_count_are_averaged() {
    let truth = curve(200.0, 0.1, 0.01);
    let mut points = Vec::new();
    for (n, x) in sample(&truth, &[1.0, 2.0, 4.0, 8.0]) {
        points.push((n, x * 1.05));
        points.push((n, x * 0.95));
    }
    let got = fit(&points).unwrap();
    // Symmetric ±5% pairs pull the curve only slightly (the model is nonlinear).
    assert_close("lambda", got.lambda / 200.0, 1.0, 0.01);
    assert_close("alpha", got.alpha, 0.1, 0.01);
    assert_close("beta", got.beta, 0.01, 0.001);
    assert!(got.r_squared < 1.0);
}

#[test]
fn linear_scaling_fits_with_no_contention_and_no_peak() {
    let points: Vec<(f64, f64)> = (1..=6)
        .map(|n| (f64::from(n), 75.0 * f64::from(n)))
        .collect();
    let got = fit(&points).unwrap();
    assert_close("lambda", got.lambda, 75.0, 1e-9);
    assert!(got.alpha < 1e-9 && got.beta < 1e-12, "{got:?}");
    assert_close("X(128)", got.throughput(128.0), 75.0 * 128.0, 1e-3);
    assert!(got.peak_workers().map_or(true, |p| p > 1e4), "{got:?}");
}

#[test]
fn superlinear_data_is_clamped_to_non_negative_coefficients() {
    // Faster than linear (e.g. caches warming up): the law cannot express it;
    // the fit must not invent negative contention.
    let points = [(1.0, 100.0), (2.0, 230.0), (3.0, 370.0), (4.0, 520.0)];
    let got = fit(&points).unwrap();
    assert!(got.alpha >= 0.0 && got.beta >= 0.0, "{got:?}");
    assert!(got.r_squared > 0.9, "{got:?}");
}

#[test]
fn a_flat_curve_has_full_contention_and_no_peak() {
    let points = [(1.0, 50.0), (2.0, 50.0), (4.0, 50.0), (8.0, 50.0)];
    let got = fit(&points).unwrap();
    assert_close("alpha", got.alpha, 1.0, 1e-6);
    assert_close("X(64)", got.throughput(64.0), 50.0, 1e-3);
    assert_eq!(got.peak_workers(), None);
    assert_close("r²", got.r_squared, 1.0, 1e-9);
}

#[test]
fn peak_workers_follows_the_formula() {
    let fit = curve(1.0, 0.19, 0.0009);
    assert_close("N*", fit.peak_workers().unwrap(), 30.0, 1e-9);
    // Throughput really is highest there.
    assert!(fit.throughput(30.0) > fit.throughput(29.0));
    assert!(fit.throughput(30.0) > fit.throughput(31.0));
    assert_eq!(curve(1.0, 1.2, 0.01).peak_workers(), None);
    assert_eq!(curve(1.0, 0.1, 0.0).peak_workers(), None);
}

#[test]
fn two_worker_counts_are_too_few() {
    let err = fit(&[(1.0, 100.0), (2.0, 180.0)]).unwrap_err();
    assert_eq!(err, FitError::TooFewPoints { got: 2 });
    let message = err.to_string();
    assert!(message.contains("at least 3"), "{message}");
    assert!(message.contains("--workers 1,2,3"), "{message}");
}

#[test]
fn duplicate_worker_counts_do_not_count_twice() {
    let points = [(1.0, 100.0), (1.0, 101.0), (2.0, 180.0), (2.0, 182.0)];
    assert_eq!(fit(&points).unwrap_err(), FitError::TooFewPoints { got: 2 });
    assert_eq!(fit(&[]).unwrap_err(), FitError::TooFewPoints { got: 0 });
}

#[test]
fn non_positive_or_non_finite_input_is_refused_with_the_reason() {
    let base = [(1.0, 100.0), (2.0, 180.0), (4.0, 300.0)];
    for (bad, needle) in [
        ((8.0, 0.0), "positive"),
        ((8.0, -5.0), "positive"),
        ((8.0, f64::NAN), "positive"),
        ((0.0, 50.0), "at least 1"),
        ((f64::INFINITY, 50.0), "at least 1"),
    ] {
        let mut points = base.to_vec();
        points.push(bad);
        match fit(&points) {
            Err(err @ FitError::Degenerate(_)) => {
                assert!(err.to_string().contains(needle), "{err}")
            }
            other => panic!("{bad:?}: expected Degenerate, got {other:?}"),
        }
    }
}
