//! Helpers shared by integration tests.

use std::process::{Command, ExitStatus};

/// Set in the environment of a re-executed test binary: the child test runs only then.
pub const CHILD_ENV: &str = "CROSSCALL_TEST_CHILD";

/// Whether this process is a child started by [`run_child_expecting_abort`].
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// Re-runs this test binary with only the ignored test `name`, asserts the child died of
/// `std::process::abort` (SIGABRT on unix) with every `needles` string on its stderr, and
/// returns that stderr.
pub fn run_child_expecting_abort(name: &str, needles: &[&str]) -> String {
    let output = Command::new(std::env::current_exe().expect("test binary path"))
        .args(["--ignored", "--exact", name, "--nocapture"])
        .env(CHILD_ENV, "1")
        .output()
        .expect("re-running the test binary");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        aborted(output.status),
        "expected an abort, got {:?}; stderr: {stderr}",
        output.status
    );
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "missing {needle:?} in stderr: {stderr}"
        );
    }
    stderr
}

/// Whether a child process ended by `std::process::abort`.
#[cfg(unix)]
fn aborted(status: ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(libc::SIGABRT)
}

/// Whether a child process ended by `std::process::abort`: on Windows that is `__fastfail`,
/// whose exit code is `STATUS_STACK_BUFFER_OVERRUN` (0xC0000409), or the C runtime's
/// `abort()` (exit code 3) where `__fastfail` is unavailable.
#[cfg(windows)]
fn aborted(status: ExitStatus) -> bool {
    matches!(status.code(), Some(code) if code as u32 == 0xC000_0409 || code == 3)
}
