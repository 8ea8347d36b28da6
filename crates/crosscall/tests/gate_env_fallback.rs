//! `CROSSCALL_DISABLE_MEMBARRIER=1` forces the `fence(SeqCst)` path for `Gate::new()` gates.
//! Its own test binary: the variable is read once per process, at the first gate's use.

use crosscall::{Gate, DISABLE_MEMBARRIER_ENV};

#[test]
fn env_var_forces_fence_fallback() {
    // The only test in this process, so nothing reads the environment concurrently.
    std::env::set_var(DISABLE_MEMBARRIER_ENV, "1");
    static G: Gate = Gate::new();
    assert!(!G.uses_membarrier());
    G.open();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..10_000 {
                    drop(G.enter().unwrap());
                }
            });
        }
    });
    G.close().unwrap();
    assert_eq!(G.in_flight(), 0);
}
