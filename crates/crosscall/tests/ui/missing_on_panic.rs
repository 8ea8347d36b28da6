static GATE: crosscall::Gate = crosscall::Gate::new();

#[crosscall::export(gate = GATE)]
pub extern "C" fn no_error_value(x: i32) -> i32 {
    x
}

fn main() {}
