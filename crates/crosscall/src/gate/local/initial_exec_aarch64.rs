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

use super::{Local, EMPTY_KEY, PHASE_NEVER};
use crate::gate::slots::PaddedSlot;
use crate::gate::Gate;

pub(super) const SLOT_NEVER_NULL: bool = true;

/// The gate address of an empty cache. Never entered, so its key stays 0 and matches no
/// cached key; the C API's fast path may read it when a handle equals its address.
static EMPTY_GATE: Gate = Gate::new();

// The initial image below spells out `Local { EMPTY_KEY, &EMPTY_SLOT, &EMPTY_GATE,
// PHASE_NEVER, [EMPTY_KEY; W], [&EMPTY_SLOT; W], [&EMPTY_GATE; W], NULL }`: these asserts fail
// the build if `Local` changes shape without it.
const _: () = assert!(std::mem::offset_of!(Local, gate_key) == 0);
const _: () = assert!(std::mem::offset_of!(Local, slot) == 8);
const _: () = assert!(std::mem::offset_of!(Local, gate_addr) == 16);
const _: () = assert!(std::mem::offset_of!(Local, phase) == 24);
const _: () = assert!(std::mem::offset_of!(Local, keys) == 32);
const _: () = assert!(std::mem::offset_of!(Local, slots) == 96);
const _: () = assert!(std::mem::offset_of!(Local, addrs) == 160);
const _: () = assert!(std::mem::offset_of!(Local, spill) == 224);
const _: () = assert!(super::CACHE_WAYS == 8);
const _: () = assert!(std::mem::size_of::<Local>() == 232);
const _: () = assert!(std::mem::align_of::<Local>() == 8);
const _: () = assert!(EMPTY_KEY == usize::MAX);
const _: () = assert!(PHASE_NEVER == 0);
// The dummy slot is all-zero bytes: depth 0, not in use, no next slot. `CachePadded` is 128
// bytes on aarch64 too (big-core prefetchers fetch line pairs).
const _: () = assert!(std::mem::size_of::<PaddedSlot>() == 128);
const _: () = assert!(std::mem::align_of::<PaddedSlot>() == 128);

// As on x86_64: every thread starts with a copy of this image (its pointers relocated at load
// time), hidden so each linked image gets its own and none is exported; the version in the
// names keeps two semver-incompatible copies of crosscall apart (v0_2: the layout with the
// table).
std::arch::global_asm!(
    ".pushsection .tdata.__crosscall_local_v0_2,\"awT\",@progbits",
    ".p2align 3",
    ".globl __crosscall_local_v0_2",
    ".hidden __crosscall_local_v0_2",
    ".type __crosscall_local_v0_2,@object",
    ".size __crosscall_local_v0_2,232",
    "__crosscall_local_v0_2:",
    ".quad -1",
    ".quad __crosscall_empty_slot_v0_2",
    ".quad {empty_gate}",
    ".quad 0",
    ".rept 8",
    ".quad -1",
    ".endr",
    ".rept 8",
    ".quad __crosscall_empty_slot_v0_2",
    ".endr",
    ".rept 8",
    ".quad {empty_gate}",
    ".endr",
    ".quad 0",
    ".popsection",
    ".pushsection .bss.__crosscall_empty_slot_v0_2,\"aw\",@nobits",
    ".p2align 7",
    ".globl __crosscall_empty_slot_v0_2",
    ".hidden __crosscall_empty_slot_v0_2",
    ".type __crosscall_empty_slot_v0_2,@object",
    ".size __crosscall_empty_slot_v0_2,128",
    "__crosscall_empty_slot_v0_2:",
    ".zero 128",
    ".popsection",
    empty_gate = sym EMPTY_GATE,
);

#[inline]
pub(super) fn empty_addr() -> usize {
    &EMPTY_GATE as *const Gate as usize
}

#[inline]
pub(super) fn empty_slot() -> *const PaddedSlot {
    let ptr: *const PaddedSlot;
    // SAFETY: computes the address of the hidden 128-byte, 128-aligned, zero-filled object
    // above (a valid `PaddedSlot`: all its fields are atomics, a bool and a pointer, for
    // which zero is a valid value), PC-relative. Touches no memory and no stack.
    unsafe {
        std::arch::asm!(
            "adrp {ptr}, __crosscall_empty_slot_v0_2",
            "add {ptr}, {ptr}, :lo12:__crosscall_empty_slot_v0_2",
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
    // `__crosscall_local_v0_2`, laid out and initialized as `Local`. Writes only the output
    // and a scratch register; no stack, no flags. `pure, readonly`: two of these in one
    // function may be merged (nothing moves a thread mid-call: a `Pass` is not `Send`).
    unsafe {
        std::arch::asm!(
            "mrs {ptr}, tpidr_el0",
            "adrp {off}, :gottprel:__crosscall_local_v0_2",
            "ldr {off}, [{off}, #:gottprel_lo12:__crosscall_local_v0_2]",
            "add {ptr}, {ptr}, {off}",
            ptr = out(reg) ptr,
            off = out(reg) _,
            options(pure, readonly, nostack, preserves_flags),
        );
    }
    ptr as *mut Local
}

/// Table entry `index` as `(gate_key, slot)`.
///
/// # Safety
///
/// `index < CACHE_WAYS` (not bounds-checked, as on x86_64).
#[inline(always)]
pub(super) unsafe fn cached(index: usize) -> (usize, *const PaddedSlot) {
    // SAFETY: forwarded contract.
    let (key, slot, _) = unsafe { cached_with_addr(index) };
    (key, slot)
}

/// Table entry `index` as `(gate_key, slot, gate_addr)`.
///
/// # Safety
///
/// As [`cached`].
#[inline(always)]
pub(super) unsafe fn cached_with_addr(index: usize) -> (usize, *const PaddedSlot, usize) {
    let local = local();
    // SAFETY: the calling thread's own `Local` (see `local`), accessed only by this thread;
    // nothing holds a reference into it; `index < CACHE_WAYS` by the caller's contract.
    unsafe {
        (
            *(*local).keys.get_unchecked(index),
            *(*local).slots.get_unchecked(index),
            *(*local).addrs.get_unchecked(index),
        )
    }
}

/// The front entry (the C API's first probe) as `(gate_key, slot, gate_addr)`.
#[inline(always)]
pub(super) fn front() -> (usize, *const PaddedSlot, usize) {
    let local = local();
    // SAFETY: the calling thread's own `Local` (see `local`), accessed only by this thread;
    // nothing holds a reference into it.
    unsafe { ((*local).gate_key, (*local).slot, (*local).gate_addr) }
}
