//! `export_log_callback!` from Rust: records up to `max_level` reach the callback on the
//! logging thread; records above it are not even formatted; nothing arrives once off. (The
//! C host in crosscall-kit-fixture checks the same from C threads, with the setter racing
//! loggers.)

use std::ffi::{c_char, c_int, c_void, CStr};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

crosscall::export_log_callback!(test_set_log_callback);

static RECEIVED: Mutex<Vec<(c_int, String, String, std::thread::ThreadId)>> =
    Mutex::new(Vec::new());

extern "C" fn collect(
    level: c_int,
    target: *const c_char,
    message: *const c_char,
    user: *mut c_void,
) {
    assert_eq!(user as usize, 0x1234);
    // SAFETY: crosscall passes NUL-terminated strings valid during this call.
    let (target, message) = unsafe { (CStr::from_ptr(target), CStr::from_ptr(message)) };
    RECEIVED.lock().unwrap().push((
        level,
        target.to_string_lossy().into_owned(),
        message.to_string_lossy().into_owned(),
        std::thread::current().id(),
    ));
}

/// Counts how often it is formatted.
struct Costly<'a>(&'a AtomicUsize);

impl fmt::Display for Costly<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fetch_add(1, Ordering::Relaxed);
        f.write_str("costly")
    }
}

/// The tests share the process-wide logger and callback.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn records_up_to_max_level_on_the_logging_thread_and_none_after_off() {
    let _serial = SERIAL.lock().unwrap();
    let user = 0x1234 as *mut c_void;
    assert_eq!(test_set_log_callback(Some(collect), user, 6), -1);
    assert!(crosscall::last_error().unwrap().contains("max_level 6"));
    assert_eq!(test_set_log_callback(Some(collect), user, 3), 0);

    let formatted = AtomicUsize::new(0);
    let logger = std::thread::spawn(|| {
        log::error!(target: "lib::db", "lost {}", 1);
        log::info!("info {}", 2);
        std::thread::current().id()
    });
    let logger_id = logger.join().unwrap();
    log::debug!("{}", Costly(&formatted));
    log::trace!("{}", Costly(&formatted));
    assert_eq!(
        formatted.load(Ordering::Relaxed),
        0,
        "formatted above max_level"
    );
    log::warn!("{}", Costly(&formatted));
    assert_eq!(formatted.load(Ordering::Relaxed), 1);

    assert_eq!(test_set_log_callback(None, std::ptr::null_mut(), 0), 0);
    log::error!("after off");
    let received = RECEIVED.lock().unwrap();
    let summary: Vec<_> = received
        .iter()
        .map(|(l, t, m, _)| (*l, t.as_str(), m.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "lib::db", "lost 1"),
            (3, "log_callback", "info 2"),
            (2, "log_callback", "costly")
        ]
    );
    assert_eq!(received[0].3, logger_id, "not on the logging thread");
    assert_eq!(received[2].3, std::thread::current().id());
}

/// With the `tracing-events` feature, `tracing` events reach the same callback.
#[cfg(feature = "tracing-events")]
#[test]
fn tracing_events_reach_the_callback() {
    static EVENTS: Mutex<Vec<(c_int, String)>> = Mutex::new(Vec::new());
    extern "C" fn on_event(level: c_int, _: *const c_char, message: *const c_char, _: *mut c_void) {
        // SAFETY: as in `collect`.
        let message = unsafe { CStr::from_ptr(message) }
            .to_string_lossy()
            .into_owned();
        EVENTS.lock().unwrap().push((level, message));
    }
    // The two tests share the process-wide logger: run this one after the other.
    let _serial = SERIAL.lock().unwrap();
    assert_eq!(
        test_set_log_callback(Some(on_event), std::ptr::null_mut(), 2),
        0
    );
    tracing::warn!("disk {} low", "/var");
    tracing::info!("above max_level");
    assert_eq!(test_set_log_callback(None, std::ptr::null_mut(), 0), 0);
    tracing::error!("after off");
    assert_eq!(*EVENTS.lock().unwrap(), [(2, "disk /var low".to_owned())]);
}
