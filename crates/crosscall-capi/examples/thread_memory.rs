//! Memory per attached thread: the heap crosscall keeps after many short-lived C threads
//! (created with `pthread_create`, as a C host does) each entered a state gate once through
//! the C API and exited.
//!
//! ```text
//! cargo run --release -p crosscall-capi --example thread_memory -- [threads]
//! ```
//!
//! A counting global allocator measures the bytes live on the heap before the first thread
//! and after each batch of joined threads; the figure is (live after − live before) divided
//! by the threads run so far. Flat (≈ 0 per thread) means exited threads' memory is recycled.
//! Then 100 threads stay attached at once, to show what one live attached thread costs.
//! Default: 10,000 threads, in 10 batches, one at a time. A measurement tool, not a test.
//!
//! Unix only (it creates pthreads); elsewhere it says so and exits.
#![cfg_attr(not(unix), allow(dead_code, unused_imports))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::c_void;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use std::sync::Barrier;

use crosscall_capi::{
    crosscall_gate, crosscall_gate_close, crosscall_gate_enter_state, crosscall_gate_free,
    crosscall_gate_leave, crosscall_gate_new, crosscall_gate_open_state, CROSSCALL_OK,
};

/// Bytes live on the heap (allocated and not freed), for this process.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: forwards to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A C thread's body: enter the gate (attach + slot claim on first entry), leave, exit.
extern "C" fn call_once(gate: *mut c_void) -> *mut c_void {
    let gate = gate.cast::<crosscall_gate>();
    let mut state = std::ptr::null_mut();
    // SAFETY: `gate` is the live gate main created; `state` is a valid out-pointer.
    let code = unsafe { crosscall_gate_enter_state(gate, &mut state) };
    assert_eq!(code, CROSSCALL_OK);
    assert!(!state.is_null());
    // SAFETY: entered just above on this thread.
    unsafe { crosscall_gate_leave(gate) };
    std::ptr::null_mut()
}

#[cfg(not(unix))]
fn main() {
    eprintln!("thread_memory measures threads made with pthread_create: unix only");
}

#[cfg(unix)]
fn main() {
    let threads: usize = std::env::args()
        .nth(1)
        .map_or(10_000, |s| s.parse().expect("threads: a number"));
    let batches = 10.min(threads).max(1);
    let gate = crosscall_gate_new();
    let mut library_state = 42u64;
    // SAFETY: a fresh gate; the state outlives the gate (it lives until main returns).
    let code =
        unsafe { crosscall_gate_open_state(gate, (&mut library_state as *mut u64).cast(), None) };
    assert_eq!(code, CROSSCALL_OK);
    // One thread first, so one-time allocations (the gate's first slot, thread-local
    // registries, the membarrier registration) are not charged to the figure.
    run_thread(gate);
    let before = LIVE.load(Relaxed);
    println!("threads  live heap growth  per thread");
    let mut done = 0;
    for batch in 1..=batches {
        let target = threads * batch / batches;
        while done < target {
            run_thread(gate);
            done += 1;
        }
        let grown = LIVE.load(Relaxed) - before;
        println!(
            "{done:>7}  {grown:>16} B  {:>8.2} B",
            grown as f64 / done as f64
        );
    }
    attached_at_once(gate, 100);
    // SAFETY: every thread has been joined; nothing is inside.
    unsafe {
        assert_eq!(crosscall_gate_close(gate), CROSSCALL_OK);
        crosscall_gate_free(gate);
    }
}

/// Creates one pthread running [`call_once`] on `gate` and joins it.
#[cfg(unix)]
fn run_thread(gate: *mut crosscall_gate) {
    // SAFETY: `pthread_t` is an integer (glibc) or a pointer (musl, macOS): all-zero is a
    // valid value of either, overwritten by `pthread_create`.
    let mut thread: libc::pthread_t = unsafe { std::mem::zeroed() };
    // SAFETY: `call_once` has the pthread start-routine ABI; `gate` stays live until joined.
    let rc = unsafe {
        libc::pthread_create(
            &mut thread,
            std::ptr::null(),
            call_once,
            gate.cast::<c_void>(),
        )
    };
    assert_eq!(rc, 0, "pthread_create");
    // SAFETY: `thread` was created just above and is joined once.
    assert_eq!(
        unsafe { libc::pthread_join(thread, std::ptr::null_mut()) },
        0
    );
}

/// Threads that stay alive (attached) together: `n` C threads enter and leave, then wait
/// until the heap has been measured.
#[cfg(unix)]
fn attached_at_once(gate: *mut crosscall_gate, n: usize) {
    struct Shared {
        gate: *mut crosscall_gate,
        entered: Barrier,
        measured: Barrier,
    }
    extern "C" fn enter_and_wait(shared: *mut c_void) -> *mut c_void {
        // SAFETY: `shared` points to main's `Shared`, alive until every thread is joined.
        let shared = unsafe { &*shared.cast::<Shared>() };
        call_once(shared.gate.cast());
        shared.entered.wait();
        shared.measured.wait();
        std::ptr::null_mut()
    }
    let shared = Shared {
        gate,
        entered: Barrier::new(n + 1),
        measured: Barrier::new(n + 1),
    };
    // SAFETY: as in `run_thread`: an all-zero `pthread_t` is valid, overwritten below.
    let mut threads = vec![unsafe { std::mem::zeroed::<libc::pthread_t>() }; n];
    let before = LIVE.load(Relaxed);
    for thread in &mut threads {
        // SAFETY: as in `run_thread`; `shared` outlives the threads (joined below).
        let rc = unsafe {
            libc::pthread_create(
                thread,
                std::ptr::null(),
                enter_and_wait,
                (&shared as *const Shared).cast_mut().cast(),
            )
        };
        assert_eq!(rc, 0, "pthread_create");
    }
    shared.entered.wait();
    let grown = LIVE.load(Relaxed) - before - (n * std::mem::size_of::<libc::pthread_t>()) as isize;
    shared.measured.wait();
    for thread in threads {
        // SAFETY: created above, joined once.
        assert_eq!(
            unsafe { libc::pthread_join(thread, std::ptr::null_mut()) },
            0
        );
    }
    println!(
        "{n} C threads attached at once: live heap +{grown} B, {:.0} B per attached thread \
         (its slot in the gate, reused after it exits, plus per-thread registries)",
        grown as f64 / n as f64
    );
}
