//! Reporting and plots: medians and spreads ([`stats`]), the comparison table
//! ([`comparison`]), SVG plots ([`plot`]) with one colour per gate ([`gate_colours`]), and
//! progress on stderr ([`progress`]).

pub mod comparison;
pub mod gate_colours;
pub mod plot;
pub mod progress;
pub mod stats;
