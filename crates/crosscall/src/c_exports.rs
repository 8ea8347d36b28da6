//! Ready-made C functions a library exports with one line: its last error
//! ([`export_last_error!`](crate::export_last_error)) and a log callback setter
//! ([`export_log_callback!`](crate::export_log_callback)); and the mark that tells
//! `crosscall-audit` an exported symbol is guarded (or deliberately not).

/// Exports `NAME`: `const char *NAME(void)`, the calling thread's
/// [last error](crate::last_error()) as NUL-terminated text, or NULL when there is none.
///
/// The text stays valid until the thread's next call into the library that fails (a failed
/// call replaces it) or the thread exits; copy it to keep it longer. Like C's `errno` it is
/// per thread and not cleared by a successful call: read it after a call reported failure.
///
/// ```
/// crosscall::export_last_error!(mylib_last_error);
///
/// static GATE: crosscall::Gate = crosscall::Gate::new();
/// // C sees `const char *mylib_last_error(void);`
/// assert!(mylib_last_error().is_null() || crosscall::last_error().is_some());
/// crosscall::set_last_error("disk full");
/// // SAFETY: non-NULL, NUL-terminated, alive until this thread's next failure.
/// let text = unsafe { std::ffi::CStr::from_ptr(mylib_last_error()) };
/// assert_eq!(text.to_str(), Ok("disk full"));
/// ```
#[macro_export]
macro_rules! export_last_error {
    ($name:ident) => {
        #[no_mangle]
        #[doc = "The calling thread's last error as NUL-terminated text, or NULL when there is \
                 none; valid until this thread's next failing call into the library."]
        pub extern "C" fn $name() -> *const ::std::ffi::c_char {
            $crate::__private::last_error_ptr()
        }
        $crate::__crosscall_mark_export!($name);
    };
}

/// Exports `NAME`, the setter of a log callback for C:
///
/// ```c
/// typedef void (*mylib_log_fn)(int level, const char *target, const char *message, void *user);
/// int NAME(mylib_log_fn cb, void *user, int max_level);
/// ```
///
/// Records of the [`log`](https://docs.rs/log) crate (and, with the `tracing-events` feature,
/// `tracing` events) made anywhere in the library, at
/// levels up to `max_level` (1 error, 2 warn, 3 info, 4 debug, 5 trace), are passed to `cb` on
/// the thread that logged, with `user`; `target` and `message` are valid during the call only.
/// Nothing is formatted for levels above `max_level` (the `log` macros skip those records).
/// A NULL `cb` (or `max_level` 0) turns forwarding off; once the setter that turned it off or
/// replaced it returned, the previous callback is never called again (the setter waits for
/// records that are inside it on other threads; records arriving meanwhile are dropped).
///
/// Returns 0; -1 for a `max_level` outside 0..=5; -2 when called from inside the callback
/// itself (it would wait for itself); -3 when the library already installed another `log`
/// logger. The last error says which. `cb` must be safe to call from any thread, also from
/// several at once, with `user`.
///
/// ```
/// use std::ffi::{c_char, c_int, c_void, CStr};
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// crosscall::export_log_callback!(mylib_set_log_callback);
///
/// static SEEN: AtomicUsize = AtomicUsize::new(0);
/// extern "C" fn on_log(level: c_int, _target: *const c_char, message: *const c_char, _: *mut c_void) {
///     // SAFETY: crosscall passes a NUL-terminated message, valid during this call.
///     let message = unsafe { CStr::from_ptr(message) }.to_str().unwrap();
///     assert_eq!((level, message), (2, "low on disk"));
///     SEEN.fetch_add(1, Ordering::Relaxed);
/// }
///
/// assert_eq!(mylib_set_log_callback(Some(on_log), std::ptr::null_mut(), 2), 0);
/// log::warn!("low on disk");
/// log::info!("not forwarded: above max_level");
/// assert_eq!(mylib_set_log_callback(None, std::ptr::null_mut(), 0), 0);
/// log::warn!("not forwarded: off");
/// assert_eq!(SEEN.load(Ordering::Relaxed), 1);
/// ```
#[macro_export]
macro_rules! export_log_callback {
    ($name:ident) => {
        #[no_mangle]
        #[doc = "Sets (or with a NULL callback, turns off) the log callback: levels 1 error to \
                 5 trace up to max_level; 0 on success, negative on error (see the last error)."]
        pub extern "C" fn $name(
            cb: ::core::option::Option<$crate::__private::LogCallback>,
            user: *mut ::std::ffi::c_void,
            max_level: ::std::ffi::c_int,
        ) -> ::std::ffi::c_int {
            $crate::__private::set_log_callback_guarded(cb, user, max_level)
        }
        $crate::__crosscall_mark_export!($name);
    };
}

/// Not public API: records exported symbol `$name` in the library's list of marked exports
/// (a link section `crosscall-audit` reads), as `#[crosscall::export]` and
/// `#[crosscall::ungated]` do.
#[doc(hidden)]
#[macro_export]
macro_rules! __crosscall_mark_export {
    ($name:ident) => {
        $crate::__crosscall_mark_export!(@full ::core::concat!(::core::stringify!($name), "\0"));
    };
    (@str $name:literal) => {
        $crate::__crosscall_mark_export!(@full ::core::concat!($name, "\0"));
    };
    (@full $full:expr) => {
        const _: () = {
            const __CROSSCALL_NAME: &str = $full;
            #[used]
            #[cfg_attr(
                not(any(target_vendor = "apple", target_os = "windows")),
                link_section = ".crosscall_exports"
            )]
            #[cfg_attr(target_vendor = "apple", link_section = "__DATA,__crosscall_exp")]
            static __CROSSCALL_MARK: [u8; __CROSSCALL_NAME.len()] =
                $crate::__private::mark_bytes(__CROSSCALL_NAME);
        };
    };
}

/// The bytes of `name` as an array (`N` is its length): the content of one mark.
#[doc(hidden)]
pub const fn mark_bytes<const N: usize>(name: &str) -> [u8; N] {
    let bytes = name.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}
