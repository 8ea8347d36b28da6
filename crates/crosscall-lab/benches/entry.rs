//! Entry cost per gate (being written).
fn main() {}
