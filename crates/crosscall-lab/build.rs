//! Compiles the C side of the lab's workloads.
fn main() {}
