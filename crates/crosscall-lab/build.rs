//! Compiles the C side of the lab's workloads (`c/workload.c`) with `-O2`.
fn main() {
    println!("cargo:rerun-if-changed=c/workload.c");
    println!("cargo:rerun-if-changed=c/workload.h");
    cc::Build::new()
        .file("c/workload.c")
        .include("c")
        .opt_level(2)
        .warnings(true)
        .extra_warnings(true)
        .compile("crosscall_lab_workload");
}
