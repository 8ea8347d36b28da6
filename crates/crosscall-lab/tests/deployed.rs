//! `crosscall-lab deployed`: the shape of its output and its errors (never speed). Each run
//! builds the benchmark cdylib and the C API (`cargo build --release`, quick once built)
//! and compiles the C host, then makes a few thousand calls per shape.
use std::process::{Command, Output};

use serde_json::Value;

fn lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crosscall-lab"))
        .args(args)
        .output()
        .expect("the lab binary runs")
}

fn json_of(args: &[&str]) -> Value {
    let output = lab(args);
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON document")
}

fn row<'a>(json: &'a Value, shape: &str) -> &'a Value {
    json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["shape"] == shape)
        .unwrap_or_else(|| panic!("no {shape} row in {json}"))
}

fn ns(row: &Value, threads: u64) -> f64 {
    row["by_threads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["threads"] == threads)
        .unwrap_or_else(|| panic!("no figure at {threads} threads in {row}"))["ns_per_call"]
        .as_f64()
        .unwrap()
}

#[test]
fn json_has_every_shape_at_every_thread_count_with_deltas_over_the_baseline() {
    let json = json_of(&[
        "deployed",
        "--threads",
        "1,2",
        "--calls",
        "2000",
        "--repeat",
        "2",
        "--no-callgrind",
        "--quiet",
        "--format",
        "json",
    ]);
    let shapes: Vec<&str> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["shape"].as_str().unwrap())
        .collect();
    assert_eq!(
        shapes,
        [
            "local",
            "ungated",
            "export",
            "export-abort",
            "export-state",
            "pair",
            "capi",
            "capi-state",
            "static-none",
            "static-crosscall"
        ]
    );
    for r in json["rows"].as_array().unwrap() {
        assert_eq!(r["calls"], 2000, "{r}");
        assert_eq!(r["runs"], 2, "{r}");
        for threads in [1, 2] {
            assert!(ns(r, threads) > 0.0, "{r}");
        }
        assert!(r["instructions_per_call"].is_null(), "{r}");
    }
    let (export, ungated) = (row(&json, "export"), row(&json, "ungated"));
    assert_eq!(export["baseline"], "ungated");
    assert_eq!(row(&json, "capi")["baseline"], "local");
    assert_eq!(row(&json, "static-crosscall")["baseline"], "static-none");
    assert!(row(&json, "local")["baseline"].is_null());
    for (i, threads) in [1u64, 2].into_iter().enumerate() {
        let delta = export["by_threads"][i]["delta_ns"].as_f64().unwrap();
        let want = ns(export, threads) - ns(ungated, threads);
        assert!((delta - want).abs() < 1e-9, "{delta} != {want}");
    }
    assert!(json["notes"].to_string().contains("--no-callgrind"));
}

#[test]
fn text_is_one_table_with_a_row_per_shape_asked_for_and_its_baselines() {
    let output = lab(&[
        "deployed",
        "--shape",
        "export",
        "--threads",
        "1",
        "--calls",
        "1000",
        "--repeat",
        "1",
        "--no-callgrind",
    ]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let labels = [
        "C local call (fn pointer)",
        "cdylib ungated (dlopen)",
        "cdylib #[export] (dlopen)",
    ];
    for label in labels {
        assert_eq!(
            stdout.lines().filter(|l| l.starts_with(label)).count(),
            1,
            "{label}: {stdout}"
        );
    }
    assert!(!stdout.contains("C API"), "{stdout}");
    assert!(
        stdout.contains("ns@1t") && !stdout.contains("ns@2t"),
        "{stdout}"
    );
    // Progress and build steps go to stderr, not into the table.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cargo build --release"), "{stderr}");
    assert!(stderr.contains("[3/3]"), "{stderr}");
}

#[test]
fn callgrind_counts_instructions_per_call_where_valgrind_is_installed() {
    let has_valgrind = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let json = json_of(&[
        "deployed",
        "--shape",
        "export",
        "--threads",
        "1",
        "--calls",
        "1000",
        "--repeat",
        "1",
        "--quiet",
        "--format",
        "json",
    ]);
    if !has_valgrind {
        assert!(json["notes"].to_string().contains("valgrind not found"));
        eprintln!("valgrind is not installed: instruction counts not checked");
        return;
    }
    let count = |shape: &str| row(&json, shape)["instructions_per_call"].as_f64().unwrap();
    // The loop, an indirect call and x + 1 take a few instructions; entry adds to them.
    assert!((2.0..100.0).contains(&count("local")), "{json}");
    assert!(count("export") > count("ungated"), "{json}");
    let delta = row(&json, "export")["delta_instructions"].as_f64().unwrap();
    assert!((delta - (count("export") - count("ungated"))).abs() < 1e-9);
}

#[test]
fn bad_input_is_refused_with_a_message() {
    for (args, says) in [
        (&["deployed", "--threads", "0"][..], "1..=4096"),
        (&["deployed", "--threads", "x"][..], "not a thread count"),
        (&["deployed", "--calls", "0"][..], "1..=1000000000"),
        (
            &["deployed", "--seconds", "0"][..],
            "not a duration in seconds",
        ),
        (&["deployed", "--repeat", "0"][..], "repeat"),
        (&["deployed", "--shape", "nope"][..], "possible values"),
        (
            &["deployed", "--go-path", "/nonexistent/go"][..],
            "--go-path: /nonexistent/go is not a usable Go toolchain",
        ),
    ] {
        let output = lab(args);
        assert!(!output.status.success(), "{args:?} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?} printed a table");
    }
}

#[test]
fn go_rows_without_go_are_a_note_and_the_rust_rows_stay() {
    let output = lab(&[
        "deployed",
        "--go",
        "--no-discover",
        "--shape",
        "capi",
        "--threads",
        "1",
        "--calls",
        "1000",
        "--repeat",
        "1",
        "--no-callgrind",
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "no Go is not an error");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let shapes: Vec<&str> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["shape"].as_str().unwrap())
        .collect();
    assert_eq!(shapes, ["local", "ungated", "capi"]);
    assert!(json["notes"].to_string().contains("no Go toolchain found"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("scripts/install-go.sh"));
}

#[test]
fn go_c_thread_table_puts_each_toolchain_beside_crosscall_from_the_same_c_host() {
    let found = crosscall_lab::go::goref::discover(&[], true);
    if found.toolchains.is_empty() {
        eprintln!(
            "note: no Go toolchain found, skipping the Go C-host test \
             (install one with scripts/install-go.sh --only 1.22)"
        );
        return;
    }
    let json = json_of(&[
        "go",
        "--workers",
        "1,2",
        "--tasks",
        "2000",
        "--repeat",
        "1",
        "--gate",
        "crosscall",
        "--cthread-calls",
        "2000",
        "--format",
        "json",
    ]);
    let cthread = &json["cthread"];
    assert_eq!(cthread["calls"], 2000, "{cthread}");
    for shape in ["local", "ungated", "export", "capi"] {
        let r = row(cthread, shape);
        assert!(ns(r, 1) > 0.0 && ns(r, 2) > 0.0, "{r}");
    }
    for toolchain in &found.toolchains {
        let r = row(cthread, &toolchain.version);
        assert_eq!(r["baseline"], "ungated", "{r}");
        assert_eq!(r["calls"], 2000, "{r}");
        assert!(ns(r, 1) > 0.0 && ns(r, 2) > 0.0, "{r}");
        assert!(r["by_threads"][0]["delta_ns"].is_number(), "{r}");
    }
}
