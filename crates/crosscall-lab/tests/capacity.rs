//! Capacity normalization end to end: a curve capped by the machine's cores
//! comes out linear and is fitted as contention-free; sweep files with and
//! without a per-worker-count calibration load, and only the former are
//! normalized.

use crosscall_lab::model::calibrate::ScalingAt;
use crosscall_lab::model::capacity;
use crosscall_lab::model::scaling_model::Basis;
use crosscall_lab::model::usl;
use crosscall_lab::run::sweep::SweepFile;
use serde_json::{json, Value};

const CORES: usize = 2;
const LAMBDA: f64 = 84e6;

fn cores_got(n: usize) -> f64 {
    n.min(CORES) as f64
}

/// `X(n) = λ·min(n, 2)`: a gate with no contention on a 2-core machine.
fn capped_curve(workers: &[usize]) -> Vec<(f64, f64)> {
    workers
        .iter()
        .map(|&n| (n as f64, LAMBDA * cores_got(n)))
        .collect()
}

fn two_core_scaling(workers: &[usize]) -> Vec<ScalingAt> {
    workers
        .iter()
        .map(|&n| ScalingAt {
            workers: n,
            scaling: cores_got(n),
        })
        .collect()
}

#[test]
fn a_core_capped_curve_normalizes_to_linear_and_fits_without_contention() {
    let workers = [1, 2, 3, 4];
    let raw = capped_curve(&workers);
    let normalized = capacity::normalize(&raw, &two_core_scaling(&workers)).unwrap();
    for &(n, x) in &normalized {
        assert!(
            (x - LAMBDA * n).abs() < 1e-9 * LAMBDA * n,
            "X'({n}) = {x}, want λ·n"
        );
    }
    let fit = usl::fit(&normalized).unwrap();
    assert!((fit.lambda / LAMBDA - 1.0).abs() < 1e-9, "{fit:?}");
    assert!(fit.alpha < 1e-9 && fit.beta < 1e-12, "{fit:?}");
    assert_eq!(fit.peak_workers(), None);

    // The raw fit of the same points blames the machine's cap on the gate.
    let raw_fit = usl::fit(&raw).unwrap();
    assert!(
        raw_fit.peak_workers().is_some_and(|n| n < 8.0),
        "{raw_fit:?}"
    );
}

fn point(gate: &str, workers: usize, throughput: f64) -> Value {
    json!({
        "gate": gate, "workers": workers,
        "median_tasks_per_sec": throughput, "min_tasks_per_sec": throughput,
        "max_tasks_per_sec": throughput, "median_ms": 1.0, "runs": 2,
        // Two runs alike: a zero-width interval, so the lab projects.
        "runs_tasks_per_sec": [throughput, throughput]
    })
}

fn sweep_json(calibration: Option<Value>) -> Value {
    let workers = [1, 2, 3, 4];
    let mut points: Vec<Value> = capped_curve(&workers)
        .iter()
        .map(|&(n, x)| point("none", n as usize, x))
        .collect();
    // A mutex that loses at once, and keeps losing when oversubscribed.
    for (n, x) in [(1, 36e6), (2, 9.2e6), (3, 9.7e6), (4, 9.5e6)] {
        points.push(point("mutex", n, x));
    }
    let mut file = json!({
        "workload": "lean", "queue": "partitioned", "tasks": 1000, "points": points
    });
    if let Some(calibration) = calibration {
        file["calibration"] = calibration;
    }
    file
}

fn old_calibration() -> Value {
    json!({
        "threads": 4, "window_ms": 120.0, "single_thread_rate": 1e9,
        "per_thread_rates": [5e8, 5e8, 5e8, 5e8], "compute_scaling": 2.0
    })
}

#[test]
fn a_sweep_file_with_per_count_calibration_is_normalized() {
    let mut calibration = old_calibration();
    calibration["compute_scaling_by_workers"] =
        serde_json::to_value(two_core_scaling(&[1, 2, 3, 4])).unwrap();
    let file: SweepFile = serde_json::from_value(sweep_json(Some(calibration))).unwrap();
    assert_eq!(file.scaling_by_workers().len(), 4);

    let (normalization, models) = file.models(&[64]);
    assert!(normalization.applied, "{normalization:?}");
    let none = models[0].1.as_ref().unwrap();
    assert_eq!(
        (models[0].0.as_str(), none.reading_basis),
        ("none", Basis::Normalized)
    );
    let fair = none.normalized.as_ref().unwrap();
    assert!(fair.fit.alpha < 1e-6 && fair.fit.beta < 1e-9, "{fair:?}");
    let at_64 = fair.projected[0].model_throughput;
    assert!((at_64 / (64.0 * LAMBDA) - 1.0).abs() < 1e-6, "{at_64}");
    assert_eq!(
        none.reading,
        "α≈0, β≈0 — no measurable contention; scales with cores"
    );

    let mutex = models[1].1.as_ref().unwrap();
    assert!(
        mutex
            .reading
            .ends_with("throughput falls as soon as a second worker arrives"),
        "{}",
        mutex.reading
    );

    // Written back, the file keeps its per-count calibration.
    let again: Value = serde_json::to_value(&file).unwrap();
    assert_eq!(
        again["calibration"]["compute_scaling_by_workers"][2],
        json!({"workers": 3, "scaling": 2.0})
    );
}

#[test]
fn older_sweep_files_load_and_are_fitted_raw_saying_why() {
    for calibration in [None, Some(old_calibration())] {
        let file: SweepFile = serde_json::from_value(sweep_json(calibration.clone())).unwrap();
        assert!(file.scaling_by_workers().is_empty());
        let (normalization, models) = file.models(&[64]);
        assert!(!normalization.applied);
        assert!(
            normalization
                .note
                .contains("no per-worker-count calibration"),
            "{}",
            normalization.note
        );
        for (gate, model) in &models {
            let model = model.as_ref().unwrap();
            assert!(model.normalized.is_none(), "{gate}");
            assert_eq!(model.reading_basis, Basis::Raw, "{gate}");
        }
        // Written back, nothing is invented.
        let again: Value = serde_json::to_value(&file).unwrap();
        assert!(again["calibration"]
            .get("compute_scaling_by_workers")
            .is_none());
        assert_eq!(again["calibration"].is_null(), calibration.is_none());
    }
}
