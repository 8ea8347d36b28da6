//! Progress on stderr for long lab sessions (indicatif), out of the way of the
//! results on stdout.
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar counting finished runs, with the current run's name and the elapsed
/// time. Hidden with `quiet` or when stderr is not a terminal.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar for `runs` runs.
    pub fn new(runs: usize, quiet: bool) -> Progress {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(runs as u64), target);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} runs  {msg}")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        // One redraw a second: enough to show life during a multi-second run,
        // rare enough not to compete with the workers for the CPUs.
        bar.enable_steady_tick(Duration::from_secs(1));
        Progress { bar }
    }

    /// Names the run about to start.
    pub fn start(&self, what: &str) {
        self.bar.set_message(what.to_owned());
    }

    /// Counts one run as finished.
    pub fn finish_one(&self) {
        self.bar.inc(1);
    }

    /// Prints `text` to stdout without tearing the bar.
    pub fn println(&self, text: &str) {
        self.bar.suspend(|| println!("{text}"));
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
