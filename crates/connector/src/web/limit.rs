//! Throttles, in memory, on `governor`'s GCRA: failed sign-ins (per client address, per client
//! and email, and a high cap per email across all clients), wizard starts per client; and
//! per-key locks.
//!
//! Only failures count toward the sign-in limits, and a limit refuses before the attempt is
//! made (a password guessed right while over the limit must not get in). governor's limiters
//! count every cell they let through and have no look without counting, so each failure limit
//! keeps its state in a store of its own ([`Tally`]) that one limiter reaches two ways: a
//! [`Probe`] that records (after a failure) and one that only looks (before an attempt: would
//! one more failure still conform?). A success therefore costs nothing. One client's failures
//! fill only that client's keys; the cap per email across clients sits far above what one client
//! may fail, and once reached it answers with a wait of seconds (a slowdown, not a lockout), so
//! guessing one email's password from many addresses stays slow without shutting its owner out.
//!
//! Keys are forgotten once their state is no different from a fresh one (`retain_recent`, at
//! most once a minute), so memory follows the failures of the last few minutes. IPv6 clients
//! are counted per /64, the block one subscriber usually holds. Each replica keeps its own
//! counts: an attacker spread over N replicas gets N times the budget, which the TrackingTech
//! login's own throttle still bounds.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::state::keyed::{HashMapStateStore, ShrinkableKeyedStateStore};
use governor::{NotUntil, Quota, RateLimiter};

/// A quota: `burst` at once, then one more every `every`.
const fn quota(burst: u32, every: Duration) -> (u32, Duration) {
    (burst, every)
}

/// Failed sign-ins from one client address (any emails): 30, then one every 20 s.
pub const PER_CLIENT: (u32, Duration) = quota(30, Duration::from_secs(20));
/// Failed sign-ins for one email from one client: 10, then one a minute.
pub const PER_CLIENT_EMAIL: (u32, Duration) = quota(10, Duration::from_secs(60));
/// Failed sign-ins for one email from all clients together: 50, then one every 6 s. Past it the
/// wait is at most 6 s: it slows guessing from many addresses down without locking out.
pub const PER_EMAIL: (u32, Duration) = quota(50, Duration::from_secs(6));
/// Wizard starts from one client address: 10 a minute (each resolves a courier code and probes
/// a store).
pub const STARTS_PER_CLIENT: (u32, Duration) = quota(10, Duration::from_secs(6));

/// How often keys indistinguishable from fresh ones are dropped.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60);

fn to_quota((burst, every): (u32, Duration)) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(every)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

/// The key a client address is counted under: the address, or its /64 for IPv6.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A key of a [`Tally`], and whether this check records a failure or only looks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Probe<K> {
    key: K,
    record: bool,
}

/// The state of one failure limit: each key's theoretical arrival time, as governor computes it.
/// A looking [`Probe`] runs governor's decision and leaves the state as it was.
struct Tally<K>(Mutex<HashMap<K, Nanos>>);

impl<K> Default for Tally<K> {
    fn default() -> Self {
        Tally(Mutex::new(HashMap::new()))
    }
}

impl<K: Hash + Eq + Clone> StateStore for Tally<K> {
    type Key = Probe<K>;

    fn measure_and_replace<T, F, E>(&self, probe: &Probe<K>, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (outcome, next) = f(map.get(&probe.key).copied())?;
        if probe.record {
            map.insert(probe.key.clone(), next);
        }
        Ok(outcome)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<Probe<K>> for Tally<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, tat| *tat > drop_below);
    }

    fn shrink_to_fit(&self) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One failure limit over keys `K`.
struct Failures<K: Hash + Eq + Clone, C: Clock> {
    limiter: RateLimiter<Probe<K>, Tally<K>, C, NoOpMiddleware<C::Instant>>,
}

impl<K: Hash + Eq + Clone, C: Clock + Clone> Failures<K, C> {
    fn new(q: (u32, Duration), clock: &C) -> Self {
        Failures {
            limiter: RateLimiter::new(to_quota(q), Tally::default(), clock.clone()),
        }
    }

    /// Whether one more failure under `key` would conform; when not, from when it would.
    fn admits(&self, key: K) -> Result<(), NotUntil<C::Instant>> {
        self.limiter.check_key(&Probe { key, record: false })
    }

    fn record(&self, key: K) {
        // A failure past the limit (two attempts let in at once) changes nothing: the key is
        // already at its limit.
        let _ = self.limiter.check_key(&Probe { key, record: true });
    }

    fn housekeeping(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.limiter.len()
    }
}

/// Runs housekeeping at most once per [`HOUSEKEEPING_EVERY`] of clock `C`.
struct Housekeeping<C: Clock> {
    last: Mutex<Option<C::Instant>>,
}

impl<C: Clock> Housekeeping<C> {
    fn new() -> Self {
        Housekeeping {
            last: Mutex::new(None),
        }
    }

    /// True when it is time (and notes that it ran).
    fn due(&self, now: C::Instant) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let every = Nanos::from(HOUSEKEEPING_EVERY);
        match *last {
            Some(at) if now.duration_since(at) < every => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

/// The sign-in throttle: failures per client, per (client, email) and per email.
pub struct LoginLimiter<C: Clock = DefaultClock> {
    per_client: Failures<IpAddr, C>,
    per_client_email: Failures<(IpAddr, String), C>,
    per_email: Failures<String, C>,
    clock: C,
    housekeeping: Housekeeping<C>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::with_clock(&DefaultClock::default())
    }
}

impl<C: Clock + Clone> LoginLimiter<C> {
    pub fn with_clock(clock: &C) -> Self {
        LoginLimiter {
            per_client: Failures::new(PER_CLIENT, clock),
            per_client_email: Failures::new(PER_CLIENT_EMAIL, clock),
            per_email: Failures::new(PER_EMAIL, clock),
            clock: clock.clone(),
            housekeeping: Housekeeping::new(),
        }
    }

    /// Before an attempt: how long to wait when any of the limits would refuse one more failure.
    /// Counts nothing.
    pub fn admit(&self, client: IpAddr, email: &str) -> Result<(), Duration> {
        let (client, email) = (client_key(client), email_key(email));
        let refusals = [
            self.per_client.admits(client).err(),
            self.per_client_email.admits((client, email.clone())).err(),
            self.per_email.admits(email).err(),
        ];
        let now = self.clock.now();
        match refusals
            .iter()
            .flatten()
            .map(|refused| refused.wait_time_from(now))
            .max()
        {
            Some(wait) => Err(wait.max(Duration::from_millis(1))),
            None => Ok(()),
        }
    }

    /// Before an attempt with no email (a courier code alone): the client's own limit.
    pub fn admit_client(&self, client: IpAddr) -> Result<(), Duration> {
        self.per_client
            .admits(client_key(client))
            .map_err(|refused| refused.wait_time_from(self.clock.now()))
    }

    /// After wrong credentials: one failure for the client, the pair and the email.
    pub fn failed(&self, client: IpAddr, email: &str) {
        let (client, email) = (client_key(client), email_key(email));
        self.per_client.record(client);
        self.per_client_email.record((client, email.clone()));
        self.per_email.record(email);
        self.tidy();
    }

    /// After a courier code that does not resolve: one failure for the client only (codes are
    /// not free to try either).
    pub fn failed_client(&self, client: IpAddr) {
        self.per_client.record(client_key(client));
        self.tidy();
    }

    fn tidy(&self) {
        if self.housekeeping.due(self.clock.now()) {
            self.per_client.housekeeping();
            self.per_client_email.housekeeping();
            self.per_email.housekeeping();
        }
    }

    /// Keys held, all limits together.
    pub fn len(&self) -> usize {
        self.per_client.len() + self.per_client_email.len() + self.per_email.len()
    }
}

/// Wizard starts per client address, counted before any work is done.
pub struct StartLimiter<C: Clock = DefaultClock> {
    limiter: RateLimiter<IpAddr, HashMapStateStore<IpAddr>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
    housekeeping: Housekeeping<C>,
}

impl Default for StartLimiter {
    fn default() -> Self {
        StartLimiter::with_clock(&DefaultClock::default())
    }
}

impl<C: Clock + Clone> StartLimiter<C> {
    pub fn with_clock(clock: &C) -> Self {
        StartLimiter {
            limiter: RateLimiter::new(
                to_quota(STARTS_PER_CLIENT),
                HashMapStateStore::default(),
                clock.clone(),
            ),
            clock: clock.clone(),
            housekeeping: Housekeeping::new(),
        }
    }

    /// Counts a start; how long to wait when the client is over its budget.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        let now = self.clock.now();
        if self.housekeeping.due(now) {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter
            .check_key(&client_key(client))
            .map_err(|refused| refused.wait_time_from(now).max(Duration::from_millis(1)))
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
    use governor::clock::FakeRelativeClock;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4([0, 0, 0, 0].into()))
    }

    #[test]
    fn only_failures_count_and_successes_cost_nothing() {
        let clock = FakeRelativeClock::default();
        let l = LoginLimiter::with_clock(&clock);
        // Looking as often as a correct password is tried never uses the budget up.
        for _ in 0..1000 {
            assert_eq!(l.admit(ip("1.1.1.1"), "a@x.cl"), Ok(()));
        }
        for _ in 0..PER_CLIENT_EMAIL.0 {
            assert_eq!(l.admit(ip("1.1.1.1"), "a@x.cl"), Ok(()));
            l.failed(ip("1.1.1.1"), "A@x.cl ");
        }
        let wait = l.admit(ip("1.1.1.1"), "a@x.cl").err();
        assert!(
            wait.is_some_and(|w| w > Duration::ZERO && w <= PER_CLIENT_EMAIL.1),
            "{wait:?}"
        );
        // The same email from another client, another email from this one: both fine.
        assert_eq!(l.admit(ip("2.2.2.2"), "a@x.cl"), Ok(()));
        assert_eq!(l.admit(ip("1.1.1.1"), "b@x.cl"), Ok(()));
        // One failure's worth comes back after its period.
        clock.advance(PER_CLIENT_EMAIL.1);
        assert_eq!(l.admit(ip("1.1.1.1"), "a@x.cl"), Ok(()));
    }

    #[test]
    fn a_client_is_limited_across_emails_and_ipv6_per_64() {
        let clock = FakeRelativeClock::default();
        let l = LoginLimiter::with_clock(&clock);
        for i in 0..PER_CLIENT.0 {
            l.failed(ip(&format!("2001:db8::{:x}", i + 1)), &format!("u{i}@x.cl"));
        }
        assert!(l.admit(ip("2001:db8::ffff"), "new@x.cl").is_err());
        assert!(l.admit_client(ip("2001:db8::1")).is_err());
        assert_eq!(l.admit(ip("2001:db8:0:1::1"), "new@x.cl"), Ok(()));
        // IPv4 given as IPv4-mapped IPv6 is the same client.
        for _ in 0..PER_CLIENT.0 {
            l.failed_client(ip("3.3.3.3"));
        }
        assert!(l.admit(ip("::ffff:3.3.3.3"), "z@x.cl").is_err());
    }

    #[test]
    fn many_clients_slow_one_email_down_briefly() {
        let clock = FakeRelativeClock::default();
        let l = LoginLimiter::with_clock(&clock);
        let per_client = PER_CLIENT_EMAIL.0;
        let clients = PER_EMAIL.0.div_ceil(per_client);
        for c in 0..clients {
            for _ in 0..per_client {
                l.failed(ip(&format!("10.0.0.{}", c + 1)), "victim@x.cl");
            }
        }
        let wait = l.admit(ip("192.0.2.1"), "victim@x.cl").err();
        assert!(
            wait.is_some_and(|w| w <= PER_EMAIL.1),
            "a short wait, not a lockout: {wait:?}"
        );
        assert_eq!(l.admit(ip("192.0.2.1"), "other@x.cl"), Ok(()));
        clock.advance(PER_EMAIL.1);
        assert_eq!(l.admit(ip("192.0.2.1"), "victim@x.cl"), Ok(()));
    }

    #[test]
    fn forgotten_keys_free_their_memory() {
        let clock = FakeRelativeClock::default();
        let l = LoginLimiter::with_clock(&clock);
        for i in 0..200u32 {
            l.failed(ip(&format!("10.1.{}.{}", i / 250, i % 250)), "a@x.cl");
        }
        assert!(l.len() > 200);
        // Long enough for every key to be as good as new.
        clock.advance(Duration::from_secs(3600));
        l.failed(ip("10.9.9.9"), "b@x.cl");
        assert_eq!(l.len(), 3, "only the last failure's keys are kept");
    }

    #[test]
    fn starts_are_counted_per_client() {
        let clock = FakeRelativeClock::default();
        let l = StartLimiter::with_clock(&clock);
        for _ in 0..STARTS_PER_CLIENT.0 {
            assert_eq!(l.check(ip("1.1.1.1")), Ok(()));
        }
        let wait = l.check(ip("1.1.1.1")).err();
        assert!(wait.is_some_and(|w| w <= STARTS_PER_CLIENT.1), "{wait:?}");
        assert_eq!(l.check(ip("2.2.2.2")), Ok(()));
    }
}
