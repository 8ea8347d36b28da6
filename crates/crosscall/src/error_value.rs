//! The value `#[crosscall::export]` returns when a call is refused, panics or fails, for
//! return types that have an obvious one (so `on_panic` may be left out).

/// A return type with an obvious error value: null pointers, `None`, `false`, `()`.
///
/// Integers and floats deliberately have none (0 and -1 are valid results of many
/// functions): `#[crosscall::export]` asks for `on_panic = EXPR` for them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no obvious error value for `#[crosscall::export]`",
    label = "the C return type",
    note = "raw pointers (null), `Option<_>` (`None`), `bool` (`false`) and `()` have one; \
            for any other type add `on_panic = EXPR` to `#[crosscall::export(...)]`"
)]
pub trait ErrorValue {
    /// The value returned when the call is refused, panics, or returns `Err`.
    const ERROR_VALUE: Self;
}

impl<T> ErrorValue for *const T {
    const ERROR_VALUE: Self = std::ptr::null();
}

impl<T> ErrorValue for *mut T {
    const ERROR_VALUE: Self = std::ptr::null_mut();
}

impl<T> ErrorValue for Option<T> {
    const ERROR_VALUE: Self = None;
}

impl ErrorValue for bool {
    const ERROR_VALUE: Self = false;
}

impl ErrorValue for () {
    const ERROR_VALUE: Self = ();
}
