//! A `fork()` child has no reclaimer thread (only the forking thread survives): its first
//! removal starts one, which destroys the removals the child inherited and its own. Alone in
//! its own test binary: the child of a multi-threaded test harness should do little.
#![cfg(all(unix, not(loom), not(miri)))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crosscall::{Gate, Handles};

static DROPPED: AtomicUsize = AtomicUsize::new(0);

struct Counted;

impl Drop for Counted {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}

fn wait_for_drops(n: usize) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    while DROPPED.load(Ordering::SeqCst) < n {
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

#[test]
fn a_fork_child_destroys_removed_objects_on_a_new_reclaimer() {
    let gate: &'static Gate = Box::leak(Box::new(Gate::new()));
    gate.open();
    let table: &'static Handles<'static, Counted> = Box::leak(Box::new(Handles::new(gate)));
    // The parent's reclaimer runs (an idle table's removal is destroyed on it).
    let first = table.insert(Counted).unwrap();
    table.remove(first).unwrap();
    assert!(
        wait_for_drops(1),
        "the parent's reclaimer destroyed the removal"
    );
    let inherited = table.insert(Counted).unwrap();
    let later = table.insert(Counted).unwrap();
    // Removed from inside the gate: it cannot be destroyed before this thread leaves, so it
    // is still pending when the process forks.
    let pass = gate.enter().unwrap();
    table.remove(inherited).unwrap();
    // SAFETY: the child only leaves the gate, removes, waits and exits with `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        drop(pass);
        // The same open batch as `inherited`: no batch opens, yet the reclaimer restarts.
        table.remove(later).unwrap();
        let ok = wait_for_drops(3);
        // SAFETY: ends the child without running the harness's exit path.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    drop(pass);
    let mut status = 0;
    // SAFETY: waits for our own child; `status` is a valid out-pointer.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "the child did not exit normally");
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "the fork child did not destroy its removals within 5 s"
    );
    // The parent destroys its own copies as before.
    table.remove(later).unwrap();
    assert!(wait_for_drops(3));
}
