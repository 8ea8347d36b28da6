//! The fast path's thread-local on aarch64 Linux with glibc: initial-exec TLS.
//!
//! The same object as on x86_64 (a hidden `.tdata` symbol holding a `Local`, and a private
//! dummy slot for an empty cache), addressed the aarch64 way: the thread pointer from
//! `tpidr_el0`, plus this object's offset from it, which the linker or the dynamic loader
//! puts in a GOT entry named by the `:gottprel:` relocations (the initial-exec model of the
//! AArch64 ELF ABI: `R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21` and
//! `R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC`). That is four instructions and no call: `mrs`,
//! `adrp`, `ldr`, `add`; the fields are then read in plain Rust from the pointer, so the
//! compiler picks the loads (one `ldp` for two words) and any change to `Local` carries over
//! as long as the initial image below still spells it.
//!
//! The general-dynamic model a `thread_local!` gets in a shared object costs a TLS-descriptor
//! call (`__tls_get_addr`-like, with a stack frame) instead. The price of initial-exec is the
//! same as on x86_64: a `dlopen()`ed library draws its bytes from glibc's static TLS surplus
//! (see the parent module).

use super::{Local, Table};
use crate::gate::slots::PaddedSlot;

pub(super) use super::initial_exec_image::{empty_addr, empty_table};

pub(super) const SLOT_NEVER_NULL: bool = true;

#[inline]
pub(super) fn empty_slot() -> *const PaddedSlot {
    let ptr: *const PaddedSlot;
    // SAFETY: computes the address of the hidden 128-byte, 128-aligned dummy slot of
    // `initial_exec_image.rs` (a valid `PaddedSlot`: its fields are atomics, a bool and a
    // pointer; its word reads depth 1), PC-relative. Touches no memory and no stack.
    unsafe {
        std::arch::asm!(
            "adrp {ptr}, __crosscall_empty_slot_v0_3",
            "add {ptr}, {ptr}, :lo12:__crosscall_empty_slot_v0_3",
            ptr = out(reg) ptr,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    ptr
}

#[inline(always)]
pub(super) fn local() -> *mut Local {
    let ptr: usize;
    // SAFETY: reads `tpidr_el0` (the thread pointer, set by the C library for every thread)
    // and one GOT entry (this object's offset from the thread pointer, the same for every
    // thread); their sum is the address of the calling thread's copy of
    // `__crosscall_local_v0_3`, laid out and initialized as `Local`. Writes only the output
    // and a scratch register; no stack, no flags. `pure, readonly`: two of these in one
    // function may be merged (nothing moves a thread mid-call: a `Pass` is not `Send`).
    unsafe {
        std::arch::asm!(
            "mrs {ptr}, tpidr_el0",
            "adrp {off}, :gottprel:__crosscall_local_v0_3",
            "ldr {off}, [{off}, #:gottprel_lo12:__crosscall_local_v0_3]",
            "add {ptr}, {ptr}, {off}",
            ptr = out(reg) ptr,
            off = out(reg) _,
            options(pure, readonly, nostack, preserves_flags),
        );
    }
    ptr as *mut Local
}

/// The thread's table (`Local::table`).
#[inline(always)]
pub(super) fn table() -> *mut Table {
    // SAFETY: the calling thread's own `Local` (see `local`), accessed only by this thread;
    // nothing holds a reference into it.
    unsafe { (*local()).table }
}

/// The front entry (every entry's first probe) as `(gate_key, slot, gate_addr)`.
#[inline(always)]
pub(super) fn front() -> (usize, *const PaddedSlot, usize) {
    let local = local();
    // SAFETY: the calling thread's own `Local` (see `local`), accessed only by this thread;
    // nothing holds a reference into it.
    unsafe { ((*local).gate_key, (*local).slot, (*local).gate_addr) }
}
