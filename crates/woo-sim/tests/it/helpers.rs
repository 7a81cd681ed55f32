//! Test helpers: spawning the simulator, an OAuth 1.0a signer written from RFC 5849 §3.4 (not
//! from the simulator's verifier), a webhook/callback receiver, polling with a deadline.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use woo_sim::{Config, Handle, Seed};

pub async fn sim() -> Handle {
    sim_with(|_| {}).await
}

pub async fn sim_with(f: impl FnOnce(&mut Config)) -> Handle {
    let mut config = Config::new(Seed::builtin());
    config.delivery_delay = Duration::from_millis(0);
    f(&mut config);
    match woo_sim::spawn(config).await {
        Ok(h) => h,
        Err(e) => panic!("simulator did not start: {e}"),
    }
}

/// A client that keeps no cookies, follows no redirects and trusts the sim's certificate.
pub fn client(handle: &Handle) -> reqwest::Client {
    let mut b = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(path) = handle.cert_pem_path() {
        let pem = std::fs::read(path).expect("cert.pem readable");
        let cert = reqwest::Certificate::from_pem(&pem).expect("cert.pem parses");
        b = b.tls_certs_only([cert]);
    }
    b.build().expect("client builds")
}

// ------------------------------------------------------------------ RFC 5849 signer

/// RFC 5849 §3.6 percent-encoding: everything but ALPHA DIGIT - . _ ~.
pub fn pct(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

#[derive(Clone, Copy)]
pub enum Algo {
    Sha1,
    Sha256,
}

pub struct OAuth<'a> {
    pub ck: &'a str,
    pub cs: &'a str,
    pub algo: Algo,
    pub nonce: String,
    pub timestamp: i64,
}

impl<'a> OAuth<'a> {
    pub fn new(ck: &'a str, cs: &'a str) -> OAuth<'a> {
        OAuth {
            ck,
            cs,
            algo: Algo::Sha256,
            nonce: random_nonce(),
            timestamp: unix_now(),
        }
    }
}

pub fn random_nonce() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..32)
        .map(|_| rng.sample(rand::distr::Alphanumeric) as char)
        .collect()
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The oauth_* parameters (signature included) for `method base_uri` with `query` (decoded
/// pairs). §3.4.1: base string = METHOD & pct(base URI) & pct(normalized parameters), where the
/// normalized parameters are pct(name)=pct(value) sorted and joined with '&'.
pub fn oauth_params(
    method: &str,
    base_uri: &str,
    query: &[(&str, &str)],
    o: &OAuth<'_>,
) -> Vec<(String, String)> {
    let method_name = match o.algo {
        Algo::Sha1 => "HMAC-SHA1",
        Algo::Sha256 => "HMAC-SHA256",
    };
    let mut oauth: Vec<(String, String)> = vec![
        ("oauth_consumer_key".into(), o.ck.into()),
        ("oauth_nonce".into(), o.nonce.clone()),
        ("oauth_signature_method".into(), method_name.into()),
        ("oauth_timestamp".into(), o.timestamp.to_string()),
    ];
    let mut all: Vec<(String, String)> = query.iter().map(|(k, v)| (pct(k), pct(v))).collect();
    all.extend(oauth.iter().map(|(k, v)| (pct(k), pct(v))));
    all.sort();
    let normalized = all
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let base = format!(
        "{}&{}&{}",
        method.to_uppercase(),
        pct(base_uri),
        pct(&normalized)
    );
    let key = format!("{}&", pct(o.cs));
    let sig = match o.algo {
        Algo::Sha1 => {
            let mut m = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).expect("hmac key");
            m.update(base.as_bytes());
            STANDARD.encode(m.finalize().into_bytes())
        }
        Algo::Sha256 => {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("hmac key");
            m.update(base.as_bytes());
            STANDARD.encode(m.finalize().into_bytes())
        }
    };
    oauth.push(("oauth_signature".into(), sig));
    oauth
}

/// A full URL with the query and OAuth parameters, signed for `base_url + path`.
pub fn signed_url(
    base_url: &str,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    o: &OAuth<'_>,
) -> String {
    let uri = format!("{base_url}{path}");
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    pairs.extend(oauth_params(method, &uri, query, o));
    let qs = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&");
    format!("{uri}?{qs}")
}

/// Convenience: a fresh-nonce signed URL with the handle's key.
pub fn url(h: &Handle, method: &str, path: &str, query: &[(&str, &str)]) -> String {
    signed_url(
        &h.base_url(),
        method,
        path,
        query,
        &OAuth::new(h.consumer_key(), h.consumer_secret()),
    )
}

pub async fn get_json(h: &Handle, path: &str, query: &[(&str, &str)]) -> (u16, HeaderMap, Value) {
    let resp = client(h)
        .get(url(h, "GET", path, query))
        .send()
        .await
        .expect("request sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, headers, body)
}

pub async fn send_json(
    h: &Handle,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    body: &Value,
) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let resp = client(h)
        .request(m, url(h, method, path, query))
        .json(body)
        .send()
        .await
        .expect("request sent");
    let status = resp.status().as_u16();
    (status, resp.json::<Value>().await.unwrap_or(Value::Null))
}

pub async fn admin(h: &Handle, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut r = client(h).request(m, format!("{}{path}", h.base_url()));
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.expect("request sent");
    let status = resp.status().as_u16();
    (status, resp.json::<Value>().await.unwrap_or(Value::Null))
}

// ------------------------------------------------------------------ receiver

#[derive(Debug, Clone)]
pub struct Captured {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Captured {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
    pub fn is_ping(&self) -> bool {
        self.headers.get("x-wc-webhook-topic").is_none()
    }
}

/// An HTTP server that records every request and answers with settable statuses.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Captured>>>,
    pub ping_status: Arc<AtomicU16>,
    pub delivery_status: Arc<AtomicU16>,
}

impl Receiver {
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }
    pub fn all(&self) -> Vec<Captured> {
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }
    pub fn deliveries(&self) -> Vec<Captured> {
        self.all().into_iter().filter(|c| !c.is_ping()).collect()
    }
    pub fn pings(&self) -> Vec<Captured> {
        self.all().into_iter().filter(Captured::is_ping).collect()
    }
}

async fn record(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let cap = Captured { headers, body };
    let ping = cap.is_ping();
    if let Ok(mut v) = r.seen.lock() {
        v.push(cap);
    }
    let code = if ping {
        r.ping_status.load(Ordering::SeqCst)
    } else {
        r.delivery_status.load(Ordering::SeqCst)
    };
    StatusCode::from_u16(code).unwrap_or(StatusCode::OK)
}

pub async fn receiver() -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let addr = listener.local_addr().expect("addr");
    let r = Receiver {
        addr,
        seen: Arc::default(),
        ping_status: Arc::new(AtomicU16::new(200)),
        delivery_status: Arc::new(AtomicU16::new(200)),
    };
    let app = axum::Router::new().fallback(record).with_state(r.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    r
}

/// Polls `f` until it returns Some, failing after `secs` seconds.
pub async fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Creates a webhook through REST and returns its id.
pub async fn create_webhook(h: &Handle, topic: &str, url: &str, secret: &str) -> u64 {
    let (status, body) = send_json(
        h,
        "POST",
        "/wp-json/wc/v3/webhooks",
        &[],
        &serde_json::json!({ "name": "test", "topic": topic, "delivery_url": url, "secret": secret }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_u64().expect("webhook id")
}

pub fn hmac_sha256_b64(secret: &str, body: &[u8]) -> String {
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
    m.update(body);
    STANDARD.encode(m.finalize().into_bytes())
}
