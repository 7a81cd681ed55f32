//! Several `ttwc serve` replicas on one PostgreSQL: the same deliveries to both end in one order
//! each at TrackingTech, and a replica killed while holding leased orders has them finished by
//! the other once the lease expires. Needs `TTWC_TEST_POSTGRES_URL`: without it the tests are
//! recorded as skipped, or fail under `TTWC_REQUIRE_POSTGRES=1`.

use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};
use testkit::child::{Lines, address_after};
use testkit::postgres::{PgSchema, postgres_url};

const BIN: &str = env!("CARGO_BIN_EXE_ttwc");

/// A running `ttwc serve` replica, killed (SIGKILL) on drop; `addr` is where it listens.
struct Server {
    child: Child,
    addr: String,
    _lines: Lines,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Cluster {
    sandbox: sandbox::Handle,
    woo: woo_sim::Handle,
    dir: tempfile::TempDir,
    schema: PgSchema,
    key: String,
}

async fn cluster(test: &str) -> Option<Cluster> {
    let server = postgres_url(test)?;
    let schema = PgSchema::create(&server).await;
    let mut config = sandbox::Config::new(sandbox::Fixtures::builtin());
    config.advance_every = None;
    let sandbox = sandbox::spawn(config).await.expect("sandbox");
    let woo = woo_sim::spawn(woo_sim::Config::new(woo_sim::Seed::builtin()))
        .await
        .expect("woo-sim");
    let key: String = (0..32)
        .map(|_| format!("{:02x}", rand::rng().random::<u8>()))
        .collect();
    Some(Cluster {
        sandbox,
        woo,
        dir: tempfile::tempdir().expect("dir"),
        schema,
        key,
    })
}

impl Cluster {
    /// The binary with this cluster's settings. Replicas listen on ports the system gives; the
    /// store's webhooks are paused in every test, so the public URL only has to be valid.
    fn ttwc(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.dir.path())
            .env("TTWC_LISTEN", "127.0.0.1:0")
            .env("TTWC_PUBLIC_URL", "http://127.0.0.1:9")
            .env("TTWC_DATABASE_URL", &self.schema.url)
            .env("TTWC_MASTER_KEY", &self.key)
            .env("TTWC_TRACKINGTECH_URL", self.sandbox.base_url())
            .env("TTWC_ALLOWED_PRIVATE_NETS", "127.0.0.0/8,::1")
            .env("TTWC_JOB_LEASE", "3")
            .env("TTWC_RECONCILE_INTERVAL", "3600")
            .env("TTWC_LOG", "warn")
            .stdin(Stdio::null());
        cmd
    }

    async fn run(&self, mut cmd: Command) -> std::process::Output {
        tokio::task::spawn_blocking(move || cmd.output().expect("ttwc runs"))
            .await
            .expect("join")
    }

    async fn start(&self, name: &str) -> Server {
        let mut child = self
            .ttwc()
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve");
        let mut lines = Lines::of(&mut child);
        let bound = lines.next_match(Duration::from_secs(30), |l| address_after(l, "serving on"));
        let server = Server {
            child,
            addr: bound.unwrap_or_else(|why| panic!("replica {name} did not start: {why}")),
            _lines: lines,
        };
        let ready = format!("http://{}/readyz", server.addr);
        let start = Instant::now();
        while reqwest::get(&ready)
            .await
            .map(|r| !r.status().is_success())
            .unwrap_or(true)
        {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "replica {name} did not come up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server
    }

    async fn connect(&self) -> String {
        let mut cmd = self.ttwc();
        cmd.args([
            "connect",
            "--store-url",
            &self.woo.base_url(),
            "--code",
            "DEMO",
            "--email",
            "demo@trackingtech.test",
            "--store",
            "101",
        ])
        .args([
            "--woo-key",
            self.woo.consumer_key(),
            "--woo-secret",
            self.woo.consumer_secret(),
            "--json",
        ])
        .env("TTWC_PASSWORD", "demo1234");
        let out = self.run(cmd).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("json");
        v["id"].as_str().expect("id").to_owned()
    }

    async fn orders(&self) -> Vec<Value> {
        let mut cmd = self.ttwc();
        cmd.args(["orders", "--json", "--limit", "0"]);
        let out = self.run(cmd).await;
        serde_json::from_slice(&out.stdout).unwrap_or_default()
    }

    async fn sandbox(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        reqwest::Client::new()
            .request(method, format!("{}{path}", self.sandbox.base_url()))
            .bearer_auth(self.sandbox.admin_token())
            .json(&body)
            .send()
            .await
            .expect("sandbox")
            .json()
            .await
            .unwrap_or(Value::Null)
    }

    /// Orders paid in the store, delivered by us (signed like WooCommerce) to the given replicas.
    async fn pay_and_deliver(&self, conn: &str, count: u32, replicas: &[&Server]) -> HashSet<u64> {
        let http = reqwest::Client::new();
        let ids: Value = http
            .post(format!("{}/_sim/orders", self.woo.base_url()))
            .json(&json!({"count": count, "status": "processing"}))
            .send()
            .await
            .expect("sim")
            .json()
            .await
            .expect("json");
        let hooks: Value = http
            .get(format!("{}/_sim/webhooks", self.woo.base_url()))
            .send()
            .await
            .expect("sim")
            .json()
            .await
            .expect("json");
        let secret = hooks[0]["secret"].as_str().expect("secret").to_owned();
        let mut out = HashSet::new();
        for id in ids["ids"]
            .as_array()
            .expect("ids")
            .iter()
            .filter_map(Value::as_u64)
        {
            out.insert(id);
            let mut order: Value = http
                .get(format!("{}/_sim/orders/{id}", self.woo.base_url()))
                .send()
                .await
                .expect("sim")
                .json()
                .await
                .expect("json");
            if let Some(o) = order.as_object_mut() {
                o.remove("notes");
            }
            let body = serde_json::to_vec(&order).expect("json");
            let signature = woocommerce::webhook::sign(secret.as_bytes(), &body);
            let sends = replicas.iter().map(|replica| {
                http.post(format!(
                    "http://{}/webhooks/woocommerce/{conn}",
                    replica.addr
                ))
                .header("content-type", "application/json")
                .header("x-wc-webhook-source", format!("{}/", self.woo.base_url()))
                .header("x-wc-webhook-topic", "order.updated")
                .header("x-wc-webhook-resource", "order")
                .header("x-wc-webhook-event", "updated")
                .header("x-wc-webhook-signature", signature.clone())
                .header("x-wc-webhook-id", hooks[0]["id"].to_string())
                .header(
                    "x-wc-webhook-delivery-id",
                    "0123456789abcdef0123456789abcdef",
                )
                .body(body.clone())
                .send()
            });
            for r in futures_util::future::join_all(sends).await {
                assert_eq!(r.expect("delivery").status(), reqwest::StatusCode::OK);
            }
        }
        out
    }

    async fn settled(&self, expected: usize, deadline: Duration) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let rows = self.orders().await;
            let busy = rows
                .iter()
                .filter(|r| matches!(r["state"].as_str(), Some("queued" | "sending")))
                .count();
            if rows.len() >= expected && busy == 0 {
                return rows;
            }
            assert!(
                start.elapsed() < deadline,
                "not settled: {} rows, {busy} busy",
                rows.len()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Every sent order is at TrackingTech exactly once.
    async fn exactly_once(&self, rows: &[Value]) {
        let sent: HashSet<u64> = rows
            .iter()
            .filter(|r| r["state"] == "sent")
            .filter_map(|r| r["order_id"].as_u64())
            .collect();
        let got = self
            .sandbox(reqwest::Method::GET, "/_sandbox/orders", Value::Null)
            .await;
        let mut seen = BTreeMap::new();
        for o in got["data"].as_array().expect("data") {
            *seen
                .entry(o["order"]["order_id"].as_u64().expect("id"))
                .or_insert(0) += 1;
        }
        assert!(
            seen.values().all(|n| *n == 1),
            "an order was created twice: {seen:?}"
        );
        assert_eq!(seen.keys().copied().collect::<HashSet<_>>(), sent);
    }
}

#[tokio::test]
async fn two_replicas_given_the_same_deliveries_send_each_order_once() {
    let Some(c) =
        cluster("replicas::two_replicas_given_the_same_deliveries_send_each_order_once").await
    else {
        return;
    };
    let conn = c.connect().await;
    let (a, b) = (c.start("A").await, c.start("B").await);
    // Only our deliveries: each goes to both replicas at the same time.
    reqwest::Client::new()
        .put(format!("{}/_sim/faults", c.woo.base_url()))
        .json(&json!({"webhooks_paused": true}))
        .send()
        .await
        .expect("pause");
    let ids = c.pay_and_deliver(&conn, 60, &[&a, &b]).await;
    let rows = c.settled(ids.len(), Duration::from_secs(90)).await;
    assert_eq!(rows.len(), ids.len());
    assert!(
        rows.iter()
            .all(|r| matches!(r["state"].as_str(), Some("sent" | "skipped"))),
        "{rows:?}"
    );
    c.exactly_once(&rows).await;
}

#[tokio::test]
async fn a_killed_replicas_leased_orders_are_finished_by_the_other() {
    let Some(c) =
        cluster("replicas::a_killed_replicas_leased_orders_are_finished_by_the_other").await
    else {
        return;
    };
    let conn = c.connect().await;
    reqwest::Client::new()
        .put(format!("{}/_sim/faults", c.woo.base_url()))
        .json(&json!({"webhooks_paused": true}))
        .send()
        .await
        .expect("pause");
    // Slow TrackingTech: sends stay in flight, leased, when replica A dies.
    c.sandbox(
        reqwest::Method::PUT,
        "/_sandbox/faults",
        json!({"latency_ms": 1500}),
    )
    .await;
    let a = c.start("A").await;
    let ids = c.pay_and_deliver(&conn, 12, &[&a]).await;
    let start = Instant::now();
    while !c.orders().await.iter().any(|r| r["state"] == "sending") {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "A never started sending"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(a); // SIGKILL with leases held.
    c.sandbox(reqwest::Method::DELETE, "/_sandbox/faults", json!({}))
        .await;
    let _b = c.start("B").await;
    let rows = c.settled(ids.len(), Duration::from_secs(60)).await;
    assert!(
        rows.iter()
            .all(|r| matches!(r["state"].as_str(), Some("sent" | "skipped"))),
        "{rows:?}"
    );
    c.exactly_once(&rows).await;
}
