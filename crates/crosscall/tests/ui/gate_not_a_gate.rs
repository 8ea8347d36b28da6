static NOT_A_GATE: u32 = 0;

#[crosscall::export(gate = NOT_A_GATE, on_panic = 0)]
pub extern "C" fn wrong_gate(x: i32) -> i32 {
    x
}

fn main() {}
