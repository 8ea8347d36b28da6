//! Compile errors of `#[crosscall::export]` and `#[crosscall::ungated]`: each `tests/ui/*.rs` must fail to compile with
//! exactly the committed `.stderr`. Regenerate with `TRYBUILD=overwrite cargo test -p
//! crosscall --test ui` after an intended change, then read the diff.

#[test]
fn export_compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    // Exports that need no `on_panic` (their return type has an obvious error value).
    cases.pass("tests/ui/pass/*.rs");
}
