//! Parsers of the values every command takes — worker counts, task counts,
//! repeats — so that one mistake gets one wording whichever command it is
//! made in.

/// The most worker threads a run may ask for.
pub const MAX_WORKERS: usize = 4096;

/// The most runs per configuration.
pub const MAX_REPEAT: u64 = 1000;

/// One worker count: 1 ..= [`MAX_WORKERS`].
///
/// # Errors
///
/// When `text` is not a whole number in that range; the message says so.
///
/// ```
/// use crosscall_lab::cli_values::worker_count;
///
/// assert_eq!(worker_count("2"), Ok(2));
/// assert_eq!(worker_count("0").unwrap_err(), "worker counts must be 1..=4096, got 0");
/// assert_eq!(worker_count("-1").unwrap_err(), "worker counts must be 1..=4096, got -1");
/// ```
pub fn worker_count(text: &str) -> Result<usize, String> {
    // Parsed signed, so `-1` gets the range's wording rather than "not a number".
    let n: i64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a worker count"))?;
    let n = usize::try_from(n).unwrap_or(0).min(MAX_WORKERS + 1);
    if n == 0 || n > MAX_WORKERS {
        let n = text.trim();
        return Err(format!("worker counts must be 1..={MAX_WORKERS}, got {n}"));
    }
    Ok(n)
}

/// A task count: 1 ..= `u32::MAX` (task ids are 32-bit, as in the Go
/// reference); `_` separators allowed.
///
/// # Errors
///
/// When `text` is not a whole number in that range.
pub fn task_count(text: &str) -> Result<u64, String> {
    let tasks: u64 = text
        .replace('_', "")
        .parse()
        .map_err(|_| format!("`{text}` is not a task count"))?;
    if tasks == 0 || tasks > u64::from(u32::MAX) {
        return Err(format!("task counts must be 1..={}, got {tasks}", u32::MAX));
    }
    Ok(tasks)
}

/// A repeat count: 1 ..= [`MAX_REPEAT`].
///
/// # Errors
///
/// When `text` is not a whole number in that range.
pub fn repeat_count(text: &str) -> Result<u64, String> {
    let n: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a repeat count"))?;
    if n == 0 || n > MAX_REPEAT {
        return Err(format!("repeat counts must be 1..={MAX_REPEAT}, got {n}"));
    }
    Ok(n)
}

/// Worker counts: `1,2,4`, `1..=4`, `1..4`, `1-4` and mixes of them;
/// sorted, deduplicated.
///
/// # Errors
///
/// A bad count ([`worker_count`]'s wording), an empty range, an empty item
/// (`1,,2`, a trailing comma), or no count.
///
/// ```
/// use crosscall_lab::cli_values::worker_list;
///
/// assert_eq!(worker_list("1..3,8"), Ok(vec![1, 2, 8]));
/// ```
pub fn worker_list(text: &str) -> Result<Vec<usize>, String> {
    let mut counts = Vec::new();
    if text.trim().is_empty() {
        return Err("no worker count given".to_owned());
    }
    for item in text.split(',') {
        if item.trim().is_empty() {
            return Err(format!(
                "empty item in the worker list `{text}` (write counts separated by single commas, e.g. 1,2,4)"
            ));
        }
        let bounds = if let Some((a, b)) = item.split_once("..=") {
            Some((worker_count(a)?, worker_count(b)?))
        } else if let Some((a, b)) = item.split_once("..") {
            Some((worker_count(a)?, worker_count(b)?.saturating_sub(1)))
        } else if let Some((a, b)) = item.split_once('-').filter(|(a, _)| !a.trim().is_empty()) {
            Some((worker_count(a)?, worker_count(b)?))
        } else {
            None
        };
        match bounds {
            Some((a, b)) if a > b => return Err(format!("empty range `{item}`")),
            Some((a, b)) => counts.extend(a..=b),
            None => counts.push(worker_count(item)?),
        }
    }
    counts.sort_unstable();
    counts.dedup();
    Ok(counts)
}

/// Refuses a run with fewer tasks than workers: a worker with nothing to do
/// would time only thread start-up, and the ns/task figure would mean nothing.
///
/// # Errors
///
/// When `tasks < workers`; the message names both flags.
///
/// ```
/// use crosscall_lab::cli_values::tasks_cover_workers;
///
/// assert!(tasks_cover_workers(2, 2).is_ok());
/// assert_eq!(
///     tasks_cover_workers(1, 2).unwrap_err(),
///     "--tasks 1 is fewer than --workers 2: every worker needs at least one task \
///      (use --tasks 100000 or more for a figure worth reading)"
/// );
/// ```
pub fn tasks_cover_workers(tasks: u64, workers: usize) -> Result<(), String> {
    if tasks < workers as u64 {
        return Err(format!(
            "--tasks {tasks} is fewer than --workers {workers}: every worker needs at least one task \
             (use --tasks 100000 or more for a figure worth reading)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_lists_accept_lists_and_ranges() {
        assert_eq!(worker_list("1,2,4").unwrap(), [1, 2, 4]);
        assert_eq!(worker_list("1..=3").unwrap(), [1, 2, 3]);
        assert_eq!(worker_list("1..3,8").unwrap(), [1, 2, 8]);
        assert_eq!(worker_list("4-6,5").unwrap(), [4, 5, 6]);
        assert_eq!(
            worker_list("0").unwrap_err(),
            worker_count("0").unwrap_err()
        );
        assert!(worker_list("3..=1").is_err());
        assert!(worker_list("x").is_err());
        assert!(worker_list("").is_err());
        assert!(worker_list("1,,2").unwrap_err().contains("empty item"));
        assert!(worker_list("1,2,").unwrap_err().contains("empty item"));
        assert_eq!(
            worker_list("-1").unwrap_err(),
            "worker counts must be 1..=4096, got -1"
        );
    }

    #[test]
    fn counts_are_bounded_with_one_wording() {
        assert_eq!(task_count("10_000_000"), Ok(10_000_000));
        assert_eq!(
            task_count("0").unwrap_err(),
            "task counts must be 1..=4294967295, got 0"
        );
        assert!(task_count("4294967296").is_err());
        assert_eq!(repeat_count("3"), Ok(3));
        assert_eq!(
            repeat_count("0").unwrap_err(),
            "repeat counts must be 1..=1000, got 0"
        );
        assert_eq!(
            worker_count("5000").unwrap_err(),
            "worker counts must be 1..=4096, got 5000"
        );
    }
}
