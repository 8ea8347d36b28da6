//! The options of `#[export(...)]`: `gate = PATH` or `state = PATH`, `on_panic = EXPR`,
//! `abort_on_panic`, `handles(param = TABLE, ...)`.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, Path};

use crate::handle_param::{self, HandleParam};

/// The options as written by the user, checked for completeness.
pub(crate) struct Options {
    /// Path to the `crosscall::Gate` (usually a `static`) the function enters; with
    /// `state = PATH`, the `crosscall::StateGate` instead.
    pub(crate) gate: Path,
    /// Set by `state = PATH`: the gate carries state, passed to the body as its leading
    /// `&T` parameter (see `state_param.rs`).
    pub(crate) with_state: bool,
    /// The value returned when the call is refused, panics, or returns `Err`; `None`: the
    /// return type's obvious one (see `error_value.rs`).
    pub(crate) on_panic: Option<Expr>,
    /// Set when a panic should abort the process instead of being caught.
    pub(crate) abort_on_panic: bool,
    /// Parameters passed as handles into `crosscall::Handles` tables (see `handle_param.rs`).
    pub(crate) handles: Vec<HandleParam>,
    /// `tokio`: the body runs in the state's tokio runtime context; an `async fn` is spawned
    /// there and completes through a C callback (see `async_export.rs`).
    pub(crate) tokio: bool,
}

const KNOWN: &str = "expected `gate = PATH`, `state = PATH`, `on_panic = EXPR`, \
                     `abort_on_panic`, `handles(param = TABLE)` or `tokio`";

impl Options {
    /// Parses the attribute arguments; every mistake is an error spanning the offending token.
    pub(crate) fn parse(input: ParseStream<'_>) -> syn::Result<Options> {
        let mut gate: Option<Path> = None;
        let mut state: Option<Path> = None;
        let mut on_panic: Option<Expr> = None;
        let mut abort_on_panic: Option<Span> = None;
        let mut handles: Option<Vec<HandleParam>> = None;
        let mut tokio: Option<Span> = None;
        let parser = syn::meta::parser(|meta: ParseNestedMeta<'_>| {
            if meta.path.is_ident("gate") {
                reject_duplicate(&meta, gate.is_some(), "gate")?;
                gate = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("state") {
                reject_duplicate(&meta, state.is_some(), "state")?;
                state = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("on_panic") {
                reject_duplicate(&meta, on_panic.is_some(), "on_panic")?;
                on_panic = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("abort_on_panic") {
                reject_duplicate(&meta, abort_on_panic.is_some(), "abort_on_panic")?;
                if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                    return Err(meta.error("`abort_on_panic` takes no value"));
                }
                abort_on_panic = Some(meta.path.require_ident()?.span());
            } else if meta.path.is_ident("tokio") {
                reject_duplicate(&meta, tokio.is_some(), "tokio")?;
                if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                    return Err(meta.error("`tokio` takes no value"));
                }
                tokio = Some(meta.path.require_ident()?.span());
            } else if meta.path.is_ident("handles") {
                reject_duplicate(&meta, handles.is_some(), "handles")?;
                handles = Some(handle_param::parse(&meta)?);
            } else {
                return Err(meta.error(format!("unknown option; {KNOWN}")));
            }
            Ok(())
        });
        parser.parse2(input.parse()?)?;
        let with_state = state.is_some();
        if let (Some(span), false) = (tokio, with_state) {
            return Err(syn::Error::new(
                span,
                "`tokio` runs the body in the runtime held by the gate's state: use it with \
                 `state = PATH` (a crosscall::StateGate whose state implements \
                 crosscall::tokio::RuntimeState)",
            ));
        }
        if let (Some(state), Some(_)) = (&state, &handles) {
            return Err(syn::Error::new_spanned(
                state,
                "`state` and `handles(...)` cannot be combined: handle tables belong to a \
                 crosscall::Gate (use `gate = PATH` with `handles`)",
            ));
        }
        let gate = match (gate, state) {
            (Some(gate), None) => gate,
            (None, Some(state)) => state,
            (Some(_), Some(state)) => {
                return Err(syn::Error::new_spanned(
                    state,
                    "`gate` and `state` are exclusive: a function enters one gate (a \
                     crosscall::StateGate is a gate)",
                ))
            }
            (None, None) => {
                return Err(syn::Error::new(
                    Span::call_site(),
                    "missing `gate = PATH`: name the crosscall::Gate this function enters \
                     (or `state = PATH` for a crosscall::StateGate)",
                ))
            }
        };
        Ok(Options {
            gate,
            with_state,
            on_panic,
            abort_on_panic: abort_on_panic.is_some(),
            handles: handles.unwrap_or_default(),
            tokio: tokio.is_some(),
        })
    }
}

fn reject_duplicate(meta: &ParseNestedMeta<'_>, seen: bool, name: &str) -> syn::Result<()> {
    if seen {
        Err(meta.error(format!("duplicate option `{name}`")))
    } else {
        Ok(())
    }
}
