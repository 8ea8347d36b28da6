#[crosscall::export(on_panic = 0)]
pub extern "C" fn no_gate(x: i32) -> i32 {
    x
}

fn main() {}
