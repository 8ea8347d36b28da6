//! `#[crosscall::ungated]`: marks an export as deliberately outside every gate.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::ItemFn;

use crate::expand::exported_symbol;

/// The function unchanged, plus its mark for `crosscall-audit`.
pub(crate) fn ungated(args: TokenStream, function: ItemFn) -> syn::Result<TokenStream> {
    if !args.is_empty() {
        return Err(syn::Error::new(
            args.span(),
            "#[crosscall::ungated] takes no arguments",
        ));
    }
    let is_extern_c = function
        .sig
        .abi
        .as_ref()
        .is_some_and(|abi| abi.name.as_ref().map_or(true, |name| name.value() == "C"));
    if !is_extern_c {
        return Err(syn::Error::new(
            function.sig.fn_token.span(),
            "#[crosscall::ungated] marks an `extern \"C\" fn` exported to C",
        ));
    }
    let Some(symbol) = exported_symbol(&function) else {
        return Err(syn::Error::new(
            function.sig.ident.span(),
            "#[crosscall::ungated] marks an exported function: add `#[no_mangle]` or \
             `#[export_name = \"...\"]` (written after this attribute)",
        ));
    };
    let mut tokens = function.into_token_stream();
    tokens.extend(quote!(::crosscall::__crosscall_mark_export!(@str #symbol);));
    Ok(tokens)
}
