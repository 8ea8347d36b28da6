struct Lib;
static GATE: crosscall::Gate = crosscall::Gate::new();

#[crosscall::export(state = GATE, on_panic = -1)]
pub extern "C" fn stateless(lib: &Lib, x: i32) -> i32 {
    let _ = lib;
    x
}

fn main() {}
