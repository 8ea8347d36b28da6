//! Checks the annotated function and rewrites its body into a guarded call.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, GenericParam, ItemFn, PathArguments, ReturnType, Type};

use crate::async_export;
use crate::error_value;
use crate::handle_param::Guarded;
use crate::options::Options;
use crate::state_param;

/// Produces the wrapped function, or an error pointing at the first unsupported part.
pub(crate) fn export(options: Options, function: ItemFn) -> syn::Result<TokenStream> {
    check_signature(&function, options.tokio)?;
    let symbol = exported_symbol(&function);
    if function.sig.asyncness.is_some() {
        let name = symbol
            .clone()
            .unwrap_or_else(|| function.sig.ident.to_string());
        let mark = symbol.map(|name| quote!(::crosscall::__crosscall_mark_export!(@str #name);));
        return async_export::expand(&options.gate, &name, function, mark);
    }
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    let Options {
        gate,
        with_state,
        on_panic,
        abort_on_panic,
        handles,
        tokio,
    } = options;
    // `state = PATH`: the leading `&T` parameter is the macro's to supply, not C's.
    let state = state_param::split(with_state, &mut sig)?;

    let written_output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    let ok_type = match &sig.output {
        ReturnType::Type(_, ty) => result_ok_type(ty).cloned(),
        ReturnType::Default => None,
    };
    let returns_result = ok_type.is_some();
    let runner = match (returns_result, abort_on_panic) {
        (false, false) => format_ident!("entry"),
        (false, true) => format_ident!("entry_or_abort"),
        (true, false) => format_ident!("export_result"),
        (true, true) => format_ident!("export_result_or_abort"),
    };
    let (runner, closure_head) = match &state {
        Some(param) => (state_param::runner(&runner), param.closure_head()),
        None => (runner, quote!(move ||)),
    };
    if let (Some(ok), ReturnType::Type(arrow, _)) = (ok_type, &sig.output) {
        // C sees only the success type; `Err` becomes `on_panic` plus the last error.
        sig.output = ReturnType::Type(*arrow, Box::new(ok));
    }

    // Spans chosen so type errors point at what the user wrote: the gate path, the error
    // value, and (for an `E` without `Display`) the return type.
    let gate_ref = quote_spanned!(gate.span()=> &#gate);
    let err_value = match &on_panic {
        Some(on_panic) => quote_spanned!(on_panic.span()=> #on_panic),
        None => error_value::obvious(&sig.output)?,
    };
    // The body, wrapped so that a panic records the export's name (`UnwindingExport`).
    let export_name = symbol.clone().unwrap_or_else(|| sig.ident.to_string());
    let block = match (&state, tokio) {
        (Some(param), true) => in_runtime_context(param.ident()?, &block),
        _ => *block,
    };
    let block = named_body(&export_name, &written_output, &block);
    let mark = symbol.map(|name| quote!(::crosscall::__crosscall_mark_export!(@str #name);));
    let output_span = match &sig.output {
        ReturnType::Default => sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let runner = quote_spanned!(output_span=> ::crosscall::__private::#runner);
    if !handles.is_empty() {
        let c_output = match &sig.output {
            ReturnType::Default => quote!(()),
            ReturnType::Type(_, ty) => ty.to_token_stream(),
        };
        let guarded = Guarded {
            gate: &gate,
            err_value: &err_value,
            written_output: &written_output,
            c_output: &c_output,
            returns_result,
            abort_on_panic,
        };
        let body = guarded.body(&mut sig, &handles, &block)?;
        return Ok(quote!(#(#attrs)* #vis #sig { #body } #mark));
    }
    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            #runner(#gate_ref, #err_value, #closure_head -> #written_output #block)
        }
        #mark
    })
}

/// `{ enter the state's runtime context; block }` for `tokio` exports.
fn in_runtime_context(state: &Ident, block: &syn::Block) -> syn::Block {
    let context = Ident::new("__crosscall_runtime_context", Span::mixed_site());
    syn::parse_quote_spanned!(block.span()=> {
        let #context = ::crosscall::__private::tokio::enter_context(#state);
        #block
    })
}

/// `{ guard; run block; forget guard }`: the guard's `Drop` runs only if the body unwinds,
/// and then records `name` for the barrier's last error. Costs no instruction otherwise.
fn named_body(name: &str, written_output: &TokenStream, block: &syn::Block) -> syn::Block {
    let guard = Ident::new("__crosscall_unwinding", Span::mixed_site());
    let out = Ident::new("__crosscall_value", Span::mixed_site());
    // Spanned like the body, so type errors in it point where they did before.
    syn::parse_quote_spanned!(block.span()=> {
        let #guard = ::crosscall::__private::UnwindingExport(#name);
        // A closure, so that `return` in the body returns from the body.
        #[allow(clippy::redundant_closure_call)]
        let #out: #written_output = (move || -> #written_output #block)();
        ::core::mem::forget(#guard);
        #out
    })
}

/// The dynamic symbol the function is exported as: its name under `#[no_mangle]`, the
/// string of `#[export_name = "…"]` (also written `#[unsafe(…)]`); `None` if neither.
pub(crate) fn exported_symbol(function: &ItemFn) -> Option<String> {
    for attr in &function.attrs {
        let meta = &attr.meta;
        // `#[unsafe(no_mangle)]` / `#[unsafe(export_name = "…")]` (edition 2024 spelling).
        let inner: Option<syn::Meta> = if meta.path().is_ident("unsafe") {
            attr.parse_args().ok()
        } else {
            Some(meta.clone())
        };
        match inner {
            Some(syn::Meta::Path(path)) if path.is_ident("no_mangle") => {
                return Some(function.sig.ident.to_string())
            }
            Some(syn::Meta::NameValue(nv)) if nv.path.is_ident("export_name") => {
                if let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(name),
                    ..
                }) = &nv.value
                {
                    return Some(name.value());
                }
            }
            _ => {}
        }
    }
    None
}

/// Rejects everything the C ABI wrapper cannot express, with a span on the culprit.
fn check_signature(function: &ItemFn, tokio: bool) -> syn::Result<()> {
    let sig = &function.sig;
    if let (Some(token), false) = (&sig.asyncness, tokio) {
        return Err(syn::Error::new(
            token.span(),
            "#[crosscall::export] cannot wrap an `async fn`: C cannot await it (with \
             `state = PATH, tokio` it is spawned on the state's runtime and completes \
             through a C callback)",
        ));
    }
    if let Some(token) = &sig.constness {
        return Err(syn::Error::new(
            token.span(),
            "#[crosscall::export] cannot wrap a `const fn`: the guard runs at run time",
        ));
    }
    match &sig.abi {
        None => {
            return Err(syn::Error::new(
                sig.fn_token.span(),
                "#[crosscall::export] requires an `extern \"C\" fn`",
            ))
        }
        Some(abi) => {
            let is_c = abi.name.as_ref().is_some_and(|name| name.value() == "C");
            if !is_c {
                return Err(syn::Error::new(
                    abi.span(),
                    "#[crosscall::export] requires the ABI to be written `extern \"C\"`",
                ));
            }
        }
    }
    let generic = sig
        .generics
        .params
        .iter()
        .find(|param| !matches!(param, GenericParam::Lifetime(_)));
    if let Some(param) = generic {
        return Err(syn::Error::new(
            param.span(),
            "#[crosscall::export] cannot wrap a generic fn: an exported symbol needs one \
             concrete signature",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new(
            variadic.span(),
            "#[crosscall::export] cannot wrap a variadic fn",
        ));
    }
    if let Some(FnArg::Receiver(receiver)) = sig.inputs.first() {
        return Err(syn::Error::new(
            receiver.span(),
            "#[crosscall::export] wraps free functions only, not methods",
        ));
    }
    Ok(())
}

/// `T` when `ty` is spelled `Result<T, E>` or `some::path::Result<T>` (an alias like
/// `io::Result<T>`); `None` for every other type.
fn result_ok_type(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(ok) => Some(ok),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::result_ok_type;
    use quote::ToTokens;
    use syn::Type;

    fn ok_of(ty: &str) -> Option<String> {
        let ty: Type = syn::parse_str(ty).unwrap();
        result_ok_type(&ty).map(|ok| ok.to_token_stream().to_string())
    }

    #[test]
    fn result_types_yield_their_ok_type() {
        assert_eq!(ok_of("Result<i32, String>").as_deref(), Some("i32"));
        assert_eq!(
            ok_of("std::io::Result<*const u8>").as_deref(),
            Some("* const u8")
        );
        assert_eq!(
            ok_of("::core::result::Result<(), E>").as_deref(),
            Some("()")
        );
    }

    #[test]
    fn other_types_are_returned_as_written() {
        assert_eq!(ok_of("i32"), None);
        assert_eq!(ok_of("Option<i32>"), None);
        assert_eq!(ok_of("Results<i32, E>"), None);
        assert_eq!(ok_of("<T as Trait>::Result"), None);
        assert_eq!(ok_of("Result"), None);
    }
}
