//! The one thread-local an entry's fast path reads: which gate slot this thread has cached,
//! and whether it is attached.
//!
//! # Why one, and why initial-exec
//!
//! Inside a shared object (a Rust `cdylib` loaded by a C, C++, Python or Go host) every
//! `thread_local!` access compiles to the general-dynamic TLS model: a call to
//! `__tls_get_addr` through the PLT, about a dozen instructions. Keeping everything the fast
//! path needs in one `const`-initialized, `Drop`-free struct makes that one access per entry
//! instead of one per thread-local.
//!
//! On x86_64 Linux with glibc the struct is not a `thread_local!` at all but a hidden `.tdata`
//! symbol declared with `global_asm!` and addressed with the initial-exec model (the offset
//! from the GOT's `sym@GOTTPOFF` entry, then loads through `%fs`): one extra load, no call, in
//! an executable and in a shared object alike. The price, for a shared object loaded with `dlopen()`, is that glibc must
//! carve the 32 bytes out of its static TLS surplus (a few hundred bytes to ~1.6 KB per
//! process, shared by every such library); when it is exhausted `dlopen()` fails with
//! "cannot allocate memory in static TLS block". Building crosscall without its default
//! `initial-exec-tls` feature selects the portable `thread_local!` form everywhere; other
//! targets (musl, other architectures, other systems) always use it.
//!
//! An empty cache holds [`EMPTY_KEY`], which no gate's key ever equals, and (on the
//! initial-exec path) a pointer to a private, never-scanned dummy slot instead of NULL, so
//! the fast path needs no NULL check: it may announce into the dummy and withdraw when the
//! key does not match. Its gate address is then that of a private gate that is never entered
//! (key 0), so a C handle that happens to equal it (any bit pattern can be passed) is still
//! a readable gate whose key matches nothing. The portable path starts with a NULL slot and
//! an address no gate has, and checks the slot for NULL before it reads the gate.

use crate::gate::slots::PaddedSlot;

/// What the fast path knows about the calling thread.
#[repr(C)]
pub(crate) struct Local {
    /// The key the gate whose slot is cached in `slot` has while it is open (its id and the
    /// "open" bits, see `Gate::key`). Set only after the thread attached (see
    /// `Gate::enter_slow`), so a match also means "attached". [`EMPTY_KEY`] when none.
    pub(crate) gate_key: usize,
    /// This thread's slot in the cached gate; owned by the thread's slot list (`slots.rs`),
    /// whose release at thread exit clears this cache before it lets the slot go.
    pub(crate) slot: *const PaddedSlot,
    /// Address of the gate whose slot is cached ([`empty_addr`] when none): lets a caller
    /// holding only a pointer (the C API) recognize the gate before dereferencing it.
    pub(crate) gate_addr: usize,
    /// Attach phase: [`PHASE_NEVER`], [`PHASE_ATTACHED`] or [`PHASE_DETACHED`].
    pub(crate) phase: usize,
}

/// `Local::gate_key` when no slot is cached (then `slot` is [`empty_slot`]). Gate keys are
/// `id << 2 | open bits` with ids far below `usize::MAX >> 2` (`Gate::id` aborts before), so
/// none equals it.
pub(crate) const EMPTY_KEY: usize = usize::MAX;
/// `Local::gate_addr` when no slot is cached on the portable path: not the address of any
/// gate (misaligned). The initial-exec path uses a private gate's address instead.
#[allow(dead_code)] // unused on the initial-exec path
const EMPTY_ADDR: usize = usize::MAX;
/// No entry has happened on this thread yet.
pub(crate) const PHASE_NEVER: usize = 0;
/// Registered; the detach guard is armed.
pub(crate) const PHASE_ATTACHED: usize = 1;
/// The detach guard ran: the thread is exiting and must not register again.
pub(crate) const PHASE_DETACHED: usize = 2;

/// Whether `Local::slot` is always dereferenceable (a dummy slot stands for "none"); when
/// `false`, an empty cache holds NULL and the fast path checks for it.
pub(crate) const SLOT_NEVER_NULL: bool = imp::SLOT_NEVER_NULL;

/// What `Local::slot` holds when nothing is cached.
#[inline]
pub(crate) fn empty_slot() -> *const PaddedSlot {
    imp::empty_slot()
}

/// What `Local::gate_addr` holds when nothing is cached.
#[inline]
pub(crate) fn empty_addr() -> usize {
    imp::empty_addr()
}

/// The calling thread's attach phase.
#[inline(always)]
pub(crate) fn phase() -> usize {
    #[cfg(not(loom))]
    {
        // SAFETY: `local()` is the calling thread's own `Local`, accessed only by this thread,
        // and nothing holds a reference into it.
        unsafe { (*local()).phase }
    }
    #[cfg(loom)]
    {
        imp::LOOM_PHASE.with(std::cell::Cell::get)
    }
}

/// Sets the calling thread's attach phase.
pub(crate) fn set_phase(phase: usize) {
    #[cfg(not(loom))]
    {
        // SAFETY: as in `phase`.
        unsafe { (*local()).phase = phase }
    }
    #[cfg(loom)]
    {
        imp::LOOM_PHASE.with(|p| p.set(phase))
    }
}

/// The calling thread's cached `(gate_key, slot)`: the fast path's one thread-local read.
#[inline(always)]
pub(crate) fn cached() -> (usize, *const PaddedSlot) {
    imp::cached()
}

/// The calling thread's cached `(gate_key, slot, gate_addr)`.
#[inline(always)]
pub(crate) fn cached_with_addr() -> (usize, *const PaddedSlot, usize) {
    imp::cached_with_addr()
}

/// Pointer to the calling thread's [`Local`]. Valid for the whole life of the thread,
/// including while its thread-local destructors run (the struct has none of its own), and
/// only ever dereferenced by this thread.
#[inline(always)]
pub(crate) fn local() -> *mut Local {
    imp::local()
}

#[cfg(all(
    feature = "initial-exec-tls",
    target_arch = "x86_64",
    target_os = "linux",
    target_env = "gnu",
    not(loom),
    not(miri)
))]
mod imp {
    use super::{Local, EMPTY_KEY, PHASE_NEVER};
    use crate::gate::slots::PaddedSlot;
    use crate::gate::Gate;

    pub(super) const SLOT_NEVER_NULL: bool = true;

    /// The gate address of an empty cache. Never entered, so its key stays 0 and matches no
    /// cached key; the C API's fast path may read it when a handle equals its address.
    static EMPTY_GATE: Gate = Gate::new();

    // The initial image below spells out
    // `Local { EMPTY_KEY, &EMPTY_SLOT, &EMPTY_GATE, PHASE_NEVER }`, and `local_word!` reads
    // the first three fields at offsets 0, 8 and 16.
    const _: () = assert!(std::mem::offset_of!(Local, gate_key) == 0);
    const _: () = assert!(std::mem::offset_of!(Local, slot) == 8);
    const _: () = assert!(EMPTY_KEY == usize::MAX);
    const _: () = assert!(PHASE_NEVER == 0);
    const _: () = assert!(std::mem::offset_of!(Local, gate_addr) == 16);
    const _: () = assert!(std::mem::size_of::<Local>() == 32);
    const _: () = assert!(std::mem::align_of::<Local>() == 8);
    // The dummy slot is all-zero bytes: depth 0, not in use, no next slot.
    const _: () = assert!(std::mem::size_of::<PaddedSlot>() == 128);
    const _: () = assert!(std::mem::align_of::<PaddedSlot>() == 128);

    // A thread-local object (`.tdata`: every thread starts with a copy of this image, its
    // pointer relocated at load time like any initialized data), and the dummy slot it
    // points to. Hidden: each linked image (executable or shared object) gets its own, like
    // any other static of the library, and none is exported. The version in the names keeps
    // two semver-incompatible copies of crosscall in one image apart.
    std::arch::global_asm!(
        ".pushsection .tdata.__crosscall_local_v0_1,\"awT\",@progbits",
        ".p2align 3",
        ".globl __crosscall_local_v0_1",
        ".hidden __crosscall_local_v0_1",
        ".type __crosscall_local_v0_1,@object",
        ".size __crosscall_local_v0_1,32",
        "__crosscall_local_v0_1:",
        ".quad -1",
        ".quad __crosscall_empty_slot_v0_1",
        ".quad {empty_gate}",
        ".quad 0",
        ".popsection",
        ".pushsection .bss.__crosscall_empty_slot_v0_1,\"aw\",@nobits",
        ".p2align 7",
        ".globl __crosscall_empty_slot_v0_1",
        ".hidden __crosscall_empty_slot_v0_1",
        ".type __crosscall_empty_slot_v0_1,@object",
        ".size __crosscall_empty_slot_v0_1,128",
        "__crosscall_empty_slot_v0_1:",
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
        // SAFETY: computes the address of the hidden 128-byte, 128-aligned, zero-filled
        // object above (a valid `PaddedSlot`: all its fields are atomics, a bool and a
        // pointer, for which zero is a valid value). Touches no memory and no stack.
        unsafe {
            std::arch::asm!(
                "lea {ptr}, [rip + __crosscall_empty_slot_v0_1]",
                ptr = out(reg) ptr,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        ptr
    }

    /// This thread's `Local`, as an offset from the thread pointer: the GOT entry the linker
    /// fills for `sym@GOTTPOFF` (the initial-exec TLS model of the x86_64 psABI).
    #[inline(always)]
    fn tp_offset() -> usize {
        let off: usize;
        // SAFETY: loads one GOT entry (the offset of this thread's copy of
        // `__crosscall_local_v0_1` from the thread pointer); writes only the output register,
        // no stack, no flags. `pure, readonly`: the compiler may merge two of these in one
        // function (the offset is the same for every thread, and nothing moves a thread
        // mid-call: a `Pass` is not `Send`).
        unsafe {
            std::arch::asm!(
                "mov {off}, qword ptr [rip + __crosscall_local_v0_1@GOTTPOFF]",
                off = out(reg) off,
                options(pure, readonly, nostack, preserves_flags),
            );
        }
        off
    }

    /// Reads the word at byte `$at` (a literal: 0, 8 or 16) of the calling thread's `Local`
    /// through `%fs`, given [`tp_offset`]. One instruction; unused reads are dropped.
    macro_rules! local_word {
        ($off:expr, $at:literal) => {{
            let word: usize;
            // SAFETY: `$off` is `tp_offset()`, so `%fs:[$off + $at]` is a word of the
            // calling thread's `Local` (`#[repr(C)]`, offsets asserted above). Reads only;
            // writes nothing but the output register; no stack, no flags.
            unsafe {
                std::arch::asm!(
                    concat!("mov {word}, qword ptr fs:[{off} + ", $at, "]"),
                    off = in(reg) $off,
                    word = out(reg) word,
                    options(pure, readonly, nostack, preserves_flags),
                );
            }
            word
        }};
    }

    #[inline(always)]
    pub(super) fn local() -> *mut Local {
        let tp: usize;
        // SAFETY: reads the thread pointer (`%fs:0` holds its own address on x86_64 glibc);
        // writes only the output register. Plus `tp_offset()`, that is the address of the
        // calling thread's copy of `__crosscall_local_v0_1`, a 32-byte, 8-aligned object
        // laid out and initialized as `Local`.
        unsafe {
            std::arch::asm!(
                "mov {tp}, qword ptr fs:[0]",
                tp = out(reg) tp,
                options(pure, readonly, nostack, preserves_flags),
            );
        }
        tp.wrapping_add(tp_offset()) as *mut Local
    }

    #[inline(always)]
    pub(super) fn cached() -> (usize, *const PaddedSlot) {
        let (key, slot, _) = cached_with_addr();
        (key, slot)
    }

    #[inline(always)]
    pub(super) fn cached_with_addr() -> (usize, *const PaddedSlot, usize) {
        let off = tp_offset();
        let key = local_word!(off, "0");
        let slot = local_word!(off, "8") as *const PaddedSlot;
        let addr = local_word!(off, "16");
        (key, slot, addr)
    }
}

#[cfg(not(all(
    feature = "initial-exec-tls",
    target_arch = "x86_64",
    target_os = "linux",
    target_env = "gnu",
    not(loom),
    not(miri)
)))]
mod imp {
    use super::{Local, EMPTY_ADDR, EMPTY_KEY, PHASE_NEVER};
    use crate::gate::slots::PaddedSlot;
    use std::cell::UnsafeCell;
    use std::ptr;

    pub(super) const SLOT_NEVER_NULL: bool = false;

    #[inline]
    pub(super) fn empty_slot() -> *const PaddedSlot {
        ptr::null()
    }

    #[inline]
    pub(super) fn empty_addr() -> usize {
        EMPTY_ADDR
    }

    const EMPTY: Local = Local {
        gate_key: EMPTY_KEY,
        slot: ptr::null(),
        gate_addr: EMPTY_ADDR,
        phase: PHASE_NEVER,
    };

    // `const` and without `Drop`: no lazy-init check and no destructor, so `with` never
    // fails, not even during thread exit.
    #[cfg(not(loom))]
    std::thread_local! {
        static LOCAL: UnsafeCell<Local> = const { UnsafeCell::new(EMPTY) };
    }
    #[cfg(loom)]
    loom::thread_local! {
        static LOCAL: UnsafeCell<Local> = UnsafeCell::new(EMPTY);
    }

    // Under loom, attach (a std thread-local destructor, run outside any model) keeps its
    // phase in a std thread-local of its own; the slot cache stays per loom thread.
    #[cfg(loom)]
    std::thread_local! {
        pub(super) static LOOM_PHASE: std::cell::Cell<usize> =
            const { std::cell::Cell::new(PHASE_NEVER) };
    }

    #[cfg(not(loom))]
    #[inline(always)]
    pub(super) fn local() -> *mut Local {
        // The pointer outlives the closure: the thread-local has no destructor, so its
        // storage stays valid for the thread's whole life.
        LOCAL.with(UnsafeCell::get)
    }

    #[inline(always)]
    pub(super) fn cached() -> (usize, *const PaddedSlot) {
        let (key, slot, _) = cached_with_addr();
        (key, slot)
    }

    #[inline(always)]
    pub(super) fn cached_with_addr() -> (usize, *const PaddedSlot, usize) {
        let local = local();
        // SAFETY: the calling thread's own `Local`, accessed only by this thread.
        unsafe { ((*local).gate_key, (*local).slot, (*local).gate_addr) }
    }

    /// loom destroys its thread-locals when a modelled thread ends, before the thread's
    /// other destructors (`OwnedSlots`) have run; those then get a fresh, leaked `Local`
    /// (test builds only).
    #[cfg(loom)]
    pub(super) fn local() -> *mut Local {
        LOCAL
            .try_with(UnsafeCell::get)
            .unwrap_or_else(|_| Box::leak(Box::new(UnsafeCell::new(EMPTY))).get())
    }
}
