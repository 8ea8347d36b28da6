//! Helpers shared by integration tests.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

/// Set in the environment of a re-executed test binary: the child test runs only then.
pub const CHILD_ENV: &str = "CROSSCALL_TEST_CHILD";

/// Whether this process is a child started by [`run_child_expecting_abort`].
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// Re-runs this test binary with only the ignored test `name`, asserts the child died of
/// SIGABRT with every `needles` string on its stderr, and returns that stderr.
pub fn run_child_expecting_abort(name: &str, needles: &[&str]) -> String {
    let output = Command::new(std::env::current_exe().expect("test binary path"))
        .args(["--ignored", "--exact", name, "--nocapture"])
        .env(CHILD_ENV, "1")
        .output()
        .expect("re-running the test binary");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGABRT),
        "stderr: {stderr}"
    );
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "missing {needle:?} in stderr: {stderr}"
        );
    }
    stderr
}
