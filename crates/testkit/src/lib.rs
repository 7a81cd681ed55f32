//! What the workspace's test programs share, so each behaves the same way everywhere:
//!
//! - [`skipped`]: a test that cannot run here says so where a person looks — on the process's
//!   stderr and in the file `TTWC_TEST_SKIPS` names, which `scripts/test.sh` prints after cargo
//!   finishes — or fails, when `TTWC_REQUIRE_POSTGRES=1` / `TTWC_REQUIRE_BROWSER=1` say the
//!   machine has what it needs (CI sets both);
//! - [`postgres`]: the server of `TTWC_TEST_POSTGRES_URL` and a fresh schema per test;
//! - [`child`]: a child process's output read line by line, to learn the address it bound to
//!   port 0 (no test picks a "free" port and hopes nobody takes it before the child binds it);
//! - [`chromedriver`]: a chromedriver on a port of its own choosing, killed on drop.

pub mod child;
pub mod chromedriver;
pub mod net;
pub mod postgres;

use std::io::Write;
use std::path::Path;

/// What a test may find missing on a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A PostgreSQL server (`TTWC_TEST_POSTGRES_URL`).
    Postgres,
    /// Chromium and chromedriver.
    Browser,
}

impl Need {
    /// The variable that, set to `1`, turns this skip into a failure.
    pub fn required_by(self) -> &'static str {
        match self {
            Need::Postgres => "TTWC_REQUIRE_POSTGRES",
            Need::Browser => "TTWC_REQUIRE_BROWSER",
        }
    }

    fn required(self) -> bool {
        std::env::var(self.required_by()).is_ok_and(|v| v == "1")
    }
}

/// Records that `test` did not run for `reason`, or panics when the machine is declared to have
/// what `need` names. The caller returns early after this.
pub fn skipped(test: &str, need: Need, reason: &str) {
    let file = std::env::var_os("TTWC_TEST_SKIPS").map(std::path::PathBuf::from);
    record(test, need, reason, need.required(), file.as_deref());
    // Straight to the process's stderr: `eprintln!` is captured by the test harness and shown
    // only for failing tests.
    let _ = writeln!(std::io::stderr(), "\n!!! SKIPPED {test}: {reason} !!!\n");
}

fn record(test: &str, need: Need, reason: &str, required: bool, file: Option<&Path>) {
    if required {
        panic!(
            "{test} cannot run: {reason}; {} is 1, so this is a failure, not a skip",
            need.required_by()
        );
    }
    if let Some(path) = file {
        // One short append per skip: O_APPEND keeps the lines of concurrent test processes whole.
        let line = format!("{test} — {reason}\n");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            panic!(
                "cannot record the skip of {test} in TTWC_TEST_SKIPS ({}): {e}",
                path.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_skip_is_one_line_in_the_skips_file() {
        let dir = std::env::temp_dir().join(format!("testkit-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("skips.txt");
        record("a::one", Need::Postgres, "no server", false, Some(&file));
        record(
            "b::two",
            Need::Browser,
            "no chromedriver",
            false,
            Some(&file),
        );
        let text = std::fs::read_to_string(&file).expect("written");
        assert_eq!(text, "a::one — no server\nb::two — no chromedriver\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    #[should_panic(expected = "TTWC_REQUIRE_POSTGRES is 1")]
    fn a_required_need_fails_instead_of_skipping() {
        record("a::one", Need::Postgres, "no server", true, None);
    }
}
