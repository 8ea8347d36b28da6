static GATE: crosscall::Gate = crosscall::Gate::new();

pub struct Counter(i32);

impl Counter {
    #[crosscall::export(gate = GATE, on_panic = 0)]
    pub extern "C" fn get(&self) -> i32 {
        self.0
    }
}

fn main() {}
