//! Running workloads: one measured run ([`runner`]) of a task ([`workloads`], its C side
//! [`c_workload`]) on W worker threads (`driver`: the queue and the clock), and sweeps of
//! such runs over worker counts and repeats ([`sweep`]).

pub mod c_workload;
pub(crate) mod driver;
pub mod runner;
pub mod sweep;
pub mod workloads;
