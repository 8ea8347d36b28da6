//! The machine's own scaling ceiling: how much faster N threads of pure
//! computation (no shared memory, no allocation, no syscalls) go than one.
//!
//! On an ideal N-core machine that is N×. On a VM whose vCPUs are contended
//! or unequal it is less, and no gate can scale better than that; every
//! scaling figure the lab prints is meant to be read beside this one.
//!
//! Each thread runs a fixed arithmetic loop in chunks until its time window
//! is over and counts how far it got: the measurement takes a bounded time
//! however slow a vCPU is.
//!
//! A sweep measures the scaling at each of its worker counts
//! ([`Calibration::measure_each`]), so that throughput at `n` workers can be
//! read against the compute `n` threads actually got (see [`crate::model::capacity`]).
//!
//! ```
//! use std::time::Duration;
//! use crosscall_lab::model::calibrate::Calibration;
//!
//! let calibration = Calibration::measure(2, Duration::from_millis(20));
//! assert_eq!(calibration.threads, 2);
//! assert!(calibration.compute_scaling > 0.0);
//! ```
use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

/// The window each measurement runs for in [`Calibration::quick`]: two of
/// them (one thread, then N threads) keep calibration near 0.25 s.
pub const QUICK_WINDOW: Duration = Duration::from_millis(120);

/// Loop iterations between two looks at the clock: long enough that reading
/// the clock costs nothing measurable, short enough (~10 µs) to end on time.
const CHUNK: u64 = 4096;

/// What one thread managed in its window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Loop iterations completed.
    pub iterations: u64,
    /// Time the thread took for them.
    pub elapsed: Duration,
}

impl Sample {
    /// Iterations per second.
    pub fn rate(self) -> f64 {
        self.iterations as f64 / self.elapsed.as_secs_f64()
    }
}

/// The machine's pure-compute scaling at one thread count `c(n)`: aggregate
/// rate of `n` threads at once over one thread's rate alone.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScalingAt {
    /// Threads run at once.
    pub workers: usize,
    /// `c(n)`: how many times one thread's throughput they reached together
    /// (1 for one thread, by definition; ideal: `workers`).
    pub scaling: f64,
}

/// The machine's pure-compute scaling at one thread count.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Calibration {
    /// Threads run at once (the run's largest worker count).
    pub threads: usize,
    /// Length of each measurement window, ms.
    pub window_ms: f64,
    /// Loop iterations per second of one thread alone.
    pub single_thread_rate: f64,
    /// Iterations per second of each thread while all `threads` ran at once.
    pub per_thread_rates: Vec<f64>,
    /// `sum(per_thread_rates) / single_thread_rate`: how many times one
    /// thread's throughput `threads` threads reach together (ideal:
    /// `threads`). No workload on this machine scales beyond it.
    pub compute_scaling: f64,
    /// The same ratio at every worker count of a sweep, ascending, against the
    /// same one-thread rate (empty when only `threads` was measured, and in
    /// files written before it was).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compute_scaling_by_workers: Vec<ScalingAt>,
}

impl Calibration {
    /// [`Calibration::measure`] with [`QUICK_WINDOW`]: about 0.25 s.
    pub fn quick(threads: usize) -> Calibration {
        Calibration::measure(threads, QUICK_WINDOW)
    }

    /// Runs the loop on one thread for `window`, then on `threads` threads at
    /// once for `window`, and compares. With one thread the ratio is 1 by
    /// definition and the second run is skipped.
    ///
    /// # Panics
    ///
    /// If `threads` is 0 or `window` is zero.
    pub fn measure(threads: usize, window: Duration) -> Calibration {
        assert!(threads > 0, "calibration needs at least one thread");
        assert!(!window.is_zero(), "calibration needs a non-zero window");
        let single = run_threads(1, window)[0];
        let parallel = if threads == 1 {
            vec![single]
        } else {
            run_threads(threads, window)
        };
        Calibration::from_samples(window, single, &parallel)
    }

    /// Measures the scaling at each of `counts` (a sweep's worker counts): one
    /// thread alone for `window`, then each count `n > 1` for `window`, each
    /// compared with the same one-thread rate. The result describes the
    /// largest count like [`Calibration::measure`] and lists every count in
    /// `compute_scaling_by_workers` (`c(1) = 1` without a second run).
    ///
    /// ```
    /// use std::time::Duration;
    /// use crosscall_lab::model::calibrate::Calibration;
    ///
    /// let c = Calibration::measure_each(&[3, 1, 2], Duration::from_millis(5));
    /// assert_eq!(c.threads, 3);
    /// let counts: Vec<usize> = c.compute_scaling_by_workers.iter().map(|s| s.workers).collect();
    /// assert_eq!(counts, [1, 2, 3]);
    /// assert_eq!(c.scaling_at(1), Some(1.0));
    /// assert_eq!(c.scaling_at(3), Some(c.compute_scaling));
    /// ```
    ///
    /// # Panics
    ///
    /// If `counts` is empty or has a 0, or `window` is zero.
    pub fn measure_each(counts: &[usize], window: Duration) -> Calibration {
        let mut counts = counts.to_vec();
        counts.sort_unstable();
        counts.dedup();
        assert!(!counts.is_empty(), "calibration needs a worker count");
        assert!(counts[0] > 0, "calibration needs at least one thread");
        assert!(!window.is_zero(), "calibration needs a non-zero window");
        let single = run_threads(1, window)[0];
        let mut by_workers = Vec::with_capacity(counts.len());
        let mut largest = vec![single];
        for &n in &counts {
            if n == 1 {
                by_workers.push(ScalingAt {
                    workers: 1,
                    scaling: 1.0,
                });
                continue;
            }
            let samples = run_threads(n, window);
            by_workers.push(ScalingAt {
                workers: n,
                scaling: aggregate_rate(&samples) / single.rate(),
            });
            largest = samples;
        }
        Calibration {
            compute_scaling_by_workers: by_workers,
            ..Calibration::from_samples(window, single, &largest)
        }
    }

    /// `c(workers)` from `compute_scaling_by_workers`: 1 for one worker,
    /// `None` when that count was not measured (or nothing per count was).
    pub fn scaling_at(&self, workers: usize) -> Option<f64> {
        if self.compute_scaling_by_workers.is_empty() {
            return None;
        }
        if workers == 1 {
            return Some(1.0);
        }
        self.compute_scaling_by_workers
            .iter()
            .find(|s| s.workers == workers)
            .map(|s| s.scaling)
    }

    /// The arithmetic of [`Calibration::measure`], from its samples.
    ///
    /// # Panics
    ///
    /// If `parallel` is empty or `single` did no work.
    pub fn from_samples(window: Duration, single: Sample, parallel: &[Sample]) -> Calibration {
        assert!(!parallel.is_empty(), "no parallel samples");
        let single_thread_rate = single.rate();
        assert!(
            single_thread_rate > 0.0 && single_thread_rate.is_finite(),
            "the single-thread sample did no work"
        );
        let per_thread_rates: Vec<f64> = parallel.iter().map(|s| s.rate()).collect();
        Calibration {
            threads: parallel.len(),
            window_ms: window.as_secs_f64() * 1e3,
            single_thread_rate,
            compute_scaling: aggregate_rate(parallel) / single_thread_rate,
            per_thread_rates,
            compute_scaling_by_workers: Vec::new(),
        }
    }

    /// `compute_scaling / threads`: 1.0 on an ideal machine.
    pub fn efficiency(&self) -> f64 {
        self.compute_scaling / self.threads as f64
    }

    /// One line for reports: `machine ceiling: 2 threads of pure compute scale 1.47× here (ideal 2×)`.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "machine ceiling: {} thread{} of pure compute scale {:.2}× here (ideal {}×)",
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            self.compute_scaling,
            self.threads
        );
        if self.threads > 1 {
            let slowest = self
                .per_thread_rates
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min);
            line.push_str(&format!(
                "; the slowest thread ran at {:.2}× of one thread alone",
                slowest / self.single_thread_rate
            ));
        }
        line
    }
}

/// Iterations per second of all `samples` together.
fn aggregate_rate(samples: &[Sample]) -> f64 {
    samples.iter().map(|s| s.rate()).sum()
}

/// Runs the loop on `threads` threads started together, each for `window`.
fn run_threads(threads: usize, window: Duration) -> Vec<Sample> {
    let start = Barrier::new(threads);
    thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|index| {
                let start = &start;
                thread::Builder::new()
                    .name(format!("lab-calibrate-{index}"))
                    .spawn_scoped(scope, move || {
                        start.wait();
                        compute_for(window, index as u64)
                    })
                    .expect("spawning a calibration thread")
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a calibration thread panicked"))
            .collect()
    })
}

/// Runs the arithmetic loop in chunks until `window` has passed; touches no
/// memory another thread touches.
fn compute_for(window: Duration, seed: u64) -> Sample {
    let began = Instant::now();
    let mut state = black_box(seed | 1);
    let mut iterations = 0;
    loop {
        for _ in 0..CHUNK {
            // xorshift64: a dependent chain of ALU operations the compiler
            // cannot fold away (the state goes through black_box).
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
        }
        state = black_box(state);
        iterations += CHUNK;
        let elapsed = began.elapsed();
        if elapsed >= window {
            return Sample {
                iterations,
                elapsed,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(iterations: u64, ms: u64) -> Sample {
        Sample {
            iterations,
            elapsed: Duration::from_millis(ms),
        }
    }

    #[test]
    fn scaling_is_the_aggregate_rate_over_one_threads_rate() {
        let window = Duration::from_millis(100);
        // Alone: 1000 iterations in 100 ms. Together: one thread as fast as
        // alone, the other at half speed (and a little longer window).
        let c = Calibration::from_samples(
            window,
            sample(1000, 100),
            &[sample(1000, 100), sample(600, 120)],
        );
        assert_eq!(c.threads, 2);
        assert_eq!(c.window_ms, 100.0);
        assert!((c.single_thread_rate - 10_000.0).abs() < 1e-9);
        assert!((c.per_thread_rates[1] - 5_000.0).abs() < 1e-9);
        assert!((c.compute_scaling - 1.5).abs() < 1e-12, "{c:?}");
        assert!((c.efficiency() - 0.75).abs() < 1e-12);
        let line = c.summary();
        assert!(
            line.starts_with(
                "machine ceiling: 2 threads of pure compute scale 1.50× here (ideal 2×)"
            ),
            "{line}"
        );
        assert!(line.contains("slowest thread ran at 0.50×"), "{line}");
    }

    #[test]
    fn perfect_scaling_equals_the_thread_count() {
        let c = Calibration::from_samples(
            Duration::from_millis(10),
            sample(500, 10),
            &[sample(500, 10); 4],
        );
        assert!((c.compute_scaling - 4.0).abs() < 1e-12);
        assert_eq!(c.efficiency(), 1.0);
    }

    #[test]
    fn one_thread_is_its_own_ceiling() {
        let c = Calibration::measure(1, Duration::from_millis(2));
        assert_eq!((c.threads, c.compute_scaling), (1, 1.0));
        assert_eq!(
            c.summary(),
            "machine ceiling: 1 thread of pure compute scale 1.00× here (ideal 1×)"
        );
    }

    #[test]
    fn measuring_reports_one_rate_per_thread() {
        let c = Calibration::measure(3, Duration::from_millis(2));
        assert_eq!((c.threads, c.per_thread_rates.len()), (3, 3));
        assert!(c.per_thread_rates.iter().all(|&r| r > 0.0 && r.is_finite()));
        let sum: f64 = c.per_thread_rates.iter().sum();
        assert!((c.compute_scaling - sum / c.single_thread_rate).abs() < 1e-9);
    }

    #[test]
    fn scaling_at_reads_the_per_count_table() {
        let mut c = Calibration::from_samples(
            Duration::from_millis(10),
            sample(500, 10),
            &[sample(500, 10); 4],
        );
        // Measured only at its largest count: no per-count figures at all,
        // not even the definitional c(1).
        assert_eq!((c.scaling_at(1), c.scaling_at(4)), (None, None));
        c.compute_scaling_by_workers = vec![
            ScalingAt {
                workers: 2,
                scaling: 1.9,
            },
            ScalingAt {
                workers: 4,
                scaling: 2.05,
            },
        ];
        assert_eq!(c.scaling_at(1), Some(1.0));
        assert_eq!(c.scaling_at(2), Some(1.9));
        assert_eq!(c.scaling_at(4), Some(2.05));
        assert_eq!(c.scaling_at(3), None);
    }

    #[test]
    fn measuring_each_count_lists_them_ascending() {
        let c = Calibration::measure_each(&[2, 1, 2], Duration::from_millis(2));
        assert_eq!(c.threads, 2);
        let counts: Vec<usize> = c
            .compute_scaling_by_workers
            .iter()
            .map(|s| s.workers)
            .collect();
        assert_eq!(counts, [1, 2]);
        assert_eq!(c.compute_scaling_by_workers[0].scaling, 1.0);
        // The largest count's entry is the headline figure.
        assert_eq!(c.scaling_at(2), Some(c.compute_scaling));
    }

    #[test]
    #[should_panic(expected = "did no work")]
    fn an_empty_single_sample_is_refused() {
        Calibration::from_samples(Duration::from_millis(1), sample(0, 1), &[sample(5, 1)]);
    }
}
