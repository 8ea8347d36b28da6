//! crosscall-lab: reproduces the cgo many-core callback workload, compares entry
//! strategies (gates) side by side, sweeps worker counts and models scaling.
//!
//! One folder per concern (the crate's README has the map):
//!
//! - [`run`]: running workloads — one measured run (gate × workload × queue × workers ×
//!   tasks), the C side of the tasks, sweeps over worker counts and repeats.
//! - [`gates`]: the reference entry strategies — the cgo ports, the shared counter,
//!   `RwLock`, `arc-swap`, crosscall.
//! - [`deployed`]: entry cost where crosscall is deployed (a dlopen()ed cdylib, the C API's
//!   .so) from C threads.
//! - [`go`]: Go toolchains — the Go reference program, its runs, the Go c-shared reference.
//! - [`model`]: the scalability model — USL fit, machine calibration, capacity
//!   normalization, projections and their readings, and the `model` command.
//! - [`report`]: medians and spreads, the comparison table, plots (one colour per gate),
//!   progress.
//! - [`cli_values`]: the parsers every command's values go through.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

pub mod cli_values;
pub mod deployed;
pub mod gates;
pub mod go;
pub mod model;
pub mod report;
pub mod run;
