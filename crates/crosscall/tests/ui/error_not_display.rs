static GATE: crosscall::Gate = crosscall::Gate::new();

pub struct Opaque;

#[crosscall::export(gate = GATE, on_panic = -1)]
pub extern "C" fn opaque_error() -> Result<i32, Opaque> {
    Err(Opaque)
}

fn main() {}
