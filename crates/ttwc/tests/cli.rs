//! The binary as operators use it: `connect`, `status`, `disconnect`, `demo`, and clear errors.

use std::collections::BTreeSet;
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
    env_with(sandbox::Fixtures::builtin()).await
}

async fn env_with(fixtures: sandbox::Fixtures) -> Env {
    let mut config = sandbox::Config::new(fixtures);
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
            // woo-sim listens on loopback, which the address guard refuses unless allowed.
            .env("TTWC_ALLOWED_PRIVATE_NETS", "127.0.0.0/8,::1")
            .env_remove("TTWC_MASTER_KEY")
            .env("TTWC_LOG", "warn")
            // Texts render in LANG's language: the tests say which they expect.
            .env("LANG", "C.UTF-8")
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
        let mut args = self.connect_args(&url);
        args.push("--json");
        self.run(&args, Some("demo1234")).await
    }

    /// `connect` for the demo account's store 101 at `store_url`, with woo-sim's keys.
    fn connect_args<'a>(&'a self, store_url: &'a str) -> Vec<&'a str> {
        vec![
            "connect",
            "--store-url",
            store_url,
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
        ]
    }
}

/// A child process killed (if still running) when the test ends, passing or failing.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Env {
    /// Pays `count` random orders in the simulated store; their ids.
    async fn pay(&self, count: u32) -> Vec<u64> {
        let v: Value = reqwest::Client::new()
            .post(format!("{}/_sim/orders", self.woo.base_url()))
            .json(&serde_json::json!({"count": count, "status": "processing"}))
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

    /// The order as the simulated store holds it.
    async fn sim_order(&self, id: u64) -> Value {
        reqwest::get(format!("{}/_sim/orders/{id}", self.woo.base_url()))
            .await
            .expect("sim")
            .json()
            .await
            .expect("json")
    }

    async fn sandbox_faults(&self, faults: Value) {
        let r = reqwest::Client::new()
            .put(format!("{}/_sandbox/faults", self.sandbox.base_url()))
            .bearer_auth(self.sandbox.admin_token())
            .json(&faults)
            .send()
            .await
            .expect("sandbox");
        assert!(r.status().is_success(), "faults {faults}: {}", r.status());
    }

    /// The orders TrackingTech's sandbox received.
    async fn sandbox_orders(&self) -> Vec<Value> {
        let v: Value = reqwest::Client::new()
            .get(format!("{}/_sandbox/orders", self.sandbox.base_url()))
            .bearer_auth(self.sandbox.admin_token())
            .send()
            .await
            .expect("sandbox")
            .json()
            .await
            .expect("json");
        v["data"].as_array().cloned().unwrap_or_default()
    }

    /// `ttwc serve` on a port the system gives, with these extra settings; killed on drop.
    /// Also its address.
    async fn serve(&self, vars: &[(&str, &str)]) -> (Killed, testkit::child::Lines, String) {
        let mut cmd = self.ttwc(&["serve"]);
        cmd.env("TTWC_LISTEN", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let mut child = Killed(cmd.spawn().expect("serve starts"));
        let mut lines = testkit::child::Lines::of(&mut child.0);
        let addr = lines.wait_for(Duration::from_secs(30), "serve's address", |l| {
            testkit::child::address_after(l, "serving on")
        });
        (child, lines, addr)
    }

    async fn orders_json(&self) -> Vec<Value> {
        let out = self.run(&["orders", "--json", "--limit", "0"], None).await;
        serde_json::from_slice(&out.stdout).unwrap_or_default()
    }

    /// Polls `ttwc orders --json` until `done` holds, for at most a minute.
    async fn wait_for_orders(&self, what: &str, done: impl Fn(&[Value]) -> bool) {
        let start = Instant::now();
        loop {
            let rows = self.orders_json().await;
            if done(&rows) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{what}: not within a minute; orders: {rows:#?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
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

    assert_eq!(first["tt_store_name"], "Bodega Central");

    let out = e.run(&["status"], None).await;
    let table = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "headings and one connection: {table}");
    for heading in [
        "ID",
        "STATE",
        "COURIER",
        "TRACKINGTECH STORE",
        "QUEUE",
        "LAST SENT",
        "STORE URL",
    ] {
        assert!(lines[0].contains(heading), "{heading}: {table}");
    }
    for cell in [
        id.as_str(),
        "connected",
        "DEMO",
        "Bodega Central (101)",
        "never",
        &e.woo.base_url(),
    ] {
        let at = lines[1]
            .find(cell)
            .unwrap_or_else(|| panic!("{cell} in {table}"));
        let heading = match cell {
            "connected" => "STATE",
            "DEMO" => "COURIER",
            "Bodega Central (101)" => "TRACKINGTECH STORE",
            "never" => "LAST SENT",
            c if c == id => "ID",
            _ => "STORE URL",
        };
        assert_eq!(
            lines[0].find(heading),
            Some(at),
            "{cell} under {heading}: {table}"
        );
    }

    let out = e.run(&["disconnect", "--connection", &id], None).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The REST API key stays in the store (WooCommerce's API cannot delete it): disconnect
    // says so, names it as the store's key list shows it, and links to that list.
    let said = String::from_utf8_lossy(&out.stdout);
    let ck = e.woo.consumer_key();
    let ending = format!("…{}", &ck[ck.len() - 7..]);
    assert!(
        said.contains("sigue en la tienda")
            && said.contains("TrackingTech (ttwc) - API (…)")
            && said.contains(&ending)
            && said.contains(&format!(
                "{}/wp-admin/admin.php?page=wc-settings&tab=advanced&section=keys",
                e.woo.base_url()
            ))
            && !said.contains("wiped"),
        "{said}"
    );
    let out = e.run(&["status", "--json"], None).await;
    assert_eq!(stdout_json(&out)[0]["state"], "disconnected");

    // The activity, newest first, in one language: --lang, else LANG, else Spanish.
    let activity = |lang_env: &'static str, flag: Option<&'static str>| {
        let mut args = vec!["activity", "--connection", id.as_str(), "--json"];
        if let Some(flag) = flag {
            args.extend(["--lang", flag]);
        }
        let mut cmd = e.ttwc(&args);
        cmd.env("LANG", lang_env);
        async move {
            let out = tokio::task::spawn_blocking(move || cmd.output().expect("runs"))
                .await
                .expect("join");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            stdout_json(&out)
        }
    };
    let es = activity("C.UTF-8", None).await;
    assert_eq!(es[0]["kind"], "disconnected");
    assert_eq!(es[0]["code"], "connection.disconnected");
    assert_eq!(es[0]["params"], serde_json::json!({"cancelled": 0}));
    assert_eq!(
        es[0]["message"],
        "Tienda desconectada: ttwc olvidó sus claves y tokens; 0 pedidos en cola cancelados."
    );
    assert_eq!(es[1]["code"], "connection.key_left");
    assert_eq!(es[1]["params"]["ending"], serde_json::json!(ending));
    assert_eq!(es[2]["code"], "connection.connected");
    assert!(
        es[2]["at"].as_str().is_some_and(|at| at.ends_with('Z')),
        "{es}"
    );
    let en = activity("en_US.UTF-8", None).await;
    assert_eq!(
        en[0]["message"],
        "Store disconnected: ttwc forgot its keys and tokens; 0 queued orders cancelled."
    );
    assert_eq!(activity("en_US.UTF-8", Some("es")).await, es, "--lang wins");
    assert_eq!(activity("C", Some("en")).await, en);
    let out = e
        .run(&["activity", "--connection", &id, "--lang", "fr"], None)
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"fr\""));
    let out = e.run(&["activity", "--connection", "con_nope"], None).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("con_nope"));
    let out = e
        .run(&["activity", "--connection", &id, "--lang", "en"], None)
        .await;
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.starts_with("AT (UTC)") && table.contains("Store disconnected: ttwc forgot its keys"),
        "{table}"
    );
}

#[tokio::test]
async fn bad_input_names_the_bad_value_and_changes_nothing() {
    let e = env().await;
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
    let out = e
        .run(&["disconnect", "--connection", "con_nope"], None)
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("con_nope"));
}

#[tokio::test]
async fn operator_commands_never_create_a_database() {
    let e = env().await;
    let db = e.dir.path().join("ttwc.db");
    let tomorrow = (time::OffsetDateTime::now_utc().date() + time::Duration::days(1)).to_string();
    let commands: [&[&str]; 6] = [
        &["status"],
        &["status", "--json"],
        &["orders"],
        &["resend", "--connection", "con_a", "--all"],
        &["backfill", "--connection", "con_a", "--since", "2026-01-01"],
        &["disconnect", "--connection", "con_a"],
    ];
    for args in commands {
        let out = e.run(args, None).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&db.display().to_string()) && err.contains("TTWC_DATABASE_URL"),
            "{args:?} names the missing file and the variable: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?} printed nothing else");
    }
    let made: Vec<_> = std::fs::read_dir(e.dir.path())
        .expect("dir")
        .filter_map(|entry| entry.ok().map(|entry| entry.file_name()))
        .collect();
    assert!(made.is_empty(), "no database and no key file: {made:?}");

    // A date after today is refused as the web refuses it, naming the value.
    let out = e
        .run(
            &["backfill", "--connection", "con_a", "--since", &tomorrow],
            None,
        )
        .await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("\"{tomorrow}\" is in the future")),
        "{err}"
    );
}

#[tokio::test]
async fn the_demo_connects_by_itself_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().expect("dir");
    // Port 0 everywhere: the demo binds what the system gives and prints where it is.
    let child = Command::new(BIN)
        .args([
            "demo",
            "--auto",
            "--listen",
            "127.0.0.1:0",
            "--sandbox-listen",
            "127.0.0.1:0",
            "--woo-listen",
            "127.0.0.1:0",
        ])
        .current_dir(dir.path())
        .env("TTWC_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("demo starts");
    let mut child = Killed(child);
    let mut lines = testkit::child::Lines::of(&mut child.0);
    let ttwc = lines.wait_for(Duration::from_secs(60), "the demo's ttwc address", |l| {
        testkit::child::address_after(l, "ttwc ")
    });
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
    let wizard = reqwest::get(format!("http://{ttwc}/connect"))
        .await
        .expect("wizard answers");
    assert!(wizard.status().is_success());

    let pid = child.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let start = Instant::now();
    let exit = loop {
        if let Some(exit) = child.0.try_wait().expect("wait") {
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
    // Orders paid before the store was connected are not sent automatically... Some random
    // orders are virtual-only (nothing to ship, so skipped): pay until one has a shipping line.
    let mut before: Vec<u64> = Vec::new();
    let mut shippable: BTreeSet<u64> = BTreeSet::new();
    while before.len() < 4 || shippable.is_empty() {
        for id in e.pay(4 - before.len().min(3) as u32).await {
            let order = e.sim_order(id).await;
            if order["shipping_lines"]
                .as_array()
                .is_some_and(|lines| lines.iter().any(|l| l["method_id"] != "local_pickup"))
            {
                shippable.insert(id);
            }
            before.push(id);
        }
    }
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
        String::from_utf8_lossy(&out.stdout).contains(&format!("{} queued", before.len())),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Off a terminal, progress is a plain line at each tenth of the way, from the store's count.
    let progress = String::from_utf8_lossy(&out.stderr);
    let n = before.len();
    assert!(
        progress.contains(&format!("backfill: 0 % (0 of {n} orders seen, 0 queued)"))
            && progress.contains(&format!(
                "backfill: 100 % ({n} of {n} orders seen, {n} queued)"
            ))
            && !progress.contains('\r'),
        "{progress}"
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
        "last_error_code",
        "last_error_params",
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

    // A resend really queues again. With TrackingTech failing every send and one second of
    // retries allowed, `serve` gives the shippable orders up as failed (the others have
    // nothing to ship and are skipped without a call)...
    e.sandbox_faults(serde_json::json!({"error_rate": 1.0}))
        .await;
    let _serve = e.serve(&[("TTWC_RETRY_MAX_AGE", "1")]).await;
    let state_of = |rows: &[Value], order: u64| -> String {
        rows.iter()
            .find(|r| r["order_id"] == order)
            .and_then(|r| r["state"].as_str())
            .unwrap_or("missing")
            .to_owned()
    };
    let expected = |order: &u64| {
        if shippable.contains(order) {
            "failed"
        } else {
            "skipped"
        }
    };
    e.wait_for_orders("every order given up or skipped", |rows| {
        before.iter().all(|o| state_of(rows, *o) == expected(o))
    })
    .await;
    assert!(
        e.sandbox_orders().await.is_empty(),
        "nothing reached TrackingTech"
    );
    // Each failure says why in one language, with its code and parameters for programs.
    for row in e.orders_json().await {
        if row["state"] == "failed" {
            assert_eq!(row["last_error_code"], "error.gave_up", "{row}");
            assert_eq!(row["last_error_params"]["hours"], 0, "{row}");
            let message = row["last_error"].as_str().expect("a message");
            assert!(
                message.starts_with(
                    "Se dejó de reintentar después de 0 horas: TrackingTech no respondió bien"
                ),
                "{message}"
            );
        }
    }

    // ...and once TrackingTech answers again, a resend of one order sends that one alone...
    e.sandbox_faults(serde_json::json!({})).await;
    let first = *shippable.first().expect("one shippable order");
    let out = e
        .run(
            &["resend", "--connection", &id, "--order", &first.to_string()],
            None,
        )
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 order(s) queued again"));
    e.wait_for_orders("the resent order sent", |rows| {
        state_of(rows, first) == "sent"
    })
    .await;
    let rest: Vec<u64> = shippable.iter().copied().filter(|o| *o != first).collect();
    let rows = e.orders_json().await;
    for o in &rest {
        assert_eq!(state_of(&rows, *o), "failed", "order {o} was not resent");
    }

    // ...and a resend of all sends every other failed one, each exactly once.
    let out = e.run(&["resend", "--connection", &id, "--all"], None).await;
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("{} order(s) queued again", rest.len())),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    e.wait_for_orders("every resent order sent", |rows| {
        before.iter().all(|o| {
            state_of(rows, *o)
                == if shippable.contains(o) {
                    "sent"
                } else {
                    "skipped"
                }
        })
    })
    .await;
    let mut at_trackingtech: Vec<u64> = e
        .sandbox_orders()
        .await
        .iter()
        .filter_map(|o| o["order"]["order_id"].as_u64())
        .collect();
    at_trackingtech.sort_unstable();
    assert_eq!(
        at_trackingtech,
        shippable.iter().copied().collect::<Vec<_>>(),
        "each shippable order once at TrackingTech"
    );
}

/// Issue 19, item 2: a store another TrackingTech account holds is not linked by `ttwc connect`
/// unless the operator says `--take-over`; then the old integration is uninstalled with its own
/// token and the activity says who took the store from whom. A reconnect by the same account
/// uninstalls nothing.
#[tokio::test]
async fn connect_refuses_another_accounts_store_unless_take_over() {
    let fixtures =
        sandbox::Fixtures::from_toml(include_str!("../../../testdata/sandbox/two-accounts.toml"))
            .expect("fixtures");
    let e = &env_with(fixtures).await;
    let customers = move || async move {
        let v: Value = reqwest::Client::new()
            .get(format!("{}/_sandbox/customers", e.sandbox.base_url()))
            .bearer_auth(e.sandbox.admin_token())
            .send()
            .await
            .expect("sandbox")
            .json()
            .await
            .expect("json");
        // Account email → integration tokens that still work.
        v["data"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|c| {
                (
                    c["account_email"].as_str().unwrap_or_default().to_owned(),
                    c["integration_tokens"].as_u64().unwrap_or(u64::MAX),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let demo = || ("demo@trackingtech.test".to_owned(), 0);

    // The same account connecting twice: one customer, both tokens still installed.
    let mut ids = BTreeSet::new();
    for _ in 0..2 {
        let out = e.connect().await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ids.insert(stdout_json(&out)["id"].as_str().expect("id").to_owned());
    }
    assert_eq!(ids.len(), 1, "one connection: {ids:?}");
    let id = ids.pop_first().expect("id");
    assert_eq!(
        customers().await,
        [(demo().0, 2)].into_iter().collect(),
        "a reconnect by the same account uninstalls nothing"
    );

    let url = e.woo.base_url();
    let url = &url;
    let other = move |take_over: bool| {
        let mut args = vec![
            "connect",
            "--store-url",
            url,
            "--code",
            "DEMO",
            "--email",
            "otro@trackingtech.test",
            "--store",
            "201",
            "--woo-key",
            e.woo.consumer_key(),
            "--woo-secret",
            e.woo.consumer_secret(),
            "--json",
        ];
        if take_over {
            args.push("--take-over");
        }
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            e.run(&args, Some("otro1234")).await
        }
    };

    let out = other(false).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{url} is connected to another TrackingTech account (DEMO:1, connection {id})"
        )) && err.contains("--take-over")
            && err.contains(&format!("ttwc disconnect --connection {id}")),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    // Nothing changed: the other account linked nothing, the connection is the first's.
    assert_eq!(customers().await, [(demo().0, 2)].into_iter().collect());
    let status = stdout_json(&e.run(&["status", "--json"], None).await);
    assert_eq!(status[0]["tt_store_id"], 101, "{status}");
    let activity = move |id: String| async move {
        stdout_json(
            &e.run(
                &["activity", "--connection", &id, "--json", "--lang", "en"],
                None,
            )
            .await,
        )
    };
    assert_eq!(activity(id.clone()).await[0]["kind"], "reconnected");

    let out = other(true).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout_json(&out)["id"],
        Value::String(id.clone()),
        "the same connection"
    );
    let status = stdout_json(&e.run(&["status", "--json"], None).await);
    assert_eq!(status[0]["tt_store_id"], 201, "{status}");
    assert_eq!(status[0]["state"], "connected", "{status}");
    // The first account's integration was uninstalled; the new one works.
    assert_eq!(
        customers().await,
        [demo(), ("otro@trackingtech.test".to_owned(), 1)]
            .into_iter()
            .collect()
    );
    let log = activity(id.clone()).await;
    assert_eq!(log[0]["kind"], "taken_over", "{log}");
    assert_eq!(log[0]["code"], "connection.taken_over");
    assert_eq!(log[0]["params"]["old_owner"], "DEMO:1");
    assert_eq!(log[0]["params"]["new_owner"], "DEMO:2");
    assert_eq!(log[0]["params"]["uninstalled"], true);
    let said = log[0]["message"].as_str().unwrap_or_default();
    assert!(
        said.contains("from TrackingTech account DEMO:1 to account DEMO:2")
            && said.contains("--take-over")
            && !said.contains("@"),
        "owner ids, no emails: {said}"
    );
}

/// Issue 19: with the default settings `ttwc connect` dials no internal address, whatever its
/// spelling, and says why in the operator's terms.
#[tokio::test]
async fn connect_refuses_an_internal_address_without_dialling_it() {
    let e = env().await;
    let (port, accepted) = testkit::net::counting_listener().await;
    for url in [
        format!("http://127.0.0.1:{port}"),
        format!("http://[::ffff:127.0.0.1]:{port}"),
        format!("http://localhost:{port}"),
    ] {
        let mut args = e.connect_args(&url);
        args.extend(["--lang", "en"]);
        let mut cmd = e.ttwc(&args);
        // The guard's default: no private network allowed.
        cmd.env("TTWC_ALLOWED_PRIVATE_NETS", "")
            .env("TTWC_PASSWORD", "demo1234");
        let out = tokio::task::spawn_blocking(move || cmd.output().expect("ttwc runs"))
            .await
            .expect("join");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{url}: {err}");
        assert!(err.contains("not a public store"), "{url}: {err}");
    }
    assert_eq!(accepted.count(), 0, "no connection was made");
    let status = e.run(&["status", "--json"], None).await;
    let rows: Value = serde_json::from_slice(&status.stdout).unwrap_or(Value::Null);
    assert_eq!(rows, serde_json::json!([]), "nothing was stored");
}

/// Issue 19: text from outside reaches the terminal neutralized and cut, as on the pages: an
/// order number with a bidi override, a NUL and an escape sequence, 100,000 characters long.
#[tokio::test]
async fn orders_show_outside_text_neutralized_and_cut() {
    let e = env().await;
    let out = e.connect().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = stdout_json(&out)["id"].as_str().expect("id").to_owned();
    let (_serve, _lines, addr) = e.serve(&[]).await;

    // A delivery signed as the store signs it, for an order the store does not hold.
    let hooks: Value = reqwest::get(format!("{}/_sim/webhooks", e.woo.base_url()))
        .await
        .expect("sim")
        .json()
        .await
        .expect("json");
    let hooks = hooks.get("data").unwrap_or(&hooks);
    let secret = hooks[0]["secret"].as_str().expect("secret");
    let number = format!("N\u{202e}\u{0}\u{1b}[2J{}", "8".repeat(100_000));
    let created = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);
    let created = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        created.year(),
        created.month() as u8,
        created.day(),
        created.hour(),
        created.minute(),
        created.second()
    );
    let body = serde_json::to_vec(&serde_json::json!({
        "id": 96_001, "number": number, "status": "processing", "total": "1000",
        "date_created_gmt": created, "date_modified_gmt": created,
        "billing": {"first_name": "Ana", "last_name": "Pérez", "address_1": "Irarrázaval 123",
                    "city": "Ñuñoa", "state": "CL-RM", "postcode": "", "country": "CL",
                    "email": "ana@example.cl", "phone": "+56911111111"},
        "shipping": {}, "line_items": [], "shipping_lines": [], "meta_data": []
    }))
    .expect("json");
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/webhooks/woocommerce/{id}"))
        .header("content-type", "application/json")
        .header("x-wc-webhook-source", format!("{}/", e.woo.base_url()))
        .header("x-wc-webhook-topic", "order.updated")
        .header("x-wc-webhook-resource", "order")
        .header("x-wc-webhook-event", "updated")
        .header(
            "x-wc-webhook-signature",
            woocommerce::webhook::sign(secret.as_bytes(), &body),
        )
        .header("x-wc-webhook-id", hooks[0]["id"].to_string())
        .header("x-wc-webhook-delivery-id", "1")
        .body(body)
        .send()
        .await
        .expect("delivery");
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    e.wait_for_orders("the order recorded", |rows| {
        rows.iter().any(|r| r["order_id"] == 96_001)
    })
    .await;

    // The JSON for programs keeps the number as the store wrote it...
    let rows = e.orders_json().await;
    let row = rows.iter().find(|r| r["order_id"] == 96_001).expect("row");
    assert_eq!(row["order_number"], number.as_str());
    // ...and the table shows it neutralized and cut at 40 columns.
    let out = e.run(&["orders"], None).await;
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).expect("UTF-8");
    for c in ['\u{202e}', '\u{0}', '\u{1b}'] {
        assert!(!table.contains(c), "{c:?} reached the terminal: {table}");
    }
    let cut = format!("N???[2J{}…", "8".repeat(32));
    assert!(table.contains(&cut), "{table}");
    assert!(!table.contains(&"8".repeat(33)), "{table}");
}
