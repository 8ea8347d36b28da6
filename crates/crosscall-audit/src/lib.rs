//! Finds the exported functions of a built library that bypass crosscall's barrier.
//!
//! `#[crosscall::export]`, `#[crosscall::ungated]`, `export_last_error!` and
//! `export_log_callback!` each put the exported symbol's name, NUL-terminated, into a link
//! section of the library: `.crosscall_exports` on ELF, `__DATA,__crosscall_exp` on Mach-O.
//! The linker concatenates the marks of every crate into that one section of the `.so`. This
//! crate reads the section and the dynamic symbol table of the built binary and reports every
//! exported function without a mark: one that was written `#[no_mangle] extern "C"` by hand
//! (or lost its attribute in a refactor) and so runs with no gate and no panic barrier.
//!
//! Functions of crosscall's own C API (`crosscall_*`, from `crosscall-capi`, which has its
//! own barrier) are not reported unless [`Options::include_capi`] is set.
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]

use std::collections::BTreeSet;

use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

/// The section the marks live in, as `object` names it for each format.
pub const ELF_SECTION: &str = ".crosscall_exports";
/// The Mach-O section (in segment `__DATA`).
pub const MACHO_SECTION: &str = "__crosscall_exp";
/// The prefix of crosscall's C API symbols (`crosscall-capi`).
pub const CAPI_PREFIX: &str = "crosscall_";

/// What to report.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Also report `crosscall_*` symbols of crosscall's C API.
    pub include_capi: bool,
}

/// The result of an audit.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Exported functions with no mark: neither `#[export]` nor `#[ungated]`. Sorted.
    pub unmarked: Vec<String>,
    /// Exported functions that carry a mark. Sorted.
    pub marked: Vec<String>,
    /// `crosscall_*` functions of the C API left out of `unmarked` (see [`Options`]).
    pub skipped_capi: usize,
    /// Whether the binary has the marks section at all (`false`: not built with a crosscall
    /// that writes marks, or no function uses the macros).
    pub has_marks: bool,
}

/// Audits the shared library whose bytes are `data`.
///
/// # Errors
///
/// A message when `data` is not an ELF or Mach-O file `object` can read, or has no dynamic
/// symbols (not a shared library).
///
/// ```no_run
/// let data = std::fs::read("target/release/libmylib.so").unwrap();
/// let report = crosscall_audit::audit(&data, crosscall_audit::Options::default()).unwrap();
/// assert!(report.unmarked.is_empty(), "unguarded exports: {:?}", report.unmarked);
/// ```
pub fn audit(data: &[u8], options: Options) -> Result<Report, String> {
    let file = object::File::parse(data).map_err(|e| format!("not a readable binary: {e}"))?;
    let mut has_marks = false;
    let mut marks = BTreeSet::new();
    for section in file.sections() {
        let name = section.name().unwrap_or("");
        if name != ELF_SECTION && name != MACHO_SECTION {
            continue;
        }
        has_marks = true;
        let bytes = section
            .data()
            .map_err(|e| format!("cannot read section {name}: {e}"))?;
        marks.extend(
            bytes
                .split(|&b| b == 0)
                .filter(|name| !name.is_empty())
                .map(|name| String::from_utf8_lossy(name).into_owned()),
        );
    }
    let exported = exported_functions(&file)?;
    let mut report = Report {
        has_marks,
        ..Report::default()
    };
    for name in exported {
        if marks.contains(&name) {
            report.marked.push(name);
        } else if name.starts_with(CAPI_PREFIX) && !options.include_capi {
            report.skipped_capi += 1;
        } else {
            report.unmarked.push(name);
        }
    }
    Ok(report)
}

/// The names of the functions the binary exports (defined, global, code), sorted.
fn exported_functions(file: &object::File<'_>) -> Result<BTreeSet<String>, String> {
    let macho = matches!(file.format(), object::BinaryFormat::MachO);
    let mut names = BTreeSet::new();
    let mut any = false;
    // ELF: the dynamic symbol table is what the dynamic linker resolves against. Mach-O has
    // none: its external symbols are the exports.
    let symbols: Box<dyn Iterator<Item = object::Symbol<'_, '_>>> = if macho {
        Box::new(file.symbols())
    } else {
        Box::new(file.dynamic_symbols())
    };
    for symbol in symbols {
        any = true;
        if symbol.kind() != SymbolKind::Text || !symbol.is_definition() || !symbol.is_global() {
            continue;
        }
        let Ok(name) = symbol.name() else { continue };
        let name = if macho {
            name.strip_prefix('_').unwrap_or(name)
        } else {
            name
        };
        names.insert(name.to_owned());
    }
    if !any {
        return Err("no dynamic symbols: not a shared library (build the cdylib)".into());
    }
    Ok(names)
}
