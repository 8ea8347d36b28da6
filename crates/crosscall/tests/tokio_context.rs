//! The `tokio` feature: bodies in the state's runtime context, `async fn` exports completing
//! through a C-style callback exactly once, none after the runtime was dropped.
#![cfg(feature = "tokio")]

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crosscall::tokio::{AsyncRuntime, ASYNC_CANCELLED, ASYNC_DONE, ASYNC_PANICKED};
use crosscall::StateGate;

static RT: StateGate<AsyncRuntime> = StateGate::new();
static PANIC_OUTPUT: AtomicUsize = AtomicUsize::new(0);
static PREVIOUS_HOOK: AtomicUsize = AtomicUsize::new(0);

fn runtime() -> AsyncRuntime {
    AsyncRuntime::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap(),
    )
}

/// Spawns a task and waits for it: needs the runtime context on a non-runtime thread.
#[crosscall::export(state = RT, tokio, on_panic = -1)]
extern "C" fn spawn_in_context(_rt: &AsyncRuntime, x: i64) -> i64 {
    let task = tokio::spawn(async move { x + 1 });
    tokio::runtime::Handle::current().block_on(task).unwrap()
}

#[crosscall::export(state = RT, tokio)]
async extern "C" fn later(x: i64, sleep_ms: u64) -> i64 {
    tokio::time::sleep(Duration::from_millis(sleep_ms)).await;
    assert!(x >= 0, "negative input");
    x * 2
}

/// Per status: how many callbacks; `user` points at one of these.
#[derive(Default)]
struct Seen {
    done: AtomicUsize,
    cancelled: AtomicUsize,
    panicked: AtomicUsize,
    value_sum: AtomicUsize,
}

unsafe extern "C" fn on_done(user: *mut c_void, status: c_int, value: i64) {
    // SAFETY: every test passes a `&Seen` that outlives the runtime.
    let seen = unsafe { &*(user as *const Seen) };
    match status {
        ASYNC_DONE => {
            seen.done.fetch_add(1, Ordering::SeqCst);
            seen.value_sum.fetch_add(value as usize, Ordering::SeqCst);
        }
        ASYNC_CANCELLED => _ = seen.cancelled.fetch_add(1, Ordering::SeqCst),
        ASYNC_PANICKED => _ = seen.panicked.fetch_add(1, Ordering::SeqCst),
        _ => unreachable!(),
    }
}

#[test]
fn context_async_completion_and_shutdown() {
    // The async body's panic counts as inside crosscall: the chosen output gets it, the
    // previous hook does not.
    std::panic::set_hook(Box::new(|_| {
        PREVIOUS_HOOK.fetch_add(1, Ordering::SeqCst);
    }));
    crosscall::set_panic_output(crosscall::PanicOutput::Callback(|text| {
        assert!(text.contains("negative input"), "{text}");
        PANIC_OUTPUT.fetch_add(1, Ordering::SeqCst);
    }));
    RT.open(runtime()).unwrap();
    // A C-like thread: not a runtime thread, yet tokio::spawn and Handle::current work.
    assert_eq!(
        std::thread::spawn(|| spawn_in_context(41)).join().unwrap(),
        42
    );

    let seen = Box::leak(Box::new(Seen::default()));
    let user = seen as *const Seen as *mut c_void;
    assert_eq!(later(1, 0, None, user), -2); // NULL callback
    for x in 0..10 {
        assert_eq!(later(x, 1, Some(on_done), user), 0);
    }
    assert_eq!(later(-1, 0, Some(on_done), user), 0); // panics in the task
                                                      // Pending for a long time: cancelled by the shutdown below.
    for _ in 0..5 {
        assert_eq!(later(1, 60_000, Some(on_done), user), 0);
    }
    // The quick ones complete while the library runs (a deadline, not a timing assumption).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while seen.done.load(Ordering::SeqCst) + seen.panicked.load(Ordering::SeqCst) < 11 {
        assert!(
            std::time::Instant::now() < deadline,
            "callbacks did not arrive"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let rt = RT.close().unwrap().unwrap();
    assert_eq!(later(1, 0, Some(on_done), user), -1); // refused: no callback
    drop(rt); // cancels, waits for every callback
    let calls = |s: &Seen| {
        s.done.load(Ordering::SeqCst)
            + s.cancelled.load(Ordering::SeqCst)
            + s.panicked.load(Ordering::SeqCst)
    };
    assert_eq!(seen.done.load(Ordering::SeqCst), 10);
    assert_eq!(seen.value_sum.load(Ordering::SeqCst), 90);
    assert_eq!(seen.panicked.load(Ordering::SeqCst), 1);
    assert_eq!(PANIC_OUTPUT.load(Ordering::SeqCst), 1);
    assert_eq!(PREVIOUS_HOOK.load(Ordering::SeqCst), 0);
    assert_eq!(seen.cancelled.load(Ordering::SeqCst), 5);
    // Nothing after the drop returned.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(calls(seen), 16);
}
