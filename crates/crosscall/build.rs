//! Sets `cfg(crosscall_asm_goto)` when the compiler has stable `asm!` labels (`asm goto`,
//! Rust 1.87): the x86_64 leave then tests the "a closer waits" flag with one `cmp` against
//! memory and a branch (`slots::store_leaving`); older compilers (the MSRV is 1.80) load it
//! into a register first, one instruction more.
use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC");
    println!("cargo:rustc-check-cfg=cfg(crosscall_asm_goto)");
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(output) = Command::new(rustc).arg("--version").output() else {
        return;
    };
    // "rustc 1.87.0 (17067e9ac 2025-05-09)": the minor version.
    let version = String::from_utf8_lossy(&output.stdout);
    let minor = version
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.split('.').nth(1))
        .and_then(|m| m.parse::<u32>().ok());
    if minor.is_some_and(|m| m >= 87) {
        println!("cargo:rustc-cfg=crosscall_asm_goto");
    }
}
