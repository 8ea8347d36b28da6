//! The initial-exec thread-local's image, shared by x86_64 and aarch64 Linux/glibc: a hidden
//! `.tdata` symbol holding a `Local`, the static empty `Table` it points to first, and the
//! private dummy slot an empty entry points to.
//! Only how a thread finds its copy differs per architecture (`%fs` + `@GOTTPOFF` on x86_64,
//! `tpidr_el0` + `:gottprel:` on aarch64); those reads live in the `imp` of each.

use super::{Local, Table, EMPTY_KEY, PHASE_NEVER};
use crate::gate::slots::PaddedSlot;
use crate::gate::Gate;

/// The gate address of an empty cache. Never entered, so its key stays 0 and matches no
/// cached key; the C API's fast path may read it when a handle equals its address.
static EMPTY_GATE: Gate = Gate::new();

// The initial image below spells out `Local { EMPTY_KEY, &EMPTY_SLOT, &EMPTY_GATE,
// PHASE_NEVER, &EMPTY_TABLE }` and the empty table `Table { [EMPTY_KEY; W], [&EMPTY_SLOT; W],
// [&EMPTY_GATE; W], NULL }`; the x86_64 reads use these offsets: the build fails if either
// changes shape without them.
const _: () = assert!(std::mem::offset_of!(Local, gate_key) == 0);
const _: () = assert!(std::mem::offset_of!(Local, slot) == 8);
const _: () = assert!(std::mem::offset_of!(Local, gate_addr) == 16);
const _: () = assert!(std::mem::offset_of!(Local, phase) == 24);
const _: () = assert!(std::mem::offset_of!(Local, table) == 32);
const _: () = assert!(std::mem::size_of::<Local>() == 40);
const _: () = assert!(std::mem::align_of::<Local>() == 8);
const _: () = assert!(std::mem::offset_of!(Table, keys) == 0);
const _: () = assert!(std::mem::offset_of!(Table, slots) == 64);
const _: () = assert!(std::mem::offset_of!(Table, addrs) == 128);
const _: () = assert!(std::mem::offset_of!(Table, spill) == 192);
const _: () = assert!(std::mem::size_of::<Table>() == 200);
// The extern declaration below spells the empty table as 25 words.
const _: () = assert!(std::mem::size_of::<Table>() == std::mem::size_of::<[usize; 25]>());
const _: () = assert!(super::CACHE_WAYS == 8);
const _: () = assert!(EMPTY_KEY == usize::MAX);
const _: () = assert!(PHASE_NEVER == 0);
// The dummy slot is a word of 1 (depth 1: the fast path goes past it without announcing)
// and zero bytes: nobody waits on it, not in use, no next slot. `CachePadded` is 128 bytes
// on both architectures (x86_64 and big aarch64 cores prefetch line pairs).
const _: () = assert!(std::mem::size_of::<PaddedSlot>() == 128);
const _: () = assert!(std::mem::align_of::<PaddedSlot>() == 128);

// Every thread starts with a copy of the `.tdata` image, its pointers relocated at load time
// like any initialized data. Hidden: each linked image (executable or shared object) gets its
// own, and none is exported. The version in the names keeps two semver-incompatible copies of
// crosscall in one image apart (v0_3: the 40-byte layout, the table behind a pointer).
std::arch::global_asm!(
    ".pushsection .tdata.__crosscall_local_v0_3,\"awT\",@progbits",
    ".p2align 3",
    ".globl __crosscall_local_v0_3",
    ".hidden __crosscall_local_v0_3",
    ".type __crosscall_local_v0_3,@object",
    ".size __crosscall_local_v0_3,40",
    "__crosscall_local_v0_3:",
    ".quad -1",
    ".quad __crosscall_empty_slot_v0_3",
    ".quad {empty_gate}",
    ".quad 0",
    ".quad __crosscall_empty_table_v0_3",
    ".popsection",
    // Relocated once at load time, then never written (`Local::table`).
    ".pushsection .data.rel.ro.__crosscall_empty_table_v0_3,\"aw\",@progbits",
    ".p2align 3",
    ".globl __crosscall_empty_table_v0_3",
    ".hidden __crosscall_empty_table_v0_3",
    ".type __crosscall_empty_table_v0_3,@object",
    ".size __crosscall_empty_table_v0_3,200",
    "__crosscall_empty_table_v0_3:",
    ".rept 8",
    ".quad -1",
    ".endr",
    ".rept 8",
    ".quad __crosscall_empty_slot_v0_3",
    ".endr",
    ".rept 8",
    ".quad {empty_gate}",
    ".endr",
    ".quad 0",
    ".popsection",
    ".pushsection .data.__crosscall_empty_slot_v0_3,\"aw\",@progbits",
    ".p2align 7",
    ".globl __crosscall_empty_slot_v0_3",
    ".hidden __crosscall_empty_slot_v0_3",
    ".type __crosscall_empty_slot_v0_3,@object",
    ".size __crosscall_empty_slot_v0_3,128",
    "__crosscall_empty_slot_v0_3:",
    ".quad 1",
    ".zero 120",
    ".popsection",
    empty_gate = sym EMPTY_GATE,
);

extern "C" {
    /// The static empty table above (`.data.rel.ro`: read-only once relocated), as the
    /// words it is made of (a `Table` is not an FFI type).
    static __crosscall_empty_table_v0_3: [usize; 25];
}

/// What `Local::gate_addr` holds when nothing is cached: the private gate above.
#[inline]
pub(super) fn empty_addr() -> usize {
    &EMPTY_GATE as *const Gate as usize
}

/// What `Local::table` holds before the thread has a table of its own.
#[inline]
pub(super) fn empty_table() -> *mut Table {
    // SAFETY: takes the address of the hidden table defined above (no read); `*mut` only to
    // share `Local::table`'s type: nothing writes through it.
    #[allow(unused_unsafe)] // taking an extern static's address needs `unsafe` before 1.82
    let table = unsafe { std::ptr::addr_of!(__crosscall_empty_table_v0_3) };
    table.cast::<Table>().cast_mut()
}
