//! The C host of `crosscall-lab deployed` (`c/host_driver.c`): building what it loads,
//! compiling it, running it, and counting its instructions with callgrind.
//!
//! The driver is a real C program, compiled at run time by the system C compiler (`$CC`, or
//! `cc`) rather than by this crate's build script: the C API shape must *link* against
//! `libcrosscall_capi.so` the way a C program does (`-L dir -lcrosscall_capi -Wl,-rpath,dir`),
//! and that library only exists after `cargo build` of `crosscall-capi`, which a build
//! script of this crate cannot order. Two binaries come from the one source: `host_driver`
//! (modes `local` and `dlopen`; links nothing of crosscall) and `host_driver_capi` (adds mode
//! `capi`).
//!
//! The libraries are built by `cargo build --release` (`cargo` from `$CARGO` or `PATH`; the
//! target directory is the one `cargo metadata` reports, so `CARGO_TARGET_DIR` is honoured)
//! and copied into a directory of this run, so a concurrent build of the shared target
//! directory cannot swap them mid-measurement. (A cdylib's file name carries no hash: two
//! checkouts that share one target directory overwrite each other's `.so` — give each
//! checkout its own target directory when comparing two versions.)

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Crates whose cdylibs the C host loads.
pub const LIBRARY_CRATES: [&str; 2] = ["crosscall-hostbench", "crosscall-capi"];

/// The benchmark cdylib (crate `crosscall-hostbench`).
pub const HOSTBENCH_LIB: &str = "libcrosscall_hostbench.so";

/// The C API's shared library as cargo builds it (crate `crosscall-capi`);
/// `scripts/install-capi.sh` installs the same file as `libcrosscall.so`.
pub const CAPI_LIB: &str = "libcrosscall_capi.so";

/// The trivial pair (`c/trivial_pair.c`): the yardstick shared library the `pair` shape calls.
pub const PAIR_LIB: &str = "libcrosscall_lab_pair.so";

/// Warm-up calls per thread before the start barrier (the first one attaches the thread).
/// A fixed number, so that it cancels out of callgrind's difference of two call counts.
pub const WARMUP_CALLS: u64 = 1000;

/// Everything that can go wrong building or running the C host.
#[derive(Debug)]
pub enum HostError {
    /// A command could not be started or failed.
    Command {
        /// What was being done.
        what: String,
        /// The exit status and output, or why it did not start.
        why: String,
    },
    /// A file could not be read, written or copied.
    Io {
        /// What was being done.
        what: String,
        /// The error.
        why: std::io::Error,
    },
    /// The driver's or callgrind's output did not have the expected shape.
    Output {
        /// What was wrong.
        why: String,
        /// The output itself.
        output: String,
    },
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Command { what, why } => write!(f, "{what} failed: {why}"),
            HostError::Io { what, why } => write!(f, "{what}: {why}"),
            HostError::Output { why, output } => {
                write!(f, "{why}; the output was:\n{}", output.trim_end())
            }
        }
    }
}

impl std::error::Error for HostError {}

/// The built C host and the libraries it loads, in a directory of this run.
#[derive(Debug)]
pub struct HostArtifacts {
    /// The directory holding everything below; removed on drop unless kept.
    pub dir: PathBuf,
    /// `host_driver`: modes `local` and `dlopen`.
    pub driver: PathBuf,
    /// `host_driver_capi`: also modes `capi` and `pair`, linked against
    /// `dir/libcrosscall_capi.so` and `dir/libcrosscall_lab_pair.so`.
    pub capi_driver: PathBuf,
    /// `dir/libcrosscall_hostbench.so`.
    pub hostbench: PathBuf,
    /// The cargo target directory the libraries were built in.
    pub target_dir: PathBuf,
    keep: bool,
}

impl HostArtifacts {
    /// Keeps the directory after this value is dropped (for reruns by hand).
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for HostArtifacts {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The repository this lab was built from.
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The C source of the driver.
pub fn driver_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("c/host_driver.c")
}

/// The C source of the trivial pair library.
pub fn pair_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("c/trivial_pair.c")
}

/// `$CARGO` (set when the lab runs under `cargo run`), else `cargo` from `PATH`.
fn cargo() -> OsString {
    std::env::var_os("CARGO")
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "cargo".into())
}

/// Runs `command`, returning its output if it succeeded.
fn run_checked(mut command: Command, what: &str) -> Result<Output, HostError> {
    let output = command.output().map_err(|err| HostError::Command {
        what: what.to_owned(),
        why: format!("cannot start {:?}: {err}", command.get_program()),
    })?;
    if !output.status.success() {
        return Err(HostError::Command {
            what: what.to_owned(),
            why: format!(
                "{}:\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        });
    }
    Ok(output)
}

/// The target directory cargo builds into for this workspace.
///
/// # Errors
///
/// When `cargo metadata` fails or prints no `target_directory`.
pub fn target_dir() -> Result<PathBuf, HostError> {
    let mut command = Command::new(cargo());
    command
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(repo_root().join("Cargo.toml"));
    let output = run_checked(command, "cargo metadata")?;
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("target_directory")?.as_str().map(PathBuf::from))
        .ok_or_else(|| HostError::Output {
            why: "`cargo metadata` reported no target_directory".to_owned(),
            output: text.chars().take(400).collect(),
        })
}

/// Builds the libraries (`cargo build --release`), copies them into a fresh directory of
/// this run under the target directory, and compiles both drivers there. `log` receives one
/// line per step.
///
/// # Errors
///
/// When cargo or the C compiler fails, or files cannot be copied.
pub fn build(log: &dyn Fn(&str)) -> Result<HostArtifacts, HostError> {
    let root = repo_root();
    let mut command = Command::new(cargo());
    command
        .args(["build", "--release", "--manifest-path"])
        .arg(root.join("Cargo.toml"));
    for krate in LIBRARY_CRATES {
        command.args(["-p", krate]);
    }
    log(&format!(
        "building the libraries: cargo build --release -p {}",
        LIBRARY_CRATES.join(" -p ")
    ));
    // cargo's own progress goes to our stderr: the first build takes a while.
    command.stderr(std::process::Stdio::inherit());
    run_checked(command, "cargo build --release")?;

    let target_dir = target_dir()?;
    let dir = target_dir
        .join("crosscall-lab")
        .join("deployed")
        .join(format!("run-{}", std::process::id()));
    let io = |what: String| move |why| HostError::Io { what, why };
    std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
    let artifacts = HostArtifacts {
        driver: dir.join("host_driver"),
        capi_driver: dir.join("host_driver_capi"),
        hostbench: dir.join(HOSTBENCH_LIB),
        dir,
        target_dir,
        keep: false,
    };
    for lib in [HOSTBENCH_LIB, CAPI_LIB] {
        let from = artifacts.target_dir.join("release").join(lib);
        let to = artifacts.dir.join(lib);
        std::fs::copy(&from, &to).map_err(io(format!(
            "copying {} to {}",
            from.display(),
            to.display()
        )))?;
    }
    // A program linked with -lcrosscall_capi records the library's SONAME
    // (libcrosscall.so.ABI, set by crates/crosscall-capi/build.rs), which is what the dynamic
    // loader then looks for in the rpath directory: name the copy so too, as an installed
    // library's symlink does.
    if let Some(soname) = soname(&artifacts.dir.join(CAPI_LIB))? {
        let link = artifacts.dir.join(&soname);
        std::os::unix::fs::symlink(CAPI_LIB, &link)
            .map_err(io(format!("linking {} to {CAPI_LIB}", link.display())))?;
    }

    let compiler = std::env::var_os("CC")
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "cc".into());
    let source = driver_source();
    log(&format!(
        "compiling the C host: {} -O2 {} (twice: plain, and -DHOST_DRIVER_CAPI linked against {CAPI_LIB} and {PAIR_LIB})",
        compiler.to_string_lossy(),
        source.display()
    ));
    let base = |out: &Path| {
        let mut command = Command::new(&compiler);
        command
            .args(["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread"])
            .arg(&source)
            .arg("-o")
            .arg(out);
        command
    };
    let mut pair = Command::new(&compiler);
    pair.args([
        "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared",
    ])
    .arg(pair_source())
    .arg("-o")
    .arg(artifacts.dir.join(PAIR_LIB));
    run_checked(pair, "compiling trivial_pair.c into a shared library")?;
    let mut plain = base(&artifacts.driver);
    plain.arg("-ldl");
    run_checked(plain, "compiling host_driver.c")?;
    let mut capi = base(&artifacts.capi_driver);
    let lib_dir = artifacts.dir.clone();
    capi.arg("-DHOST_DRIVER_CAPI")
        .arg("-I")
        .arg(root.join("include"))
        .arg("-I")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("c"))
        .arg("-L")
        .arg(&lib_dir)
        .arg("-lcrosscall_capi")
        .arg("-lcrosscall_lab_pair")
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .arg("-ldl");
    run_checked(capi, "compiling host_driver.c with the C API")?;
    Ok(artifacts)
}

/// The SONAME of the shared library `lib` (`readelf -d`, from binutils), if it has one.
///
/// # Errors
///
/// When `readelf` cannot be run or fails.
fn soname(lib: &Path) -> Result<Option<String>, HostError> {
    let mut command = Command::new("readelf");
    command.arg("-d").arg(lib);
    let output = run_checked(command, "reading the SONAME with readelf (binutils)")?;
    // A line like ` 0x...e (SONAME)   Library soname: [libcrosscall.so.0.1]`.
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .find(|line| line.contains("(SONAME)"))
        .and_then(|line| Some(line[line.find('[')? + 1..line.rfind(']')?].to_owned())))
}

/// What one run of the driver reported.
#[derive(Clone, Debug, PartialEq)]
pub struct DriverRun {
    /// Per repeat, the slowest thread's ns per call.
    pub slowest_ns_per_call: Vec<f64>,
    /// The driver's median of those.
    pub median_slowest_ns_per_call: f64,
}

/// The driver's command line for one measurement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverCall {
    /// Which binary (`host_driver` or `host_driver_capi`).
    pub program: PathBuf,
    /// The mode and its arguments (`dlopen LIB SYMBOL INIT`).
    pub mode: Vec<OsString>,
}

impl DriverCall {
    /// The full argument list for `threads` threads, `calls` timed calls each, `repeat`
    /// repeats.
    pub fn args(&self, threads: usize, calls: u64, repeat: usize) -> Vec<OsString> {
        let mut args: Vec<OsString> = [
            "-t".to_owned(),
            threads.to_string(),
            "-n".to_owned(),
            calls.to_string(),
            "-r".to_owned(),
            repeat.to_string(),
            "-w".to_owned(),
            WARMUP_CALLS.to_string(),
        ]
        .into_iter()
        .map(OsString::from)
        .collect();
        args.extend(self.mode.iter().cloned());
        args
    }

    /// Runs the driver and reads its result.
    ///
    /// # Errors
    ///
    /// When it fails (e.g. a call was refused) or prints no result line.
    pub fn run(&self, threads: usize, calls: u64, repeat: usize) -> Result<DriverRun, HostError> {
        let mut command = Command::new(&self.program);
        command.args(self.args(threads, calls, repeat));
        let what = format!(
            "{} {}",
            self.program.display(),
            join_lossy(&self.args(threads, calls, repeat))
        );
        let output = run_checked(command, &what)?;
        parse_driver_output(&String::from_utf8_lossy(&output.stdout))
    }
}

fn join_lossy(args: &[OsString]) -> String {
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses the driver's output: `repeat R slowest_ns_per_call X ...` lines and the final
/// `median_slowest_ns_per_call X`.
///
/// # Errors
///
/// [`HostError::Output`] when a line is malformed or the median line is missing.
///
/// ```
/// use crosscall_lab::deployed::host_driver::parse_driver_output;
/// let run = parse_driver_output(
///     "repeat 1 slowest_ns_per_call 2.5 threads_ns_per_call 2.4 2.5\n\
///      median_slowest_ns_per_call 2.5\n",
/// )?;
/// assert_eq!((run.slowest_ns_per_call, run.median_slowest_ns_per_call), (vec![2.5], 2.5));
/// # Ok::<(), crosscall_lab::deployed::host_driver::HostError>(())
/// ```
pub fn parse_driver_output(output: &str) -> Result<DriverRun, HostError> {
    let bad = |why: String| HostError::Output {
        why: format!("unexpected output from host_driver ({why})"),
        output: output.to_owned(),
    };
    let number = |text: Option<&str>, what: &str| -> Result<f64, HostError> {
        text.and_then(|t| t.parse::<f64>().ok())
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| bad(format!("bad {what}")))
    };
    let mut slowest = Vec::new();
    let mut median = None;
    for line in output.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("repeat") => {
                let _index = words.next();
                if words.next() != Some("slowest_ns_per_call") {
                    return Err(bad(format!("malformed line {line:?}")));
                }
                slowest.push(number(words.next(), "slowest_ns_per_call")?);
            }
            Some("median_slowest_ns_per_call") => {
                median = Some(number(words.next(), "median_slowest_ns_per_call")?);
            }
            _ => {}
        }
    }
    match median {
        Some(median) if !slowest.is_empty() => Ok(DriverRun {
            slowest_ns_per_call: slowest,
            median_slowest_ns_per_call: median,
        }),
        _ => Err(bad(
            "no `repeat` line or no `median_slowest_ns_per_call` line".to_owned(),
        )),
    }
}

/// Whether `valgrind` can be run.
pub fn valgrind_available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Instructions per call of a program, from callgrind: it runs `args_for(low)` and
/// `args_for(high)` under `valgrind --tool=callgrind` and returns
/// `(Ir(high) - Ir(low)) / (high - low)`, so start-up, loading and warm-up cancel out.
/// The callgrind output files go to `scratch`.
///
/// # Errors
///
/// When valgrind fails or its output file has no `totals:`/`summary:` line.
pub fn instructions_per_call(
    program: &Path,
    args_for: &dyn Fn(u64) -> Vec<OsString>,
    (low, high): (u64, u64),
    scratch: &Path,
) -> Result<f64, HostError> {
    assert!(high > low, "callgrind needs two different call counts");
    let mut totals = [0u64; 2];
    for (total, calls) in totals.iter_mut().zip([low, high]) {
        let out = scratch.join(format!("callgrind.{}.{calls}", std::process::id()));
        let mut out_flag = OsString::from("--callgrind-out-file=");
        out_flag.push(&out);
        let mut command = Command::new("valgrind");
        command
            .arg("--tool=callgrind")
            .arg(out_flag)
            .arg("--")
            .arg(program)
            .args(args_for(calls));
        run_checked(
            command,
            &format!("valgrind --tool=callgrind {}", program.display()),
        )?;
        let text = std::fs::read_to_string(&out).map_err(|why| HostError::Io {
            what: format!("reading {}", out.display()),
            why,
        })?;
        let _ = std::fs::remove_file(&out);
        *total = parse_callgrind_total(&text).ok_or_else(|| HostError::Output {
            why: "callgrind's output file has no `totals:` or `summary:` line".to_owned(),
            output: text.lines().take(20).collect::<Vec<_>>().join("\n"),
        })?;
    }
    Ok((totals[1] as f64 - totals[0] as f64) / (high - low) as f64)
}

/// The first event count (instructions, `Ir`) of callgrind's `totals:` line, or of its
/// `summary:` line.
///
/// ```
/// use crosscall_lab::deployed::host_driver::parse_callgrind_total;
/// assert_eq!(parse_callgrind_total("events: Ir\nsummary: 6947751\ntotals: 6947751\n"), Some(6947751));
/// assert_eq!(parse_callgrind_total("events: Ir\n"), None);
/// ```
pub fn parse_callgrind_total(text: &str) -> Option<u64> {
    let first_number = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
    };
    first_number("totals:").or_else(|| first_number("summary:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_output_needs_the_median_and_a_repeat() {
        assert!(parse_driver_output("median_slowest_ns_per_call 2.5\n").is_err());
        assert!(parse_driver_output("repeat 1 slowest_ns_per_call 2.5\n").is_err());
        assert!(parse_driver_output(
            "repeat 1 slowest_ns_per_call nan\nmedian_slowest_ns_per_call 2.5\n"
        )
        .is_err());
        let run = parse_driver_output(
            "noise\nrepeat 1 slowest_ns_per_call 3\nrepeat 2 slowest_ns_per_call 1\n\
             median_slowest_ns_per_call 3\n",
        )
        .unwrap();
        assert_eq!(run.slowest_ns_per_call, [3.0, 1.0]);
    }

    #[test]
    fn driver_arguments_put_options_before_the_mode() {
        let call = DriverCall {
            program: "host_driver".into(),
            mode: vec!["dlopen".into(), "lib.so".into(), "f".into()],
        };
        assert_eq!(
            join_lossy(&call.args(2, 100, 3)),
            format!("-t 2 -n 100 -r 3 -w {WARMUP_CALLS} dlopen lib.so f")
        );
    }
}
