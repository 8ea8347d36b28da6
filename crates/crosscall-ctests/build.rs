//! Compiles the C test sources in `c/` against the committed `include/crosscall.h`, as C11 with
//! every warning an error, into a static library linked into this crate.

/// C tests of what only unix has: `dlopen()`, `fork()`, signals, `pthread_cancel` (and the
/// longjmp test, which goes with the signal-safe entry points).
const UNIX_ONLY: &[&str] = &[
    "c/cdylib_tests.c",
    "c/unload_tests.c",
    "c/fork_tests.c",
    "c/signal_tests.c",
    "c/longjmp_tests.c",
    "c/thread_end_tests.c",
];

fn main() {
    // Windows (mingw-w64): pthreads come from winpthreads; `dlopen()`, `fork()`, POSIX signals
    // and pthread cancellation do not exist there, so the tests of those are left out.
    let windows = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows");
    let musl = std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("musl");
    let sources: Vec<&str> = [
        "c/gate_tests.c",
        "c/attach_tests.c",
        "c/panic_tests.c",
        "c/entry_path_tests.c",
        "c/cdylib_tests.c",
        "c/close_race_tests.c",
        "c/handles_tests.c",
        "c/handle_churn_tests.c",
        "c/key_destructor_tests.c",
        "c/state_tests.c",
        "c/unload_tests.c",
        "c/fork_tests.c",
        "c/signal_tests.c",
        "c/longjmp_tests.c",
        "c/thread_end_tests.c",
        "c/many_gates_tests.c",
    ]
    .into_iter()
    .filter(|path| !(windows && UNIX_ONLY.contains(path)))
    // musl: no `mallinfo2()` (the unload test's heap check) and no cdylib to load.
    .filter(|path| !(musl && *path == "c/unload_tests.c"))
    .collect();
    for path in sources
        .iter()
        .chain(&["c/check.h", "../../include/crosscall.h"])
    {
        println!("cargo:rerun-if-changed={path}");
    }
    cc::Build::new()
        .files(&sources)
        .include("../../include")
        .include("c")
        .std("c11")
        // -std=c11 hides POSIX; the tests need pthreads and nanosleep.
        .define("_POSIX_C_SOURCE", "200809L")
        .flag("-pthread")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("crosscall_ctests_c");
    if windows {
        // Static winpthreads: the test executables need no libwinpthread-1.dll beside them.
        // rustc searches only the paths it is given: ask the C compiler where the library is.
        let compiler = cc::Build::new().get_compiler();
        let output = compiler
            .to_command()
            .arg("-print-file-name=libwinpthread.a")
            .output()
            .expect("asking the C compiler for libwinpthread.a");
        let file = std::path::PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        let dir = file.parent().expect("libwinpthread.a has a directory");
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-lib=static=winpthread");
    } else {
        println!("cargo:rustc-link-lib=pthread");
    }
    if !windows {
        // dlopen() & co. (part of libc since glibc 2.34; a separate libdl before).
        println!("cargo:rustc-link-lib=dl");
    }
}
