//! How the model's figures are written for people.

/// `12.3M`-style numbers: two decimals for M and G, one for k and below.
///
/// ```
/// use crosscall_lab::model::units::si;
///
/// assert_eq!(si(232.4e6), "232.40M");
/// assert_eq!(si(6400.0), "6.4k");
/// ```
pub fn si(value: f64) -> String {
    match value.abs() {
        v if v >= 1e9 => format!("{:.2}G", value / 1e9),
        v if v >= 1e6 => format!("{:.2}M", value / 1e6),
        v if v >= 1e3 => format!("{:.1}k", value / 1e3),
        _ => format!("{value:.1}"),
    }
}
