//! The Go reference of the deployed C-host shape (`crates/crosscall-lab/go-cshared/`): a
//! shared library built with `go build -buildmode=c-shared` exporting `GoAdd1` (adds 1),
//! which the lab's C host ([`crate::deployed::host_driver`]) dlopen()s and calls from C-created
//! threads, next to crosscall's `#[export]` cdylib and C API.
//!
//! Toolchains are the ones [`goref::discover`] finds; the build is as hermetic as the seed
//! reference's (no download, GOPATH and GOCACHE under the cache directory).

use std::path::{Path, PathBuf};

use crate::go::goref::{self, GorefError, Toolchain};

/// The exported function every toolchain's library carries.
pub const SYMBOL: &str = "GoAdd1";

/// Source of the c-shared library.
pub fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("go-cshared")
}

/// A c-shared library built by one toolchain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoLibrary {
    /// Version of the toolchain that built it (`go1.22.10`).
    pub version: String,
    /// The `.so`.
    pub library: PathBuf,
}

/// Builds `libgoadd1.so` with `toolchain` into `cache/<version>/`.
///
/// # Errors
///
/// [`GorefError::Build`] when `go build` fails (cgo needs a C compiler).
pub fn build(toolchain: &Toolchain, cache: &Path) -> Result<GoLibrary, GorefError> {
    let build_error = |output: String| GorefError::Build {
        version: toolchain.version.clone(),
        output,
    };
    let out_dir = cache.join(&toolchain.version);
    std::fs::create_dir_all(&out_dir)
        .map_err(|err| build_error(format!("cannot create {}: {err}", out_dir.display())))?;
    let library = out_dir.join("libgoadd1.so");
    let output = goref::hermetic(&toolchain.go)
        .current_dir(source_dir())
        .env("GOPATH", cache.join("gopath"))
        .env("GOCACHE", cache.join("gocache"))
        .args(["build", "-buildmode=c-shared", "-o"])
        .arg(&library)
        .arg(".")
        .output()
        .map_err(|err| build_error(format!("cannot run {}: {err}", toolchain.go.display())))?;
    if !output.status.success() {
        return Err(build_error(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(GoLibrary {
        version: toolchain.version.clone(),
        library,
    })
}

/// Builds the library with each toolchain; one that fails is reported through `log` and
/// left out.
pub fn build_all(toolchains: &[Toolchain], log: &dyn Fn(&str)) -> Vec<GoLibrary> {
    let cache = goref::default_cache_dir();
    toolchains
        .iter()
        .filter_map(|toolchain| {
            log(&format!(
                "building the Go c-shared reference with {} ({})",
                toolchain.version,
                toolchain.go.display()
            ));
            build(toolchain, &cache)
                .map_err(|err| {
                    log(&format!(
                        "warning: leaving {} out: {err}",
                        toolchain.version
                    ))
                })
                .ok()
        })
        .collect()
}
