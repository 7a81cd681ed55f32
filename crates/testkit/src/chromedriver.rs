//! A chromedriver for browser tests, on a port it chooses itself (`--port=0`) and reports, so no
//! other process can take the port between our choice and its bind. Killed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::child::Lines;
use crate::{Need, skipped};

pub struct Chromedriver {
    child: Child,
    /// `http://127.0.0.1:PORT`, for the WebDriver client.
    pub url: String,
    /// Its stdout, drained for as long as it runs.
    lines: Option<Lines>,
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `TTWC_CHROMEDRIVER`, else Debian's `/usr/bin/chromedriver`, when it exists.
fn path() -> Option<PathBuf> {
    let path = std::env::var_os("TTWC_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    path.exists().then_some(path)
}

/// A running chromedriver, or None after recording that `test` was skipped (a failure instead
/// when `TTWC_REQUIRE_BROWSER=1`).
pub fn start(test: &str) -> Option<Chromedriver> {
    let Some(path) = path() else {
        skipped(
            test,
            Need::Browser,
            "chromedriver is missing (scripts/test.sh installs chromium and chromium-driver)",
        );
        return None;
    };
    let child = Command::new(path)
        .arg("--port=0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    // Held from here on, so a chromedriver that never says its port is killed all the same.
    let mut driver = Chromedriver {
        child,
        url: String::new(),
        lines: None,
    };
    let lines = driver.lines.insert(Lines::of(&mut driver.child));
    // "ChromeDriver was started successfully on port 32987."
    let port: u16 = lines.wait_for(Duration::from_secs(30), "chromedriver's port", |line| {
        line.split_once("started successfully on port ")?
            .1
            .trim_end_matches('.')
            .trim()
            .parse()
            .ok()
    });
    driver.url = format!("http://127.0.0.1:{port}");
    Some(driver)
}

impl Chromedriver {
    /// The capabilities of a headless Chromium session of the given window size: Debian's
    /// `/usr/bin/chromium` (or `TTWC_CHROMIUM`), with nothing that reaches beyond loopback.
    pub fn capabilities(
        &self,
        width: u32,
        height: u32,
    ) -> serde_json::Map<String, serde_json::Value> {
        let binary =
            std::env::var("TTWC_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": binary,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-quic", "--no-first-run", format!("--window-size={width},{height}")],
            }),
        );
        caps
    }
}
