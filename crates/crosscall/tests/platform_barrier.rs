//! Which closing-side barrier `Gate::new()` gates use on this platform (docs/DESIGN.md,
//! "Platforms"), and that a gate on it drains entries from many threads.
//!
//! Its own test binary: the choice is made once per process, and `CROSSCALL_DISABLE_MEMBARRIER`
//! (tested in `gate_env_fallback.rs`) must not be set here.

use crosscall::{Gate, DISABLE_MEMBARRIER_ENV};

#[test]
fn the_platform_barrier_is_the_documented_one() {
    if std::env::var_os(DISABLE_MEMBARRIER_ENV).is_some() {
        return; // the fallback was asked for; gate_env_fallback.rs covers it
    }
    let gate = Gate::new();
    if cfg!(windows) {
        // `FlushProcessWriteBuffers` has no failure mode: the light path, except under wine,
        // whose version is a no-op stub (CI sets CROSSCALL_EXPECT_WINE=1 there).
        let under_wine = std::env::var_os("CROSSCALL_EXPECT_WINE").is_some_and(|v| v == "1");
        assert_eq!(gate.uses_membarrier(), !under_wine);
    } else if cfg!(any(target_os = "macos", target_os = "ios")) {
        // No process-wide barrier is used there: a fence on both sides.
        assert!(!gate.uses_membarrier());
    } else if cfg!(any(target_os = "linux", target_os = "android")) {
        // membarrier exactly when the kernel offers the private expedited command (a seccomp
        // policy or an old kernel may not): asked here directly, as crosscall asks it.
        assert_eq!(gate.uses_membarrier(), kernel_offers_private_expedited());
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn kernel_offers_private_expedited() -> bool {
    const QUERY: libc::c_int = 0;
    const PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
    // SAFETY: membarrier's QUERY takes integers only and touches no memory.
    let supported = unsafe { libc::syscall(libc::SYS_membarrier, QUERY, 0, 0) };
    supported >= 0 && (supported as libc::c_int & PRIVATE_EXPEDITED) != 0
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn kernel_offers_private_expedited() -> bool {
    false
}

#[test]
fn a_gate_on_the_platform_barrier_drains_many_threads() {
    static GATE: Gate = Gate::new();
    GATE.open();
    let uses_heavy_barrier = GATE.uses_membarrier();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                // Until the close refuses us: entries race the closing barrier.
                while let Ok(pass) = GATE.enter() {
                    drop(pass);
                }
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        GATE.close().unwrap();
        // Once close has returned nothing is inside, and nothing gets in any more.
        assert_eq!(GATE.in_flight(), 0);
        assert!(GATE.enter().is_err());
    });
    assert_eq!(GATE.uses_membarrier(), uses_heavy_barrier);
}
