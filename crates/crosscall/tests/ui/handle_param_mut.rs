use crosscall::{Gate, Handles};

static GATE: Gate = Gate::new();
static THINGS: Handles<u32> = Handles::new(&GATE);

#[crosscall::export(gate = GATE, on_panic = -1, handles(thing = THINGS))]
pub extern "C" fn f(thing: &mut u32) -> i32 {
    *thing as i32
}

fn main() {}
