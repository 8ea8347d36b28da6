//! The initial-exec thread-local's image, shared by x86_64 and aarch64 Linux/glibc: a hidden
//! `.tdata` symbol holding a `Local`, and the private dummy slot an empty cache points to.
//! Only how a thread finds its copy differs per architecture (`%fs` + `@GOTTPOFF` on x86_64,
//! `tpidr_el0` + `:gottprel:` on aarch64); those reads live in the `imp` of each.

use super::{Local, EMPTY_KEY, PHASE_NEVER};
use crate::gate::slots::PaddedSlot;
use crate::gate::Gate;

/// The gate address of an empty cache. Never entered, so its key stays 0 and matches no
/// cached key; the C API's fast path may read it when a handle equals its address.
static EMPTY_GATE: Gate = Gate::new();

// The initial image below spells out `Local { EMPTY_KEY, &EMPTY_SLOT, &EMPTY_GATE,
// PHASE_NEVER, [EMPTY_KEY; W], [&EMPTY_SLOT; W], [&EMPTY_GATE; W], NULL }`, and the x86_64
// reads use these offsets: the build fails if `Local` changes shape without them.
const _: () = assert!(std::mem::offset_of!(Local, gate_key) == 0);
const _: () = assert!(std::mem::offset_of!(Local, slot) == 8);
const _: () = assert!(std::mem::offset_of!(Local, gate_addr) == 16);
const _: () = assert!(std::mem::offset_of!(Local, phase) == 24);
const _: () = assert!(std::mem::offset_of!(Local, keys) == 32);
const _: () = assert!(std::mem::offset_of!(Local, slots) == 96);
const _: () = assert!(std::mem::offset_of!(Local, addrs) == 160);
const _: () = assert!(std::mem::offset_of!(Local, spill) == 224);
const _: () = assert!(super::CACHE_WAYS == 8);
const _: () = assert!(EMPTY_KEY == usize::MAX);
const _: () = assert!(PHASE_NEVER == 0);
const _: () = assert!(std::mem::size_of::<Local>() == 232);
const _: () = assert!(std::mem::align_of::<Local>() == 8);
// The dummy slot is all-zero bytes: depth 0, not in use, no next slot. `CachePadded` is 128
// bytes on both architectures (x86_64 and big aarch64 cores prefetch line pairs).
const _: () = assert!(std::mem::size_of::<PaddedSlot>() == 128);
const _: () = assert!(std::mem::align_of::<PaddedSlot>() == 128);

// Every thread starts with a copy of this image, its pointers relocated at load time like any
// initialized data. Hidden: each linked image (executable or shared object) gets its own, and
// none is exported. The version in the names keeps two semver-incompatible copies of crosscall
// in one image apart (v0_2: the layout with the table).
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

/// What `Local::gate_addr` holds when nothing is cached: the private gate above.
#[inline]
pub(super) fn empty_addr() -> usize {
    &EMPTY_GATE as *const Gate as usize
}
