#[crosscall::ungated]
#[no_mangle]
pub fn lib_init() {}

fn main() {}
