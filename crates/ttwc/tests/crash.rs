//! `ttwc serve` killed with SIGKILL in the middle of a burst and started again: every order
//! reaches TrackingTech once — those in flight are finished after restart (same payload, same
//! idempotency key), and those whose deliveries failed while it was down are found by reconcile.

use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::child::{Lines, address_after};

const BIN: &str = env!("CARGO_BIN_EXE_ttwc");

/// A running `ttwc serve`, killed (SIGKILL) on drop; its stdout is drained while it runs.
struct Server {
    child: Child,
    _lines: Lines,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ttwc(dir: &std::path::Path, listen: &str, sandbox: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env("TTWC_LISTEN", listen)
        .env("TTWC_PUBLIC_URL", format!("http://{listen}"))
        .env(
            "TTWC_DATABASE_URL",
            format!("sqlite://{}", dir.join("ttwc.db").display()),
        )
        .env("TTWC_TRACKINGTECH_URL", sandbox)
        .env("TTWC_ALLOWED_PRIVATE_NETS", "127.0.0.0/8,::1")
        .env("TTWC_RECONCILE_INTERVAL", "1")
        .env("TTWC_STATUS_INTERVAL", "3600")
        .env("TTWC_LOG", "info")
        .env_remove("TTWC_MASTER_KEY")
        .stdin(Stdio::null());
    cmd
}

/// `ttwc serve` on `listen` — port 0 for one the system gives — once it answers `/healthz`,
/// with the address it listens on. A restart must come back at the address the store's webhook
/// points to: if another process took that port meanwhile, starting is retried until a deadline.
async fn start(dir: &std::path::Path, listen: &str, sandbox: &str) -> (Server, String) {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("serve.log"))
        .expect("log file");
    let deadline = Instant::now() + Duration::from_secs(30);
    let (server, addr) = loop {
        let mut child = ttwc(dir, listen, sandbox)
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(log.try_clone().expect("log file"))
            .spawn()
            .expect("serve starts");
        let mut lines = Lines::of(&mut child);
        let left = deadline.saturating_duration_since(Instant::now());
        let bound = lines.next_match(left, |l| address_after(l, "serving on"));
        let server = Server {
            child,
            _lines: lines,
        };
        match bound {
            Ok(addr) => break (server, addr),
            Err(why) => {
                assert!(
                    Instant::now() < deadline,
                    "serve did not start on {listen}: {why}\nserve's log:\n{}",
                    std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let health = format!("http://{addr}/healthz");
    while reqwest::get(&health)
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "serve did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (server, addr)
}

async fn received(sandbox: &sandbox::Handle) -> Vec<Value> {
    let v: Value = reqwest::Client::new()
        .get(format!("{}/_sandbox/orders", sandbox.base_url()))
        .bearer_auth(sandbox.admin_token())
        .send()
        .await
        .expect("sandbox")
        .json()
        .await
        .expect("json");
    v["data"].as_array().cloned().unwrap_or_default()
}

async fn create_orders(woo: &woo_sim::Handle, count: u32) -> Vec<u64> {
    let v: Value = reqwest::Client::new()
        .post(format!("{}/_sim/orders", woo.base_url()))
        .json(&json!({"count": count, "status": "processing"}))
        .send()
        .await
        .expect("sim")
        .json()
        .await
        .expect("json");
    v["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .filter_map(Value::as_u64)
        .collect()
}

#[tokio::test]
async fn a_serve_killed_mid_burst_loses_and_duplicates_nothing() {
    let mut config = sandbox::Config::new(sandbox::Fixtures::builtin());
    config.advance_every = None;
    // A little latency keeps sends in flight when the process dies.
    let sandbox = sandbox::spawn(config).await.expect("sandbox");
    let woo = woo_sim::spawn(woo_sim::Config::new(woo_sim::Seed::builtin()))
        .await
        .expect("woo-sim");
    let http = reqwest::Client::new();
    let faults = http
        .put(format!("{}/_sandbox/faults", sandbox.base_url()))
        .bearer_auth(sandbox.admin_token())
        .json(&json!({"latency_ms": 20}))
        .send()
        .await
        .expect("faults");
    assert!(faults.status().is_success());

    let dir = tempfile::tempdir().expect("dir");
    // Serve first, on a port the system gives: the connection's webhook points at it.
    let (server, listen) = start(dir.path(), "127.0.0.1:0", &sandbox.base_url()).await;
    let mut connect = ttwc(dir.path(), &listen, &sandbox.base_url());
    connect
        .args([
            "connect",
            "--store-url",
            &woo.base_url(),
            "--code",
            "DEMO",
            "--email",
            "demo@trackingtech.test",
            "--store",
            "101",
        ])
        .args([
            "--woo-key",
            woo.consumer_key(),
            "--woo-secret",
            woo.consumer_secret(),
            "--json",
        ])
        .env("TTWC_PASSWORD", "demo1234");
    // The sandbox and the simulator run on this test's runtime: wait for the child off it.
    let connect = tokio::task::spawn_blocking(move || connect.output().expect("connect"))
        .await
        .expect("join");
    assert!(
        connect.status.success(),
        "{}",
        String::from_utf8_lossy(&connect.stderr)
    );

    let mut ids: HashSet<u64> = create_orders(&woo, 200).await.into_iter().collect();
    let start_wait = Instant::now();
    while received(&sandbox).await.len() < 30 {
        assert!(
            start_wait.elapsed() < Duration::from_secs(60),
            "sending did not start; serve's log:\n{}",
            std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(server); // SIGKILL: no shutdown, leases left behind, deliveries in flight lost.
    let before_restart = received(&sandbox).await.len();
    assert!(
        before_restart < 200,
        "killed mid-burst ({before_restart} of 200 sent)"
    );
    // Orders paid while ttwc is down: their deliveries fail, and WooCommerce never retries.
    ids.extend(create_orders(&woo, 50).await);

    let (_server, _) = start(dir.path(), &listen, &sandbox.base_url()).await;
    let listen = listen.clone();
    let (dir_path, sandbox_url) = (dir.path().to_owned(), sandbox.base_url());
    let status = move || {
        let out = ttwc(&dir_path, &listen, &sandbox_url)
            .args(["orders", "--json", "--limit", "0"])
            .output()
            .expect("orders");
        serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap_or_default()
    };
    let start_wait = Instant::now();
    let rows = loop {
        let rows = tokio::task::spawn_blocking(status.clone())
            .await
            .expect("join");
        let busy = rows
            .iter()
            .filter(|r| matches!(r["state"].as_str(), Some("queued" | "sending")))
            .count();
        if rows.len() == ids.len() && busy == 0 {
            break rows;
        }
        assert!(
            start_wait.elapsed() < Duration::from_secs(120),
            "not settled: {} rows, {busy} busy",
            rows.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let by_state: BTreeMap<String, usize> = rows.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r["state"].as_str().unwrap_or("?").to_owned())
            .or_insert(0) += 1;
        m
    });
    assert_eq!(by_state.get("failed"), None, "{by_state:?}");
    let sent: HashSet<u64> = rows
        .iter()
        .filter(|r| r["state"] == "sent")
        .filter_map(|r| r["order_id"].as_u64())
        .collect();
    assert_eq!(
        sent.len() + by_state.get("skipped").copied().unwrap_or(0),
        ids.len(),
        "{by_state:?}"
    );

    let got = received(&sandbox).await;
    let mut seen = BTreeMap::new();
    for o in &got {
        *seen
            .entry(o["order"]["order_id"].as_u64().expect("id"))
            .or_insert(0) += 1;
    }
    assert!(
        seen.values().all(|n| *n == 1),
        "an order was created twice at TrackingTech"
    );
    assert_eq!(
        seen.keys().copied().collect::<HashSet<u64>>(),
        sent,
        "the sandbox holds exactly the sent orders"
    );
}
