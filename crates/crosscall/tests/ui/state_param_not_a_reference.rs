struct Lib;
static LIB: crosscall::StateGate<Lib> = crosscall::StateGate::new();

#[crosscall::export(state = LIB, on_panic = -1)]
pub extern "C" fn by_value(lib: Lib, x: i32) -> i32 {
    let _ = lib;
    x
}

fn main() {}
