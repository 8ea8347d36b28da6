//! The Go reference: reading `go version` and the program's output, and — where
//! a Go toolchain is installed (`scripts/install-go.sh`) — building and running
//! the real program with each one.

use std::path::PathBuf;

use crosscall_lab::go::goref::{self, parse_go_version, parse_run_output, GorefError, Toolchain};

#[test]
fn go_version_output_yields_the_version() {
    for (output, version) in [
        ("go version go1.19.8 linux/amd64\n", "go1.19.8"),
        ("go version go1.22.10 linux/amd64", "go1.22.10"),
        ("go version go1.27.3 darwin/arm64\n", "go1.27.3"),
        ("  go version go1.21rc2 linux/amd64", "go1.21rc2"),
        ("go version devel +abc123 Tue Jan 1 linux/amd64", "devel"),
    ] {
        assert_eq!(
            parse_go_version(output).as_deref(),
            Some(version),
            "{output:?}"
        );
    }
    for output in [
        "",
        "go: command not found",
        "go version",
        "go version gccgo (GCC) 12",
    ] {
        assert_eq!(parse_go_version(output), None, "{output:?}");
    }
}

#[test]
fn program_output_yields_workers_and_milliseconds() {
    let run = parse_run_output("numWorkers = 2\ntook 4123.456ms\n").unwrap();
    assert_eq!((run.workers, run.took_ms), (2, 4123.456));
    // The original repro's integer form, stray lines and CRLF are accepted.
    let run = parse_run_output("warming up\r\nnumWorkers = 16\r\ntook 2687ms\r\n").unwrap();
    assert_eq!((run.workers, run.took_ms), (16, 2687.0));
}

#[test]
fn malformed_program_output_says_what_is_missing() {
    for (output, needle) in [
        ("took 12ms\n", "numWorkers"),
        ("numWorkers = 2\n", "took Xms"),
        ("numWorkers = two\ntook 1ms\n", "bad worker count"),
        ("numWorkers = 2\ntook 1.5s\n", "not in milliseconds"),
        ("numWorkers = 2\ntook fastms\n", "bad time"),
        ("numWorkers = 2\ntook -3ms\n", "bad time"),
    ] {
        let err = parse_run_output(output).unwrap_err();
        assert!(matches!(err, GorefError::Output { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains(needle), "{output:?}: {message}");
        assert!(
            message.contains(output.trim_end()),
            "output not quoted: {message}"
        );
    }
}

#[test]
fn a_path_that_is_not_a_toolchain_is_refused_with_the_reason() {
    let missing = PathBuf::from("/nonexistent/crosscall/go");
    let err = Toolchain::at(&missing).unwrap_err();
    assert!(err.to_string().contains("no such file"), "{err}");

    let empty_dir =
        std::env::temp_dir().join(format!("crosscall-goref-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty_dir).unwrap();
    let err = Toolchain::at(&empty_dir).unwrap_err();
    std::fs::remove_dir_all(&empty_dir).unwrap();
    assert!(err.to_string().contains("without bin/go"), "{err}");

    // Explicit bad paths are reported, not silently dropped.
    let found = goref::discover(std::slice::from_ref(&missing), false);
    assert!(found.toolchains.is_empty());
    assert_eq!(found.skipped.len(), 1);
    assert_eq!(found.skipped[0].0, missing);
}

#[test]
fn the_reference_program_builds_and_runs_with_every_installed_toolchain() {
    let found = goref::discover(&[], true);
    if found.toolchains.is_empty() {
        eprintln!(
            "note: no Go toolchain found, skipping the Go build/run test \
             (install one with scripts/install-go.sh --only 1.22)"
        );
        return;
    }
    let mut versions: Vec<&str> = found
        .toolchains
        .iter()
        .map(|t| t.version.as_str())
        .collect();
    versions.dedup();
    assert_eq!(
        versions.len(),
        found.toolchains.len(),
        "discovery must dedupe versions"
    );

    let cache = goref::default_cache_dir();
    for toolchain in &found.toolchains {
        let program = toolchain.build_reference(&cache).unwrap();
        assert!(program.binary.starts_with(cache.join(&toolchain.version)));
        for workers in [1, 3] {
            let run = program.run(workers, 2_000).unwrap();
            assert_eq!(run.workers, workers, "{}", toolchain.version);
            assert!(run.took_ms.is_finite() && run.took_ms >= 0.0, "{run:?}");
        }
        // The program rejects nonsense instead of printing a bogus time.
        let err = program.run(0, 10).unwrap_err();
        assert!(
            err.to_string().contains("-workers must be at least 1"),
            "{err}"
        );
    }
}
