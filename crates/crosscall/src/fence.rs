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
//! `membarrier` can be missing (kernels before 4.14, seccomp sandboxes). That is detected once
//! at runtime; gates then use `fence(SeqCst)` on both sides.
//!
//! Per platform (the "membarrier" names below mean "the process-wide heavy barrier"):
//!
//! - Linux and Android (the same kernel, so the same syscall): `membarrier(2)`.
//! - Windows: `FlushProcessWriteBuffers`, which makes every processor running a thread of the
//!   process execute a full barrier (an inter-processor interrupt, as membarrier's). It has
//!   no failure mode and needs no registration, so it is available — except under wine,
//!   whose `NtFlushProcessWriteBuffers` is a stub that does nothing in wine 8 (Debian 12's
//!   wine prints `fixme:virtual:NtFlushProcessWriteBuffers stub`). A process whose `ntdll.dll` exports
//!   `wine_get_version` takes the `fence(SeqCst)` path, whatever its wine version: a fence per
//!   entry costs nanoseconds, a barrier that does nothing costs correctness.
//! - Elsewhere (macOS, iOS, the BSDs): no process-wide barrier is used; `fence(SeqCst)` on both
//!   sides (see docs/DESIGN.md, "Platforms", for why macOS's thread-register method is not
//!   used).

#[cfg(not(loom))]
use std::sync::atomic::{AtomicU8, Ordering};

/// Commands of `membarrier(2)`, from `include/uapi/linux/membarrier.h`.
#[cfg(all(any(target_os = "linux", target_os = "android"), not(loom)))]
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
///
/// Not a `OnceLock`: a `fork()` while another thread runs the probe would leave the child
/// waiting for that thread forever. Racing threads each probe (the query and the
/// registration are idempotent) and the first answer stored stands.
#[cfg(not(loom))]
pub(crate) fn membarrier_available() -> bool {
    const UNKNOWN: u8 = 0;
    const NO: u8 = 1;
    const YES: u8 = 2;
    static AVAILABLE: AtomicU8 = AtomicU8::new(UNKNOWN);
    // Relaxed: the answer is a value of its own; the registration it stands for is a syscall
    // this process made before storing it.
    match AVAILABLE.load(Ordering::Relaxed) {
        NO => return false,
        YES => return true,
        _ => {}
    }
    // Miri interprets no syscall: it checks the fence(SeqCst) fallback instead.
    let available = !(cfg!(miri)
        || std::env::var_os(DISABLE_MEMBARRIER_ENV).is_some_and(|v| v == "1"))
        && probe_heavy_barrier();
    let answer = if available { YES } else { NO };
    // Relaxed: as above. The first answer stands, so every caller sees one answer.
    match AVAILABLE.compare_exchange(UNKNOWN, answer, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => available,
        Err(first) => first == YES,
    }
}

/// Under loom there is no kernel to ask: gates take the membarrier path, and both halves of
/// the fence pair become a read-modify-write on one location, which loom orders exactly (see
/// `Gate::closing_barrier`).
#[cfg(loom)]
pub(crate) fn membarrier_available() -> bool {
    true
}

#[cfg(all(any(target_os = "linux", target_os = "android"), not(loom)))]
fn probe_heavy_barrier() -> bool {
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

/// Windows: `FlushProcessWriteBuffers` needs no registration and cannot fail; under wine it
/// may do nothing at all (see the module docs), so it is not used there.
#[cfg(all(windows, not(loom)))]
fn probe_heavy_barrier() -> bool {
    !running_under_wine()
}

/// Whether this Windows process runs under wine: its `ntdll.dll` exports `wine_get_version`
/// (wine's documented way to tell; Windows' ntdll has no such export).
#[cfg(all(windows, not(loom)))]
pub(crate) fn running_under_wine() -> bool {
    use std::ffi::c_void;
    #[link(name = "kernel32")]
    extern "system" {
        fn GetModuleHandleW(name: *const u16) -> *mut c_void;
        fn GetProcAddress(module: *mut c_void, name: *const std::ffi::c_char) -> *mut c_void;
    }
    let ntdll: Vec<u16> = "ntdll.dll\0".encode_utf16().collect();
    // SAFETY: a NUL-terminated UTF-16 module name; ntdll is mapped into every process, and
    // the handle is not reference-counted (nothing to release).
    let module = unsafe { GetModuleHandleW(ntdll.as_ptr()) };
    if module.is_null() {
        return false;
    }
    // SAFETY: a valid module handle and a NUL-terminated ANSI export name; the address is only
    // compared with NULL, never called.
    !unsafe { GetProcAddress(module, c"wine_get_version".as_ptr()) }.is_null()
}

#[cfg(all(
    not(any(target_os = "linux", target_os = "android", windows)),
    not(loom)
))]
fn probe_heavy_barrier() -> bool {
    false
}

/// Issues a full memory barrier on every CPU running a thread of this process.
///
/// # Panics
///
/// Aborts the process if the kernel refuses a command it accepted at registration: entering
/// threads already rely on it, so continuing could admit a call after `close` returned.
#[cfg(all(any(target_os = "linux", target_os = "android"), not(loom)))]
pub(crate) fn heavy_barrier() {
    // SAFETY: as in `probe_heavy_barrier`.
    let rc = unsafe { libc::syscall(libc::SYS_membarrier, cmd::PRIVATE_EXPEDITED, 0, 0) };
    if rc != 0 {
        eprintln!(
            "crosscall: membarrier(PRIVATE_EXPEDITED) failed after successful registration: {}",
            std::io::Error::last_os_error()
        );
        std::process::abort();
    }
}

/// Issues a full memory barrier on every processor running a thread of this process
/// (`FlushProcessWriteBuffers`: an inter-processor interrupt to each of them).
#[cfg(all(windows, not(loom)))]
pub(crate) fn heavy_barrier() {
    #[link(name = "kernel32")]
    extern "system" {
        /// `processthreadsapi.h`; Windows Vista and later. No arguments, no return value.
        fn FlushProcessWriteBuffers();
    }
    // SAFETY: takes no arguments, touches no memory of ours, cannot fail.
    unsafe { FlushProcessWriteBuffers() }
}

#[cfg(all(
    not(any(target_os = "linux", target_os = "android", windows)),
    not(loom)
))]
pub(crate) fn heavy_barrier() {
    unreachable!("membarrier_available() is false where no process-wide barrier is used")
}

#[cfg(all(test, windows, not(loom)))]
mod tests {
    /// Under wine the stub barrier is never trusted. CI runs the Windows tests under wine with
    /// `CROSSCALL_EXPECT_WINE=1`, so the detection itself is checked there too.
    #[test]
    fn under_wine_gates_use_the_fence_fallback() {
        let wine = super::running_under_wine();
        if std::env::var_os("CROSSCALL_EXPECT_WINE").is_some_and(|v| v == "1") {
            assert!(wine, "CROSSCALL_EXPECT_WINE=1 but wine was not detected");
        }
        if wine {
            assert!(!super::membarrier_available());
        }
    }
}
