static GATE: crosscall::Gate = crosscall::Gate::new();

#[crosscall::export(gate = GATE, on_panic = 0)]
pub async extern "C" fn later(x: i32) -> i32 {
    x
}

fn main() {}
