static GATE: crosscall::Gate = crosscall::Gate::new();

#[crosscall::export(gate = GATE, on_panic = 0)]
pub extern "system" fn system_abi(x: i32) -> i32 {
    x
}

fn main() {}
