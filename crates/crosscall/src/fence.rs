//! The asymmetric fence pair that lets `enter` skip a hardware fence.
//!
//! `enter` stores to its own slot and then loads the gate state; `close` stores the state and
//! then loads every slot. That is the store-buffering (Dekker) shape: it needs a full fence on
//! *both* sides, or one side could miss the other. A `fence(SeqCst)` on every entry costs
//! ~10 ns, so, like the kernel's `percpu_ref` / RCU and folly's `asymmetricHeavyBarrier`, the
//! entering side uses only a compiler fence, and the closing side issues
//! `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, which runs a full memory barrier on every
//! CPU currently running a thread of this process (threads not running have passed through a
//! context switch, itself a full barrier).
//!
//! `membarrier` can be missing (non-Linux, kernels before 4.14, seccomp sandboxes). That is
//! detected once at runtime; gates then use `fence(SeqCst)` on both sides.

#[cfg(not(loom))]
use std::sync::OnceLock;

/// Commands of `membarrier(2)`, from `include/uapi/linux/membarrier.h`.
#[cfg(all(target_os = "linux", not(loom)))]
mod cmd {
    pub const QUERY: libc::c_int = 0;
    pub const PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
    pub const REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;
}

/// Environment variable that, when set to `1` before the first gate is used, makes every
/// `Gate::new()` gate use the `fence(SeqCst)` path as if `membarrier` were missing.
pub const DISABLE_MEMBARRIER_ENV: &str = "CROSSCALL_DISABLE_MEMBARRIER";

/// Whether the private expedited `membarrier` is usable by this process. Queried and
/// registered once; later calls are a load.
#[cfg(not(loom))]
pub(crate) fn membarrier_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        // Miri interprets no syscall: it checks the fence(SeqCst) fallback instead.
        if cfg!(miri) || std::env::var_os(DISABLE_MEMBARRIER_ENV).is_some_and(|v| v == "1") {
            return false;
        }
        register_private_expedited()
    })
}

/// Under loom there is no kernel to ask: gates take the membarrier path, and both halves of
/// the fence pair become a read-modify-write on one location, which loom orders exactly (see
/// `Gate::closing_barrier`).
#[cfg(loom)]
pub(crate) fn membarrier_available() -> bool {
    true
}

#[cfg(all(target_os = "linux", not(loom)))]
fn register_private_expedited() -> bool {
    // SAFETY: membarrier takes (cmd, flags, cpu_id) integers and touches no memory of ours.
    let supported = unsafe { libc::syscall(libc::SYS_membarrier, cmd::QUERY, 0, 0) };
    if supported < 0 || (supported as libc::c_int & cmd::PRIVATE_EXPEDITED) == 0 {
        return false;
    }
    // SAFETY: as above; registration is per process and idempotent.
    let registered =
        unsafe { libc::syscall(libc::SYS_membarrier, cmd::REGISTER_PRIVATE_EXPEDITED, 0, 0) };
    registered == 0
}

#[cfg(all(not(target_os = "linux"), not(loom)))]
fn register_private_expedited() -> bool {
    false
}

/// Issues a full memory barrier on every CPU running a thread of this process.
///
/// # Panics
///
/// Aborts the process if the kernel refuses a command it accepted at registration: entering
/// threads already rely on it, so continuing could admit a call after `close` returned.
#[cfg(all(target_os = "linux", not(loom)))]
pub(crate) fn heavy_barrier() {
    // SAFETY: as in `register_private_expedited`.
    let rc = unsafe { libc::syscall(libc::SYS_membarrier, cmd::PRIVATE_EXPEDITED, 0, 0) };
    if rc != 0 {
        eprintln!(
            "crosscall: membarrier(PRIVATE_EXPEDITED) failed after successful registration: {}",
            std::io::Error::last_os_error()
        );
        std::process::abort();
    }
}

#[cfg(all(not(target_os = "linux"), not(loom)))]
pub(crate) fn heavy_barrier() {
    unreachable!("membarrier_available() is false off Linux")
}
