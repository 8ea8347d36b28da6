//! `#[export(state = PATH)]`: the body's leading `&T` parameter, which the macro supplies from
//! the `crosscall::StateGate` (C's signature has no such parameter).

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Pat, Signature, Type};

/// The state parameter as written: its pattern and its `&T` type.
pub(crate) struct StateParam {
    pat: Box<Pat>,
    ty: Box<Type>,
}

/// With `state = PATH`, removes the leading `&T` parameter from `sig` and returns it; without,
/// leaves `sig` alone and returns `None`.
pub(crate) fn split(with_state: bool, sig: &mut Signature) -> syn::Result<Option<StateParam>> {
    if !with_state {
        return Ok(None);
    }
    let Some(first) = sig.inputs.first() else {
        return Err(syn::Error::new(
            sig.paren_token.span.join(),
            "`state = PATH` passes the library state as the first parameter: add a leading \
             `&T` parameter (e.g. `lib: &MyLib`); C does not pass it",
        ));
    };
    let FnArg::Typed(param) = first else {
        return Err(syn::Error::new(
            first.span(),
            "#[crosscall::export] wraps free functions only, not methods",
        ));
    };
    match &*param.ty {
        Type::Reference(reference) => {
            if let Some(mutability) = &reference.mutability {
                return Err(syn::Error::new(
                    mutability.span(),
                    "the state parameter must be a shared reference `&T`: calls on many \
                     threads use the state at once (use interior mutability for changes)",
                ));
            }
            if let Some(lifetime) = reference.lifetime.as_ref().filter(|l| l.ident != "_") {
                return Err(syn::Error::new(
                    lifetime.span(),
                    "write the state parameter without a named lifetime (`&T`): it is \
                     borrowed for the call only",
                ));
            }
        }
        other => {
            return Err(syn::Error::new(
                other.span(),
                "with `state = PATH` the first parameter receives the library state and must \
                 be a shared reference `&T` to the StateGate's `T`",
            ))
        }
    }
    let param = param.clone();
    // Removes the first parameter, keeping the punctuation of the rest.
    sig.inputs = sig.inputs.iter().skip(1).cloned().collect();
    Ok(Some(StateParam {
        pat: param.pat,
        ty: param.ty,
    }))
}

impl StateParam {
    /// The parameter's name, for code that needs the state itself (`tokio`).
    pub(crate) fn ident(&self) -> syn::Result<&Ident> {
        match &*self.pat {
            Pat::Ident(pat) => Ok(&pat.ident),
            other => Err(syn::Error::new(
                other.span(),
                "with `tokio`, name the state parameter with a plain identifier (`lib: &Lib`)",
            )),
        }
    }

    /// The head of the body closure: `move |pat: &T|`.
    pub(crate) fn closure_head(&self) -> TokenStream {
        let (pat, ty) = (&self.pat, &self.ty);
        // Spanned at the type, so a state of the wrong type is reported on the parameter.
        quote_spanned!(ty.span()=> move |#pat: #ty|)
    }
}

/// The `crosscall::__private` runner for a state-carrying gate, given the stateless one's
/// name (`entry` → `entry_state`, `export_result` → `export_state_result`, …).
pub(crate) fn runner(stateless: &Ident) -> Ident {
    match stateless.to_string().as_str() {
        "entry" => format_ident!("entry_state"),
        "entry_or_abort" => format_ident!("entry_state_or_abort"),
        "export_result" => format_ident!("export_state_result"),
        "export_result_or_abort" => format_ident!("export_state_result_or_abort"),
        other => unreachable!("no state runner for `{other}`"),
    }
}
