static GATE: crosscall::Gate = crosscall::Gate::new();

#[crosscall::export(gate = GATE)]
pub extern "C" fn ratio(x: f64) -> f64 {
    x / 2.0
}

fn main() {}
