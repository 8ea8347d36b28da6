#[crosscall::ungated]
pub extern "C" fn lib_init() {}

fn main() {}
