struct Lib;
static LIB: crosscall::StateGate<Lib> = crosscall::StateGate::new();

#[crosscall::export(state = LIB, on_panic = -1)]
pub extern "C" fn no_state_param() -> i32 {
    0
}

fn main() {}
