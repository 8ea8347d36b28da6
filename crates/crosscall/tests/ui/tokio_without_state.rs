static GATE: crosscall::Gate = crosscall::Gate::new();

#[crosscall::export(gate = GATE, tokio)]
pub extern "C" fn spawn_work() -> bool {
    true
}

fn main() {}
