static GATE: crosscall::Gate = crosscall::Gate::new();

#[crosscall::export(gate = GATE, on_panic = 0, abort_on_panic = true)]
pub extern "C" fn flag_with_value(x: i32) -> i32 {
    x
}

fn main() {}
