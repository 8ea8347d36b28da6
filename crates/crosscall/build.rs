//! Sets `cfg(crosscall_asm_goto)` when the compiler has stable `asm!` labels (`asm goto`,
//! Rust 1.87): the x86_64 leave then tests the "a closer waits" flag with one `cmp` against
//! memory and a branch (`slots::store_leaving`); older compilers (the MSRV is 1.80) load it
//! into a register first, one instruction more.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-check-cfg=cfg(crosscall_asm_goto)");
    if autocfg::new().probe_rustc_version(1, 87) {
        println!("cargo:rustc-cfg=crosscall_asm_goto");
    }
}
