//! Threads made by the operating system's own API (`pthread_create` on unix, `CreateThread`
//! on Windows), as a C host makes them, and portable thread identities.

/// An identity of the calling OS thread, usable from thread-local destructors and thread-exit
/// callbacks (where `std::thread::current()` may not be) and distinct among live threads.
/// `pthread_t` is an integer on glibc and a pointer on musl and macOS; both convert.
#[cfg(unix)]
pub fn current_id() -> u64 {
    // SAFETY: `pthread_self` has no preconditions.
    unsafe { libc::pthread_self() as usize as u64 }
}

/// An identity of the calling OS thread (`GetCurrentThreadId`).
#[cfg(windows)]
pub fn current_id() -> u64 {
    // SAFETY: `GetCurrentThreadId` has no preconditions.
    u64::from(unsafe { win::GetCurrentThreadId() })
}

/// Runs `f` on a new thread made by `pthread_create` and joins it with `pthread_join`.
#[cfg(unix)]
pub fn run_on_os_thread(f: fn()) {
    extern "C" fn start(arg: *mut libc::c_void) -> *mut libc::c_void {
        // SAFETY: `arg` is the `fn()` passed below, cast to a pointer and back.
        let f: fn() = unsafe { std::mem::transmute::<*mut libc::c_void, fn()>(arg) };
        f();
        std::ptr::null_mut()
    }
    // `pthread_t` is an integer or a pointer depending on the C library: zeroed is a valid
    // placeholder for either, overwritten by `pthread_create`.
    // SAFETY: an all-zero `pthread_t` is a valid value of an integer or pointer type.
    let mut thread: libc::pthread_t = unsafe { std::mem::zeroed() };
    // SAFETY: `thread` is a valid out-pointer, default attributes, and `start` gets the
    // function pointer it expects.
    let created = unsafe {
        libc::pthread_create(&mut thread, std::ptr::null(), start, f as *mut libc::c_void)
    };
    assert_eq!(created, 0, "pthread_create");
    // SAFETY: `thread` was created above, is joinable, and is joined once.
    let joined = unsafe { libc::pthread_join(thread, std::ptr::null_mut()) };
    assert_eq!(joined, 0, "pthread_join");
}

/// Runs `f` on a new thread made by `CreateThread` and waits for it to end.
#[cfg(windows)]
pub fn run_on_os_thread(f: fn()) {
    unsafe extern "system" fn start(arg: *mut std::ffi::c_void) -> u32 {
        // SAFETY: `arg` is the `fn()` passed below, cast to a pointer and back.
        let f: fn() = unsafe { std::mem::transmute::<*mut std::ffi::c_void, fn()>(arg) };
        f();
        0
    }
    // SAFETY: default security and stack size; `start` gets the function pointer it expects;
    // no thread id wanted.
    let thread = unsafe {
        win::CreateThread(
            std::ptr::null_mut(),
            0,
            start,
            f as *mut std::ffi::c_void,
            0,
            std::ptr::null_mut(),
        )
    };
    assert!(
        !thread.is_null(),
        "CreateThread: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `thread` is the handle returned above; waited for once, then closed once.
    unsafe {
        assert_eq!(
            win::WaitForSingleObject(thread, win::INFINITE),
            0,
            "WaitForSingleObject"
        );
        assert_ne!(win::CloseHandle(thread), 0, "CloseHandle");
    }
}

#[cfg(windows)]
mod win {
    use std::ffi::c_void;

    pub const INFINITE: u32 = u32::MAX;

    #[link(name = "kernel32")]
    extern "system" {
        pub fn GetCurrentThreadId() -> u32;
        pub fn CreateThread(
            security: *mut c_void,
            stack_size: usize,
            start: unsafe extern "system" fn(*mut c_void) -> u32,
            arg: *mut c_void,
            flags: u32,
            thread_id: *mut u32,
        ) -> *mut c_void;
        pub fn WaitForSingleObject(handle: *mut c_void, millis: u32) -> u32;
        pub fn CloseHandle(handle: *mut c_void) -> i32;
    }
}
