//! A child process's stdout read line by line on a thread of its own: the test waits (with a
//! deadline) for the line that says where the child listens, and the pipe keeps being drained
//! afterwards so the child never blocks on a full pipe.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The lines a child prints, as they come.
pub struct Lines {
    lines: mpsc::Receiver<String>,
    /// Everything read so far, for failure messages.
    seen: Vec<String>,
}

impl Lines {
    /// Starts reading `stdout` (taken from a child spawned with `Stdio::piped()`).
    pub fn new(stdout: ChildStdout) -> Lines {
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    // Nobody listens any more; keep draining so the child never blocks.
                    continue;
                }
            }
        });
        Lines {
            lines,
            seen: Vec::new(),
        }
    }

    /// Takes the stdout of `child` (which must be piped) and reads it.
    pub fn of(child: &mut Child) -> Lines {
        Lines::new(child.stdout.take().expect("the child's stdout is piped"))
    }

    /// The first line after those already seen for which `pick` gives a value, waiting at most
    /// `within`. Panics with every line seen when none does in time or the child closes stdout.
    pub fn wait_for<T>(
        &mut self,
        within: Duration,
        what: &str,
        pick: impl Fn(&str) -> Option<T>,
    ) -> T {
        self.next_match(within, pick)
            .unwrap_or_else(|why| panic!("{what}: {why}"))
    }

    /// Like [`Lines::wait_for`], but says why nothing matched instead of panicking (a child
    /// that exits early, e.g. because its port was taken, closes its stdout).
    pub fn next_match<T>(
        &mut self,
        within: Duration,
        pick: impl Fn(&str) -> Option<T>,
    ) -> Result<T, String> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = pick(&line);
                    self.seen.push(line);
                    if let Some(found) = found {
                        return Ok(found);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "not printed within {within:?}; stdout so far:\n{}",
                        self.seen.join("\n")
                    ));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(format!(
                        "the child closed its stdout first; it printed:\n{}",
                        self.seen.join("\n")
                    ));
                }
            }
        }
    }
}

/// The first `http://HOST:PORT` in `line` after `prefix`, as `HOST:PORT`.
pub fn address_after(line: &str, prefix: &str) -> Option<String> {
    let rest = line.split_once(prefix)?.1.trim_start();
    let rest = rest.strip_prefix("http://")?;
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(rest.len());
    let addr = &rest[..end];
    addr.parse::<std::net::SocketAddr>()
        .ok()
        .map(|a| a.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_read_after_their_prefix() {
        assert_eq!(
            address_after(
                "ttwc is serving on http://127.0.0.1:40123 — open http://x/",
                "serving on"
            ),
            Some("127.0.0.1:40123".to_owned())
        );
        assert_eq!(
            address_after("  ttwc                     http://127.0.0.1:5/", "ttwc "),
            Some("127.0.0.1:5".to_owned())
        );
        assert_eq!(address_after("serving on nothing", "serving on"), None);
        assert_eq!(address_after("other line", "serving on"), None);
    }
}
