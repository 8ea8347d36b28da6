//! Not public API: what `#[crosscall::export]` expands to and what `crosscall-capi` calls.
//!
//! Hidden from the docs and free to change together with `crosscall-macros` and
//! `crosscall-capi` in any release.

pub use crate::barrier::{
    drop_payload, entry, entry_or_abort, export_result, export_result_or_abort, panic_text,
};
pub use crate::gate::Gate;
pub use crate::last_error::last_error_ptr;
