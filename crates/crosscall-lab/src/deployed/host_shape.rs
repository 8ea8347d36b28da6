//! The shapes `crosscall-lab deployed` compares: one body (`x + 1`), reached from C threads
//! in the ways crosscall is deployed, plus the static figures of the lab's own runs.
//!
//! A shape is measured by the C host ([`crate::deployed::host_driver`]) or, for the static rows, by
//! [`runner::run`] in this process (workload `empty`, queue `partitioned`: entry cost and a
//! per-worker slice of the task array, no shared write per task). Each row names the row it
//! is compared with ([`Shape::baseline`]), so the difference is the cost of one entry:
//! `#[export]` over the ungated export of the same cdylib, the C API pair over the same body
//! as a local C function, static crosscall over the static `none` gate.

use std::ffi::OsString;
use std::path::Path;

use crate::deployed::host_driver::{self, DriverCall, HostArtifacts, HostError};
use crate::run::runner::{self, GateKind, QueueKind, RunConfig, Workload};

/// The built-in shapes (the Go rows are added per toolchain, see [`Shape::go_cshared`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShapeKind {
    /// A plain C function in the host, through a function pointer: the loop's own cost.
    Local,
    /// `hb_ungated_add1` of the dlopen()ed benchmark cdylib.
    Ungated,
    /// `hb_export_add1`: the same body behind `#[crosscall::export]`.
    Export,
    /// `hb_export_abort_add1`: `#[crosscall::export]` with `abort_on_panic`.
    ExportAbort,
    /// `hb_export_state_add1`: `#[crosscall::export(state = …)]`, the body adding the `1` it
    /// reads from the library's state.
    ExportState,
    /// `trivial_pair_enter` + `x + 1` + `trivial_pair_leave`: two trivial calls into a
    /// shared library (each reads and bumps one thread-local word), linked as the C API is:
    /// the yardstick the C API pair is measured against.
    Pair,
    /// `crosscall_gate_enter` + `x + 1` + `crosscall_gate_leave` through the C API's shared
    /// library (`libcrosscall_capi.so` as built; installed as `libcrosscall.so`).
    Capi,
    /// `crosscall_gate_enter_state` + `x + *state` + `crosscall_gate_leave` through
    /// the C API's shared library (the gate opened with `crosscall_gate_open_state`).
    CapiState,
    /// The lab's `run --gate none --workload empty --queue partitioned` (statically linked).
    StaticNone,
    /// The lab's `run --gate crosscall --workload empty --queue partitioned`.
    StaticCrosscall,
}

impl ShapeKind {
    /// Every built-in shape, in table order.
    pub const ALL: [ShapeKind; 10] = [
        ShapeKind::Local,
        ShapeKind::Ungated,
        ShapeKind::Export,
        ShapeKind::ExportAbort,
        ShapeKind::ExportState,
        ShapeKind::Pair,
        ShapeKind::Capi,
        ShapeKind::CapiState,
        ShapeKind::StaticNone,
        ShapeKind::StaticCrosscall,
    ];

    /// The name on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            ShapeKind::Local => "local",
            ShapeKind::Ungated => "ungated",
            ShapeKind::Export => "export",
            ShapeKind::ExportAbort => "export-abort",
            ShapeKind::ExportState => "export-state",
            ShapeKind::Pair => "pair",
            ShapeKind::Capi => "capi",
            ShapeKind::CapiState => "capi-state",
            ShapeKind::StaticNone => "static-none",
            ShapeKind::StaticCrosscall => "static-crosscall",
        }
    }

    /// The row's label in the table.
    pub fn label(self) -> &'static str {
        match self {
            ShapeKind::Local => "C local call (fn pointer)",
            ShapeKind::Ungated => "cdylib ungated (dlopen)",
            ShapeKind::Export => "cdylib #[export] (dlopen)",
            ShapeKind::ExportAbort => "cdylib #[export] abort_on_panic",
            ShapeKind::ExportState => "cdylib #[export(state)] (dlopen)",
            ShapeKind::Pair => "trivial enter+leave via .so",
            ShapeKind::Capi => "C API enter+leave via .so",
            ShapeKind::CapiState => "C API enter_state+leave via .so",
            ShapeKind::StaticNone => "static Rust: none",
            ShapeKind::StaticCrosscall => "static Rust: crosscall",
        }
    }

    /// The shape this one's extra cost is measured against.
    ///
    /// ```
    /// use crosscall_lab::deployed::host_shape::ShapeKind;
    /// assert_eq!(ShapeKind::Export.baseline(), Some(ShapeKind::Ungated));
    /// assert_eq!(ShapeKind::Capi.baseline(), Some(ShapeKind::Local));
    /// assert_eq!(ShapeKind::Local.baseline(), None);
    /// ```
    pub fn baseline(self) -> Option<ShapeKind> {
        match self {
            ShapeKind::Local | ShapeKind::StaticNone => None,
            ShapeKind::Ungated | ShapeKind::Pair | ShapeKind::Capi | ShapeKind::CapiState => {
                Some(ShapeKind::Local)
            }
            ShapeKind::Export | ShapeKind::ExportAbort | ShapeKind::ExportState => {
                Some(ShapeKind::Ungated)
            }
            ShapeKind::StaticCrosscall => Some(ShapeKind::StaticNone),
        }
    }
}

/// How a shape is run.
#[derive(Clone, Debug)]
enum How {
    /// By the C host.
    Driver(DriverCall),
    /// By the lab's runner in this process.
    Static(GateKind),
}

/// One row of `deployed`: what runs, and what it is compared with.
#[derive(Clone, Debug)]
pub struct Shape {
    /// The key in JSON (`export`, `go1.22.10`).
    pub key: String,
    /// The label in the table.
    pub label: String,
    /// The key of the row this one is compared with.
    pub baseline: Option<String>,
    /// Whether its instructions can be counted under callgrind.
    pub callgrind: bool,
    how: How,
}

/// The driver's `dlopen` mode: `dlopen LIB SYMBOL [INIT]`.
fn dlopen_mode(lib: &Path, symbol: &str, init: Option<&str>) -> Vec<OsString> {
    let mut mode: Vec<OsString> = vec!["dlopen".into(), lib.into(), symbol.into()];
    mode.extend(init.map(OsString::from));
    mode
}

impl Shape {
    /// A built-in shape, run with `host`'s driver and libraries.
    pub fn builtin(kind: ShapeKind, host: &HostArtifacts) -> Shape {
        let driver = |mode: Vec<OsString>| {
            How::Driver(DriverCall {
                program: host.driver.clone(),
                mode,
            })
        };
        let how = match kind {
            ShapeKind::Local => driver(vec!["local".into()]),
            ShapeKind::Ungated => driver(dlopen_mode(&host.hostbench, "hb_ungated_add1", None)),
            ShapeKind::Export => driver(dlopen_mode(
                &host.hostbench,
                "hb_export_add1",
                Some("hb_init"),
            )),
            ShapeKind::ExportAbort => driver(dlopen_mode(
                &host.hostbench,
                "hb_export_abort_add1",
                Some("hb_init"),
            )),
            ShapeKind::ExportState => driver(dlopen_mode(
                &host.hostbench,
                "hb_export_state_add1",
                Some("hb_init"),
            )),
            ShapeKind::Capi => How::Driver(DriverCall {
                program: host.capi_driver.clone(),
                mode: vec!["capi".into()],
            }),
            ShapeKind::Pair => How::Driver(DriverCall {
                program: host.capi_driver.clone(),
                mode: vec!["pair".into()],
            }),
            ShapeKind::CapiState => How::Driver(DriverCall {
                program: host.capi_driver.clone(),
                mode: vec!["capi-state".into()],
            }),
            ShapeKind::StaticNone => How::Static(GateKind::None),
            ShapeKind::StaticCrosscall => How::Static(GateKind::Crosscall),
        };
        Shape {
            key: kind.name().to_owned(),
            label: kind.label().to_owned(),
            baseline: kind.baseline().map(|b| b.name().to_owned()),
            callgrind: true,
            how,
        }
    }

    /// `GoAdd1` of a Go `-buildmode=c-shared` library built by toolchain `version`, called
    /// through dlopen by the same driver; compared with the ungated Rust cdylib. Not run
    /// under callgrind: Go's runtime does not run under valgrind.
    pub fn go_cshared(version: &str, lib: &Path, host: &HostArtifacts) -> Shape {
        Shape {
            key: version.to_owned(),
            label: format!("Go {} //export (dlopen)", version.trim_start_matches("go")),
            baseline: Some(ShapeKind::Ungated.name().to_owned()),
            // Go's runtime crashes valgrind (its goroutine stacks and signal handling).
            callgrind: false,
            how: How::Driver(DriverCall {
                program: host.driver.clone(),
                mode: dlopen_mode(lib, "GoAdd1", None),
            }),
        }
    }

    /// Nanoseconds per call of the slowest of `threads` threads making `calls` calls each.
    ///
    /// # Errors
    ///
    /// When the driver fails (a refused call, a missing symbol, …).
    pub fn measure(&self, threads: usize, calls: u64) -> Result<f64, HostError> {
        match &self.how {
            How::Driver(call) => Ok(call.run(threads, calls, 1)?.median_slowest_ns_per_call),
            How::Static(gate) => {
                let tasks = calls
                    .checked_mul(threads as u64)
                    .filter(|&t| t <= u64::from(u32::MAX))
                    .ok_or_else(|| HostError::Command {
                        what: format!("the static {gate} run"),
                        why: format!(
                            "{calls} calls × {threads} threads is more than the lab's {} tasks",
                            u32::MAX
                        ),
                    })?;
                let result = runner::run(&RunConfig {
                    gate: *gate,
                    workload: Workload::Empty,
                    workers: threads,
                    tasks,
                    queue: QueueKind::Partitioned,
                });
                // Wall-clock time over the calls of one worker: the slowest worker's ns/call.
                Ok(result.took_ms * 1e6 / calls as f64)
            }
        }
    }

    /// Instructions per call on one thread, from callgrind (two call counts, see
    /// [`host_driver::instructions_per_call`]); files go to `scratch`.
    ///
    /// # Errors
    ///
    /// When valgrind or the program fails.
    pub fn instructions(&self, counts: (u64, u64), scratch: &Path) -> Result<f64, HostError> {
        match &self.how {
            How::Driver(call) => host_driver::instructions_per_call(
                &call.program,
                &|calls| call.args(1, calls, 1),
                counts,
                scratch,
            ),
            How::Static(gate) => {
                let lab = std::env::current_exe().map_err(|why| HostError::Io {
                    what: "finding the crosscall-lab binary".to_owned(),
                    why,
                })?;
                let gate = gate.name();
                host_driver::instructions_per_call(
                    &lab,
                    &|tasks| {
                        let tasks = tasks.to_string();
                        [
                            "run",
                            "--gate",
                            gate,
                            "--workload",
                            Workload::Empty.name(),
                            "--queue",
                            QueueKind::Partitioned.name(),
                            "--workers",
                            "1",
                            "--tasks",
                            &tasks,
                            "--format",
                            "json",
                        ]
                        .into_iter()
                        .map(OsString::from)
                        .collect()
                    },
                    counts,
                    scratch,
                )
            }
        }
    }
}
