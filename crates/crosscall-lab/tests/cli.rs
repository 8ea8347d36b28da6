//! The command line: output shapes and invariants (never speed).
use std::process::{Command, Output};

use serde_json::Value;

/// Every gate, in report order.
const ALL_GATES: [&str; 8] = [
    "none",
    "mutex",
    "atomic",
    "cgo-cthread",
    "counter",
    "rwlock",
    "arcswap",
    "crosscall",
];

fn lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crosscall-lab"))
        .args(args)
        .output()
        .expect("the lab binary runs")
}

fn stdout_of(args: &[&str]) -> String {
    let output = lab(args);
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

#[test]
fn run_json_is_one_object_with_the_contract_fields() {
    for (gate, workload, workers, queue) in [
        ("crosscall", "seed", "2", "shared"),
        ("mutex", "lean", "1", "partitioned"),
        ("counter", "empty", "3", "shared"),
        ("atomic", "seed", "2", "channel"),
        ("none", "lean", "2", "locked"),
    ] {
        let tasks = 4321u64;
        let out = stdout_of(&[
            "run",
            "--gate",
            gate,
            "--workload",
            workload,
            "--workers",
            workers,
            "--tasks",
            &tasks.to_string(),
            "--queue",
            queue,
            "--format",
            "json",
        ]);
        assert_eq!(out.lines().count(), 1, "exactly one line: {out}");
        let json: Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(json["gate"], gate);
        assert_eq!(json["workload"], workload);
        assert_eq!(json["queue"], queue);
        assert_eq!(json["workers"].as_u64().unwrap().to_string(), workers);
        assert_eq!(json["tasks"], tasks);
        let took_ms = json["took_ms"].as_f64().unwrap();
        let ns_per_task = json["ns_per_task"].as_f64().unwrap();
        assert!(took_ms > 0.0);
        let expected = took_ms * 1e6 / tasks as f64;
        assert!((ns_per_task - expected).abs() <= expected * 1e-9, "{json}");
        assert!(json["tasks_per_sec"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn run_text_prints_like_the_go_program() {
    let out = stdout_of(&[
        "run",
        "--gate",
        "atomic",
        "--workers",
        "2",
        "--tasks",
        "1000",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "numWorkers = 2");
    let took = lines[1]
        .strip_prefix("took ")
        .and_then(|t| t.strip_suffix("ms"))
        .expect("`took Xms`");
    took.parse::<f64>().expect("a number of milliseconds");
}

#[test]
fn default_run_prints_every_gate_then_one_table() {
    let out = stdout_of(&[
        "--workload",
        "seed",
        "--repeat",
        "1",
        "--tasks",
        "2000",
        "--workers",
        "2",
        "--quiet",
    ]);
    let gates = ALL_GATES;
    assert_eq!(out.matches("numWorkers = 2").count(), gates.len(), "{out}");
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("gate ") && l.contains(" took "))
            .count(),
        gates.len()
    );
    let table: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("gate ") || !l.contains("ns/task"))
        .collect();
    assert!(table[0].contains("entry share") && table[0].contains("crosscall speed-up"));
    for gate in gates {
        assert!(
            table
                .iter()
                .any(|l| l.split_whitespace().next() == Some(gate)),
            "no row for {gate}: {out}"
        );
    }
    let crosscall_row = table.iter().find(|l| l.starts_with("crosscall")).unwrap();
    assert!(crosscall_row.ends_with("1.00×"), "{crosscall_row}");
    assert!(table.iter().any(|l| l.starts_with("harness floor")));
    assert!(table
        .iter()
        .any(|l| l.starts_with("queue cost with this work")));
    // The footer says what the default queue is.
    assert!(
        table
            .iter()
            .any(|l| l.starts_with("queue: shared = ") && l.contains("atomic cursor")),
        "{out}"
    );
    assert!(
        table
            .iter()
            .any(|l| l.starts_with("machine ceiling: 2 threads of pure compute scale ")),
        "{out}"
    );
}

#[test]
fn repeats_interleave_and_show_the_range() {
    let out = stdout_of(&[
        "seed",
        "--workload",
        "seed",
        "--tasks",
        "1000",
        "--workers",
        "1",
        "--repeat",
        "3",
        "--gates",
        "none,mutex",
        "--quiet",
    ]);
    let order: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("gate "))
        .filter(|rest| !rest.contains("ns/task"))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    assert_eq!(order, ["none", "mutex", "none", "mutex", "none", "mutex"]);
    assert!(out.contains("range ms"));
}

#[test]
fn sweep_writes_json_csv_and_svg_with_one_point_per_gate_and_worker_count() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdout_of(&[
        "sweep",
        "--workers",
        "1..=3",
        "--gates",
        "none,crosscall",
        "--repeat",
        "2",
        "--tasks",
        "2000",
        "--workload",
        "empty",
        "--queue",
        "partitioned",
        "--out",
        dir.path().to_str().unwrap(),
        "--quiet",
    ]);
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sweep.json")).unwrap())
            .unwrap();
    assert_eq!(json["workload"], "empty");
    assert_eq!(json["queue"], "partitioned");
    assert_eq!(json["tasks"], 2000);
    let points = json["points"].as_array().unwrap();
    assert_eq!(points.len(), 6);
    for point in points {
        assert_eq!(point["runs"], 2);
        let (min, median, max) = (
            point["min_tasks_per_sec"].as_f64().unwrap(),
            point["median_tasks_per_sec"].as_f64().unwrap(),
            point["max_tasks_per_sec"].as_f64().unwrap(),
        );
        assert!(min <= median && median <= max, "{point}");
    }
    let workers: Vec<u64> = points
        .iter()
        .map(|p| p["workers"].as_u64().unwrap())
        .collect();
    assert_eq!(workers, [1, 2, 3, 1, 2, 3]);

    let csv = std::fs::read_to_string(dir.path().join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 6);
    assert!(csv.starts_with("gate,workers,median_tasks_per_sec"));

    let svg = std::fs::read_to_string(dir.path().join("sweep.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("crosscall"));

    // Three worker counts and a per-count calibration: both gates get one
    // line of the normalized model and a reading; the plot draws the model
    // dashed with its legend, and the range of the repeats as bars.
    assert!(!out.contains("not fitted"), "{out}");
    for label in [
        "figures below: capacity-normalized (one core per worker), X'(n) = X(n)·n/c(n), c = 1.00@1 ",
        "The raw (this machine) fits, and every interval: --format json.",
        "what each gate's fit says, read at 64 workers:",
    ] {
        assert!(out.contains(label), "no {label:?} in {out}");
    }
    for gate in ["none", "crosscall"] {
        let rows = out
            .lines()
            .filter(|l| !l.starts_with(' ') && l.split_whitespace().next() == Some(gate))
            .filter(|l| l.split_whitespace().count() >= 10)
            .count();
        assert_eq!(rows, 1, "{gate}: want one model line in {out}");
        assert!(
            out.lines().any(|l| l.starts_with(&format!("  {gate} "))),
            "no reading for {gate}"
        );
    }
    // Every `—` has its reason under a letter.
    for cell in out
        .split_whitespace()
        .filter(|w| w.starts_with('—') && w.len() > 3)
    {
        let letter = cell.trim_start_matches('—').trim_end_matches(')');
        assert!(
            out.contains(&format!("\n  {letter}: ")),
            "no reason {letter} in {out}"
        );
    }
    assert!(
        svg.contains("dashed: USL fit to the"),
        "no model legend in the plot"
    );
    assert!(
        svg.contains("measured, raw (this machine)"),
        "no raw legend"
    );
    assert!(
        svg.contains("bar: lowest–highest run of the repeats"),
        "no range bars"
    );

    // The machine's ceiling at the largest worker count, and at each count,
    // in the file and the text.
    let calibration = &json["calibration"];
    assert_eq!(calibration["threads"], 3);
    assert_eq!(calibration["per_thread_rates"].as_array().unwrap().len(), 3);
    let scaling = calibration["compute_scaling"].as_f64().unwrap();
    assert!(scaling > 0.0 && scaling.is_finite(), "{calibration}");
    let by_workers = calibration["compute_scaling_by_workers"]
        .as_array()
        .unwrap();
    let counts: Vec<u64> = by_workers
        .iter()
        .map(|s| s["workers"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [1, 2, 3]);
    assert_eq!(by_workers[0]["scaling"], 1.0);
    assert_eq!(by_workers[2]["scaling"].as_f64(), Some(scaling));
    assert!(
        out.contains("machine ceiling: 3 threads of pure compute scale "),
        "{out}"
    );

    model_json_has_both_fits_and_normalizes_by_the_calibration(dir.path(), &json);
}

/// `model --format json` of a fresh sweep: raw and normalized per gate, the
/// normalized points being the raw ones × n / c(n); the same file without its
/// per-count calibration gives raw only and says why.
fn model_json_has_both_fits_and_normalizes_by_the_calibration(
    dir: &std::path::Path,
    sweep: &Value,
) {
    let from = dir.join("sweep.json");
    let out = stdout_of(&[
        "model",
        "--from",
        from.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let model: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(model["normalization"]["applied"], true, "{out}");
    let scaling = |n: f64| -> f64 {
        sweep["calibration"]["compute_scaling_by_workers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["workers"].as_f64() == Some(n))
            .unwrap()["scaling"]
            .as_f64()
            .unwrap()
            .min(n)
    };
    let models = model["models"].as_array().unwrap();
    let names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["none", "crosscall"]);
    for m in models {
        assert_eq!(m["reading_basis"], "normalized");
        assert!(!m["reading"].as_str().unwrap().is_empty());
        let raw = m["raw"]["points"].as_array().unwrap();
        let normalized = m["normalized"]["points"].as_array().unwrap();
        assert_eq!(raw.len(), normalized.len());
        for (r, z) in raw.iter().zip(normalized) {
            let n = r["workers"].as_f64().unwrap();
            let want = r["throughput"].as_f64().unwrap() * n / scaling(n);
            let got = z["throughput"].as_f64().unwrap();
            assert!((got - want).abs() <= 1e-9 * want, "{n}: {got} vs {want}");
        }
        for fit in [&m["raw"], &m["normalized"]] {
            assert_eq!(fit["projected"].as_array().unwrap().len(), 5);
            assert!(fit["fit"]["alpha"].as_f64().unwrap().is_finite());
        }
    }

    let mut old = sweep.clone();
    old["calibration"]
        .as_object_mut()
        .unwrap()
        .remove("compute_scaling_by_workers");
    let old_path = dir.join("old-sweep.json");
    std::fs::write(&old_path, old.to_string()).unwrap();
    let out = stdout_of(&[
        "model",
        "--from",
        old_path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let model: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(model["normalization"]["applied"], false);
    assert!(model["normalization"]["note"]
        .as_str()
        .unwrap()
        .contains("no per-worker-count calibration"));
    for m in model["models"].as_array().unwrap() {
        assert!(
            m["normalized"].is_null() && m["raw"]["fit"].is_object(),
            "{m}"
        );
        assert_eq!(m["reading_basis"], "raw");
    }
    let text = stdout_of(&["model", "--from", old_path.to_str().unwrap()]);
    assert!(
        text.contains("capacity-normalized (one core per worker): not available: "),
        "{text}"
    );
}

#[test]
fn sweep_with_two_worker_counts_says_the_model_needs_three() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdout_of(&[
        "sweep",
        "--workers",
        "1,2",
        "--gates",
        "none",
        "--repeat",
        "1",
        "--tasks",
        "500",
        "--out",
        dir.path().to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.contains("not fitted"), "{out}");
    // No model: the plain linear plot, nothing projected.
    let svg = std::fs::read_to_string(dir.path().join("sweep.svg")).unwrap();
    assert!(svg.contains("<svg") && !svg.contains("dashed:"), "{svg}");
}

#[test]
fn bad_input_is_refused_with_a_message() {
    for args in [
        &["run", "--workers", "0"][..],
        &["run", "--tasks", "0"],
        &["run", "--tasks", "4294967296"],
        &["run", "--gate", "spinlock"],
        &["sweep", "--workers", "3..=1"],
        &["run", "--queue", "atomic-index"],
        &["run", "--workers", "-1"],
        &["sweep", "--workers", "1,,2"],
        &["run", "--tasks", "1", "--workers", "2"],
        &["--tasks", "1", "--workers", "2"],
    ] {
        let output = lab(args);
        assert!(!output.status.success(), "{args:?} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
    }
}

#[test]
fn bad_counts_are_named_in_the_message() {
    for (args, wording) in [
        (
            &["run", "--workers", "-1"][..],
            "worker counts must be 1..=4096, got -1",
        ),
        (
            &["sweep", "--workers", "1,,2"],
            "empty item in the worker list `1,,2`",
        ),
        (
            &["run", "--tasks", "1", "--workers", "2"],
            "--tasks 1 is fewer than --workers 2",
        ),
        (
            &["--tasks", "1", "--workers", "2"],
            "--tasks 1 is fewer than --workers 2",
        ),
    ] {
        let output = lab(args);
        assert!(!output.status.success(), "{args:?} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(wording), "{args:?}: {stderr}");
    }
}

#[test]
fn default_run_as_json_has_rows_runs_and_floor() {
    let out = stdout_of(&[
        "--workload",
        "seed",
        "--tasks",
        "1500",
        "--workers",
        "2",
        "--repeat",
        "2",
        "--gates",
        "none,mutex,crosscall",
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(out.lines().count(), 1, "{out}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (json["workers"].as_u64(), json["tasks"].as_u64()),
        (Some(2), Some(1500))
    );
    assert_eq!(json["runs"].as_array().unwrap().len(), 6);
    let rows = json["rows"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["none", "mutex", "crosscall"]);
    assert_eq!(rows[0]["entry_share"], 0.0);
    assert_eq!(rows[2]["crosscall_speedup"], 1.0);
    assert_eq!(rows[1]["runs"], 2);
    assert_eq!(json["queue_cost"]["drained_empty"]["gate"], "queue-only");
    assert_eq!(
        json["queue_cost"]["none_partitioned"]["queue"],
        "partitioned"
    );
    assert!(json["queue_cost"]["description"]
        .as_str()
        .unwrap()
        .contains("atomic cursor"));
    assert_eq!(json["calibration"]["threads"], 2);
    assert!(json["calibration"]["compute_scaling"].as_f64().unwrap() > 0.0);
}

#[test]
fn default_run_measures_seed_then_lean_and_says_what_to_expect() {
    let out = stdout_of(&[
        "--tasks",
        "1500",
        "--workers",
        "2",
        "--repeat",
        "2",
        "--gates",
        "none,crosscall",
        "--quiet",
    ]);
    let intro_end = out.find("=== part 1 of 2: seed").expect("part 1 announced");
    let intro = &out[..intro_end];
    for promise in ["seed", "lean", "contention collapse", "--workload"] {
        assert!(intro.contains(promise), "intro lacks {promise}: {intro}");
    }
    let lean_at = out.find("=== part 2 of 2: lean").expect("part 2 announced");
    assert!(lean_at > intro_end);
    // Two rounds: each table shows the range of the rounds.
    assert_eq!(out.matches("range ms").count(), 2, "{out}");

    let json = stdout_of(&[
        "--tasks",
        "1500",
        "--workers",
        "2",
        "--repeat",
        "1",
        "--gates",
        "none",
        "--format",
        "json",
        "--quiet",
    ]);
    let workloads: Vec<String> = json
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["workload"].to_string())
        .collect();
    assert_eq!(workloads, ["\"seed\"", "\"lean\""]);
}

#[test]
fn run_repeats_and_reports_the_spread() {
    let out = stdout_of(&[
        "run",
        "--gate",
        "none",
        "--workers",
        "1",
        "--tasks",
        "2000",
        "--repeat",
        "3",
    ]);
    assert_eq!(out.matches("took ").count(), 3, "{out}");
    assert!(out.contains("median of 3 runs; ns/task ranged"), "{out}");
    let json = stdout_of(&[
        "run",
        "--gate",
        "none",
        "--workers",
        "1",
        "--tasks",
        "2000",
        "--repeat",
        "3",
        "--format",
        "json",
    ]);
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 3);
    let spread = &json["ns_per_task_spread"];
    assert!(spread["min"].as_f64() <= spread["median"].as_f64());
    assert!(spread["median"].as_f64() <= spread["max"].as_f64());
}

#[test]
fn go_without_any_toolchain_says_how_to_get_one_and_measures_rust() {
    let output = lab(&[
        "go",
        "--no-discover",
        "--workers",
        "1",
        "--tasks",
        "2000",
        "--repeat",
        "1",
        "--cthread-calls",
        "1000",
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "no Go is not an error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no Go toolchain found") && stderr.contains("scripts/install-go.sh"),
        "stderr: {stderr}"
    );
    let json: Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    let text = json.to_string();
    for gate in ALL_GATES {
        assert!(
            text.contains(&format!("rust:{gate}")),
            "no rust:{gate} row in {text}"
        );
    }
    assert!(
        !text.contains("\"go1."),
        "a Go row without a Go toolchain: {text}"
    );
    // The C-host table still has crosscall's rows, and says why there is no Go row.
    let shapes: Vec<&str> = json["cthread"]["rows"]
        .as_array()
        .expect("a cthread table")
        .iter()
        .map(|r| r["shape"].as_str().unwrap())
        .collect();
    assert_eq!(shapes, ["local", "ungated", "export", "capi"]);
    assert!(json["cthread"]["notes"]
        .to_string()
        .contains("no Go toolchain found"));
}

fn stderr_of_failure(args: &[&str]) -> String {
    let output = lab(args);
    assert!(!output.status.success(), "{args:?} was accepted");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn the_new_gates_run_every_workload() {
    for gate in ["cgo-cthread", "rwlock", "arcswap"] {
        for workload in ["seed", "lean", "empty"] {
            let out = stdout_of(&[
                "run",
                "--gate",
                gate,
                "--workload",
                workload,
                "--workers",
                "2",
                "--tasks",
                "3000",
                "--format",
                "json",
            ]);
            let json: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(
                (json["gate"].as_str(), json["tasks"].as_u64()),
                (Some(gate), Some(3000))
            );
            assert!(json["took_ms"].as_f64().unwrap() > 0.0, "{json}");
        }
    }
}

#[test]
fn gate_help_says_what_the_new_gates_model_and_leave_out() {
    let help = stdout_of(&["run", "--help"]);
    for expected in [
        "cgo-cthread",
        "main_init_done",
        "Leaves out the rest of the cgo callback",
        "rwlock",
        "arcswap",
        "does not drain",
        "1.22's C-side fix alone",
    ] {
        assert!(help.contains(expected), "no {expected:?} in {help}");
    }
}

#[test]
fn empty_runs_on_the_partitioned_queue_unless_told_otherwise() {
    let queue_of = |args: &[&str]| -> String {
        let mut all = vec![
            "run",
            "--workers",
            "2",
            "--tasks",
            "1000",
            "--format",
            "json",
        ];
        all.extend_from_slice(args);
        let json: Value = serde_json::from_str(&stdout_of(&all)).unwrap();
        json["queue"].as_str().unwrap().to_owned()
    };
    assert_eq!(queue_of(&["--workload", "empty"]), "partitioned");
    assert_eq!(
        queue_of(&["--workload", "empty", "--queue", "shared"]),
        "shared"
    );
    assert_eq!(queue_of(&["--workload", "seed"]), "shared");
    // The seed table's footer says which queue it is and what it costs.
    let out = stdout_of(&[
        "--workload",
        "empty",
        "--gates",
        "none,crosscall",
        "--workers",
        "2",
        "--tasks",
        "2000",
        "--quiet",
    ]);
    assert!(out.contains("queue: partitioned = "), "{out}");
    assert!(
        out.contains("harness floor (partitioned queue drained"),
        "{out}"
    );
}

#[test]
fn the_seed_table_explains_its_columns_and_sets_crosscall_beside_the_alternatives() {
    let out = stdout_of(&["--tasks", "2000", "--workers", "2", "--quiet"]);
    assert!(out.contains("entry share = (t − t_none) / t"), "{out}");
    assert!(out.contains("negative"), "{out}");
    assert!(
        out.contains("crosscall speed-up = t / t_crosscall"),
        "{out}"
    );
    assert!(out.contains("below 1×"), "{out}");
    let summary: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("crosscall's entry beside the alternatives"))
        .collect();
    for gate in ["crosscall", "cgo-cthread", "rwlock", "arcswap", "counter"] {
        let line = summary
            .iter()
            .find(|l| l.split_whitespace().next() == Some(gate))
            .unwrap_or_else(|| panic!("no {gate} in the summary: {out}"));
        assert!(line.contains(" ns ") && line.contains('×'), "{line}");
    }
}

#[test]
fn sweep_checks_its_output_directory_before_measuring() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = file.join("sweep");
    // A sweep this size would take hours: it must fail before the first run.
    let stderr = stderr_of_failure(&[
        "sweep",
        "--tasks",
        "4294967295",
        "--repeat",
        "1000",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(
        stderr.contains("cannot create output directory") && stderr.contains(out.to_str().unwrap()),
        "{stderr}"
    );
}

#[test]
fn model_plot_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let plot = file.join("model.svg");
    let stderr = stderr_of_failure(&[
        "model",
        "--points",
        "1:100,1:101,2:190,2:191,3:270,3:272",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert!(stderr.contains(plot.to_str().unwrap()), "{stderr}");
}

#[test]
fn one_mistake_gets_one_wording_in_every_command() {
    let zero_workers = "worker counts must be 1..=4096, got 0";
    for args in [
        &["run", "--workers", "0"][..],
        &["seed", "--workers", "0"],
        &["sweep", "--workers", "0"],
        &["go", "--workers", "0"],
    ] {
        let stderr = stderr_of_failure(args);
        assert!(stderr.contains(zero_workers), "{args:?}: {stderr}");
    }
    let zero_tasks = "task counts must be 1..=4294967295, got 0";
    for command in ["run", "seed", "sweep", "go"] {
        let stderr = stderr_of_failure(&[command, "--tasks", "0"]);
        assert!(stderr.contains(zero_tasks), "{command}: {stderr}");
    }
    for command in ["seed", "sweep", "go", "deployed"] {
        let stderr = stderr_of_failure(&[command, "--repeat", "0"]);
        assert!(
            stderr.contains("repeat counts must be 1..=1000, got 0"),
            "{command}: {stderr}"
        );
    }
    // A gate that does not exist: the same message whichever flag names it,
    // and the lists take the same flag everywhere.
    for args in [
        &["run", "--gate", "spinlock"][..],
        &["seed", "--gates", "spinlock"],
        &["sweep", "--gates", "spinlock"],
        &["go", "--gates", "spinlock"],
        &["model", "--from", "x.json", "--gates", "spinlock"],
    ] {
        let stderr = stderr_of_failure(args);
        assert!(
            stderr.contains("invalid value 'spinlock'") && stderr.contains("possible values"),
            "{args:?}: {stderr}"
        );
    }
}

/// Every projection in `model --format json` is either a figure inside its
/// interval, the interval no wider than it, and never above `none`'s — or
/// no figure at all and the reason.
#[test]
fn model_projections_carry_intervals_stay_under_the_baseline_or_are_declined() {
    let dir = tempfile::tempdir().unwrap();
    stdout_of(&[
        "sweep",
        "--workers",
        "1..=3",
        "--gates",
        "none,rwlock,arcswap,cgo-cthread",
        "--repeat",
        "3",
        "--tasks",
        "2000",
        "--workload",
        "empty",
        "--out",
        dir.path().to_str().unwrap(),
        "--quiet",
    ]);
    let from = dir.path().join("sweep.json");
    let sweep: Value = serde_json::from_str(&std::fs::read_to_string(&from).unwrap()).unwrap();
    for point in sweep["points"].as_array().unwrap() {
        assert_eq!(
            point["runs_tasks_per_sec"].as_array().unwrap().len(),
            3,
            "{point}"
        );
    }
    let out = stdout_of(&[
        "model",
        "--from",
        from.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let model: Value = serde_json::from_str(&out).unwrap();
    let models = model["models"].as_array().unwrap();
    let none = models.iter().find(|m| m["name"] == "none").unwrap();
    for m in models {
        for basis in ["raw", "normalized"] {
            let projected = m[basis]["projected"].as_array().unwrap();
            for (i, p) in projected.iter().enumerate() {
                match p["throughput"].as_f64() {
                    Some(x) => {
                        let (low, high) = (
                            p["interval"]["low"].as_f64().unwrap(),
                            p["interval"]["high"].as_f64().unwrap(),
                        );
                        assert!(high - low <= x, "{p}");
                        assert!(p["declined"].is_null(), "{p}");
                        if m["name"] != "none" {
                            let base = &none[basis]["projected"][i];
                            let base_x = base["model_throughput"].as_f64().unwrap();
                            assert!(
                                x <= base_x * (1.0 + 1e-12),
                                "{} {p} above none {base}",
                                m["name"]
                            );
                        }
                    }
                    None => assert!(p["declined"].as_str().is_some_and(|w| !w.is_empty()), "{p}"),
                }
            }
        }
    }
    // The same file gives the same intervals: the bootstrap is seeded.
    assert_eq!(
        out,
        stdout_of(&[
            "model",
            "--from",
            from.to_str().unwrap(),
            "--format",
            "json"
        ])
    );
}
