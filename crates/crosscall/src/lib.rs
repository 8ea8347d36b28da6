//! crosscall: safe entry from C into Rust, as cheap as a plain call on every core.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

mod gate;

pub use gate::{CloseError, EnterError, Gate, GateState, Pass};
