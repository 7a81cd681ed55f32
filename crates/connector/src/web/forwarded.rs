//! A warning for operators whose proxy is not trusted: forwarding headers (`X-Forwarded-For`,
//! `Forwarded`) from a peer outside `TTWC_TRUSTED_PROXIES` are ignored, so behind such a proxy
//! every visitor shares the proxy's address — and its throttling budget. `serve` says so the
//! first time it sees one, then at most hourly.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use super::WebState;

/// The least time between two warnings.
const EVERY: Duration = Duration::from_secs(3600);

/// When the warning was last logged.
#[derive(Default)]
pub struct Warned(Mutex<Option<Instant>>);

impl Warned {
    /// True when a warning seen at `now` is to be logged (and notes it).
    pub fn due(&self, now: Instant) -> bool {
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match *last {
            Some(at) if now.saturating_duration_since(at) < EVERY => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

fn has_forwarding(headers: &HeaderMap) -> bool {
    headers.contains_key("x-forwarded-for") || headers.contains_key("forwarded")
}

/// Logs the warning for a request whose untrusted peer sent forwarding headers.
pub async fn warn_untrusted(State(st): State<WebState>, request: Request, next: Next) -> Response {
    if has_forwarding(request.headers())
        && let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>()
    {
        let ip = peer.ip().to_canonical();
        let trusted = st
            .app
            .settings()
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&ip));
        if !trusted && st.forwarded_warned.due(Instant::now()) {
            // The peer's address is not logged: without a proxy it is a visitor's.
            tracing::warn!(
                "a request carried X-Forwarded-For or Forwarded from a peer that is not a \
                 trusted proxy, so the header is ignored and every visitor behind that peer \
                 shares its address and its sign-in limits. If ttwc runs behind a proxy, set \
                 TTWC_TRUSTED_PROXIES (or trusted_proxies in ttwc.toml) to the proxy's address \
                 or range, comma-separated (e.g. TTWC_TRUSTED_PROXIES=10.0.0.0/8). Said at most \
                 once an hour"
            );
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_the_first_time_then_at_most_hourly() {
        let w = Warned::default();
        let t0 = Instant::now();
        assert!(w.due(t0), "the first time");
        assert!(!w.due(t0 + Duration::from_secs(1)));
        assert!(!w.due(t0 + EVERY - Duration::from_secs(1)));
        assert!(w.due(t0 + EVERY), "an hour later");
        assert!(!w.due(t0 + EVERY + Duration::from_secs(60)));
    }

    #[test]
    fn either_header_counts() {
        let mut h = HeaderMap::new();
        assert!(!has_forwarding(&h));
        h.insert("forwarded", "for=192.0.2.60".parse().expect("value"));
        assert!(has_forwarding(&h));
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "192.0.2.60".parse().expect("value"));
        assert!(has_forwarding(&h));
    }
}
