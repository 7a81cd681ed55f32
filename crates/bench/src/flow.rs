//! End to end (b) and drain (c): orders delivered by signed webhooks, sent by the engine, and
//! counted when the sandbox has accepted them.
//!
//! How acceptance is observed. The sandbox's admin list (`GET /_sandbox/orders`) returns every
//! order with its body in one answer under the sandbox's one lock, far too heavy to poll, and
//! the sandbox keeps no acceptance time finer than a second in any answer. So the finish line
//! comes from the connector: an order is `sent` once the sandbox answered 201 and the engine
//! recorded it (one commit after acceptance). The bench watches the engine's own in-memory
//! counter of sends (`Metrics::sends`, free to read) every 50 ms and confirms in the outbox (no
//! order queued or being sent: two counts) when it reaches N, or every 2 s in case some order
//! ends otherwise. Nothing here scans or sorts the outbox while a measurement runs: at 100,000
//! rows a sorted page read costs a second of SQLite's time and would slow the engine measured.
//! After the finish line the sandbox's list is read once to check that it holds exactly N
//! orders, each once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use connector::App;
use connector::store::{OrderFilter, OrderState};
use serde_json::json;

use crate::cpu;
use crate::rig::{Accepted, Backend, Rig, RigOptions, Runtimes, Target};

/// A paid order the engine will send: products 11 and 12 of woo-sim's builtin seed (simple,
/// with weights; one `products?include=11,12` call), a shipping address, flat-rate shipping,
/// status `processing`, created now (after the connection was made).
fn sendable_order(id: u64, store_url: &str) -> Vec<u8> {
    let now = time::OffsetDateTime::now_utc();
    let date = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let address = json!({"first_name": "Josefa", "last_name": "Muñoz", "company": "", "address_1": "Av. Providencia 1234",
        "address_2": "Depto 56", "city": "Providencia", "state": "CL-RM", "postcode": "7500000", "country": "CL"});
    let mut billing = address.clone();
    billing["email"] = json!("josefa@example.cl");
    billing["phone"] = json!("+56912345678");
    let mut shipping = address;
    shipping["phone"] = json!("");
    serde_json::to_vec(&json!({
        "id": id, "parent_id": 0, "number": id.to_string(), "status": "processing", "currency": "CLP",
        "date_created": date, "date_created_gmt": date, "date_modified": date, "date_modified_gmt": date,
        "total": "54960", "customer_id": 0, "payment_method": "webpay", "payment_method_title": "Webpay Plus",
        "billing": billing, "shipping": shipping,
        "line_items": [
            {"id": 1, "name": "Polera algodón orgánico", "product_id": 11, "variation_id": 0, "quantity": 2,
             "sku": "POL-ORG-001", "subtotal": "25980", "total": "25980", "price": 12990, "meta_data": []},
            {"id": 2, "name": "Jeans mezclilla clásico", "product_id": 12, "variation_id": 0, "quantity": 1,
             "sku": "JEA-CLA-002", "subtotal": "24990", "total": "24990", "price": 24990, "meta_data": []}
        ],
        "shipping_lines": [{"id": 3, "method_title": "Envío a domicilio", "method_id": "flat_rate", "total": "3990"}],
        "meta_data": [], "_links": {"self": [{"href": format!("{store_url}/wp-json/wc/v3/orders/{id}")}]}
    }))
    .unwrap_or_default()
}

/// What delivering N orders gave.
#[derive(Debug, Default)]
pub struct Delivered {
    /// Answered 2xx with `{"queued": true}`.
    pub queued: u64,
    /// Answered 2xx without queueing (should be 0: every order is new and eligible).
    pub not_queued: u64,
    /// Tries answered otherwise or not at all; each was tried again (up to 10 times).
    pub failed_tries: u64,
    /// Orders given up on after 10 tries.
    pub lost: u64,
    pub seconds: f64,
}

impl Delivered {
    fn add(&mut self, other: &Delivered) {
        self.queued += other.queued;
        self.not_queued += other.not_queued;
        self.failed_tries += other.failed_tries;
        self.lost += other.lost;
    }
}

/// Delivers one order to `target`, trying up to 10 times.
async fn deliver_one(http: &reqwest::Client, target: &Target, id: u64) -> Delivered {
    let mut out = Delivered::default();
    let body = sendable_order(id, &target.store_url);
    let signature = woocommerce::webhook::sign(target.secret.as_bytes(), &body);
    for attempt in 0..10u64 {
        let sent = http
            .post(&target.url)
            .header("content-type", "application/json")
            .header("x-wc-webhook-source", format!("{}/", target.store_url))
            .header("x-wc-webhook-topic", "order.updated")
            .header("x-wc-webhook-resource", "order")
            .header("x-wc-webhook-event", "updated")
            .header("x-wc-webhook-signature", &signature)
            .header("x-wc-webhook-id", "1")
            .header(
                "x-wc-webhook-delivery-id",
                "0123456789abcdef0123456789abcdef",
            )
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                let text = r.text().await.unwrap_or_default();
                if text.contains("\"queued\":true") {
                    out.queued += 1;
                } else {
                    out.not_queued += 1;
                }
                return out;
            }
            other => {
                out.failed_tries += 1;
                if std::env::var_os("TTWC_BENCH_VERBOSE").is_some() {
                    eprintln!(
                        "delivery of order {id} failed: {:?}",
                        other.map(|r| r.status())
                    );
                }
                tokio::time::sleep(Duration::from_millis(20 * (attempt + 1))).await;
            }
        }
    }
    out.lost += 1;
    out
}

/// Delivers orders `first_id .. first_id + orders` round-robin over `targets`: closed loop
/// from `concurrency` clients (each sends its next one when answered), or — with `rate` — open
/// loop, one delivery started every 1/rate s whatever the answers. Counts finished deliveries
/// in `done` as it goes.
async fn deliver(
    targets: Arc<Vec<Target>>,
    first_id: u64,
    orders: u64,
    concurrency: usize,
    rate: Option<u64>,
    done: Arc<AtomicU64>,
) -> Delivered {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency.max(16))
        .build()
        .unwrap_or_default();
    let started = Instant::now();
    let mut total = Delivered::default();
    match rate {
        None => {
            let next = Arc::new(AtomicU64::new(0));
            let mut workers = Vec::new();
            for _ in 0..concurrency {
                let (http, targets, next, done) =
                    (http.clone(), targets.clone(), next.clone(), done.clone());
                workers.push(tokio::spawn(async move {
                    let mut mine = Delivered::default();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= orders {
                            break;
                        }
                        let target = &targets[(i as usize) % targets.len()];
                        mine.add(&deliver_one(&http, target, first_id + i).await);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    mine
                }));
            }
            for w in workers {
                if let Ok(d) = w.await {
                    total.add(&d);
                }
            }
        }
        Some(rate) => {
            let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate.max(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut in_flight = Vec::with_capacity(orders as usize);
            for i in 0..orders {
                tick.tick().await;
                let (http, targets, done) = (http.clone(), targets.clone(), done.clone());
                in_flight.push(tokio::spawn(async move {
                    let target = &targets[(i as usize) % targets.len()];
                    let d = deliver_one(&http, target, first_id + i).await;
                    done.fetch_add(1, Ordering::Relaxed);
                    d
                }));
            }
            for f in in_flight {
                if let Ok(d) = f.await {
                    total.add(&d);
                }
            }
        }
    }
    total.seconds = started.elapsed().as_secs_f64();
    total
}

async fn count(app: &App, state: OrderState) -> u64 {
    match app
        .store()
        .count_orders(&OrderFilter {
            state: Some(state),
            ..OrderFilter::default()
        })
        .await
    {
        Ok(n) => n,
        Err(e) => {
            eprintln!("counting {} orders failed: {e}", state.as_str());
            0
        }
    }
}

/// Orders per final state, for the report when not all were sent.
async fn states(app: &App) -> String {
    let mut parts = Vec::new();
    for state in OrderState::ALL {
        let n = count(app, state).await;
        if n > 0 {
            parts.push(format!("{} {n}", state.as_str()));
        }
    }
    parts.join(", ")
}

/// The engine's count of send attempts that ended `outcome` (its `/metrics` counter).
fn sends(app: &App, outcome: &str) -> u64 {
    app.metrics()
        .sends
        .get_or_create(&connector::metrics::Outcome {
            outcome: outcome.to_owned(),
        })
        .get()
}

/// Waits until deliveries are over (`delivering` false) and no order is queued or being sent;
/// prints progress every 5 s. Returns the time since `since`, or None past the deadline.
async fn wait_until_sent(
    app: &App,
    label: &str,
    expected: u64,
    since: Instant,
    deadline: Duration,
    delivering: &AtomicBool,
    delivered: &AtomicU64,
) -> Option<Duration> {
    let sent_before = sends(app, "sent");
    let mut next_report = Instant::now() + Duration::from_secs(5);
    let mut last_check = Instant::now();
    let mut last_sent = 0u64;
    let mut last_at = Instant::now();
    loop {
        let sent = sends(app, "sent") - sent_before;
        if !delivering.load(Ordering::Acquire)
            && (sent >= expected || last_check.elapsed() >= Duration::from_secs(2))
        {
            last_check = Instant::now();
            let remaining =
                count(app, OrderState::Queued).await + count(app, OrderState::Sending).await;
            if remaining == 0 {
                return Some(since.elapsed());
            }
        }
        if since.elapsed() > deadline {
            return None;
        }
        if Instant::now() >= next_report {
            let rate = (sent.saturating_sub(last_sent)) as f64 / last_at.elapsed().as_secs_f64();
            eprintln!(
                "[{label}] {:>6.1} s: delivered {}, accepted {sent} ({rate:.0}/s over the last interval)",
                since.elapsed().as_secs_f64(),
                delivered.load(Ordering::Relaxed),
            );
            last_sent = sent;
            last_at = Instant::now();
            next_report += Duration::from_secs(5);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Percentiles (ms) of queued → sent over the sent orders, from the connector's rows.
async fn queued_to_sent(app: &App) -> Option<(f64, f64, f64)> {
    let rows = app
        .store()
        .orders(&OrderFilter {
            state: Some(OrderState::Sent),
            ..OrderFilter::default()
        })
        .await
        .ok()?;
    let mut ms: Vec<f64> = rows
        .iter()
        .filter_map(|r| Some((r.sent_at? - r.created_at).as_seconds_f64() * 1000.0))
        .collect();
    if ms.is_empty() {
        return None;
    }
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    Some((pct(0.5), pct(0.99), pct(1.0)))
}

pub struct EngineOptions {
    pub concurrency: Option<usize>,
    pub per_connection: Option<u32>,
    /// SQLite's `synchronous` for the SQLite runs.
    pub synchronous: String,
    /// Sandboxes taking the orders (one courier each; see `rig::Sandboxes`).
    pub sandboxes: usize,
}

impl EngineOptions {
    fn describe(&self) -> String {
        let defaults =
            connector::engine::EngineConfig::from_settings(&connector::Settings::defaults());
        let sandboxes = if self.sandboxes > 1 {
            format!(
                "; {} couriers, each on a sandbox of its own (connection i on courier i mod {})",
                self.sandboxes, self.sandboxes
            )
        } else {
            "; one sandbox".to_owned()
        };
        format!(
            "engine: {} sends in flight, {} per connection{sandboxes}",
            self.concurrency.unwrap_or(defaults.concurrency),
            self.per_connection.unwrap_or(defaults.per_connection)
        )
    }
}

struct E2eRow {
    backend: String,
    latency_ms: u64,
    delivered: Delivered,
    all_accepted: Option<Duration>,
    percentiles: Option<(f64, f64, f64)>,
    accepted: Accepted,
    states: String,
    cpu: String,
}

/// The row of the e2e table.
fn e2e_line(r: &E2eRow, orders: u64) -> String {
    let (p50, p99, max) = r
        .percentiles
        .map(|(a, b, c)| (format!("{a:.0}"), format!("{b:.0}"), format!("{c:.0}")))
        .unwrap_or_else(|| ("–".into(), "–".into(), "–".into()));
    let (after, rate) = match r.all_accepted {
        Some(d) => (
            format!("{:.2}", d.as_secs_f64()),
            format!("{:.0}", orders as f64 / d.as_secs_f64()),
        ),
        None => ("not within the deadline".into(), "–".into()),
    };
    format!(
        "| {} | {} ms | {:.0} | {after} | {rate} | {p50} | {p99} | {max} | {} ({}) | {} |",
        r.backend,
        r.latency_ms,
        r.delivered.queued as f64 / r.delivered.seconds,
        r.accepted.orders,
        r.accepted.duplicates,
        r.delivered.failed_tries,
    )
}

/// What the e2e table's row leaves out.
fn e2e_note(r: &E2eRow) -> String {
    format!(
        "- {} {} ms: outbox {}; deliveries queued {}, not queued {}, lost {}; sandbox send requests {} for {} distinct orders; {}",
        r.backend,
        r.latency_ms,
        r.states,
        r.delivered.queued,
        r.delivered.not_queued,
        r.delivered.lost,
        r.accepted.send_requests,
        r.accepted.distinct,
        r.cpu
    )
}

/// `ttwc-bench e2e`.
pub async fn e2e(
    orders: u64,
    connections: usize,
    latencies: &[u64],
    concurrency: usize,
    rate: Option<u64>,
    engine: &EngineOptions,
    deadline: Duration,
) -> anyhow::Result<()> {
    let runtimes = Runtimes::start()?;
    let mut rows = Vec::new();
    for backend in Backend::from_env(&engine.synchronous) {
        for &latency_ms in latencies {
            let label = format!("e2e {} {latency_ms} ms", backend.label());
            eprintln!(
                "[{label}] starting: sandbox, {connections} woo-sim stores, connector, wizard"
            );
            let rig = Rig::start(
                &runtimes,
                &RigOptions {
                    connections,
                    backend: &backend,
                    schema: "ttwc_bench_e2e",
                    engine_concurrency: engine.concurrency,
                    per_connection: engine.per_connection,
                    sandboxes: engine.sandboxes,
                },
            )
            .await?;
            if latency_ms > 0 {
                rig.sandbox
                    .admins
                    .set_faults(json!({"latency_ms": latency_ms}))
                    .await?;
            }
            let first_id = crate::NEXT_ORDER.fetch_add(orders + 1_000, Ordering::Relaxed);
            let delivering = Arc::new(AtomicBool::new(true));
            let done = Arc::new(AtomicU64::new(0));
            let cpu_before = cpu::snapshot();
            let started = Instant::now();
            let load = {
                let (targets, delivering, done) =
                    (rig.targets.clone(), delivering.clone(), done.clone());
                runtimes.client.spawn(async move {
                    let d = deliver(targets, first_id, orders, concurrency, rate, done).await;
                    delivering.store(false, Ordering::Release);
                    d
                })
            };
            let all_accepted = wait_until_sent(
                &rig.app,
                &label,
                orders,
                started,
                deadline,
                &delivering,
                &done,
            )
            .await;
            let wall = started.elapsed().as_secs_f64();
            let cpu = cpu::describe(&cpu_before, &cpu::snapshot(), wall);
            // Past the deadline the deliveries may still run; wait for them in any case.
            let delivered = load.await?;
            if all_accepted.is_none() {
                eprintln!("[{label}] not all accepted within {} s", deadline.as_secs());
            }
            let percentiles = queued_to_sent(&rig.app).await;
            let accepted = rig.sandbox.admins.accepted().await?;
            let states = states(&rig.app).await;
            let row = E2eRow {
                backend: backend.label(),
                latency_ms,
                delivered,
                all_accepted,
                percentiles,
                accepted,
                states,
                cpu,
            };
            // Also on stderr at once, so a run cut short keeps what it measured.
            eprintln!(
                "[{label}] done:\n{}\n{}",
                e2e_line(&row, orders),
                e2e_note(&row)
            );
            rows.push(row);
            rig.stop().await;
        }
    }
    let loop_kind = match rate {
        None => format!("{concurrency} concurrent delivery clients (closed loop)"),
        Some(r) => format!("deliveries at {r}/s (open loop)"),
    };
    println!(
        "\nend to end: {orders} orders over {connections} connections, {loop_kind}, {}, loopback",
        engine.describe()
    );
    println!(
        "| backend | sandbox added latency | deliveries/s | all accepted after s | orders/s end to end | queued→sent p50 ms | p99 ms | max ms | sandbox orders (duplicates) | delivery retries |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!("{}", e2e_line(r, orders));
    }
    println!();
    for r in &rows {
        println!("{}", e2e_note(r));
    }
    Ok(())
}

/// Whether an order has had its first try: attempted, its payload built and stored.
async fn tried(app: &App, connection_id: &str, order_id: i64) -> bool {
    matches!(
        app.store().order(connection_id, order_id).await,
        Ok(Some(o)) if o.attempts > 0 && o.payload.is_some()
    )
}

/// The orders of a run, as (connection id, order id), in delivery order.
fn order_keys(targets: &[Target], first_id: u64, orders: u64) -> Vec<(String, i64)> {
    (0..orders)
        .map(|i| {
            let target = &targets[(i as usize) % targets.len()];
            (
                target.connection_id.clone(),
                i64::try_from(first_id + i).unwrap_or(i64::MAX),
            )
        })
        .collect()
}

/// `ttwc-bench drain`.
pub async fn drain(
    orders: u64,
    connections: usize,
    concurrency: usize,
    engine: &EngineOptions,
    deadline: Duration,
    tries_deadline: Duration,
) -> anyhow::Result<()> {
    let runtimes = Runtimes::start()?;
    let mut lines = Vec::new();
    let mut notes = Vec::new();
    for backend in Backend::from_env(&engine.synchronous) {
        let label = format!("drain {}", backend.label());
        eprintln!("[{label}] starting: sandbox, {connections} woo-sim stores, connector, wizard");
        let rig = Rig::start(
            &runtimes,
            &RigOptions {
                connections,
                backend: &backend,
                schema: "ttwc_bench_drain",
                engine_concurrency: engine.concurrency,
                per_connection: engine.per_connection,
                sandboxes: engine.sandboxes,
            },
        )
        .await?;

        // The outage: the sandbox's own "down" fault (503 with Retry-After on every contract
        // call), renewed every second for 5 s, so each 503 says "retry after ≤ 5 s" as a load
        // balancer in front of a stopped service would, and it ends within a second of the
        // bench stopping the renewals.
        let outage = Arc::new(AtomicBool::new(true));
        rig.sandbox
            .admins
            .set_faults(json!({"down_for_secs": 5}))
            .await?;
        let renewals = {
            let outage = outage.clone();
            let admins = rig.sandbox.admins.clone();
            tokio::spawn(async move {
                while outage.load(Ordering::Acquire) {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if outage.load(Ordering::Acquire)
                        && let Err(e) = admins.set_faults(json!({"down_for_secs": 5})).await
                    {
                        eprintln!("renewing the outage failed: {e}");
                    }
                }
            })
        };

        let first_id = crate::NEXT_ORDER.fetch_add(orders + 1_000, Ordering::Relaxed);
        let done = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let load = {
            let (targets, done) = (rig.targets.clone(), done.clone());
            runtimes.client.spawn(async move {
                deliver(targets, first_id, orders, concurrency, None, done).await
            })
        };
        let mut next_report = Instant::now() + Duration::from_secs(5);
        while !load.is_finished() {
            if Instant::now() >= next_report {
                eprintln!(
                    "[{label}] {:>6.1} s: delivered {} (sandbox down)",
                    started.elapsed().as_secs_f64(),
                    done.load(Ordering::Relaxed)
                );
                next_report += Duration::from_secs(5);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let delivered = load.await?;
        let time_to_queue = started.elapsed();
        eprintln!(
            "[{label}] queued {} in {:.1} s ({:.0}/s); waiting until every order has been tried once",
            delivered.queued,
            time_to_queue.as_secs_f64(),
            delivered.queued as f64 / time_to_queue.as_secs_f64()
        );

        // Every order tried at least once: its payload built and stored, its send refused.
        // Checked by primary-key lookups only (no scan): first the last 50 delivered, which
        // are due last, once a second; when they have all been tried, every order not yet seen
        // tried, at most every 5 s, until none is left.
        let mut pending = order_keys(&rig.targets, first_id, orders);
        let tail_from = pending.len().saturating_sub(50);
        let mut tail: Vec<(String, i64)> = pending[tail_from..].to_vec();
        let mut next_report = Instant::now() + Duration::from_secs(5);
        let mut last_pass = Instant::now() - Duration::from_secs(10);
        let all_tried = loop {
            if started.elapsed() > tries_deadline {
                break None;
            }
            if !tail.is_empty() {
                let mut left = Vec::new();
                for (c, o) in tail {
                    if !tried(&rig.app, &c, o).await {
                        left.push((c, o));
                    }
                }
                tail = left;
            }
            if tail.is_empty() && last_pass.elapsed() >= Duration::from_secs(5) {
                last_pass = Instant::now();
                let mut left = Vec::new();
                for (c, o) in pending {
                    if !tried(&rig.app, &c, o).await {
                        left.push((c, o));
                    }
                }
                pending = left;
                if pending.is_empty() {
                    break Some(started.elapsed());
                }
            }
            if Instant::now() >= next_report {
                eprintln!(
                    "[{label}] {:>6.1} s: {} attempts so far, {}; waiting for every first try (sandbox down)",
                    started.elapsed().as_secs_f64(),
                    sends(&rig.app, "retry"),
                    if tail.is_empty() {
                        format!("{} orders not yet tried at the last check", pending.len())
                    } else {
                        format!("{} of the last 50 delivered not yet tried", tail.len())
                    }
                );
                next_report += Duration::from_secs(5);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        let attempts_made = sends(&rig.app, "retry") + sends(&rig.app, "sent");
        if all_tried.is_none() {
            eprintln!(
                "[{label}] not every order was tried within the deadline; ending the outage anyway"
            );
        }

        // The outage ends.
        outage.store(false, Ordering::Release);
        let _ = renewals.await;
        rig.sandbox.admins.clear_faults().await?;
        let ended = Instant::now();
        eprintln!(
            "[{label}] {:.1} s: the outage is over; draining",
            started.elapsed().as_secs_f64()
        );
        let no_delivery = AtomicBool::new(false);
        let cpu_before = cpu::snapshot();
        let drained = wait_until_sent(
            &rig.app,
            &label,
            orders,
            ended,
            deadline,
            &no_delivery,
            &done,
        )
        .await;
        let wall = ended.elapsed().as_secs_f64();
        let cpu = cpu::describe(&cpu_before, &cpu::snapshot(), wall);
        let accepted = rig.sandbox.admins.accepted().await?;
        let states = states(&rig.app).await;
        let (drain_s, rate) = match drained {
            Some(d) => (
                format!("{:.1}", d.as_secs_f64()),
                format!("{:.0}", orders as f64 / d.as_secs_f64()),
            ),
            None => (format!("not within {} s", deadline.as_secs()), "–".into()),
        };
        lines.push(format!(
            "| {orders} | {connections} | {} | {:.1} | {} | {:.1} | {drain_s} | {rate} | {} ({}) |",
            backend.label(),
            time_to_queue.as_secs_f64(),
            all_tried
                .map(|d| format!("{:.1}", d.as_secs_f64()))
                .unwrap_or_else(|| "not within the deadline".into()),
            attempts_made as f64 / orders.max(1) as f64,
            accepted.orders,
            accepted.duplicates,
        ));
        notes.push(format!(
            "- {}: outbox {states}; deliveries queued {}, not queued {}, failed tries {}, lost {}; sandbox send requests {} for {} distinct orders; {cpu}",
            backend.label(),
            delivered.queued,
            delivered.not_queued,
            delivered.failed_tries,
            delivered.lost,
            accepted.send_requests,
            accepted.distinct,
        ));
        // Also on stderr at once, so a run cut short keeps what it measured.
        if let (Some(line), Some(note)) = (lines.last(), notes.last()) {
            eprintln!("[{label}] done:\n{line}\n{note}");
        }
        rig.stop().await;
    }
    println!(
        "\ndrain: {orders} orders queued while the sandbox answers 503 (down fault), then the outage ends; {connections} connections, {concurrency} delivery clients, {}, loopback",
        engine.describe()
    );
    println!(
        "| orders | connections | backend | time to queue s | all tried once after s | attempts per order during the outage | time to drain s | orders/s | sandbox orders (duplicates) |"
    );
    println!("|---:|---:|---|---:|---:|---:|---:|---:|---:|");
    for l in &lines {
        println!("{l}");
    }
    println!();
    for n in &notes {
        println!("{n}");
    }
    Ok(())
}
