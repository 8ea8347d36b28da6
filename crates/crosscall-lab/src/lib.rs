//! crosscall-lab: reproduces the cgo many-core callback workload, compares entry
//! strategies (gates) side by side, sweeps worker counts and models scaling.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

pub mod go_cmd;
pub mod goref;
pub mod model_cmd;
pub mod plot;
pub mod usl;
