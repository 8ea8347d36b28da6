//! Thread attach: once per thread, detach at exit, hooks, C-created threads, thread exit.
//!
//! The counters are process-wide, so every test holds `SERIAL` and only threads it spawns
//! and joins itself ever attach (the test harness's own threads never do).

#[path = "support/os_thread.rs"]
mod os_thread;
mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex, MutexGuard};

use crosscall::attach;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct Counts {
    attaches: usize,
    detaches: usize,
}

impl Counts {
    fn now() -> Counts {
        Counts {
            attaches: attach::attach_count(),
            detaches: attach::detach_count(),
        }
    }
    fn since(&self) -> (usize, usize) {
        (
            attach::attach_count() - self.attaches,
            attach::detach_count() - self.detaches,
        )
    }
}

#[test]
fn each_thread_attaches_once_and_detaches_at_exit() {
    let _serial = serial();
    const THREADS: usize = 16;
    let before = Counts::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            std::thread::spawn(|| {
                assert!(!attach::is_attached());
                for _ in 0..10_000 {
                    attach::ensure_attached();
                    assert!(attach::is_attached());
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(before.since(), (THREADS, THREADS));
}

/// The hooks record the OS thread that ran them; its id works even in thread-exit
/// destructors, where `std::thread::current()` may not.
static ATTACHED_ON: Mutex<Vec<u64>> = Mutex::new(Vec::new());
static DETACHED_ON: Mutex<Vec<u64>> = Mutex::new(Vec::new());

fn record_attach() {
    ATTACHED_ON.lock().unwrap().push(os_thread::current_id());
}

fn record_detach() {
    DETACHED_ON.lock().unwrap().push(os_thread::current_id());
}

#[test]
fn hooks_run_once_per_thread_on_that_thread() {
    let _serial = serial();
    const THREADS: usize = 4;
    ATTACHED_ON.lock().unwrap().clear();
    DETACHED_ON.lock().unwrap().clear();
    attach::set_hooks(record_attach, record_detach);
    // All threads are alive at once, so their OS thread ids are distinct.
    let all_alive = std::sync::Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let all_alive = all_alive.clone();
            std::thread::spawn(move || {
                for _ in 0..100 {
                    attach::ensure_attached();
                }
                all_alive.wait();
                os_thread::current_id()
            })
        })
        .collect();
    let mut ids: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    attach::clear_hooks();

    ids.sort_unstable();
    let mut attached = ATTACHED_ON.lock().unwrap().clone();
    let mut detached = DETACHED_ON.lock().unwrap().clone();
    attached.sort_unstable();
    detached.sort_unstable();
    assert_eq!(attached, ids);
    assert_eq!(detached, ids);
}

static C_THREAD_WAS_ATTACHED: AtomicBool = AtomicBool::new(false);

fn c_thread_main() {
    let first = !attach::is_attached();
    attach::ensure_attached();
    attach::ensure_attached();
    C_THREAD_WAS_ATTACHED.store(first && attach::is_attached(), Ordering::Relaxed);
}

/// A thread made by `pthread_create` (unix) or `CreateThread` (Windows), as a C host makes
/// them: attached on its first entry, detached by its exit.
#[test]
fn threads_created_by_c_attach_and_detach() {
    let _serial = serial();
    let before = Counts::now();
    os_thread::run_on_os_thread(c_thread_main);
    // The join (`pthread_join`, or the wait on the thread's handle) orders the thread's
    // relaxed store before this load.
    assert!(C_THREAD_WAS_ATTACHED.load(Ordering::Relaxed));
    assert_eq!(before.since(), (1, 1));
}

static ENTERED_FROM_TLS_DTOR: AtomicUsize = AtomicUsize::new(0);
static ATTACHED_IN_TLS_DTOR: AtomicBool = AtomicBool::new(false);

struct EntersOnDrop;

impl Drop for EntersOnDrop {
    fn drop(&mut self) {
        attach::ensure_attached();
        ATTACHED_IN_TLS_DTOR.store(attach::is_attached(), Ordering::Relaxed);
        ENTERED_FROM_TLS_DTOR.fetch_add(1, Ordering::Relaxed);
    }
}

thread_local! {
    static ENTERS_ON_DROP: EntersOnDrop = const { EntersOnDrop };
}

#[test]
fn rust_thread_local_destructors_see_the_thread_as_before() {
    let _serial = serial();
    let before = Counts::now();
    let entered_before = ENTERED_FROM_TLS_DTOR.load(Ordering::Relaxed);
    std::thread::spawn(|| {
        // Registered before attach, so on other systems its destructor runs after the
        // detach (thread-local destructors run in reverse order of registration).
        ENTERS_ON_DROP.with(|_| ());
        attach::ensure_attached();
    })
    .join()
    .unwrap();
    assert_eq!(
        ENTERED_FROM_TLS_DTOR.load(Ordering::Relaxed),
        entered_before + 1
    );
    // On unix the detach is a pthread key destructor, which runs after every Rust
    // thread-local destructor: the thread is still attached in them.
    assert_eq!(ATTACHED_IN_TLS_DTOR.load(Ordering::Relaxed), cfg!(unix));
    assert_eq!(before.since(), (1, 1));
}

static ATTACHED_IN_ON_DETACH: AtomicUsize = AtomicUsize::new(0);
static ON_DETACH_RUNS: AtomicUsize = AtomicUsize::new(0);

fn enter_on_detach() {
    ON_DETACH_RUNS.fetch_add(1, Ordering::Relaxed);
    attach::ensure_attached();
    if attach::is_attached() {
        ATTACHED_IN_ON_DETACH.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn entering_after_detach_does_not_attach_again() {
    let _serial = serial();
    let before = Counts::now();
    attach::set_hooks(|| {}, enter_on_detach);
    std::thread::spawn(attach::ensure_attached).join().unwrap();
    attach::clear_hooks();
    assert_eq!(ON_DETACH_RUNS.load(Ordering::Relaxed), 1);
    assert_eq!(ATTACHED_IN_ON_DETACH.load(Ordering::Relaxed), 0);
    assert_eq!(before.since(), (1, 1));
}

#[test]
fn entering_only_during_thread_exit_stays_balanced() {
    let _serial = serial();
    let before = Counts::now();
    std::thread::spawn(|| ENTERS_ON_DROP.with(|_| ()))
        .join()
        .unwrap();
    let (attaches, detaches) = before.since();
    assert!(attaches <= 1);
    assert_eq!(
        attaches, detaches,
        "an attach during thread exit must also detach"
    );
}

#[test]
#[ignore = "child process of `a_panicking_hook_aborts_the_process`"]
fn child_with_panicking_hook() {
    if !support::is_child() {
        return;
    }
    attach::set_hooks(|| panic!("hook exploded"), || {});
    std::thread::spawn(attach::ensure_attached).join().unwrap();
    unreachable!("the hook's panic must abort the process");
}

#[test]
fn a_panicking_hook_aborts_the_process() {
    support::run_child_expecting_abort(
        "child_with_panicking_hook",
        &["hook exploded", "on_attach hook panicked"],
    );
}
