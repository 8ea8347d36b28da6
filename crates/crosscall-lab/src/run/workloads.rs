//! The host side of the workloads: one task per call into C, and the
//! `extern "C"` callbacks C makes, one monomorphized copy per gate.
//!
//! The seed follows the Go reference (`go/main.go`) step for step; the comments
//! name the Go line each step stands for.
use std::ffi::c_int;
use std::fmt;
use std::hint::black_box;

use crosscall::bytes::{self, BytesError, CBuf};

use crate::gates::EntryGate;
use crate::run::c_workload::{self, VALUE_LEN};
use crate::run::driver::QueueKind;

/// What each task does (see docs/DESIGN.md, "The seed workload").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    /// The cgo repro, allocation for allocation: C allocations for key and
    /// value, host copies on both sides of the callback.
    Seed,
    /// The same data flow with no allocation at all: stack arrays and
    /// fixed-size copies (the idiomatic crosscall way).
    Lean,
    /// The callback does nothing: isolates the cost of entering the host.
    Empty,
}

impl Workload {
    /// Every workload, in report order.
    pub const ALL: [Workload; 3] = [Workload::Seed, Workload::Lean, Workload::Empty];

    /// The queue this workload runs on unless told otherwise. `empty`
    /// isolates the entry, so it gets the partitioned queue, which adds no
    /// shared write per task (with the shared queue, the cursor's cache line
    /// bouncing between workers would be most of its figure); the others get
    /// the shared queue of the original repro.
    ///
    /// ```
    /// use crosscall_lab::run::runner::{QueueKind, Workload};
    ///
    /// assert_eq!(Workload::Empty.default_queue(), QueueKind::Partitioned);
    /// assert_eq!(Workload::Seed.default_queue(), QueueKind::Shared);
    /// ```
    pub fn default_queue(self) -> QueueKind {
        match self {
            Workload::Seed | Workload::Lean => QueueKind::Shared,
            Workload::Empty => QueueKind::Partitioned,
        }
    }

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Seed => "seed",
            Workload::Lean => "lean",
            Workload::Empty => "empty",
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a task failed. In a timed run any failure is a bug in the lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskError {
    /// C reported this (negative) code: the gate refused the callback, or no
    /// callback was registered.
    Refused(c_int),
    /// A C allocation failed.
    Bytes(BytesError),
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Refused(code) => write!(f, "the call into C failed with code {code}"),
            TaskError::Bytes(err) => write!(f, "C memory: {err}"),
        }
    }
}

impl std::error::Error for TaskError {}

impl From<BytesError> for TaskError {
    fn from(err: BytesError) -> Self {
        TaskError::Bytes(err)
    }
}

/// A callback's answer when C handed it a NULL pointer.
const BAD_ARGUMENT: c_int = -2;

/// Registers with C the callbacks of `workload` entered through gate `G`.
pub(crate) fn register<G: EntryGate>(workload: Workload) {
    let value_cb: c_workload::ValueCallback = match workload {
        Workload::Seed => seed_callback::<G>,
        Workload::Lean | Workload::Empty => lean_callback::<G>,
    };
    c_workload::set_callbacks(Some(value_cb), Some(empty_callback::<G>));
}

/// Clears the registered callbacks: later calls from C are refused.
pub(crate) fn unregister() {
    c_workload::set_callbacks(None, None);
}

/// One seed task: Go's `getValue()`. `POISON` selects the checking variant
/// (C's stack array and the value buffer start as non-zero garbage).
#[inline]
pub(crate) fn seed_task<const POISON: bool>() -> Result<Vec<u8>, TaskError> {
    // `key := make([]byte, valueLen)`: constant size and it does not escape
    // (CBytes copies it), so Go's escape analysis puts it on the stack; so do we.
    let key = [0u8; VALUE_LEN];
    // `cKey := C.CBytes(key)`: malloc + copy.
    let c_key = CBuf::copy_from(&key)?;
    // `cValue := C.malloc(valueLen)`: plain `malloc`. Not `CBuf::alloc`,
    // which uses `calloc`, and glibc serves `calloc` outside its per-thread
    // cache (perf: `__libc_calloc` → `_int_malloc`), a slower path than Go's
    // step. `copy_from` is `malloc` plus a 32-byte copy of zeros.
    let mut c_value = CBuf::copy_from(&[0u8; VALUE_LEN])?;
    if POISON {
        c_value.as_mut_slice().fill(0x55);
    }
    // `C.get_value(cKey, cValue)`
    // SAFETY: both buffers hold VALUE_LEN bytes and outlive the call.
    let rc = unsafe { c_workload::get_value::<POISON>(c_key.as_ptr(), c_value.as_mut_ptr()) };
    if rc < 0 {
        return Err(TaskError::Refused(rc));
    }
    // `value := C.GoBytes(cValue, valueLen)`: a host-owned copy.
    let value = c_value.as_slice().to_vec();
    // `C.free(cKey)`, `C.free(cValue)`
    drop(c_key);
    drop(c_value);
    Ok(value)
}

/// One lean task: the seed's data flow with no allocation.
#[inline]
pub(crate) fn lean_task<const POISON: bool>() -> Result<[u8; VALUE_LEN], TaskError> {
    let key = [0u8; VALUE_LEN];
    let mut value = [if POISON { 0x55 } else { 0 }; VALUE_LEN];
    // SAFETY: both arrays hold VALUE_LEN bytes and outlive the call.
    let rc = unsafe { c_workload::get_value::<POISON>(key.as_ptr(), value.as_mut_ptr()) };
    if rc < 0 {
        return Err(TaskError::Refused(rc));
    }
    Ok(value)
}

/// One empty task: C calls back with nothing to do.
#[inline]
pub(crate) fn empty_task() -> Result<(), TaskError> {
    match c_workload::call_empty() {
        rc if rc < 0 => Err(TaskError::Refused(rc)),
        _ => Ok(()),
    }
}

/// The seed callback: Go's `goFillValue`, entered through gate `G`.
extern "C" fn seed_callback<G: EntryGate>(key: *const u8, out: *mut u8) -> c_int {
    let Some(gate) = G::installed().get() else {
        return c_workload::REFUSED;
    };
    gate.call(c_workload::REFUSED, || {
        // `k := C.GoBytes(key, valueLen)`
        // SAFETY: `get_value` passes its caller's key, VALUE_LEN readable
        // bytes (c/workload.h); NULL is checked by `copy_from_c`.
        let Ok(key) = (unsafe { bytes::copy_from_c(key, VALUE_LEN) }) else {
            return BAD_ARGUMENT;
        };
        // `value := make([]byte, len(k))`: not a constant size, so Go
        // allocates it on the heap; so do we. Zeroed by hand rather than with
        // `vec![0; n]`, whose `calloc` misses glibc's per-thread cache (see
        // `seed_task`): the step should cost what Go's zeroed `make` costs,
        // not a glibc quirk.
        #[allow(clippy::slow_vector_initialization)] // avoiding calloc, see above
        let mut value = Vec::with_capacity(key.len());
        value.resize(key.len(), 0u8);
        if out.is_null() {
            return BAD_ARGUMENT;
        }
        // `for i := range value { dst[i] = value[i] }`: byte by byte; volatile
        // so the compiler keeps 32 single-byte stores, as Go emits them.
        for (i, byte) in value.iter().enumerate() {
            // SAFETY: `out` is get_value's stack array of VALUE_LEN writable
            // bytes (checked non-NULL above) and `i < key.len() == VALUE_LEN`.
            unsafe { out.add(i).write_volatile(*byte) };
        }
        // Both buffers are live Go values in the original; keep them real.
        black_box((key, value));
        0
    })
}

/// The lean callback: the same steps with fixed-size copies.
extern "C" fn lean_callback<G: EntryGate>(key: *const u8, out: *mut u8) -> c_int {
    let Some(gate) = G::installed().get() else {
        return c_workload::REFUSED;
    };
    gate.call(c_workload::REFUSED, || {
        // SAFETY: as in `seed_callback`: VALUE_LEN readable bytes, NULL checked.
        let Ok(key) = (unsafe { bytes::read_array::<VALUE_LEN>(key) }) else {
            return BAD_ARGUMENT;
        };
        black_box(&key);
        let value = [0u8; VALUE_LEN];
        // SAFETY: `out` is get_value's stack array of VALUE_LEN writable bytes
        // (NULL checked by `write_array`), which cannot overlap `value`.
        match unsafe { bytes::write_array(out, &value) } {
            Ok(()) => 0,
            Err(_) => BAD_ARGUMENT,
        }
    })
}

/// The empty callback: enter, do nothing, leave.
extern "C" fn empty_callback<G: EntryGate>() -> c_int {
    let Some(gate) = G::installed().get() else {
        return c_workload::REFUSED;
    };
    gate.call(c_workload::REFUSED, || 0)
}
