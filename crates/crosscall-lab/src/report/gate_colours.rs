//! One fixed colour per gate, the same in every plot: the Okabe–Ito
//! colour-blind-safe palette (Okabe & Ito, "Color Universal Design", 2008),
//! its light hues (orange, sky blue, yellow) darkened until each line has at
//! least 3:1 contrast on the white background (WCAG 2 non-text contrast).
//! Series that are not gates (points given on the command line, Go
//! toolchains) are drawn in greys that meet the same bar.
use crate::run::runner::GateKind;

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// The colour of `gate` (exhaustive: a new gate must be given one).
///
/// ```
/// use crosscall_lab::report::gate_colours::{colour_of_gate, Rgb};
/// use crosscall_lab::run::runner::GateKind;
///
/// assert_eq!(colour_of_gate(GateKind::Crosscall), Rgb(0x00, 0x72, 0xB2)); // Okabe–Ito blue
/// ```
pub const fn colour_of_gate(gate: GateKind) -> Rgb {
    match gate {
        GateKind::None => Rgb(0x00, 0x00, 0x00),       // black
        GateKind::Mutex => Rgb(0xD5, 0x5E, 0x00),      // vermillion
        GateKind::Atomic => Rgb(0xC5, 0x88, 0x00),     // orange, darkened
        GateKind::CgoCthread => Rgb(0xCC, 0x79, 0xA7), // reddish purple
        GateKind::Counter => Rgb(0x4A, 0x9C, 0xCA),    // sky blue, darkened
        GateKind::Rwlock => Rgb(0x00, 0x9E, 0x73),     // bluish green
        GateKind::Arcswap => Rgb(0x9E, 0x96, 0x2B),    // yellow, darkened
        GateKind::Crosscall => Rgb(0x00, 0x72, 0xB2),  // blue
    }
}

/// Greys for series that are not gates, in turn.
const OTHERS: [Rgb; 3] = [
    Rgb(0x55, 0x55, 0x55),
    Rgb(0x76, 0x76, 0x76),
    Rgb(0x3A, 0x3A, 0x3A),
];

/// The colour of the series called `name`: its gate's, or the
/// `other_index`-th grey for anything else.
pub fn colour_of(name: &str, other_index: usize) -> Rgb {
    GateKind::ALL
        .into_iter()
        .find(|gate| gate.name() == name)
        .map_or(OTHERS[other_index % OTHERS.len()], colour_of_gate)
}

/// Contrast ratio of `colour` against white (WCAG 2 definition), 1 ..= 21.
pub fn contrast_on_white(colour: Rgb) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let Rgb(r, g, b) = colour;
    let luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    1.05 / (luminance + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_colour_is_distinct_and_readable_on_white() {
        let mut all: Vec<Rgb> = GateKind::ALL.into_iter().map(colour_of_gate).collect();
        all.extend(OTHERS);
        for (i, colour) in all.iter().enumerate() {
            assert!(contrast_on_white(*colour) >= 3.0, "{colour:?}");
            assert!(!all[..i].contains(colour), "{colour:?} used twice");
        }
    }

    #[test]
    fn gates_keep_their_colour_whatever_else_is_plotted() {
        assert_eq!(colour_of("mutex", 0), colour_of("mutex", 5));
        assert_eq!(colour_of("go1.22.10", 0), OTHERS[0]);
        assert_eq!(colour_of("points", 1), OTHERS[1]);
    }
}
