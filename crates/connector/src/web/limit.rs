//! Login rate limits (per client address and per email) and per-key locks, in memory.
//!
//! Each replica keeps its own counts: an attacker spread over N replicas gets N times the budget,
//! which the TrackingTech login's own throttle still bounds.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(600);
const PER_CLIENT: usize = 20;
const PER_EMAIL: usize = 10;

#[derive(Default)]
pub struct LoginLimiter {
    attempts: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// Records an attempt for both keys, or says how long to wait when either is over budget.
    pub fn check(&self, client: &str, email: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        // Keep memory bounded: forget keys whose attempts have all aged out.
        if map.len() > 10_000 {
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        let keys = [
            (format!("ip:{client}"), PER_CLIENT),
            (format!("email:{}", email.trim().to_lowercase()), PER_EMAIL),
        ];
        for (key, budget) in &keys {
            let q = map.entry(key.clone()).or_default();
            while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
                q.pop_front();
            }
            if q.len() >= *budget {
                let oldest = q.front().copied().unwrap_or(now);
                return Err(WINDOW
                    .saturating_sub(now.duration_since(oldest))
                    .max(Duration::from_secs(1)));
            }
        }
        for (key, _) in keys {
            map.entry(key).or_default().push_back(now);
        }
        Ok(())
    }
}

/// One async mutex per key (a session), created on demand.
#[derive(Default)]
pub struct KeyedLocks {
    locks: Mutex<HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
}

impl KeyedLocks {
    pub async fn lock(&self, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            if map.len() > 10_000 {
                map.retain(|_, l| std::sync::Arc::strong_count(l) > 1);
            }
            map.entry(key.to_owned()).or_default().clone()
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_email_and_per_client() {
        let l = LoginLimiter::default();
        for _ in 0..PER_EMAIL {
            assert!(l.check("1.1.1.1", "A@x.cl").is_ok());
        }
        assert!(
            l.check("2.2.2.2", "a@x.cl").is_err(),
            "same email from elsewhere"
        );
        assert!(
            l.check("1.1.1.1", "b@x.cl").is_ok(),
            "another email from the same client"
        );
        for i in 0..PER_CLIENT {
            let _ = l.check("3.3.3.3", &format!("u{i}@x.cl"));
        }
        let wait = l.check("3.3.3.3", "new@x.cl").err().unwrap_or_default();
        assert!(wait > Duration::ZERO && wait <= WINDOW);
    }
}
