//! The committed header `include/crosscall.h` is exactly what cbindgen generates from this
//! crate, and it compiles on its own as C11 and as C++11 with every warning an error.

use std::path::{Path, PathBuf};
use std::process::Command;

const BLESS_ENV: &str = "CROSSCALL_BLESS";

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn committed_header() -> PathBuf {
    crate_dir().join("../../include/crosscall.h")
}

fn generate() -> String {
    let config = cbindgen::Config::from_file(crate_dir().join("cbindgen.toml"))
        .expect("crates/crosscall-capi/cbindgen.toml must parse");
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir())
        .with_config(config)
        .generate()
        .expect("cbindgen failed to generate the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("cbindgen wrote non-UTF-8")
}

#[test]
fn committed_header_matches_the_sources() {
    let fresh = generate();
    let path = committed_header();
    if std::env::var_os(BLESS_ENV).is_some() {
        std::fs::write(&path, &fresh).expect("write include/crosscall.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/crosscall.h is out of date with crates/crosscall-capi/src.\n\
         Regenerate it with:  {BLESS_ENV}=1 cargo test -p crosscall-capi --test header\n\
         and commit the result."
    );
}

/// Compiles `tests/c/header_check.c` against the committed header with `compiler`.
fn compile(compiler: &str, lang_flags: &[&str]) {
    let include = crate_dir().join("../../include");
    let source = crate_dir().join("tests/c/header_check.c");
    let object = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "header_check_{}.o",
        compiler.replace(['/', ' '], "_")
    ));
    let output = Command::new(compiler)
        .args(lang_flags)
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-c"])
        .arg("-I")
        .arg(&include)
        .arg(&source)
        .arg("-o")
        .arg(&object)
        .output()
        .unwrap_or_else(|e| panic!("could not run the compiler `{compiler}`: {e}"));
    assert!(
        output.status.success(),
        "`{compiler}` rejected include/crosscall.h:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn header_compiles_as_c11() {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    compile(&cc, &["-x", "c", "-std=c11"]);
}

#[test]
fn header_compiles_as_cxx11() {
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    compile(&cxx, &["-x", "c++", "-std=c++11"]);
}
