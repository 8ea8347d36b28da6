static GATE: crosscall::Gate = crosscall::Gate::new();

#[repr(C)]
pub struct Pair {
    a: u32,
    b: u32,
}

#[crosscall::export(gate = GATE)]
pub extern "C" fn pair() -> Pair {
    Pair { a: 1, b: 2 }
}

fn main() {}
