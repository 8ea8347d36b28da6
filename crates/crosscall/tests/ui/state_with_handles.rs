struct Lib;
struct Account;
static LIB: crosscall::StateGate<Lib> = crosscall::StateGate::new();
static BANK: crosscall::Gate = crosscall::Gate::new();
static ACCOUNTS: crosscall::Handles<Account> = crosscall::Handles::new(&BANK);

#[crosscall::export(state = LIB, on_panic = -1, handles(account = ACCOUNTS))]
pub extern "C" fn both(lib: &Lib, account: &Account) -> i32 {
    let _ = (lib, account);
    0
}

fn main() {}
