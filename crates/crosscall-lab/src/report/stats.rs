//! Summaries of repeated measurements: the median (robust to the odd run a
//! neighbour's compile slowed down) and the spread around it.

/// Median, minimum and maximum of a set of measurements.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Spread {
    /// The middle value (mean of the two middle ones for an even count).
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Spread {
    /// Summarizes `values`; `None` if there are none or one is NaN.
    ///
    /// # Examples
    ///
    /// ```
    /// use crosscall_lab::report::stats::Spread;
    ///
    /// let s = Spread::of(&[3.0, 1.0, 2.0, 10.0]).unwrap();
    /// assert_eq!((s.median, s.min, s.max), (2.5, 1.0, 10.0));
    /// assert!(Spread::of(&[]).is_none());
    /// ```
    pub fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() || values.iter().any(|v| v.is_nan()) {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        let median = if sorted.len() % 2 == 1 {
            sorted[mid]
        } else {
            (sorted[mid - 1] + sorted[mid]) / 2.0
        };
        Some(Spread {
            median,
            min: sorted[0],
            max: sorted[sorted.len() - 1],
        })
    }

    /// `(max - min) / median`: the spread relative to the median (0 when the
    /// median is 0).
    pub fn relative_range(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.max - self.min) / self.median
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Spread;

    #[test]
    fn odd_count_takes_the_middle_value() {
        let s = Spread::of(&[5.0, 1.0, 9.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (5.0, 1.0, 9.0));
        assert!((s.relative_range() - 8.0 / 5.0).abs() < 1e-12);
    }

    #[test]
    fn nan_has_no_summary() {
        assert!(Spread::of(&[1.0, f64::NAN]).is_none());
    }
}
