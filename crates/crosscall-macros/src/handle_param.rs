//! `handles(param = TABLE, ...)`: parameters that C passes as `u64` handles and the body
//! receives as `&T`, looked up in a `crosscall::Handles<T>` table inside the call.
//!
//! For each named parameter written `name: &T`, the exported signature takes `name: u64`,
//! and before the body runs the handle is looked up with a pass of the export's gate; a bad
//! handle returns the error value with a last error naming the parameter and the failed check
//! (stale, never issued by this table, or a table of another gate).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, Pat, Path, Signature, Type};

/// One `param = TABLE` pair as written.
pub(crate) struct HandleParam {
    pub(crate) param: Ident,
    pub(crate) table: Path,
}

/// Parses the inside of `handles(...)`.
pub(crate) fn parse(meta: &ParseNestedMeta<'_>) -> syn::Result<Vec<HandleParam>> {
    let mut params: Vec<HandleParam> = Vec::new();
    meta.parse_nested_meta(|inner| {
        let param = inner.path.require_ident()?.clone();
        if params.iter().any(|p| p.param == param) {
            return Err(inner.error(format!("`{param}` is listed twice in `handles(...)`")));
        }
        let table: Path = inner.value()?.parse()?;
        params.push(HandleParam { param, table });
        Ok(())
    })?;
    if params.is_empty() {
        return Err(meta.error("`handles(...)` names no parameter: write `handles(param = TABLE)`"));
    }
    Ok(params)
}

/// Rewrites each handle parameter's type to `u64` in `sig`, and returns the statements that
/// bind the parameter to `&T` at the start of the guarded body (`pass` is the pass variable).
pub(crate) fn rewrite(
    sig: &mut Signature,
    params: &[HandleParam],
    pass: &Ident,
) -> syn::Result<TokenStream> {
    let mut bindings = TokenStream::new();
    for HandleParam { param, table } in params {
        let typed = sig
            .inputs
            .iter_mut()
            .find_map(|arg| match arg {
                FnArg::Typed(typed) => match &*typed.pat {
                    Pat::Ident(p) if p.ident == *param => Some(typed),
                    _ => None,
                },
                FnArg::Receiver(_) => None,
            })
            .ok_or_else(|| {
                syn::Error::new(
                    param.span(),
                    format!("`handles({param} = ...)`: the function has no parameter `{param}`"),
                )
            })?;
        let Type::Reference(reference) = &*typed.ty else {
            return Err(syn::Error::new(
                typed.ty.span(),
                "a handle parameter must be written `&T`: C passes a `u64` handle and the body \
                 receives the object it names",
            ));
        };
        if let Some(mutability) = reference.mutability {
            return Err(syn::Error::new(
                mutability.span(),
                "a handle parameter must be a shared reference `&T`: objects in a handle table \
                 are shared by every call",
            ));
        }
        let object = &reference.elem;
        let name = param.to_string();
        let lookup = quote_spanned!(table.span()=>
            ::crosscall::__private::resolve_handle::<#object>(&#table, &#pass, #param, #name)
        );
        bindings.extend(quote! {
            let #param: &#object = #lookup?;
        });
        *typed.ty = syn::parse_quote!(u64);
    }
    Ok(bindings)
}

/// The wrapped body of a function with handle parameters: the guarded runner of the
/// `Result` form (a bad handle is an `Err` message), a nested pass of the export's gate (the
/// runner holds the outer one), the handle lookups, then the user's body.
pub(crate) struct Guarded<'a> {
    pub(crate) gate: &'a Path,
    pub(crate) err_value: &'a TokenStream,
    /// The return type as written (`Result<T, E>`, `T`, or `()`).
    pub(crate) written_output: &'a TokenStream,
    /// The return type C sees (`T` for `Result<T, E>`).
    pub(crate) c_output: &'a TokenStream,
    pub(crate) returns_result: bool,
    pub(crate) abort_on_panic: bool,
}

impl Guarded<'_> {
    /// Rewrites the handle parameters of `sig` and returns the function body.
    pub(crate) fn body(
        &self,
        sig: &mut Signature,
        params: &[HandleParam],
        block: &syn::Block,
    ) -> syn::Result<TokenStream> {
        let pass = Ident::new("__crosscall_pass", proc_macro2::Span::mixed_site());
        let bindings = rewrite(sig, params, &pass)?;
        let Guarded {
            gate,
            err_value,
            written_output,
            c_output,
            returns_result,
            abort_on_panic,
        } = self;
        let runner = if *abort_on_panic {
            quote!(export_result_or_abort)
        } else {
            quote!(export_result)
        };
        let finish = if *returns_result {
            quote!(::core::result::Result::map_err(__crosscall_out, |e| {
                ::std::string::ToString::to_string(&e)
            }))
        } else {
            quote!(::core::result::Result::Ok(__crosscall_out))
        };
        Ok(quote! {
            ::crosscall::__private::#runner(
                &#gate,
                #err_value,
                move || -> ::core::result::Result<#c_output, ::std::string::String> {
                    let #pass = ::crosscall::__private::nested_pass(&#gate)?;
                    #bindings
                    let __crosscall_out: #written_output = (move || -> #written_output #block)();
                    #finish
                },
            )
        })
    }
}
