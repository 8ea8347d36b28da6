struct Lib;
static LIB: crosscall::StateGate<Lib> = crosscall::StateGate::new();
static GATE: crosscall::Gate = crosscall::Gate::new();

#[crosscall::export(gate = GATE, state = LIB, on_panic = -1)]
pub extern "C" fn both(lib: &Lib, x: i32) -> i32 {
    let _ = lib;
    x
}

fn main() {}
