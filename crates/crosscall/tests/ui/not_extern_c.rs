static GATE: crosscall::Gate = crosscall::Gate::new();

#[crosscall::export(gate = GATE, on_panic = 0)]
pub fn plain(x: i32) -> i32 {
    x
}

fn main() {}
