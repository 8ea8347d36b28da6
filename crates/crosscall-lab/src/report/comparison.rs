//! The comparison table: runs grouped by gate (or Go toolchain), medians,
//! the share of the time the entry costs over `none`, and crosscall's speed-up.
use std::fmt::Write as _;

use crate::model::calibrate::Calibration;
use crate::report::stats::Spread;
use crate::run::runner::RunResult;

/// Name of the row the entry share is measured against.
pub const BASELINE: &str = "none";
/// Name of the row the speed-ups are measured for.
pub const PRODUCT: &str = "crosscall";

/// One line of the comparison: every run of one gate, summarized.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Row {
    /// Gate (or toolchain) name.
    pub name: String,
    /// Workers of the runs (the first run's, if they differ).
    pub workers: usize,
    /// Milliseconds per run: median and range over the repeats.
    pub took_ms: Spread,
    /// Median nanoseconds per task (wall clock, all workers together).
    pub ns_per_task: f64,
    /// Median throughput, tasks per second.
    pub tasks_per_sec: f64,
    /// `(t - t_none) / t`: the share of this gate's time that entering costs
    /// on top of the ungated run (the lab's answer to "45% of the profile in
    /// mutex unlock"). `None` without a `none` row.
    pub entry_share: Option<f64>,
    /// `t / t_crosscall`: how many times faster crosscall ran. `None`
    /// without a `crosscall` row.
    pub crosscall_speedup: Option<f64>,
    /// Number of runs summarized.
    pub runs: usize,
}

/// Groups `results` by gate name (first appearance order) and summarizes each
/// group by its median time.
///
/// # Examples
///
/// ```
/// use crosscall_lab::report::comparison::comparison;
/// use crosscall_lab::run::runner::RunResult;
///
/// let result = |gate: &str, took_ms: f64| RunResult {
///     gate: gate.into(), workload: "seed".into(), queue: "shared".into(),
///     workers: 2, tasks: 1_000_000, took_ms,
///     ns_per_task: took_ms * 1e6 / 1e6, tasks_per_sec: 1e6 / (took_ms / 1e3),
/// };
/// let rows = comparison(&[result("none", 100.0), result("mutex", 200.0), result("crosscall", 100.0)]);
/// assert_eq!(rows[1].name, "mutex");
/// assert_eq!(rows[1].entry_share, Some(0.5));
/// assert_eq!(rows[1].crosscall_speedup, Some(2.0));
/// ```
pub fn comparison(results: &[RunResult]) -> Vec<Row> {
    let mut names: Vec<&str> = Vec::new();
    for result in results {
        if !names.contains(&result.gate.as_str()) {
            names.push(&result.gate);
        }
    }
    let mut rows: Vec<Row> = names
        .iter()
        .filter_map(|&name| {
            let group: Vec<&RunResult> = results.iter().filter(|r| r.gate == name).collect();
            let took_ms = Spread::of(&group.iter().map(|r| r.took_ms).collect::<Vec<_>>())?;
            let tasks = group[0].tasks as f64;
            Some(Row {
                name: name.to_owned(),
                workers: group[0].workers,
                took_ms,
                ns_per_task: took_ms.median * 1e6 / tasks,
                tasks_per_sec: tasks / (took_ms.median / 1e3),
                entry_share: None,
                crosscall_speedup: None,
                runs: group.len(),
            })
        })
        .collect();
    let median_of = |rows: &[Row], name: &str| {
        rows.iter()
            .find(|row| row.name == name)
            .map(|row| row.took_ms.median)
    };
    let baseline = median_of(&rows, BASELINE);
    let product = median_of(&rows, PRODUCT);
    for row in &mut rows {
        let t = row.took_ms.median;
        row.entry_share = baseline.map(|t_none| (t - t_none) / t);
        row.crosscall_speedup = product.map(|t_crosscall| t / t_crosscall);
    }
    rows
}

/// How to read the table's last two columns.
pub const LEGEND: &str = "\
entry share = (t − t_none) / t: the part of a gate's time that entering costs over the \
ungated run; near 0%, or negative\n  (that run came out faster than none), means within \
noise of no gate.\n\
crosscall speed-up = t / t_crosscall: how many times longer a gate took than crosscall; \
above 1×: crosscall is faster;\n  below 1×: that gate ran faster (none, which does no \
entry at all, or noise between near-equal gates).\n";

/// What each comparison row stands for, in the one-screen summary.
fn stands_for(gate: &str) -> Option<&'static str> {
    Some(match gate {
        "cgo-cthread" => "today's Go on C-created threads: 1.22–1.26, a channel lock per call",
        "atomic" => "cgo's atomic flag alone: Go 1.27 on C threads",
        "mutex" => "cgo before Go 1.22",
        "rwlock" => "Rust: RwLock<Option<Arc<T>>>, drains",
        "arcswap" => "Rust: arc-swap load(), no drain",
        "counter" => "Rust: run-down / TaskTracker, drains",
        _ => return None,
    })
}

/// crosscall's entry beside today's Go on C threads and the Rust strategies:
/// each one's cost over `none` per task and how many times crosscall's time
/// it took. Empty without both a `none` and a `crosscall` row.
pub fn entry_summary(rows: &[Row]) -> String {
    let find = |name: &str| rows.iter().find(|row| row.name == name);
    let (Some(none), Some(product)) = (find(BASELINE), find(PRODUCT)) else {
        return String::new();
    };
    let over_none = |row: &Row| row.ns_per_task - none.ns_per_task;
    let mut out = format!(
        "\ncrosscall's entry beside the alternatives (ns/task over none; time ÷ crosscall's):\n  \
         {:<12} {:>+9.1} ns   1.00×  (gate + thread attach + panic barrier, drains)\n",
        PRODUCT,
        over_none(product)
    );
    for gate in [
        "cgo-cthread",
        "atomic",
        "mutex",
        "rwlock",
        "arcswap",
        "counter",
    ] {
        if let (Some(row), Some(what)) = (find(gate), stands_for(gate)) {
            let _ = writeln!(
                out,
                "  {:<12} {:>+9.1} ns {:>6.2}×  ({what})",
                gate,
                over_none(row),
                row.took_ms.median / product.took_ms.median
            );
        }
    }
    out
}

/// What the queue costs, measured apart from the entry.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct QueueCost {
    /// What the queue is, in one sentence ([`crate::run::runner::QueueKind::description`]).
    pub description: String,
    /// The queue drained with tasks that do nothing (median run): the
    /// harness floor.
    pub drained_empty: RunResult,
    /// For a shared queue: gate `none`, same workload, on a partitioned
    /// queue (median run). Set against the `none` row, it shows what the
    /// queue costs under the real work, which can be far more than the floor
    /// (two workers taking turns on the queue's cache lines).
    pub none_partitioned: Option<RunResult>,
}

/// Renders `rows` as an aligned text table; `queue`, when given, adds what
/// the queue is and costs below it, and `ceiling` the machine's own scaling.
pub fn render(rows: &[Row], queue: Option<&QueueCost>, ceiling: Option<&Calibration>) -> String {
    let mut out = String::new();
    let spread_shown = rows.iter().any(|row| row.runs > 1);
    let _ = write!(out, "{:<16} {:>7} {:>11}", "gate", "workers", "ms (median)");
    if spread_shown {
        let _ = write!(out, " {:>19}", "range ms");
    }
    let _ = writeln!(
        out,
        " {:>9} {:>9} {:>12} {:>18}",
        "ns/task", "Mtasks/s", "entry share", "crosscall speed-up"
    );
    for row in rows {
        let _ = write!(
            out,
            "{:<16} {:>7} {:>11.1}",
            row.name, row.workers, row.took_ms.median
        );
        if spread_shown {
            let range = format!("{:.1}–{:.1}", row.took_ms.min, row.took_ms.max);
            let _ = write!(out, " {range:>19}");
        }
        let share = row
            .entry_share
            .map_or_else(|| "—".to_owned(), |s| format!("{:.1}%", s * 100.0));
        let speedup = row
            .crosscall_speedup
            .map_or_else(|| "—".to_owned(), |s| format!("{s:.2}×"));
        let _ = writeln!(
            out,
            " {:>9.1} {:>9.2} {:>12} {:>18}",
            row.ns_per_task,
            row.tasks_per_sec / 1e6,
            share,
            speedup
        );
    }
    out.push_str(LEGEND);
    out.push_str(&entry_summary(rows));
    if let Some(queue) = queue {
        let floor = &queue.drained_empty;
        let _ = writeln!(out, "queue: {} = {}", floor.queue, queue.description);
        let _ = writeln!(
            out,
            "harness floor ({} queue drained, no call): {:.1} ns/task ({:.1} ms); included in every row above",
            floor.queue, floor.ns_per_task, floor.took_ms
        );
        let none = rows.iter().find(|row| row.name == BASELINE);
        if let (Some(partitioned), Some(none)) = (&queue.none_partitioned, none) {
            let extra = none.ns_per_task - partitioned.ns_per_task;
            let _ = writeln!(
                out,
                "queue cost with this work: none takes {:.1} ns/task over the {} queue, {:.1} partitioned: the queue adds {:.1} ns/task ({:.0}% of none)",
                none.ns_per_task,
                floor.queue,
                partitioned.ns_per_task,
                extra,
                extra / none.ns_per_task * 100.0
            );
        }
    }
    if let Some(ceiling) = ceiling {
        let _ = writeln!(out, "{}", ceiling.summary());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(gate: &str, took_ms: f64) -> RunResult {
        RunResult {
            gate: gate.into(),
            workload: "seed".into(),
            queue: "shared".into(),
            workers: 2,
            tasks: 1000,
            took_ms,
            ns_per_task: took_ms * 1e6 / 1000.0,
            tasks_per_sec: 1000.0 / (took_ms / 1e3),
        }
    }

    #[test]
    fn repeats_are_summarized_by_their_median() {
        let rows = comparison(&[
            result("none", 10.0),
            result("mutex", 40.0),
            result("none", 30.0),
            result("mutex", 20.0),
            result("none", 20.0),
            result("mutex", 30.0),
        ]);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].took_ms.median, rows[0].runs), (20.0, 3));
        assert_eq!(rows[1].took_ms.median, 30.0);
        assert!((rows[1].entry_share.unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(rows[1].crosscall_speedup, None);
        assert!((rows[1].ns_per_task - 30_000.0).abs() < 1e-9);
    }

    #[test]
    fn table_shows_every_row_and_the_floor() {
        let rows = comparison(&[result("none", 10.0), result("crosscall", 11.0)]);
        let queue = QueueCost {
            description: "one atomic cursor".into(),
            drained_empty: result("queue-only", 2.0),
            none_partitioned: Some(result("none", 4.0)),
        };
        let ceiling = Calibration::from_samples(
            std::time::Duration::from_millis(10),
            crate::model::calibrate::Sample {
                iterations: 100,
                elapsed: std::time::Duration::from_millis(10),
            },
            &[crate::model::calibrate::Sample {
                iterations: 80,
                elapsed: std::time::Duration::from_millis(10),
            }; 2],
        );
        let text = render(&rows, Some(&queue), Some(&ceiling));
        assert!(text.lines().any(|l| l.starts_with("none")));
        assert!(text
            .lines()
            .any(|l| l.starts_with("crosscall") && l.contains("1.00×")));
        assert!(text.contains("harness floor"));
        assert!(text.contains("queue: shared = one atomic cursor"), "{text}");
        assert!(
            text.contains("machine ceiling: 2 threads of pure compute scale 1.60×"),
            "{text}"
        );
        // none: 10 ms shared vs 4 ms partitioned for 1000 tasks.
        assert!(
            text.contains("the queue adds 6000.0 ns/task (60% of none)"),
            "{text}"
        );
    }
}
