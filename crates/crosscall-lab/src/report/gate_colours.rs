//! One fixed colour and marker per gate, the same in every plot: the
//! Okabe–Ito colour-blind-safe palette (Okabe & Ito, "Color Universal
//! Design", 2008), its light hues (orange, sky blue, yellow) darkened until
//! each line has at least 3:1 contrast on the white background (WCAG 2
//! non-text contrast). The palette's hues that colour-blind readers can still
//! confuse (blue and sky blue; vermillion, orange and yellow) never share a
//! marker, and the gates that run level with one another (none, atomic,
//! crosscall at the top of a lean plot) get hues from different families.
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
        GateKind::Atomic => Rgb(0x00, 0x9E, 0x73),     // bluish green
        GateKind::CgoCthread => Rgb(0x9E, 0x96, 0x2B), // yellow, darkened
        GateKind::Counter => Rgb(0x4A, 0x9C, 0xCA),    // sky blue, darkened
        GateKind::Rwlock => Rgb(0xC5, 0x88, 0x00),     // orange, darkened
        GateKind::Arcswap => Rgb(0xCC, 0x79, 0xA7),    // reddish purple
        GateKind::Crosscall => Rgb(0x00, 0x72, 0xB2),  // blue
    }
}

/// The shape a series' points are drawn with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// A filled disc.
    Circle,
    /// A square.
    Square,
    /// A triangle pointing up.
    Triangle,
    /// A square on its corner.
    Diamond,
    /// An × (two strokes).
    Cross,
}

/// The marker of `gate` (exhaustive, as [`colour_of_gate`]).
///
/// ```
/// use crosscall_lab::report::gate_colours::{marker_of_gate, Marker};
/// use crosscall_lab::run::runner::GateKind;
///
/// assert_eq!(marker_of_gate(GateKind::Crosscall), Marker::Square);
/// ```
pub const fn marker_of_gate(gate: GateKind) -> Marker {
    match gate {
        GateKind::None => Marker::Circle,
        GateKind::Mutex => Marker::Triangle,
        GateKind::Atomic => Marker::Triangle,
        GateKind::CgoCthread => Marker::Diamond,
        GateKind::Counter => Marker::Circle,
        GateKind::Rwlock => Marker::Cross,
        GateKind::Arcswap => Marker::Diamond,
        GateKind::Crosscall => Marker::Square,
    }
}

/// The marker of the series called `name`: its gate's, or a circle.
pub fn marker_of(name: &str) -> Marker {
    GateKind::ALL
        .into_iter()
        .find(|gate| gate.name() == name)
        .map_or(Marker::Circle, marker_of_gate)
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

    /// Okabe–Ito hues a colour-blind reader can still confuse.
    const CONFUSABLE: [&[Rgb]; 2] = [
        &[Rgb(0x00, 0x72, 0xB2), Rgb(0x4A, 0x9C, 0xCA)],
        &[
            Rgb(0xD5, 0x5E, 0x00),
            Rgb(0xC5, 0x88, 0x00),
            Rgb(0x9E, 0x96, 0x2B),
        ],
    ];

    #[test]
    fn confusable_hues_never_share_a_marker_and_neighbours_differ() {
        let gates = GateKind::ALL;
        for (i, a) in gates.iter().enumerate() {
            for b in &gates[i + 1..] {
                let (ca, cb) = (colour_of_gate(*a), colour_of_gate(*b));
                let confusable = CONFUSABLE
                    .iter()
                    .any(|family| family.contains(&ca) && family.contains(&cb));
                if confusable {
                    assert_ne!(marker_of_gate(*a), marker_of_gate(*b), "{a} and {b}");
                }
            }
        }
        // Neighbours in the legend (ALL order) never come from one family.
        for pair in gates.windows(2) {
            let (ca, cb) = (colour_of_gate(pair[0]), colour_of_gate(pair[1]));
            assert!(
                !CONFUSABLE
                    .iter()
                    .any(|family| family.contains(&ca) && family.contains(&cb)),
                "{} and {}",
                pair[0],
                pair[1]
            );
        }
        // The gates that run level at the top of a lean plot: no shared family.
        let level = [
            GateKind::None,
            GateKind::Atomic,
            GateKind::Crosscall,
            GateKind::Arcswap,
        ];
        for (i, a) in level.iter().enumerate() {
            for b in &level[i + 1..] {
                let (ca, cb) = (colour_of_gate(*a), colour_of_gate(*b));
                assert!(
                    !CONFUSABLE
                        .iter()
                        .any(|family| family.contains(&ca) && family.contains(&cb)),
                    "{a} and {b}"
                );
            }
        }
    }

    #[test]
    fn gates_keep_their_colour_whatever_else_is_plotted() {
        assert_eq!(colour_of("mutex", 0), colour_of("mutex", 5));
        assert_eq!(colour_of("go1.22.10", 0), OTHERS[0]);
        assert_eq!(colour_of("points", 1), OTHERS[1]);
    }
}
