//! crosscall-lab command line (being written).
fn main() {}
