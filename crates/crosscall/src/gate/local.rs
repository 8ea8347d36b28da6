//! The one thread-local an entry's fast path reads: the gate slot this thread caches in
//! front, whether it is attached, and a pointer to the rest of its cache.
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
//! an executable and in a shared object alike. The price, for a shared object loaded with
//! `dlopen()`, is that glibc must carve its 40 bytes (the front entry, the attach phase and
//! a pointer to the thread's [`Table`]) out of its static TLS surplus (512 bytes by default,
//! shared by every such library); when it is exhausted `dlopen()` fails with "cannot
//! allocate memory in static TLS block". Building crosscall without its default
//! `initial-exec-tls` feature selects the portable `thread_local!` form everywhere; other
//! targets (musl, other architectures, other systems) always use it. aarch64 Linux with glibc
//! uses initial-exec too (`local/initial_exec_aarch64.rs`: `tpidr_el0` plus the GOT's
//! `:gottprel:` entry).
//!
//! # Front entry and table
//!
//! A thread that has entered one gate finds it in the *front* entry, at fixed offsets: the
//! one-gate fast path reads nothing else. A thread that has entered several gates keeps them
//! in a direct-mapped [`Table`] on the heap (made with its second slot, owned by
//! `slots::OwnedSlots`) and its front entry empty; before that, `Local::table` points to a
//! static, read-only empty table, so no entry needs an allocation it did not already make
//! (the first entry of a gate claims a slot anyway; `crosscall_thread_prepare` does both
//! ahead of a signal handler, see `signal.rs`).
//!
//! An empty entry holds [`EMPTY_KEY`], which no gate's key ever equals, and (on the
//! initial-exec path) a pointer to a private, never-scanned dummy slot instead of NULL, so
//! the fast path needs no NULL check: the dummy's depth reads 1, so the fast path goes on
//! to the table (or the slow path) after one load and test, without announcing anything.
//! Its gate address is that of a private gate that is never entered (key 0), so a C handle
//! that happens to equal it (any bit pattern can be passed) is still a readable gate whose
//! key matches nothing. The portable path holds a NULL slot and an address no gate has,
//! and checks the slot for NULL before it reads the gate.

use crate::gate::slots::{PaddedSlot, SpillEntry};

/// Entries of a thread's gate [`Table`]: a thread alternating between up to this many gates
/// finds each on its first table probe. A power of two; a gate's entry is `Gate::cache_index`
/// (sequential for Rust gates, [`addr_index`] for C API gates), so collisions only begin past
/// this many gates or between a Rust and a C API gate.
pub(crate) const CACHE_WAYS: usize = 8;

/// What the fast path knows about the calling thread: 40 bytes of thread-local storage.
///
/// The *front* entry (`gate_key`, `slot`, `gate_addr`) holds the thread's gate while it has
/// entered exactly one (the one-gate fast path, Rust and C API alike, probes it first), and
/// is empty once it has entered several: those live in [`Table`], probed next (at the gate's
/// `cache_index` by Rust entries, at [`addr_index`] by C API entries). Both point into slots
/// the thread owns (`slots::OwnedSlots`), whose release empties every entry first.
#[repr(C)]
pub(crate) struct Local {
    /// The front entry's gate key (see `Gate::key`): [`EMPTY_KEY`] when none. Set only after
    /// the thread attached, so a match also means "attached".
    pub(crate) gate_key: usize,
    /// The front entry's slot ([`empty_slot`] when none).
    pub(crate) slot: *const PaddedSlot,
    /// The front entry's gate address ([`empty_addr`] when none): lets a caller holding only
    /// a pointer (the C API) recognize the gate before dereferencing it.
    pub(crate) gate_addr: usize,
    /// Attach phase: [`PHASE_NEVER`], [`PHASE_ATTACHED`] or [`PHASE_DETACHED`].
    pub(crate) phase: usize,
    /// The thread's table: [`empty_table`] (static, never written) until the thread claims
    /// its second slot, then its own (owned by its `slots::OwnedSlots`, which points this
    /// back to the empty one before freeing it).
    pub(crate) table: *mut Table,
}

/// The rest of a thread's gate cache, on the heap (or the static empty one): [`CACHE_WAYS`]
/// entries as arrays of keys, slots and addresses (struct-of-arrays, so an index register
/// scales by 8), and the thread's spill table.
#[repr(C)]
pub(crate) struct Table {
    /// Entries' gate keys, as `Local::gate_key`.
    pub(crate) keys: [usize; CACHE_WAYS],
    /// Entries' slots, as `Local::slot`.
    pub(crate) slots: [*const PaddedSlot; CACHE_WAYS],
    /// Entries' gate addresses, as `Local::gate_addr`.
    pub(crate) addrs: [usize; CACHE_WAYS],
    /// The thread's spill table (`slots::SpillTable`, [`SPILL_WAYS`] entries, owned by its
    /// `slots::OwnedSlots`), probed by the paths a table miss takes before the slow path;
    /// NULL in the empty table.
    pub(crate) spill: *const SpillEntry,
}

impl Table {
    /// A table with every entry empty (and no spill table).
    pub(crate) fn empty() -> Table {
        Table {
            keys: [EMPTY_KEY; CACHE_WAYS],
            slots: [empty_slot(); CACHE_WAYS],
            addrs: [empty_addr(); CACHE_WAYS],
            spill: std::ptr::null(),
        }
    }
}

/// Entries of a thread's spill table: gates past the [`CACHE_WAYS`] of the table (or sharing
/// a table entry) are found there in a few instructions, without the slow path.
pub(crate) const SPILL_WAYS: usize = 64;

/// The spill-table entry of a gate: `id`'s low bits for a Rust gate, the top bits of
/// [`addr_index`]'s hash for a C API gate (`c_api`). Always `< SPILL_WAYS`; its low bits
/// (Rust) or high bits (C API) are the gate's table entry `table_index`.
#[inline(always)]
pub(crate) fn spill_index(id: usize, addr: usize, c_api: bool, table_index: usize) -> usize {
    const _: () = assert!(SPILL_WAYS == 64);
    // Gate ids come from a process-wide counter that loom does not reset between executions:
    // under loom the entry must not depend on them (see `Gate::with_loom`).
    if cfg!(loom) {
        return table_index;
    }
    if c_api {
        ((addr as u32).wrapping_mul(ADDR_HASH) >> 26) as usize
    } else {
        id & (SPILL_WAYS - 1)
    }
}

/// Multiplier of [`addr_index`]: chosen (by a search over odd 32-bit constants) so that 4
/// handles allocated one after another, any stride from 112 to 512 bytes but 256, never
/// share a table entry, and 8 rarely do; the golden-ratio constant of Fibonacci hashing
/// collides for 4 at some common strides (144, 192).
const ADDR_HASH: u32 = 0x7FB4_6847;

/// The table entry a C API gate at `addr` uses: multiplicative hashing of the address's low
/// 32 bits (two instructions), so handles allocated one after another spread over the table.
/// Always `< CACHE_WAYS`.
#[inline(always)]
pub(crate) fn addr_index(addr: usize) -> usize {
    const _: () = assert!(CACHE_WAYS == 8);
    ((addr as u32).wrapping_mul(ADDR_HASH) >> 29) as usize
}

/// The table entry of a Rust gate with id `id`: ids are handed out in sequence, so the first
/// [`CACHE_WAYS`] gates a program uses never share an entry.
#[inline]
pub(crate) fn id_index(id: usize) -> usize {
    id & (CACHE_WAYS - 1)
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

/// The calling thread's table entry `index` as `(gate_key, slot)`: the Rust entries' probe
/// after a front miss.
///
/// # Safety
///
/// `index < CACHE_WAYS` (a gate's `cache_index` always is): the read is not bounds-checked,
/// so that the fast path pays no instruction for it.
#[inline(always)]
pub(crate) unsafe fn cached(index: usize) -> (usize, *const PaddedSlot) {
    debug_assert!(index < CACHE_WAYS);
    // SAFETY: forwarded contract.
    let (key, slot, _) = unsafe { cached_with_addr(index) };
    (key, slot)
}

/// The calling thread's table entry `index` as `(gate_key, slot, gate_addr)`.
///
/// # Safety
///
/// As [`cached`].
#[inline(always)]
pub(crate) unsafe fn cached_with_addr(index: usize) -> (usize, *const PaddedSlot, usize) {
    debug_assert!(index < CACHE_WAYS);
    let table = imp::table();
    // SAFETY: `table` is the calling thread's table (its own, or the static empty one),
    // written only by this thread and alive while `Local::table` points to it; nothing holds
    // a reference into it; `index < CACHE_WAYS` by the caller's contract.
    unsafe {
        (
            *(*table).keys.get_unchecked(index),
            *(*table).slots.get_unchecked(index),
            *(*table).addrs.get_unchecked(index),
        )
    }
}

/// The calling thread's table (see [`Local::table`]).
#[inline(always)]
pub(crate) fn table() -> *mut Table {
    imp::table()
}

/// The static table every thread points to before it has one of its own: every entry
/// empty, no spill table. Never written.
#[inline]
pub(crate) fn empty_table() -> *mut Table {
    imp::empty_table()
}

/// The calling thread's front entry as `(gate_key, slot, gate_addr)`: every entry's first
/// probe.
#[inline(always)]
pub(crate) fn front() -> (usize, *const PaddedSlot, usize) {
    imp::front()
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
    use super::{Local, Table};
    use crate::gate::slots::PaddedSlot;

    pub(super) use super::initial_exec_image::{empty_addr, empty_table};

    pub(super) const SLOT_NEVER_NULL: bool = true;

    #[inline]
    pub(super) fn empty_slot() -> *const PaddedSlot {
        let ptr: *const PaddedSlot;
        // SAFETY: computes the address of the hidden 128-byte, 128-aligned dummy slot of
        // `initial_exec_image.rs` (a valid `PaddedSlot`: its fields are atomics, a bool and a
        // pointer; its word reads depth 1). Touches no memory and no stack.
        unsafe {
            std::arch::asm!(
                "lea {ptr}, [rip + __crosscall_empty_slot_v0_3]",
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
        // `__crosscall_local_v0_3` from the thread pointer); writes only the output register,
        // no stack, no flags. `pure, nomem`: the GOT entry is filled at load time and never
        // written again (no memory Rust code can write), so the compiler may merge two of
        // these in one function, across stores (the offset is the same for every thread,
        // and nothing moves a thread mid-call: a `Pass` is not `Send`).
        unsafe {
            std::arch::asm!(
                "mov {off}, qword ptr [rip + __crosscall_local_v0_3@GOTTPOFF]",
                off = out(reg) off,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        off
    }

    /// Reads the word at byte `$at` (a literal: 0, 8, 16 or 32) of the calling thread's
    /// `Local` through `%fs`, given [`tp_offset`]. One instruction; unused reads are dropped.
    macro_rules! local_word {
        ($off:expr, $at:literal) => {{
            let word: usize;
            // SAFETY: `$off` is `tp_offset()`, so `%fs:[$off + $at]` is a word of the
            // calling thread's `Local` (`#[repr(C)]`, offsets asserted in
            // `initial_exec_image.rs`). Reads only; writes nothing but the output register;
            // no stack, no flags.
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
        // calling thread's copy of `__crosscall_local_v0_3`, a 40-byte, 8-aligned object
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
    pub(super) fn table() -> *mut Table {
        local_word!(tp_offset(), "32") as *mut Table
    }

    #[inline(always)]
    pub(super) fn front() -> (usize, *const PaddedSlot, usize) {
        let off = tp_offset();
        let key = local_word!(off, "0");
        let slot = local_word!(off, "8") as *const PaddedSlot;
        let addr = local_word!(off, "16");
        (key, slot, addr)
    }
}

// aarch64 Linux/glibc: the same object, addressed through `tpidr_el0` and the GOT's
// `:gottprel:` entry (in its own file, `local/initial_exec_aarch64.rs`).
#[cfg(all(
    feature = "initial-exec-tls",
    target_arch = "aarch64",
    target_os = "linux",
    target_env = "gnu",
    not(loom),
    not(miri)
))]
#[path = "local/initial_exec_aarch64.rs"]
mod imp;

// The `.tdata` image both initial-exec variants above address.
#[cfg(all(
    feature = "initial-exec-tls",
    any(target_arch = "x86_64", target_arch = "aarch64"),
    target_os = "linux",
    target_env = "gnu",
    not(loom),
    not(miri)
))]
#[path = "local/initial_exec_image.rs"]
mod initial_exec_image;

#[cfg(not(all(
    feature = "initial-exec-tls",
    any(target_arch = "x86_64", target_arch = "aarch64"),
    target_os = "linux",
    target_env = "gnu",
    not(loom),
    not(miri)
)))]
mod imp {
    use super::{Local, Table, CACHE_WAYS, EMPTY_ADDR, EMPTY_KEY, PHASE_NEVER};
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

    /// The static empty table (never written: a thread writes only a table of its own).
    struct EmptyTable(Table);
    // SAFETY: never written, and its pointers are NULL.
    unsafe impl Sync for EmptyTable {}
    static EMPTY_TABLE: EmptyTable = EmptyTable(Table {
        keys: [EMPTY_KEY; CACHE_WAYS],
        slots: [ptr::null(); CACHE_WAYS],
        addrs: [EMPTY_ADDR; CACHE_WAYS],
        spill: ptr::null(),
    });

    #[inline]
    pub(super) fn empty_table() -> *mut Table {
        // `*mut` only to share the field's type: nothing writes through it (see `Local`).
        ptr::addr_of!(EMPTY_TABLE.0).cast_mut()
    }

    /// A new thread's `Local`. Its table is NULL, read as [`empty_table`] (a `const` cannot
    /// point to a static before Rust 1.83; the MSRV is older): one more test on the table
    /// path, on this portable path only.
    const EMPTY: Local = Local {
        gate_key: EMPTY_KEY,
        slot: ptr::null(),
        gate_addr: EMPTY_ADDR,
        phase: PHASE_NEVER,
        table: ptr::null_mut(),
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
    pub(super) fn table() -> *mut Table {
        // SAFETY: the calling thread's own `Local`, accessed only by this thread.
        let table = unsafe { (*local()).table };
        if table.is_null() {
            empty_table()
        } else {
            table
        }
    }

    #[inline(always)]
    pub(super) fn front() -> (usize, *const PaddedSlot, usize) {
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
