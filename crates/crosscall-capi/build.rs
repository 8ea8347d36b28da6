//! Gives the shared library (`cdylib`) its ELF SONAME, so that programs linked against the
//! installed `libcrosscall.so` record the versioned name `libcrosscall.so.<abi>` and keep
//! loading only ABI-compatible releases (`scripts/install-capi.sh` installs the file under
//! these names).
//!
//! `<abi>` follows Cargo's semver reading, as cargo-c does: the major version from 1.0 on,
//! and `0.<minor>` before (where a minor release may break compatibility).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let (major, minor) = (
        var("CARGO_PKG_VERSION_MAJOR"),
        var("CARGO_PKG_VERSION_MINOR"),
    );
    let abi = if major == "0" {
        format!("0.{minor}")
    } else {
        major
    };
    // ELF platforms only: Mach-O (macOS, iOS) names a dylib with -install_name, and Windows
    // DLLs have no SONAME. Those platforms keep the linker's default name.
    let elf = var("CARGO_CFG_TARGET_FAMILY")
        .split(',')
        .any(|family| family == "unix")
        && !matches!(var("CARGO_CFG_TARGET_VENDOR").as_str(), "apple");
    if elf {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libcrosscall.so.{abi}");
    }
}
