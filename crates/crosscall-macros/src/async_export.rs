//! `#[export(state = LIB, tokio)]` on an `async fn`: the C function spawns the body on the
//! state's runtime and returns at once; a C callback receives the value.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use syn::{parse_quote, FnArg, ItemFn, Path, ReturnType, Type};

/// The C function for an `async fn` body:
/// `int NAME(params..., void (*callback)(void *user, int status, T value), void *user)`.
pub(crate) fn expand(
    gate: &Path,
    symbol: &str,
    function: ItemFn,
    mark: Option<TokenStream>,
) -> syn::Result<TokenStream> {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    if let Some(FnArg::Typed(first)) = sig.inputs.first() {
        if matches!(&*first.ty, Type::Reference(_)) {
            return Err(syn::Error::new_spanned(
                &first.ty,
                "an `async fn` export takes no state parameter: its future outlives the C \
                 call (and the gate's pass); capture what it needs by value, or use \
                 `tokio::runtime::Handle::current()`",
            ));
        }
    }
    let value: Type = match &sig.output {
        ReturnType::Default => parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    let callback = Ident::new("__crosscall_callback", Span::mixed_site());
    let user = Ident::new("__crosscall_user", Span::mixed_site());
    sig.asyncness = None;
    sig.inputs.push(parse_quote!(
        #callback: ::core::option::Option<::crosscall::__private::tokio::AsyncCallback<#value>>
    ));
    sig.inputs
        .push(parse_quote!(#user: *mut ::core::ffi::c_void));
    sig.output = parse_quote!(-> ::core::ffi::c_int);
    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            ::crosscall::__private::tokio::spawn_export(
                &#gate,
                #symbol,
                #callback,
                #user,
                move || async move #block,
            )
        }
        #mark
    })
}
