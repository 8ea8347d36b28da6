//! crosscall-lab: reproduces the cgo many-core callback workload, compares entry
//! strategies (gates) side by side, sweeps worker counts and models scaling.
//!
//! - [`runner`]: one measured run (gate × workload × queue × workers × tasks).
//! - [`gates`]: the entry strategies — the cgo ports, the shared counter, crosscall.
//! - [`sweep`]: runs over worker counts and repeats; medians, CSV/JSON, plot.
//! - [`usl`], [`plot`], [`model_cmd`]: the scalability model and its plots;
//!   [`scaling_model`]: raw and capacity-normalized fits of a sweep, with
//!   [`capacity`] (throughput as if each worker had a core) and [`reading`]
//!   (one sentence per fit).
//! - [`goref`], [`go_cmd`]: the Go reference program and its runs.
//! - [`deployed_cmd`]: entry cost where crosscall is deployed (a dlopen()ed cdylib, the C
//!   API's .so) from C threads: [`host_driver`] (the C host), [`host_shape`] (the rows).
//! - [`calibrate`]: the machine's own scaling ceiling (pure compute on N threads).
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

pub mod c_workload;
pub mod calibrate;
pub mod capacity;
pub mod deployed_cmd;
mod driver;
pub mod gates;
pub mod go_cmd;
pub mod goref;
pub mod host_driver;
pub mod host_shape;
pub mod model_cmd;
pub mod plot;
pub mod progress;
pub mod reading;
pub mod report;
pub mod runner;
pub mod scaling_model;
pub mod stats;
pub mod sweep;
pub mod usl;
pub mod workloads;
