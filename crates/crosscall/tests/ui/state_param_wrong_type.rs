struct Lib;
struct Other;
static LIB: crosscall::StateGate<Lib> = crosscall::StateGate::new();

#[crosscall::export(state = LIB, on_panic = -1)]
pub extern "C" fn wrong_state(lib: &Other, x: i32) -> i32 {
    let _ = lib;
    x
}

fn main() {}
