//! `crosscall-audit [--include-capi] [--verbose] PATH...`: lists the exported functions of
//! built libraries that are neither `#[crosscall::export]` nor `#[crosscall::ungated]`.
//!
//! Exit status: 0 when every exported function is marked, 1 when some are not (their names
//! are printed, one per line, on stdout), 2 on a usage error or an unreadable file.

use std::process::ExitCode;

use crosscall_audit::{audit, Options};

const USAGE: &str = "usage: crosscall-audit [--include-capi] [--verbose] PATH.so...\n\
    Lists each exported function of the library that is neither #[crosscall::export] nor\n\
    #[crosscall::ungated] (one per line) and exits 1 if there is one.\n\
    --include-capi  also report crosscall's own C API functions (crosscall_*)\n\
    --verbose       also list the marked exports (on stderr)";

fn main() -> ExitCode {
    let mut options = Options::default();
    let mut verbose = false;
    let mut paths = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--include-capi" => options.include_capi = true,
            "--verbose" | "-v" => verbose = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            flag if flag.starts_with('-') => {
                eprintln!("crosscall-audit: unknown option {flag}\n{USAGE}");
                return ExitCode::from(2);
            }
            _ => paths.push(arg),
        }
    }
    if paths.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let mut found = false;
    for path in &paths {
        let data = match std::fs::read(path) {
            Ok(data) => data,
            Err(e) => {
                eprintln!("crosscall-audit: {path}: {e}");
                return ExitCode::from(2);
            }
        };
        let report = match audit(&data, options) {
            Ok(report) => report,
            Err(e) => {
                eprintln!("crosscall-audit: {path}: {e}");
                return ExitCode::from(2);
            }
        };
        let prefix = if paths.len() > 1 {
            format!("{path}: ")
        } else {
            String::new()
        };
        for name in &report.unmarked {
            println!("{prefix}{name}");
        }
        if verbose {
            for name in &report.marked {
                eprintln!("{prefix}marked: {name}");
            }
        }
        if !report.has_marks {
            eprintln!(
                "crosscall-audit: {path}: no crosscall export marks in this library \
                 (no #[crosscall::export] or #[crosscall::ungated] in it?)"
            );
        }
        if !report.unmarked.is_empty() {
            eprintln!(
                "crosscall-audit: {path}: {} exported function(s) neither \
                 #[crosscall::export] nor #[crosscall::ungated] ({} marked, {} of \
                 crosscall's C API skipped)",
                report.unmarked.len(),
                report.marked.len(),
                report.skipped_capi
            );
            found = true;
        }
    }
    if found {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
