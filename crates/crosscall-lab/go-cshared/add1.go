// Package main is the Go reference of the deployed C-host shape: a shared library built
// with `go build -buildmode=c-shared` whose one export, GoAdd1, adds 1. crosscall-lab's C
// host (crates/crosscall-lab/c/host_driver.c) dlopen()s it and calls GoAdd1 from threads
// it created with pthread_create, in the same loop that calls crosscall's #[export]ed
// cdylib and its C API. Each call is a C->Go callback on a C-created thread: on Go >= 1.22
// it still receives from the closed main_init_done channel under that channel's lock
// (golang/go#77522).
package main

/*
#include <stdint.h>
*/
import "C"

// GoAdd1 returns x + 1 (the body every shape of `crosscall-lab deployed` shares).
//
//export GoAdd1
func GoAdd1(x C.int32_t) C.int32_t {
	return x + 1
}

// main is required by -buildmode=c-shared and never runs.
func main() {}
