//! The binary as operators use it: `connect`, `status`, `disconnect`, `demo`, and clear errors.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ttwc");

struct Env {
    sandbox: sandbox::Handle,
    woo: woo_sim::Handle,
    dir: tempfile::TempDir,
}

async fn env() -> Env {
    let mut config = sandbox::Config::new(sandbox::Fixtures::builtin());
    config.advance_every = None;
    let sandbox = sandbox::spawn(config).await.expect("sandbox");
    let woo = woo_sim::spawn(woo_sim::Config::new(woo_sim::Seed::builtin()))
        .await
        .expect("woo-sim");
    Env {
        sandbox,
        woo,
        dir: tempfile::tempdir().expect("dir"),
    }
}

impl Env {
    fn ttwc(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env(
                "TTWC_DATABASE_URL",
                format!("sqlite://{}", self.dir.path().join("ttwc.db").display()),
            )
            .env("TTWC_TRACKINGTECH_URL", self.sandbox.base_url())
            .env("TTWC_PUBLIC_URL", "http://127.0.0.1:9")
            .env_remove("TTWC_MASTER_KEY")
            .env("TTWC_LOG", "warn")
            .stdin(Stdio::null());
        cmd
    }

    async fn run(&self, args: &[&str], password: Option<&str>) -> Output {
        let mut cmd = self.ttwc(args);
        if let Some(p) = password {
            cmd.env("TTWC_PASSWORD", p);
        }
        tokio::task::spawn_blocking(move || cmd.output().expect("ttwc runs"))
            .await
            .expect("join")
    }

    async fn connect(&self) -> Output {
        let url = self.woo.base_url();
        let args = [
            "connect",
            "--store-url",
            &url,
            "--code",
            "DEMO",
            "--email",
            "demo@trackingtech.test",
            "--store",
            "101",
            "--woo-key",
            self.woo.consumer_key(),
            "--woo-secret",
            self.woo.consumer_secret(),
            "--json",
        ];
        self.run(&args, Some("demo1234")).await
    }
}

fn stdout_json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

#[tokio::test]
async fn connect_status_and_disconnect_from_the_command_line() {
    let e = env().await;
    let out = e.connect().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let connected = stdout_json(&out);
    assert_eq!(connected["state"], "connected");
    let id = connected["id"].as_str().expect("id").to_owned();
    assert_eq!(
        connected.as_object().map(|o| o.len()),
        Some(2),
        "exactly {{id, state}}: {connected}"
    );

    let out = e.run(&["status", "--json"], None).await;
    assert!(out.status.success());
    let status = stdout_json(&out);
    let first = &status[0];
    for key in [
        "id",
        "store_url",
        "state",
        "tenant_code",
        "tt_store_id",
        "queue_depth",
        "last_sent_at",
    ] {
        assert!(first.get(key).is_some(), "status --json has {key}: {first}");
    }
    assert_eq!(first["id"], Value::String(id.clone()));
    assert_eq!(first["state"], "connected");
    assert_eq!(first["tenant_code"], "DEMO");
    assert_eq!(first["tt_store_id"], 101);

    let out = e.run(&["status"], None).await;
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains(&id) && table.contains("connected"),
        "{table}"
    );

    let out = e.run(&["disconnect", "--connection", &id], None).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = e.run(&["status", "--json"], None).await;
    assert_eq!(stdout_json(&out)[0]["state"], "disconnected");
}

#[tokio::test]
async fn bad_input_names_the_bad_value_and_changes_nothing() {
    let e = env().await;
    let out = e
        .run(&["disconnect", "--connection", "con_nope"], None)
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("con_nope"));

    let url = e.woo.base_url();
    let base = [
        "connect",
        "--store-url",
        &url,
        "--code",
        "DEMO",
        "--email",
        "demo@trackingtech.test",
        "--store",
        "101",
        "--woo-key",
        "ck_x",
        "--woo-secret",
        "cs_x",
    ];
    let out = e.run(&base, Some("wrong")).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("wrong email or password"), "{err}");
    assert!(
        !err.contains("wrong\n") && !err.contains("demo1234"),
        "the password is never printed"
    );

    let mut bad_store = base.to_vec();
    bad_store[8] = "999";
    let out = e.run(&bad_store, Some("demo1234")).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"999\"") && err.contains("101 (Bodega Central)"),
        "{err}"
    );

    let out = e.run(&base, None).await;
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("TTWC_PASSWORD"),
        "no password and no terminal"
    );

    let mut cmd = e.ttwc(&["status"]);
    cmd.env("TTWC_DATABASE_URL", "mysql://localhost/ttwc");
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("runs"))
        .await
        .expect("join");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("TTWC_DATABASE_URL") && err.contains("mysql://localhost/ttwc"),
        "{err}"
    );

    let out = e.run(&["status", "--json"], None).await;
    assert_eq!(
        stdout_json(&out),
        serde_json::json!([]),
        "nothing was created"
    );
}

#[tokio::test]
async fn the_demo_connects_by_itself_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().expect("dir");
    let ports: Vec<String> = (0..3)
        .map(|_| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("port")
                .to_string()
        })
        .collect();
    let mut child = Command::new(BIN)
        .args([
            "demo",
            "--auto",
            "--listen",
            &ports[0],
            "--sandbox-listen",
            &ports[1],
            "--woo-listen",
            &ports[2],
        ])
        .current_dir(dir.path())
        .env("TTWC_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("demo starts");
    let db = dir.path().join("ttwc-demo.db");
    let start = Instant::now();
    let status = loop {
        let out = Command::new(BIN)
            .args(["status", "--json"])
            .env("TTWC_DATABASE_URL", format!("sqlite://{}", db.display()))
            .current_dir(dir.path())
            .output()
            .expect("status runs");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        if v[0]["state"] == "connected" {
            break v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the demo did not connect in time"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status.as_array().map(Vec::len), Some(1));
    let wizard = reqwest::get(format!("http://{}/connect", ports[0]))
        .await
        .expect("wizard answers");
    assert!(wizard.status().is_success());

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let start = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the demo did not stop on Ctrl-C"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(exit.success(), "clean exit: {exit:?}");
}

#[tokio::test]
async fn orders_resend_and_backfill_from_the_command_line() {
    let e = env().await;
    // Orders paid before the store was connected are not sent automatically...
    let before: Vec<u64> = {
        let v: Value = reqwest::Client::new()
            .post(format!("{}/_sim/orders", e.woo.base_url()))
            .json(&serde_json::json!({"count": 4, "status": "processing"}))
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
    };
    let out = e.connect().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = stdout_json(&out)["id"].as_str().expect("id").to_owned();
    let out = e.run(&["orders", "--json"], None).await;
    assert_eq!(stdout_json(&out), serde_json::json!([]));

    // ...only through backfill.
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let out = e
        .run(&["backfill", "--connection", &id, "--since", &today], None)
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("4 queued"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = e
        .run(
            &["orders", "--json", "--connection", &id, "--state", "queued"],
            None,
        )
        .await;
    let rows = stdout_json(&out);
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), before.len());
    for key in [
        "connection_id",
        "order_id",
        "state",
        "attempts",
        "last_error",
        "tracking_id",
        "tt_status",
    ] {
        assert!(
            rows[0].get(key).is_some(),
            "orders --json has {key}: {}",
            rows[0]
        );
    }
    // A second backfill finds them known.
    let out = e
        .run(&["backfill", "--connection", &id, "--since", &today], None)
        .await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 queued"));

    // Bad values are named.
    let out = e.run(&["orders", "--state", "lost"], None).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"lost\""));
    let out = e
        .run(&["backfill", "--connection", &id, "--since", "ayer"], None)
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"ayer\""));
    let out = e
        .run(
            &[
                "resend",
                "--connection",
                &id,
                "--order",
                &before[0].to_string(),
            ],
            None,
        )
        .await;
    assert_eq!(out.status.code(), Some(1), "a queued order is not resent");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not failed, rejected"));
    let out = e
        .run(&["resend", "--connection", "con_nope", "--all"], None)
        .await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("con_nope"));
}
