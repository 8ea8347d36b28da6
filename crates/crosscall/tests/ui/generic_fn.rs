static GATE: crosscall::Gate = crosscall::Gate::new();

#[crosscall::export(gate = GATE, on_panic = 0)]
pub extern "C" fn generic<T: Into<i32>>(x: T) -> i32 {
    x.into()
}

fn main() {}
