//! `#[export]` without `on_panic`: the error value the C return type implies.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ReturnType, Type};

/// Integer and float spellings (std's and `std::ffi`'s): every value may be a valid result,
/// so the author must choose the error value.
const NUMERIC: &[&str] = &[
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "f32",
    "f64",
    "c_char",
    "c_schar",
    "c_uchar",
    "c_short",
    "c_ushort",
    "c_int",
    "c_uint",
    "c_long",
    "c_ulong",
    "c_longlong",
    "c_ulonglong",
    "c_float",
    "c_double",
    "size_t",
    "ssize_t",
];

/// The error value for the C return type `output` (after `Result<T, E>` became `T`):
/// nothing for `()`, otherwise `crosscall::__private::ErrorValue`'s constant (null pointers,
/// `None`, `false`); a compile error for integers and floats, and (through the trait's
/// diagnostic) for any other type.
pub(crate) fn obvious(output: &ReturnType) -> syn::Result<TokenStream> {
    let ty = match output {
        ReturnType::Default => return Ok(quote!(())),
        ReturnType::Type(_, ty) => ty,
    };
    if let Some(name) = numeric_name(ty) {
        return Err(syn::Error::new(
            ty.span(),
            format!(
                "`{name}` has no obvious error value (0 and -1 can both be valid results): \
                 add `on_panic = EXPR` to `#[crosscall::export(...)]`, the value C receives \
                 when the call is refused, panics or fails"
            ),
        ));
    }
    Ok(quote_spanned!(ty.span()=>
        <#ty as ::crosscall::__private::ErrorValue>::ERROR_VALUE
    ))
}

/// The name of `ty` if it is spelled as an integer or float type.
fn numeric_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Paren(inner) => numeric_name(&inner.elem),
        Type::Group(inner) => numeric_name(&inner.elem),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            let name = last.ident.to_string();
            (last.arguments.is_none() && NUMERIC.contains(&name.as_str())).then_some(name)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::numeric_name;

    fn numeric(ty: &str) -> bool {
        numeric_name(&syn::parse_str(ty).unwrap()).is_some()
    }

    #[test]
    fn integers_and_floats_need_on_panic() {
        for ty in [
            "i32",
            "u64",
            "f64",
            "std::ffi::c_int",
            "libc::size_t",
            "(usize)",
        ] {
            assert!(numeric(ty), "{ty}");
        }
    }

    #[test]
    fn other_types_are_left_to_the_trait() {
        for ty in [
            "bool",
            "*const u8",
            "Option<i32>",
            "()",
            "MyInt",
            "Vec<i32>",
        ] {
            assert!(!numeric(ty), "{ty}");
        }
    }
}
