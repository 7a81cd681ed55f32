//! CPU time of this process's threads, grouped by thread name, from `/proc/self/task`.
//!
//! The benchmarks run the connector, the fakes it talks to and the load generator in one process,
//! each on threads of its own name (see `rig::side_runtime`), so the CPU each one burned over a
//! measured window says which side was busy.

use std::collections::BTreeMap;

/// CPU seconds per thread, keyed by thread id, with the thread's name; and the whole machine's
/// busy CPU seconds, to tell when other processes took the cores.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    threads: BTreeMap<u64, (String, f64)>,
    machine_busy: f64,
    /// CPU seconds of every `postgres` process (its backends serve our queries).
    postgres: f64,
}

/// CPU seconds of all processes named `postgres` (live ones; exited backends are missed).
fn postgres_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    let mut total = 0.0;
    for entry in dir.flatten() {
        let path = entry.path();
        let is_pid = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        if !is_pid {
            continue;
        }
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if name.trim() == "postgres"
            && let Some(seconds) = stat_seconds(&path)
        {
            total += seconds;
        }
    }
    total
}

/// Busy CPU seconds of the whole machine since boot (`/proc/stat`, all but idle and iowait).
fn machine_busy() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return 0.0;
    };
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0.0;
    };
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let busy: u64 = ticks
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, t)| t)
        .sum();
    busy as f64 / 100.0
}

/// Reads every thread's name and CPU time; threads that vanish mid-read are skipped.
pub fn snapshot() -> Snapshot {
    let mut threads = BTreeMap::new();
    let machine_busy = machine_busy();
    let postgres = postgres_seconds();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Snapshot {
            threads,
            machine_busy,
            postgres,
        };
    };
    for entry in dir.flatten() {
        let Some(tid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u64>().ok())
        else {
            continue;
        };
        let path = entry.path();
        let name = std::fs::read_to_string(path.join("comm"))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        if let Some(seconds) = cpu_seconds(&path) {
            threads.insert(tid, (name, seconds));
        }
    }
    Snapshot {
        threads,
        machine_busy,
        postgres,
    }
}

/// `schedstat`'s first field (nanoseconds on a CPU) when the kernel has it, else `stat`'s
/// utime + stime in clock ticks (100 a second on Linux).
fn cpu_seconds(task: &std::path::Path) -> Option<f64> {
    if let Ok(text) = std::fs::read_to_string(task.join("schedstat"))
        && let Some(ns) = text
            .split_whitespace()
            .next()
            .and_then(|f| f.parse::<u64>().ok())
    {
        return Some(ns as f64 / 1e9);
    }
    stat_seconds(task)
}

/// `stat`'s utime + stime of a process or thread, in seconds (100 clock ticks a second).
fn stat_seconds(task: &std::path::Path) -> Option<f64> {
    let stat = std::fs::read_to_string(task.join("stat")).ok()?;
    // The name may hold spaces and parentheses: the fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, utime 14, stime 15 (1-based over the whole line).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// A thread's group: its name without a trailing number (`sqlx-sqlite-worker-3` →
/// `sqlx-sqlite-worker`).
fn group(name: &str) -> String {
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '_');
    if trimmed.is_empty() {
        name.to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// CPU seconds per thread group between two snapshots, busiest first.
pub fn by_group(before: &Snapshot, after: &Snapshot) -> Vec<(String, f64, usize)> {
    let mut groups: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for (tid, (name, seconds)) in &after.threads {
        let earlier = before.threads.get(tid).map(|(_, s)| *s).unwrap_or(0.0);
        let used = (seconds - earlier).max(0.0);
        let entry = groups.entry(group(name)).or_default();
        entry.0 += used;
        entry.1 += 1;
    }
    let mut out: Vec<(String, f64, usize)> = groups
        .into_iter()
        .map(|(name, (seconds, threads))| (name, seconds, threads))
        .filter(|(_, seconds, _)| *seconds >= 0.005)
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

/// One line: `ttwc 12.3 s (2), sandbox 4.5 s (1), …` over `wall` seconds.
pub fn describe(before: &Snapshot, after: &Snapshot, wall: f64) -> String {
    let groups = by_group(before, after);
    let total: f64 = groups.iter().map(|g| g.1).sum();
    let parts: Vec<String> = groups
        .iter()
        .map(|(name, seconds, threads)| {
            format!(
                "{name} {seconds:.1} s ({:.0} % of one core; {threads} thread{})",
                100.0 * seconds / wall.max(1e-9),
                if *threads == 1 { "" } else { "s" }
            )
        })
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let capacity = wall.max(1e-9) * cores as f64;
    let postgres = (after.postgres - before.postgres).max(0.0);
    let others = (after.machine_busy - before.machine_busy - total - postgres).max(0.0);
    format!(
        "CPU over {wall:.1} s wall: this process {total:.1} s ({:.0} % of {cores} cores), postgres processes {postgres:.1} s ({:.0} %), other processes {others:.1} s ({:.0} %) — {}",
        100.0 * total / capacity,
        100.0 * postgres / capacity,
        100.0 * others / capacity,
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_drop_trailing_numbers() {
        assert_eq!(group("sqlx-sqlite-worker-3"), "sqlx-sqlite-worker");
        assert_eq!(group("sandbox"), "sandbox");
        assert_eq!(group("42"), "42");
    }

    #[test]
    fn reads_this_thread() {
        let s = snapshot();
        assert!(!s.threads.is_empty());
    }
}
