static GATE: crosscall::Gate = crosscall::Gate::new();

#[crosscall::export(gate = GATE, on_panic = "failed")]
pub extern "C" fn count() -> Result<i32, String> {
    Ok(1)
}

fn main() {}
