//! Compiles the C test sources in `c/` against the committed `include/crosscall.h`, as C11 with
//! every warning an error, into a static library linked into this crate.

fn main() {
    let sources = [
        "c/gate_tests.c",
        "c/attach_tests.c",
        "c/panic_tests.c",
        "c/entry_path_tests.c",
        "c/cdylib_tests.c",
        "c/close_race_tests.c",
        "c/handles_tests.c",
        "c/key_destructor_tests.c",
        "c/state_tests.c",
        "c/unload_tests.c",
        "c/fork_tests.c",
        "c/signal_tests.c",
        "c/longjmp_tests.c",
        "c/thread_end_tests.c",
    ];
    for path in sources
        .iter()
        .chain(&["c/check.h", "../../include/crosscall.h"])
    {
        println!("cargo:rerun-if-changed={path}");
    }
    cc::Build::new()
        .files(sources)
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
    println!("cargo:rustc-link-lib=pthread");
    // dlopen() & co. (part of libc since glibc 2.34; a separate libdl before).
    println!("cargo:rustc-link-lib=dl");
}
