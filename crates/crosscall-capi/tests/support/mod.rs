//! Runs the system C and C++ compilers for the tests of this crate.

use std::path::{Path, PathBuf};
use std::process::Command;

/// This crate's directory.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The language to compile a source file as.
#[derive(Clone, Copy)]
pub enum Lang {
    C11,
    Cxx11,
}

/// Compiles `source` to an object file against the committed `include/` with every warning
/// an error; panics with the compiler's output if it is rejected. `$CC` / `$CXX` override the
/// compilers (`cc`, `c++`).
pub fn compile(lang: Lang, source: &Path) {
    let (var, default, flags): (_, _, &[&str]) = match lang {
        Lang::C11 => (
            "CC",
            "cc",
            &["-x", "c", "-std=c11", "-D_POSIX_C_SOURCE=200809L"],
        ),
        Lang::Cxx11 => ("CXX", "c++", &["-x", "c++", "-std=c++11"]),
    };
    let compiler = std::env::var(var).unwrap_or_else(|_| default.into());
    let stem = source.file_stem().unwrap().to_string_lossy();
    let object = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{stem}_{var}.o"));
    let output = Command::new(&compiler)
        .args(flags)
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-pthread", "-c"])
        .arg("-I")
        .arg(crate_dir().join("../../include"))
        .arg(source)
        .arg("-o")
        .arg(&object)
        .output()
        .unwrap_or_else(|e| panic!("could not run the compiler `{compiler}`: {e}"));
    assert!(
        output.status.success(),
        "`{compiler}` rejected {}:\n{}",
        source.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}
