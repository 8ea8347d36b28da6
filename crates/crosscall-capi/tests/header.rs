//! The committed header `include/crosscall.h` is exactly what cbindgen generates from this
//! crate, and it compiles on its own as C11 and as C++11 with every warning an error.

mod support;

use support::{compile, crate_dir, Lang};

const BLESS_ENV: &str = "CROSSCALL_BLESS";

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
    let path = crate_dir().join("../../include/crosscall.h");
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

#[test]
fn header_compiles_as_c11() {
    compile(Lang::C11, &crate_dir().join("tests/c/header_check.c"));
}

#[test]
fn header_compiles_as_cxx11() {
    compile(Lang::Cxx11, &crate_dir().join("tests/c/header_check.c"));
}
