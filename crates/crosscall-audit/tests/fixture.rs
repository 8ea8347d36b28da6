//! `crosscall-audit` on a real built cdylib (`crosscall-kit-fixture`, built by cargo into this
//! test's `deps/` directory before it runs, because it is a dev-dependency), which has exactly
//! one deliberately unmarked export, `kit_unmarked`.

use std::path::PathBuf;
use std::process::Command;

fn fixture() -> PathBuf {
    // As a dev-dependency the cdylib is built into this test's own directory,
    // target/<profile>/deps/; a `cargo build -p crosscall-kit-fixture` puts it one level up.
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let name = format!(
        "{}crosscall_kit_fixture{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let candidates = [deps.join(&name), deps.parent().unwrap().join(&name)];
    candidates
        .iter()
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{name} not built (looked in {candidates:?})"))
        .clone()
}

#[test]
fn the_library_reports_exactly_the_unmarked_export() {
    let data = std::fs::read(fixture()).unwrap();
    let report = crosscall_audit::audit(&data, crosscall_audit::Options::default()).unwrap();
    assert!(report.has_marks);
    assert_eq!(report.unmarked, ["kit_unmarked"]);
    // #[export] (with and without on_panic), #[ungated], and both macro-made functions.
    for name in [
        "kit_add",
        "kit_check",
        "kit_init",
        "kit_last_error",
        "kit_log",
        "kit_name",
        "kit_set_log_callback",
        "kit_shutdown",
        "kit_touch",
    ] {
        assert!(report.marked.iter().any(|m| m == name), "{name} not marked");
    }
    assert_eq!(report.marked.len(), 9, "{:?}", report.marked);
}

#[test]
fn the_binary_prints_the_unmarked_export_and_fails() {
    let out = Command::new(env!("CARGO_BIN_EXE_crosscall-audit"))
        .arg(fixture())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "kit_unmarked\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 exported function(s)"), "{stderr}");
}

#[test]
fn bad_input_is_a_usage_error() {
    let bin = env!("CARGO_BIN_EXE_crosscall-audit");
    let none = Command::new(bin).output().unwrap();
    assert_eq!(none.status.code(), Some(2));
    let missing = Command::new(bin).arg("/nonexistent.so").output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    // A text file is not a binary.
    let text = Command::new(bin)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixture.rs"))
        .output()
        .unwrap();
    assert_eq!(text.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&text.stderr).contains("not a readable binary"));
}

#[test]
fn a_library_without_exports_is_clean() {
    // An executable has no dynamic function exports of its own: nothing unmarked.
    let data = std::fs::read(env!("CARGO_BIN_EXE_crosscall-audit")).unwrap();
    match crosscall_audit::audit(&data, crosscall_audit::Options::default()) {
        Ok(report) => assert!(report.unmarked.is_empty(), "{:?}", report.unmarked),
        Err(e) => assert!(e.contains("no dynamic symbols"), "{e}"),
    }
}
