//! Builds `c/kit_host.c` with the system C compiler and runs it against this crate's cdylib
//! (dlopen()ed, the deployed shape), on C threads. Each scenario is its own process, so its
//! stderr can be checked: `PanicOutput::Quiet` must leave it empty.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// target/<profile>, from this test's path target/<profile>/deps/c_host-HASH.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// This crate's cdylib: `cargo test` builds it into `deps/` beside this test (a clean
/// checkout has no copy in target/<profile>); a `cargo build` puts one in target/<profile>.
fn library() -> PathBuf {
    let name = format!(
        "{}crosscall_kit_fixture{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let exe = std::env::current_exe().unwrap();
    let candidates = [exe.parent().unwrap().join(&name), target_dir().join(&name)];
    candidates
        .iter()
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{name} not built (looked in {candidates:?})"))
        .clone()
}

fn host() -> &'static Path {
    static HOST: OnceLock<PathBuf> = OnceLock::new();
    HOST.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("c/kit_host.c");
        let out = target_dir().join("kit_host");
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let status = Command::new(cc)
            .args([
                "-std=c11",
                "-D_POSIX_C_SOURCE=200809L",
                "-Wall",
                "-Wextra",
                "-Werror",
            ])
            .args(["-g", "-O1", "-pthread"])
            .arg(&source)
            .arg("-o")
            .arg(&out)
            .arg("-ldl")
            .status()
            .expect("a C compiler (cc) is needed for this test");
        assert!(status.success(), "compiling {} failed", source.display());
        out
    })
}

fn run(args: &[&str]) -> Output {
    let out = Command::new(host())
        .arg(library())
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{args:?}: {}\n{stdout}", out.status);
    out
}

#[test]
fn panics_give_error_values_poison_and_quiet_prints_nothing() {
    let out = run(&["panics", "1"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "panics: ok\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "Quiet printed");
}

#[test]
fn quiet_also_silences_backtraces() {
    let out = Command::new(host())
        .arg(library())
        .args(["panics", "1"])
        .env("RUST_BACKTRACE", "full")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn stderr_output_prints_the_panics() {
    let out = run(&["panics", "0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for name in ["kit_name", "kit_check", "kit_touch"] {
        assert!(
            stderr.contains(&format!("{name} was asked to fail")),
            "{stderr}"
        );
    }
}

#[test]
fn callback_output_reaches_the_log_callback_not_stderr() {
    let out = run(&["panics", "2"]);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn log_records_reach_the_callback_up_to_max_level_and_never_after_off() {
    let out = run(&["logs"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "logs: ok\n");
}
