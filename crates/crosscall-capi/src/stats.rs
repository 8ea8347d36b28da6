//! A gate's statistics for C: `crosscall_gate_stats()`.

use std::ffi::c_int;
use std::mem::{offset_of, size_of};
use std::time::Duration;

use crosscall::GateState;

use crate::barrier::guarded;
use crate::codes::{
    CROSSCALL_ERR_INVALID, CROSSCALL_OK, CROSSCALL_STATE_CLOSED, CROSSCALL_STATE_CLOSING,
    CROSSCALL_STATE_OPEN, CROSSCALL_STATE_UNINIT,
};
use crate::handle::{checked, crosscall_gate};

/// A snapshot of a gate's activity, filled by `crosscall_gate_stats()`.
///
/// The struct only ever grows at the end: pass `sizeof(struct crosscall_gate_stats)` as `out_size`,
/// and a program built against an older header keeps working with a newer library (it gets
/// the fields it knows). Counters only grow; each is read on its own, so two fields may be
/// a few events apart while calls run. Times are in nanoseconds.
///
/// C knows it as `struct crosscall_gate_stats` (the function `crosscall_gate_stats` has the
/// plain name, which C allows only for a struct tag).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CrosscallGateStats {
    /// The state (`CROSSCALL_STATE_*`) when the snapshot was taken.
    pub state: i32,
    /// Always 0 (keeps the counters 8-byte aligned).
    pub reserved: u32,
    /// Openings so far (1 after the first open, +1 per reopen).
    pub generation: u64,
    /// Outermost entries admitted (nested entries of a thread already inside not counted
    /// again), summed from the threads' own slots.
    pub admitted: u64,
    /// Admitted calls that have not left yet, nested ones included.
    pub in_flight: u64,
    /// Entries refused: the gate was closing or closed, or the entry came from the gate's own
    /// initializer.
    pub refused: u64,
    /// Entries that gave up waiting for the gate to open (`CROSSCALL_ERR_TIMEOUT` from
    /// `crosscall_gate_enter_timeout()`; a `crosscall_gate_try_enter()` did not wait).
    pub timed_out: u64,
    /// Entries that waited for the gate to open.
    pub waited: u64,
    /// Total time those entries waited, in nanoseconds.
    pub wait_ns: u64,
    /// Entries that took the slow path (first entry on a thread, waits, refusals, ...).
    pub slow_path_entries: u64,
    /// Threads that entered the gate and are still alive.
    pub threads: u64,
    /// Closes that finished a drain.
    pub closes: u64,
    /// Reopenings (`crosscall_gate_reopen_state()`).
    pub reopens: u64,
    /// How long the last drain took, from the close to `CLOSED`, in nanoseconds.
    pub last_drain_ns: u64,
    /// The longest drain so far, in nanoseconds.
    pub max_drain_ns: u64,
}

// The C definition is written by hand in cbindgen.toml (C cannot have a typedef and a
// function of one name); this is its layout.
const _: () = assert!(size_of::<CrosscallGateStats>() == 112);
const _: () = assert!(offset_of!(CrosscallGateStats, generation) == 8);
const _: () = assert!(offset_of!(CrosscallGateStats, max_drain_ns) == 104);

/// The smallest `out_size` accepted: the state and the reserved word.
const MIN_OUT_SIZE: usize = offset_of!(CrosscallGateStats, generation);

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Fills `*out` with a snapshot of the gate's activity: admitted, in-flight, refused and
/// timed-out entries, waits for `open` and their total time, slow-path entries, live threads,
/// closes, reopens, and the last and longest drain times.
///
/// `out_size` is `sizeof(struct crosscall_gate_stats)` as the caller sees it: at most that many
/// bytes are written, so programs built against an older, shorter struct keep working.
/// Reading the statistics takes no lock and never delays an entry.
///
/// Returns `CROSSCALL_OK`, or `CROSSCALL_ERR_INVALID` if `gate` is NULL or not a gate, `out`
/// is NULL, or `out_size` is smaller than the struct's first two fields (8 bytes).
///
/// ```c
/// struct crosscall_gate_stats stats;
/// if (crosscall_gate_stats(gate, &stats, sizeof stats) == CROSSCALL_OK)
///     printf("%llu calls, %llu refused\n", (unsigned long long)stats.admitted,
///            (unsigned long long)stats.refused);
/// ```
///
/// # Safety
///
/// `gate` must be NULL or a live pointer from `crosscall_gate_new`; `out` must be NULL or
/// valid for writes of `out_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn crosscall_gate_stats(
    gate: *const crosscall_gate,
    out: *mut CrosscallGateStats,
    out_size: usize,
) -> c_int {
    guarded(|| {
        // SAFETY: forwarded contract.
        let handle = match unsafe { checked(gate) } {
            Ok(h) => h,
            Err(code) => return code,
        };
        if out.is_null() {
            crosscall::set_last_error("crosscall: the out argument is NULL");
            return CROSSCALL_ERR_INVALID;
        }
        if out_size < MIN_OUT_SIZE {
            crosscall::set_last_error(format!(
                "crosscall: out_size {out_size} is too small for crosscall_gate_stats (pass \
                 sizeof(struct crosscall_gate_stats))"
            ));
            return CROSSCALL_ERR_INVALID;
        }
        let s = handle.gate.stats();
        let stats = CrosscallGateStats {
            state: match s.state {
                GateState::Uninit => CROSSCALL_STATE_UNINIT,
                GateState::Open => CROSSCALL_STATE_OPEN,
                GateState::Closing => CROSSCALL_STATE_CLOSING,
                GateState::Closed => CROSSCALL_STATE_CLOSED,
            },
            reserved: 0,
            generation: s.generation,
            admitted: s.admitted,
            in_flight: s.in_flight,
            refused: s.refused,
            timed_out: s.timed_out,
            waited: s.waited,
            wait_ns: nanos(s.wait_time),
            slow_path_entries: s.slow_path_entries,
            threads: s.threads,
            closes: s.closes,
            reopens: s.reopens,
            last_drain_ns: nanos(s.last_drain),
            max_drain_ns: nanos(s.max_drain),
        };
        let len = out_size.min(size_of::<CrosscallGateStats>());
        // SAFETY: `out` is non-NULL and valid for `out_size >= len` bytes (the caller's
        // contract); `stats` is a local of `size_of` bytes, so both ranges are valid and
        // cannot overlap. Bytes, so `out` needs no particular alignment.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (&stats as *const CrosscallGateStats).cast::<u8>(),
                out.cast::<u8>(),
                len,
            );
        }
        CROSSCALL_OK
    })
}
