//! crosscall-lab: reproduces the cgo many-core callback workload, compares entry
//! strategies (gates) side by side, sweeps worker counts and models scaling.
//!
//! - [`runner`]: one measured run (gate × workload × queue × workers × tasks).
//! - [`gates`]: the entry strategies — the cgo ports, the shared counter, crosscall.
//! - [`sweep`]: runs over worker counts and repeats; medians, CSV/JSON, plot.
//! - [`model`]: the scalability model — USL fit, machine calibration,
//!   capacity normalization, projections and their readings;
//!   [`model_cmd`] and [`plot`]: the command and its plots, every gate in
//!   its own colour ([`gate_colours`]).
//! - [`goref`], [`go_cmd`]: the Go reference program and its runs; [`go_cshared`]: the Go
//!   `-buildmode=c-shared` reference of the deployed C-host shape.
//! - [`deployed_cmd`]: entry cost where crosscall is deployed (a dlopen()ed cdylib, the C
//!   API's .so) from C threads: [`host_driver`] (the C host), [`host_shape`] (the rows).
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

pub mod c_workload;
pub mod cli_values;
pub mod deployed_cmd;
mod driver;
pub mod gate_colours;
pub mod gates;
pub mod go_cmd;
pub mod go_cshared;
pub mod goref;
pub mod host_driver;
pub mod host_shape;
pub mod model;
pub mod model_cmd;
pub mod plot;
pub mod progress;
pub mod report;
pub mod runner;
pub mod stats;
pub mod sweep;
pub mod workloads;
