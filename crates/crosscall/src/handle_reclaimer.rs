//! The background reclaimer: destroys removed objects of handle tables nobody is using.
//!
//! Batched removal (`handle_shards.rs`) destroys a batch when its thread seals the next one
//! or runs out of free entries. A table that goes idle — a burst of removals, then nothing —
//! would keep its last objects until `close`. So one process-wide thread,
//! `crosscall-reclaim`, started on the first batched removal, wakes every [`TICK`] while any
//! table has removals waiting: it seals batches that stopped growing (open for a whole tick:
//! opened before the previous tick, so 1–2 ticks after their first removal; under churn a
//! batch fills long before) and destroys those whose grace period has passed. With nothing
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
//! a dropped table. After `fork()` the child has no reclaimer: its idle tables keep their
//! removed objects until their next operation or `close`.

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
    if !r.started {
        r.started = std::thread::Builder::new()
            .name("crosscall-reclaim".into())
            .spawn(run)
            .is_ok();
    }
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
