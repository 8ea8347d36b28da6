use crosscall::{Gate, Handles};

static GATE: Gate = Gate::new();
static NAMES: Handles<String> = Handles::new(&GATE);

#[crosscall::export(gate = GATE, on_panic = -1, handles(thing = NAMES))]
pub extern "C" fn f(thing: &u32) -> i32 {
    *thing as i32
}

fn main() {}
