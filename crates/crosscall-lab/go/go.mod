module crosscall.invalid/goref

// The oldest toolchain the lab compares is Go 1.19 (the last without the
// atomic init-done fast path); newer toolchains build this module as-is.
go 1.19
