static GATE: crosscall::Gate = crosscall::Gate::new();

#[crosscall::export(gate = GATE, on_panic = 0, on_error = 1)]
pub extern "C" fn typo(x: i32) -> i32 {
    x
}

fn main() {}
