//! The background reclaimer: destroys removed objects of handle tables nobody is using.
//!
//! Batched removal (`handle_shards.rs`) destroys a batch when its thread seals the next one
//! or runs out of free entries. A table that goes idle — a burst of removals, then nothing —
//! would keep its last objects until `close`. So one process-wide thread,
//! `crosscall-reclaim`, started on the first batched removal, wakes every [`TICK`] while any
//! table has removals waiting: it seals batches that stopped growing (open for a whole tick:
//! opened before the previous tick, so 1–2 ticks after their first removal; under churn a
//! batch fills long before), begins one grace period for a table with a sealed batch that
//! old and no period (under churn its thread begins one long before), and destroys the
//! batches whose grace period has passed. With nothing
//! waiting it sleeps until a removal opens a new batch.
//!
//! **Bound:** a removed object of an idle table is destroyed within about 3 ms of its removal
//! (sealed within 2 ticks, destroyed at the next tick) once every thread that was inside the
//! gate at its batch's seal has left; under churn at the batch's 64th removal.
//!
//! **Where `destroy` runs:** on the thread that seals or refills (an `insert`/`remove` of the
//! table), on this reclaimer thread for idle tables, or in `close`/`clear`/drop. Never under a
//! lock of the table.
//!
//! A table registers on its first batched removal and unregisters when it drops; unregistering
//! waits for a pass of the reclaimer over that table to finish, so the reclaimer never touches
//! a dropped table.
//!
//! **fork:** the child has no reclaimer thread. `pthread_atfork` handlers (installed when the
//! first table registers) hold the registry lock across `fork()`, after waiting for a pass in
//! progress to end — so the child inherits no table half-visited and no lock held by the
//! reclaimer — and mark every registered table in the child (a flag writers already test
//! with their closed check): the first `insert` or `remove` of any of them starts a new
//! reclaimer, which then serves every registered table as before. Until then the child's
//! removed objects wait (and `close`/free destroys them).

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How often the reclaimer wakes while removals wait.
pub(crate) const TICK: Duration = Duration::from_millis(1);

/// What the reclaimer does with a table: one pass (see `Writers::reclaim_pass`).
pub(crate) trait Reclaim: Sync {
    /// Seals batches opened before `tick`, destroys passed ones; whether any still wait.
    fn reclaim_pass(&self, tick: u64) -> bool;
    /// In a `fork()` child's `pthread_atfork` handler: the table's next `insert`/`remove`
    /// calls [`restart_after_fork`]. Only stores to an atomic.
    #[cfg_attr(not(all(unix, not(miri), not(loom))), allow(dead_code))] // called only by the atfork child handler
    fn mark_forked(&self);
}

/// A registered table: a pointer its `Drop` withdraws (waiting for [`Registry::busy`]).
struct Table {
    id: u64,
    table: *const (dyn Reclaim + 'static),
}

// SAFETY: the pointee is `Sync` (the trait requires it) and stays alive while registered:
// the table unregisters, and waits for the reclaimer to let go, before it is freed.
unsafe impl Send for Table {}

struct Registry {
    tables: Vec<Table>,
    /// The table the reclaimer is working on (outside the lock), if any.
    busy: Option<u64>,
    next_id: u64,
    started: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    tables: Vec::new(),
    busy: None,
    next_id: 1,
    started: false,
});
/// Signals the end of a busy pass and wake-ups.
static CHANGED: Condvar = Condvar::new();
/// The reclaimer sleeps without a timeout (nothing was waiting). SeqCst with the shard
/// locks: see [`wake`].
static IDLE: AtomicBool = AtomicBool::new(false);
/// Ticks so far; batches remember the tick they opened in.
static TICKS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static IS_RECLAIMER: Cell<bool> = const { Cell::new(false) };
}

fn registry() -> MutexGuard<'static, Registry> {
    // Updates are single assignments or Vec pushes/removes: consistent after a panic.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// The current tick (a batch opened in it is sealed from the next one on).
pub(crate) fn tick() -> u64 {
    // Relaxed: only compared by the reclaimer; a stale value seals a batch one tick early.
    TICKS.load(Ordering::Relaxed)
}

/// Registers `table` (whose id goes to `id`, 0 while unregistered) and starts the reclaimer
/// if it is not running. Idempotent.
///
/// # Safety
///
/// `table` must stay valid until [`unregister`] with the same `id` returned.
pub(crate) unsafe fn register(id: &AtomicU64, table: *const (dyn Reclaim + '_)) {
    // loom models run no background thread: they call the pass themselves.
    if cfg!(loom) {
        return;
    }
    // Acquire pairs with the Release store below (read twice: once to skip the lock).
    if id.load(Ordering::Acquire) != 0 {
        return;
    }
    // Before the registry lock, not under it: a fork() while this thread held the lock and
    // had not installed the handlers yet would leave the child a lock nobody can release.
    install_fork_handlers();
    let mut r = registry();
    if id.load(Ordering::Acquire) != 0 {
        return;
    }
    let new_id = r.next_id;
    r.next_id += 1;
    // SAFETY: only the lifetime bound is erased; the caller keeps `table` valid until it
    // unregisters, which waits for any pass using the pointer.
    let table: *const (dyn Reclaim + 'static) = unsafe { std::mem::transmute(table) };
    r.tables.push(Table { id: new_id, table });
    id.store(new_id, Ordering::Release);
    start(&mut r);
}

/// Starts the reclaimer thread unless it runs (the registry lock held).
fn start(r: &mut Registry) {
    if r.started {
        return;
    }
    // The thread runs this object's code for as long as the process lives: keep the object
    // mapped (a `dlclose` of the library would otherwise unmap it under the thread).
    crate::gate::pin::pin_this_object();
    r.started = std::thread::Builder::new()
        .name("crosscall-reclaim".into())
        .spawn(run)
        .is_ok();
}

/// In a `fork()` child: starts a new reclaimer (the parent's did not survive the fork).
#[cold]
#[inline(never)]
pub(crate) fn restart_after_fork() {
    install_fork_handlers();
    let mut r = registry();
    start(&mut r);
    IDLE.store(false, Ordering::SeqCst);
    CHANGED.notify_all();
}

#[cfg(all(unix, not(miri), not(loom)))]
fn install_fork_handlers() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.load(Ordering::Relaxed) {
        return;
    }
    // The handlers live in this object: keep it mapped (see `pin.rs`).
    crate::gate::pin::pin_this_object();
    // SAFETY: the handlers are `extern "C"` functions that never unwind, in this object,
    // pinned just above (never unmapped).
    let rc = unsafe {
        crate::gate::fork::atfork_once(&INSTALLED, fork_prepare, fork_parent, fork_child)
    };
    if rc != 0 {
        eprintln!(
            "crosscall: pthread_atfork failed (error {rc}): a fork() child's handle tables \
             destroy removed objects only at close"
        );
    }
}

#[cfg(not(all(unix, not(miri), not(loom))))]
fn install_fork_handlers() {}

#[cfg(all(unix, not(miri), not(loom)))]
thread_local! {
    /// The registry lock, held by the forking thread across `fork()`.
    static HELD_ACROSS_FORK: std::cell::RefCell<Option<MutexGuard<'static, Registry>>> =
        const { std::cell::RefCell::new(None) };
}

/// Before `fork()`, on the forking thread: waits for the reclaimer's pass in progress (unless
/// this is the reclaimer, forking from a `destroy`) and holds the registry lock, so that no
/// pass starts before the fork.
#[cfg(all(unix, not(miri), not(loom)))]
extern "C" fn fork_prepare() {
    let _ = std::panic::catch_unwind(|| {
        let mut r = registry();
        if !IS_RECLAIMER.with(Cell::get) {
            while r.busy.is_some() {
                r = CHANGED.wait(r).unwrap_or_else(|e| e.into_inner());
            }
        }
        HELD_ACROSS_FORK.with(|h| *h.borrow_mut() = Some(r));
    });
}

/// After `fork()`, in the parent: releases the registry lock.
#[cfg(all(unix, not(miri), not(loom)))]
extern "C" fn fork_parent() {
    let _ = std::panic::catch_unwind(|| HELD_ACROSS_FORK.with(|h| h.borrow_mut().take()));
}

/// After `fork()`, in the child: the reclaimer is gone (unless it is the forking thread,
/// forking from a `destroy`: it goes on in the child). Marks every registered table so that
/// its next `insert`/`remove` starts a new one, then releases the registry lock.
#[cfg(all(unix, not(miri), not(loom)))]
extern "C" fn fork_child() {
    let _ = std::panic::catch_unwind(|| {
        let forked_by_reclaimer = IS_RECLAIMER.with(Cell::get);
        HELD_ACROSS_FORK.with(|h| {
            let mut held = h.borrow_mut();
            if let Some(r) = held.as_mut() {
                if r.started && !forked_by_reclaimer {
                    // `fork_prepare` waited for any pass to end: no table is half-visited.
                    r.started = false;
                    for t in &r.tables {
                        // SAFETY: registered tables are alive (see `register`); this only
                        // stores to an atomic of the table.
                        unsafe { (*t.table).mark_forked() };
                    }
                }
            }
            held.take();
        });
    });
}

/// Withdraws the table registered under `id` (if any) and waits until the reclaimer is not
/// working on it.
pub(crate) fn unregister(id: &AtomicU64) {
    let current = id.load(Ordering::Acquire);
    if current == 0 {
        return;
    }
    let mut r = registry();
    r.tables.retain(|t| t.id != current);
    let r = wait_not_busy(r, current);
    drop(r);
    id.store(0, Ordering::Release);
}

/// Waits until the reclaimer is not working on the table registered under `id`: what it
/// took out of the table has been destroyed.
pub(crate) fn settle(id: &AtomicU64) {
    let current = id.load(Ordering::Acquire);
    if current != 0 {
        drop(wait_not_busy(registry(), current));
    }
}

fn wait_not_busy(mut r: MutexGuard<'static, Registry>, id: u64) -> MutexGuard<'static, Registry> {
    if r.busy == Some(id) && IS_RECLAIMER.with(Cell::get) {
        // An object's `Drop` (or a C `destroy`) run by the reclaimer is freeing its own
        // table: waiting would wait for itself, and continuing would free memory the
        // reclaimer is iterating.
        eprintln!(
            "crosscall: a handle table was closed or freed from the destroy of one of its own \
             objects; aborting"
        );
        std::process::abort();
    }
    while r.busy == Some(id) {
        r = CHANGED.wait(r).unwrap_or_else(|e| e.into_inner());
    }
    r
}

/// Makes sure the reclaimer will look at a batch just opened. Called after the removal's
/// shard lock was released: if the reclaimer's last pass missed the batch, it set [`IDLE`]
/// before that pass, which took the shard's lock after ours, so we see `IDLE` set here.
pub(crate) fn wake() {
    if cfg!(loom) {
        return;
    }
    // SeqCst: see above. In steady churn the flag is false and this is a shared read.
    if IDLE.load(Ordering::SeqCst) {
        let _r = registry();
        IDLE.store(false, Ordering::SeqCst);
        CHANGED.notify_all();
    }
}

/// The reclaimer thread's loop.
fn run() {
    IS_RECLAIMER.with(|r| r.set(true));
    let mut announced_idle = false;
    loop {
        let tick = TICKS.fetch_add(1, Ordering::Relaxed) + 1;
        let ids: Vec<u64> = registry().tables.iter().map(|t| t.id).collect();
        let mut waiting = false;
        for id in ids {
            let table = {
                let mut r = registry();
                let Some(t) = r.tables.iter().find(|t| t.id == id) else {
                    continue; // unregistered meanwhile
                };
                let table = t.table;
                r.busy = Some(id);
                table
            };
            // SAFETY: registered, and `busy` makes `unregister` wait until we are done.
            let pass = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
                (*table).reclaim_pass(tick)
            }));
            // A panicking `Drop` leaked the rest of its batch; keep serving the others.
            waiting |= pass.unwrap_or(true);
            registry().busy = None;
            CHANGED.notify_all();
        }
        let r = registry();
        if waiting {
            announced_idle = false;
            IDLE.store(false, Ordering::SeqCst);
            drop(CHANGED.wait_timeout(r, TICK));
        } else if !announced_idle {
            // Announce before one more pass, so a removal that our pass missed sees it.
            IDLE.store(true, Ordering::SeqCst);
            announced_idle = true;
        } else {
            let mut r = r;
            while IDLE.load(Ordering::SeqCst) {
                r = CHANGED.wait(r).unwrap_or_else(|e| e.into_inner());
            }
            announced_idle = false;
        }
    }
}
