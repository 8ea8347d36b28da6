//! Procedural macros for [crosscall](https://docs.rs/crosscall).
//!
//! Do not depend on this crate directly: use `#[crosscall::export]`, which re-exports
//! [`macro@export`]. The generated code refers only to `::crosscall::__private`, a hidden module
//! that is not public API, so the runtime and the macro can change together.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

mod expand;
mod handle_param;
mod options;
mod state_param;

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
