//! `crosscall_gate_free` on a gate with a call in flight stops the process loudly instead of
//! freeing memory that is in use. Runs the C test in a child process (this same binary, with
//! an environment variable set) because the expected outcome is `abort()`.

use std::process::{Command, ExitStatus};

const CHILD_ENV: &str = "CROSSCALL_CTESTS_FREE_MISUSE_CHILD";

#[test]
fn free_while_entered_aborts() {
    if std::env::var_os(CHILD_ENV).is_some() {
        crosscall_ctests::c::ctest_free_while_entered_aborts();
        return; // not reached when crosscall behaves
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "free_while_entered_aborts",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .expect("re-run this test binary as a child");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        aborted(output.status),
        "expected the child to abort; status {:?}, stderr:\n{stderr}",
        output.status
    );
    assert!(
        stderr.contains("crosscall_gate_free") && stderr.contains("1 call(s) in flight"),
        "the abort should say why; stderr:\n{stderr}"
    );
}

/// Whether the child ended by `abort()` (SIGABRT).
#[cfg(unix)]
fn aborted(status: ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(libc::SIGABRT)
}

/// Whether the child ended by Rust's `std::process::abort` (`__fastfail`: exit code
/// `STATUS_STACK_BUFFER_OVERRUN`, 0xC0000409) or the C runtime's `abort()` (exit code 3).
#[cfg(windows)]
fn aborted(status: ExitStatus) -> bool {
    matches!(status.code(), Some(code) if code as u32 == 0xC000_0409 || code == 3)
}
