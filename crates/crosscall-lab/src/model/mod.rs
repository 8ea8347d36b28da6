//! The lab's scalability modelling: what a sweep's throughputs say about a
//! bigger machine, and how sure the lab can be of it.
//!
//! - [`usl`]: the Universal Scalability Law and its fit.
//! - [`calibrate`]: the machine's own scaling ceiling (pure compute on N threads).
//! - [`capacity`]: throughput as if each worker had a core of its own.
//! - [`scaling_model`]: raw and capacity-normalized fits of a sweep, with
//!   projections to more workers.
//! - [`reading`]: one plain sentence per fit.
//! - [`units`]: how figures are written (`12.3M`).
//! - [`bootstrap`]: intervals over the repeats, and when the lab declines to
//!   project.
//! - [`model_cmd`]: the `model` command — fits a sweep, prints and plots the projections.

pub mod bootstrap;
pub mod calibrate;
pub mod capacity;
pub mod model_cmd;
pub mod reading;
pub mod scaling_model;
pub mod units;
pub mod usl;
