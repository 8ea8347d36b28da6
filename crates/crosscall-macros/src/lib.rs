//! Procedural macros for [crosscall](https://docs.rs/crosscall).
//!
//! Do not depend on this crate directly: use `#[crosscall::export]`, which re-exports
//! [`macro@export`]. The generated code refers only to `::crosscall::__private`, a hidden module
//! that is not public API, so the runtime and the macro can change together.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

mod async_export;
mod error_value;
mod expand;
mod handle_param;
mod options;
mod state_param;
mod ungated;

use proc_macro::TokenStream;

/// Wraps an `extern "C" fn` with crosscall's gate, thread attach and panic barrier.
///
/// See `crosscall::export` for the full documentation and examples; this is the same item.
#[proc_macro_attribute]
pub fn export(args: TokenStream, item: TokenStream) -> TokenStream {
    let options = syn::parse_macro_input!(args with options::Options::parse);
    let function = syn::parse_macro_input!(item as syn::ItemFn);
    expand::export(options, function)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Marks an `extern "C"` export that deliberately runs outside any gate (init, shutdown), so
/// `crosscall-audit` does not report it.
///
/// See `crosscall::ungated` for the full documentation; this is the same item.
#[proc_macro_attribute]
pub fn ungated(args: TokenStream, item: TokenStream) -> TokenStream {
    let function = syn::parse_macro_input!(item as syn::ItemFn);
    ungated::ungated(args.into(), function)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
