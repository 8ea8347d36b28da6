static GATE: crosscall::Gate = crosscall::Gate::new();

// `Result<T, E>` follows `T`'s rule: an integer needs `on_panic`.
#[crosscall::export(gate = GATE)]
pub extern "C" fn parse(x: u8) -> Result<std::ffi::c_int, String> {
    Ok(x.into())
}

fn main() {}
