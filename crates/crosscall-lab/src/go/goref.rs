//! The Go reference program (`crates/crosscall-lab/go/`): finding Go toolchains,
//! building the program with each, running it and reading its result.
//!
//! The program is the cgo original of the seed workload (docs/DESIGN.md, "The seed
//! workload"): per task `C.CBytes`, `C.malloc`, a C function that calls an
//! `//export`ed Go callback, `C.GoBytes`, `C.free`. How long it takes on a given
//! toolchain is the price of that toolchain's C→Go callback entry — Go 1.19 takes a
//! global mutex on every one, Go ≥ 1.22 an atomic load first.
//!
//! Toolchains are looked for, in this order, and deduplicated by version:
//! paths given explicitly (a `go` binary or a GOROOT), the lab's default
//! directory (`.go/*/bin/go` at the repository root, filled by
//! `scripts/install-go.sh`; [`GO_DIR_ENV`] overrides it), Debian's
//! `/usr/lib/go-*/bin/go`, and `go` on `PATH`.
//!
//! Builds are hermetic: `GOTOOLCHAIN=local` (never download another toolchain),
//! `GOFLAGS=-mod=mod`, `GOPROXY=off`, and GOPATH/GOCACHE under the cache
//! directory, so nothing is fetched and nothing outside the cache is written.
//!
//! ```no_run
//! use crosscall_lab::go::goref;
//!
//! let found = goref::discover(&[], true);
//! for toolchain in &found.toolchains {
//!     let program = toolchain.build_reference(&goref::default_cache_dir())?;
//!     let run = program.run(2, 100_000)?;
//!     println!("{}: {:.1} ms", toolchain.version, run.took_ms);
//! }
//! # Ok::<(), goref::GorefError>(())
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Environment variable naming the directory `scripts/install-go.sh` fills
/// (default: `.go/` at the repository root).
pub const GO_DIR_ENV: &str = "CROSSCALL_GO_DIR";

/// Where Debian installs its versioned Go packages (`golang-1.19-go` → `go-1.19`).
const DEBIAN_GO_ROOTS: &str = "/usr/lib";

/// Source of the Go reference program.
pub fn program_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("go")
}

/// The repository root this lab was built from.
fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // Canonical for readable messages; as is if the tree has moved since the build.
    root.canonicalize().unwrap_or(root)
}

/// The directory `scripts/install-go.sh` unpacks toolchains into:
/// `$CROSSCALL_GO_DIR`, or `.go/` at the repository root.
pub fn default_go_dir() -> PathBuf {
    match std::env::var_os(GO_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repo_root().join(".go"),
    }
}

/// Where built Go programs (and Go's own caches) live:
/// `$CARGO_TARGET_DIR/crosscall-lab/go`, or `target/crosscall-lab/go` at the
/// repository root.
pub fn default_cache_dir() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repo_root().join("target"),
    };
    target.join("crosscall-lab").join("go")
}

/// Everything that can go wrong finding, building or running the Go program.
#[derive(Debug)]
pub enum GorefError {
    /// A path given as a toolchain is neither a `go` binary nor a GOROOT, or
    /// `go version` failed on it.
    NotAToolchain {
        /// The path as given.
        path: PathBuf,
        /// What was wrong with it.
        why: String,
    },
    /// `go build` of the reference program failed.
    Build {
        /// The toolchain's version.
        version: String,
        /// What the build printed.
        output: String,
    },
    /// The program could not be started or exited unsuccessfully.
    Run {
        /// The program that was run.
        program: PathBuf,
        /// The exit status and what it printed.
        why: String,
    },
    /// The program's output did not have the expected shape.
    Output {
        /// What was wrong.
        why: String,
        /// The output itself.
        output: String,
    },
}

impl fmt::Display for GorefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GorefError::NotAToolchain { path, why } => {
                write!(f, "{} is not a usable Go toolchain: {why}", path.display())
            }
            GorefError::Build { version, output } => write!(
                f,
                "building the Go reference program with {version} failed \
                 (cgo needs a C compiler: is gcc installed?):\n{}",
                output.trim_end()
            ),
            GorefError::Run { program, why } => {
                write!(f, "running {} failed: {why}", program.display())
            }
            GorefError::Output { why, output } => write!(
                f,
                "unexpected output from the Go reference program ({why}); expected \
                 `numWorkers = N` and `took Xms`, got:\n{}",
                output.trim_end()
            ),
        }
    }
}

impl std::error::Error for GorefError {}

/// One Go toolchain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toolchain {
    /// The version `go version` reports, e.g. `go1.22.10`.
    pub version: String,
    /// The `go` binary.
    pub go: PathBuf,
}

impl Toolchain {
    /// Asks `path` (a `go` binary, or a GOROOT containing `bin/go`) for its version.
    ///
    /// # Errors
    ///
    /// [`GorefError::NotAToolchain`] when there is no `go` binary there or
    /// `go version` fails or prints something unexpected.
    pub fn at(path: &Path) -> Result<Toolchain, GorefError> {
        let not_a_toolchain = |why: String| GorefError::NotAToolchain {
            path: path.to_owned(),
            why,
        };
        let go = if path.is_dir() {
            path.join("bin").join("go")
        } else {
            path.to_owned()
        };
        if !go.is_file() {
            return Err(not_a_toolchain(if path.is_dir() {
                "a directory without bin/go (expected a go binary or a GOROOT)".to_owned()
            } else {
                "no such file".to_owned()
            }));
        }
        let output = hermetic(&go)
            .arg("version")
            .output()
            .map_err(|err| not_a_toolchain(format!("cannot run it: {err}")))?;
        if !output.status.success() {
            return Err(not_a_toolchain(format!(
                "`go version` exited with {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let version = parse_go_version(&stdout)
            .ok_or_else(|| not_a_toolchain(format!("`go version` printed {:?}", stdout.trim())))?;
        Ok(Toolchain { version, go })
    }

    /// Builds the reference program with this toolchain into
    /// `cache/<version>/goref` (Go's build cache makes a rebuild of unchanged
    /// sources quick) and returns it.
    ///
    /// # Errors
    ///
    /// [`GorefError::Build`] when `go build` fails (e.g. no C compiler for cgo).
    pub fn build_reference(&self, cache: &Path) -> Result<GoProgram, GorefError> {
        let build_error = |output: String| GorefError::Build {
            version: self.version.clone(),
            output,
        };
        let out_dir = cache.join(&self.version);
        std::fs::create_dir_all(&out_dir)
            .map_err(|err| build_error(format!("cannot create {}: {err}", out_dir.display())))?;
        let binary = out_dir.join("goref");
        let output = hermetic(&self.go)
            .current_dir(program_dir())
            .env("GOPATH", cache.join("gopath"))
            .env("GOCACHE", cache.join("gocache"))
            .args(["build", "-o"])
            .arg(&binary)
            .arg(".")
            .output()
            .map_err(|err| build_error(format!("cannot run {}: {err}", self.go.display())))?;
        if !output.status.success() {
            return Err(build_error(combined(&output)));
        }
        Ok(GoProgram {
            version: self.version.clone(),
            binary,
        })
    }
}

/// The reference program built by one toolchain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoProgram {
    /// Version of the toolchain that built it.
    pub version: String,
    /// The executable.
    pub binary: PathBuf,
}

impl GoProgram {
    /// Runs `goref -workers W -tasks T` and reads its result.
    ///
    /// # Errors
    ///
    /// [`GorefError::Run`] when it cannot start or fails; [`GorefError::Output`]
    /// when its output lacks `numWorkers = N` / `took Xms` or reports another
    /// worker count than asked for.
    pub fn run(&self, workers: usize, tasks: u64) -> Result<GoRun, GorefError> {
        let output = Command::new(&self.binary)
            .arg("-workers")
            .arg(workers.to_string())
            .arg("-tasks")
            .arg(tasks.to_string())
            .output()
            .map_err(|err| GorefError::Run {
                program: self.binary.clone(),
                why: err.to_string(),
            })?;
        if !output.status.success() {
            return Err(GorefError::Run {
                program: self.binary.clone(),
                why: format!("{}: {}", output.status, combined(&output).trim()),
            });
        }
        let run = parse_run_output(&String::from_utf8_lossy(&output.stdout))?;
        if run.workers != workers {
            return Err(GorefError::Output {
                why: format!("asked for {workers} workers, it reports {}", run.workers),
                output: String::from_utf8_lossy(&output.stdout).into_owned(),
            });
        }
        Ok(run)
    }
}

/// What one run of the reference program reported.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GoRun {
    /// `numWorkers = N`.
    pub workers: usize,
    /// `took Xms`.
    pub took_ms: f64,
}

/// Extracts the version from `go version` output:
/// `go version go1.22.10 linux/amd64` → `go1.22.10`.
///
/// ```
/// use crosscall_lab::go::goref::parse_go_version;
/// assert_eq!(parse_go_version("go version go1.19.8 linux/amd64\n").as_deref(), Some("go1.19.8"));
/// assert_eq!(parse_go_version("command not found"), None);
/// ```
pub fn parse_go_version(output: &str) -> Option<String> {
    let rest = output.trim_start().strip_prefix("go version ")?;
    let version = rest.split_whitespace().next()?;
    let is_release = version
        .strip_prefix("go")
        .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()));
    (is_release || version == "devel").then(|| version.to_owned())
}

/// Parses the reference program's output: a `numWorkers = N` line and a
/// `took Xms` line (X may have decimals).
///
/// # Errors
///
/// [`GorefError::Output`] naming the missing or malformed line.
///
/// ```
/// use crosscall_lab::go::goref::parse_run_output;
/// let run = parse_run_output("numWorkers = 8\ntook 1706ms\n")?;
/// assert_eq!((run.workers, run.took_ms), (8, 1706.0));
/// # Ok::<(), crosscall_lab::go::goref::GorefError>(())
/// ```
pub fn parse_run_output(output: &str) -> Result<GoRun, GorefError> {
    let bad = |why: String| GorefError::Output {
        why,
        output: output.to_owned(),
    };
    let mut workers = None;
    let mut took_ms = None;
    for line in output.lines().map(str::trim) {
        if let Some(n) = line.strip_prefix("numWorkers") {
            let n = n.trim_start().strip_prefix('=').unwrap_or(n).trim();
            let n = n
                .parse::<usize>()
                .map_err(|_| bad(format!("bad worker count {n:?}")))?;
            workers = Some(n);
        } else if let Some(ms) = line.strip_prefix("took ") {
            let number = ms
                .strip_suffix("ms")
                .ok_or_else(|| bad(format!("`{line}` is not in milliseconds")))?;
            let ms = number
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|ms| ms.is_finite() && *ms >= 0.0)
                .ok_or_else(|| bad(format!("bad time {number:?}")))?;
            took_ms = Some(ms);
        }
    }
    match (workers, took_ms) {
        (Some(workers), Some(took_ms)) => Ok(GoRun { workers, took_ms }),
        (None, _) => Err(bad("no `numWorkers = N` line".to_owned())),
        (_, None) => Err(bad("no `took Xms` line".to_owned())),
    }
}

/// The toolchains found, and the candidates that were passed over.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    /// Usable toolchains, one per version, oldest version first.
    pub toolchains: Vec<Toolchain>,
    /// Paths that were tried and rejected, with the reason (a broken install,
    /// a wrong `--go` path, or a version already found elsewhere).
    pub skipped: Vec<(PathBuf, String)>,
}

/// Finds Go toolchains: each of `explicit` (a `go` binary or a GOROOT), then,
/// if `search` is set, the default directory ([`default_go_dir`]),
/// `/usr/lib/go-*/bin/go` and `go` on `PATH`. The first path found for a
/// version is kept.
pub fn discover(explicit: &[PathBuf], search: bool) -> Discovery {
    let mut candidates: Vec<PathBuf> = explicit.to_vec();
    if search {
        candidates.extend(toolchains_under(&default_go_dir()));
        candidates.extend(debian_toolchains(Path::new(DEBIAN_GO_ROOTS)));
        candidates.extend(go_on_path());
    }
    let mut found = Discovery::default();
    for path in candidates {
        match Toolchain::at(&path) {
            Ok(toolchain) => {
                if let Some(first) = found
                    .toolchains
                    .iter()
                    .find(|t| t.version == toolchain.version)
                {
                    let why = format!(
                        "{} already found at {}",
                        toolchain.version,
                        first.go.display()
                    );
                    found.skipped.push((path, why));
                } else {
                    found.toolchains.push(toolchain);
                }
            }
            Err(err) => found.skipped.push((path, err.to_string())),
        }
    }
    found
        .toolchains
        .sort_by_cached_key(|t| version_key(&t.version));
    found
}

/// `dir/*/bin/go`, the layout `scripts/install-go.sh` creates.
fn toolchains_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("bin").join("go"))
        .filter(|go| go.is_file())
        .collect();
    found.sort();
    found
}

/// `/usr/lib/go-*/bin/go`.
fn debian_toolchains(lib: &Path) -> Vec<PathBuf> {
    toolchains_under(lib)
        .into_iter()
        .filter(|go| {
            let root = go.parent().and_then(Path::parent).and_then(Path::file_name);
            root.and_then(OsStr::to_str)
                .is_some_and(|name| name.starts_with("go-"))
        })
        .collect()
}

/// The `go` that `PATH` resolves to, if any.
fn go_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("go"))
        .find(|go| go.is_file())
}

/// Sort key for `go1.22.10`-style versions: numeric parts compared as numbers.
fn version_key(version: &str) -> Vec<u64> {
    version
        .trim_start_matches("go")
        .split(|c: char| !c.is_ascii_digit())
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

/// A `go` command that uses its own GOROOT, never downloads a toolchain or a
/// module, and ignores the user's Go configuration.
pub(crate) fn hermetic(go: &Path) -> Command {
    let mut command = Command::new(go);
    command
        .env_remove("GOROOT")
        .env("GOENV", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOWORK", "off")
        .env("GO111MODULE", "on")
        .env("CGO_ENABLED", "1");
    command
}

fn combined(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_numerically() {
        let mut versions = vec!["go1.22.10", "go1.9", "go1.22.2", "go1.19.8", "devel"];
        versions.sort_by_key(|v| version_key(v));
        assert_eq!(
            versions,
            ["devel", "go1.9", "go1.19.8", "go1.22.2", "go1.22.10"]
        );
    }

    #[test]
    fn debian_layout_is_recognised_and_other_dirs_ignored() {
        let root =
            std::env::temp_dir().join(format!("crosscall-goref-debian-{}", std::process::id()));
        for dir in ["go-1.19/bin", "go-1.21/bin", "gcc/bin", "go-1.20"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        for go in ["go-1.19/bin/go", "go-1.21/bin/go", "gcc/bin/go"] {
            std::fs::write(root.join(go), "").unwrap();
        }
        let found = debian_toolchains(&root);
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(
            found,
            [root.join("go-1.19/bin/go"), root.join("go-1.21/bin/go")]
        );
    }
}
