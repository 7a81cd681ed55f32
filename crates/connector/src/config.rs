//! Settings of `ttwc serve` and the operator commands: `ttwc.toml`, overridden by `TTWC_*`
//! environment variables, checked once into [`Settings`].

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use ipnet::IpNet;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {source}")]
    Parse {
        path: String,
        source: toml::de::Error,
    },
    #[error("{name}={value:?} is not valid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

/// The checked settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database_url: String,
    pub trackingtech_url: String,
    /// The URL merchants and WooCommerce reach this ttwc at (wc-auth callback, webhooks).
    pub public_url: Url,
    /// `TTWC_MASTER_KEY`, when given (else the key file beside the SQLite database).
    pub master_key: Option<String>,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Private networks stores may be reached at besides public addresses
    /// (`TTWC_ALLOWED_PRIVATE_NETS`; default none: see SECURITY.md).
    pub allowed_private_nets: Vec<IpNet>,
    pub session_idle: Duration,
    pub status_interval: Duration,
    pub reconcile_interval: Duration,
    /// How long transient failures are retried before an order is marked failed.
    pub retry_max_age: Duration,
    /// How long a worker holds an order it is sending; a crashed replica's orders are taken
    /// over after this.
    pub job_lease: Duration,
    /// Sends to TrackingTech in flight at once, over every connection.
    pub send_concurrency: u32,
    /// Sends in flight at once for one connection (one store).
    pub sends_per_connection: u32,
}

/// The file form: every field optional.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<String>,
    database_url: Option<String>,
    trackingtech_url: Option<String>,
    public_url: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    allowed_private_nets: Option<Vec<String>>,
    session_idle_secs: Option<u64>,
    status_interval_secs: Option<u64>,
    reconcile_interval_secs: Option<u64>,
    retry_max_age_secs: Option<u64>,
    job_lease_secs: Option<u64>,
    send_concurrency: Option<u32>,
    sends_per_connection: Option<u32>,
}

impl Settings {
    /// Reads `config_file` (when it exists; `ttwc.toml` by default) and then the environment.
    pub fn load(config_file: Option<&Path>) -> Result<Settings, ConfigError> {
        let default_path = Path::new("ttwc.toml");
        let (path, required) = match config_file {
            Some(p) => (p, true),
            None => (default_path, false),
        };
        let file = match std::fs::read_to_string(path) {
            Ok(text) => {
                toml::from_str::<FileSettings>(&text).map_err(|source| ConfigError::Parse {
                    path: path.display().to_string(),
                    source,
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                FileSettings::default()
            }
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        Settings::from_sources(file, |name| {
            std::env::var(name).ok().filter(|v| !v.trim().is_empty())
        })
    }

    /// Defaults, for tests and the demo.
    pub fn defaults() -> Settings {
        // The defaults are valid by construction.
        Settings::from_sources(FileSettings::default(), |_| None)
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn from_sources(
        file: FileSettings,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let pick = |name: &'static str,
                    from_file: Option<String>,
                    default: &str|
         -> (String, &'static str) {
            (
                env(name)
                    .or(from_file)
                    .unwrap_or_else(|| default.to_owned()),
                name,
            )
        };
        let (listen, name) = pick("TTWC_LISTEN", file.listen, "127.0.0.1:8787");
        let listen: SocketAddr = listen
            .trim()
            .parse()
            .map_err(|e: std::net::AddrParseError| ConfigError::Invalid {
                name,
                value: listen.clone(),
                reason: format!("{e}; expected IP:PORT, e.g. 127.0.0.1:8787"),
            })?;
        let (database_url, name) = pick("TTWC_DATABASE_URL", file.database_url, "sqlite://ttwc.db");
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                name,
                value: database_url,
                reason: "expected sqlite://PATH or postgres://…".into(),
            });
        }
        let (trackingtech_url, name) = pick(
            "TTWC_TRACKINGTECH_URL",
            file.trackingtech_url,
            trackingtech::contract::PRODUCTION_BASE_URL,
        );
        check_http_url(name, &trackingtech_url)?;
        let default_public = format!("http://{listen}");
        let (public_url, name) = pick("TTWC_PUBLIC_URL", file.public_url, &default_public);
        let public_url = check_http_url(name, &public_url)?;
        let master_key = env("TTWC_MASTER_KEY");
        let proxies = match env("TTWC_TRUSTED_PROXIES") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            None => file.trusted_proxies.unwrap_or_default(),
        };
        let trusted_proxies = proxies
            .iter()
            .map(|p| {
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| ConfigError::Invalid {
                        name: "TTWC_TRUSTED_PROXIES",
                        value: p.clone(),
                        reason: "expected IP addresses or CIDR ranges, comma-separated".into(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let allowed_private_nets = match env("TTWC_ALLOWED_PRIVATE_NETS") {
            Some(list) => egress::parse_nets(&list),
            None => egress::parse_nets(&file.allowed_private_nets.unwrap_or_default().join(",")),
        }
        .map_err(|value| ConfigError::Invalid {
            name: "TTWC_ALLOWED_PRIVATE_NETS",
            value,
            reason: "expected IP addresses or CIDR ranges, comma-separated".into(),
        })?;
        // A whole number from the environment, else the file, else the default, within `range`;
        // `unit` and `bounds` word the errors.
        let number = |name: &'static str,
                      from_file: Option<u64>,
                      default: u64,
                      range: std::ops::RangeInclusive<u64>,
                      (unit, bounds): (&str, &str)|
         -> Result<u64, ConfigError> {
            let invalid = |value: String, reason: String| ConfigError::Invalid {
                name,
                value,
                reason,
            };
            let value = match env(name) {
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| invalid(v.clone(), format!("expected a whole number{unit}")))?,
                None => from_file.unwrap_or(default),
            };
            if !range.contains(&value) {
                return Err(invalid(value.to_string(), bounds.to_owned()));
            }
            Ok(value)
        };
        let secs = |name, from_file, default| {
            let words = (" of seconds", "must be at least 1 second");
            number(name, from_file, default, 1..=u64::MAX, words).map(Duration::from_secs)
        };
        let count = |name, from_file: Option<u32>, default| {
            let words = ("", "must be between 1 and 10000");
            number(name, from_file.map(u64::from), default, 1..=10_000, words)
                // Within 1..=10,000, so it fits.
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        };
        Ok(Settings {
            listen,
            database_url,
            trackingtech_url,
            public_url,
            master_key,
            trusted_proxies,
            allowed_private_nets,
            session_idle: secs("TTWC_SESSION_IDLE", file.session_idle_secs, 2 * 3600)?,
            status_interval: secs("TTWC_STATUS_INTERVAL", file.status_interval_secs, 60)?,
            reconcile_interval: secs("TTWC_RECONCILE_INTERVAL", file.reconcile_interval_secs, 300)?,
            retry_max_age: secs("TTWC_RETRY_MAX_AGE", file.retry_max_age_secs, 72 * 3600)?,
            job_lease: secs("TTWC_JOB_LEASE", file.job_lease_secs, 60)?,
            send_concurrency: count("TTWC_SEND_CONCURRENCY", file.send_concurrency, 256)?,
            sends_per_connection: count(
                "TTWC_SENDS_PER_CONNECTION",
                file.sends_per_connection,
                16,
            )?,
        })
    }

    /// Why real WooCommerce would refuse to call this public URL (wc-auth callback, webhook
    /// deliveries), if it would.
    pub fn public_url_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let url = &self.public_url;
        if url.scheme() != "https" {
            warnings.push(
                "it is not https: WooCommerce sends wc-auth keys only to an https callback"
                    .to_owned(),
            );
        }
        let private = match url.host() {
            Some(url::Host::Ipv4(ip)) => {
                ip.is_loopback() || ip.is_private() || ip.is_unspecified() || ip.is_link_local()
            }
            Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.is_unspecified(),
            Some(url::Host::Domain(d)) => {
                d == "localhost" || d.ends_with(".localhost") || d.ends_with(".local")
            }
            None => true,
        };
        if private {
            warnings.push(
                "its host is a loopback or private address, which WordPress refuses to call"
                    .to_owned(),
            );
        }
        if let Some(port) = url.port()
            && ![80, 443, 8080].contains(&port)
        {
            warnings.push(format!(
                "its port {port} is not 80, 443 or 8080, the only ones WordPress calls"
            ));
        }
        warnings
    }

    /// Takes the address the listener was actually bound to. With port 0 in `listen` the system
    /// chose the port, and a public URL that was only the default (`http://<listen>`) follows it;
    /// a public URL the operator set stays as set.
    pub fn bound_to(&mut self, bound: SocketAddr) {
        let default_public = format!("http://{}/", self.listen);
        if self.public_url.as_str() == default_public
            && let Ok(url) = Url::parse(&format!("http://{bound}/"))
        {
            self.public_url = url;
        }
        self.listen = bound;
    }

    /// The public URL joined with a path (`/webhooks/...`), without a doubled slash.
    pub fn public(&self, path: &str) -> String {
        format!("{}{}", self.public_url.as_str().trim_end_matches('/'), path)
    }

    /// The SQLite database's file (`sqlite://ttwc.db` → `ttwc.db`); None for PostgreSQL and
    /// an in-memory database.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        let path = self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"))?;
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        Some(Path::new(path).to_owned())
    }

    /// The key file beside the SQLite database (`sqlite://ttwc.db` → `ttwc.key`).
    pub fn key_file(&self) -> Option<std::path::PathBuf> {
        Some(self.sqlite_file()?.with_extension("key"))
    }
}

fn check_http_url(name: &'static str, value: &str) -> Result<Url, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name,
        value: value.to_owned(),
        reason,
    };
    let url = Url::parse(value.trim()).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid("expected an http:// or https:// URL".into()));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with_env(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_sources(FileSettings::default(), move |n| map.get(n).cloned())
    }

    #[test]
    fn a_port_chosen_by_the_system_becomes_the_default_public_url() {
        let bound: SocketAddr = "127.0.0.1:40123".parse().expect("addr");
        let mut s = with_env(&[("TTWC_LISTEN", "127.0.0.1:0")]).expect("valid");
        s.bound_to(bound);
        assert_eq!(s.listen, bound);
        assert_eq!(s.public_url.as_str(), "http://127.0.0.1:40123/");

        let mut s = with_env(&[
            ("TTWC_LISTEN", "127.0.0.1:0"),
            ("TTWC_PUBLIC_URL", "https://ttwc.example.cl"),
        ])
        .expect("valid");
        s.bound_to(bound);
        assert_eq!(s.listen, bound);
        assert_eq!(s.public_url.as_str(), "https://ttwc.example.cl/");
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = Settings::defaults();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8787");
        assert_eq!(s.database_url, "sqlite://ttwc.db");
        assert_eq!(s.trackingtech_url, "https://api-app.trackingtech.cl/api");
        assert_eq!(s.public_url.as_str(), "http://127.0.0.1:8787/");
        assert_eq!(s.session_idle, Duration::from_secs(7200));
        assert_eq!(s.key_file().as_deref(), Some(Path::new("ttwc.key")));
        assert_eq!((s.send_concurrency, s.sends_per_connection), (256, 16));
    }

    #[test]
    fn send_limits_are_whole_numbers_in_range() {
        let s = with_env(&[
            ("TTWC_SEND_CONCURRENCY", "64"),
            ("TTWC_SENDS_PER_CONNECTION", "2"),
        ])
        .expect("valid");
        assert_eq!((s.send_concurrency, s.sends_per_connection), (64, 2));
        for (name, value) in [
            ("TTWC_SEND_CONCURRENCY", "lots"),
            ("TTWC_SEND_CONCURRENCY", "0"),
            ("TTWC_SENDS_PER_CONNECTION", "-1"),
            ("TTWC_SENDS_PER_CONNECTION", "20000"),
        ] {
            let e = with_env(&[(name, value)]).expect_err("refused").to_string();
            assert!(e.contains(name) && e.contains(value), "{e}");
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let file = FileSettings {
            listen: Some("127.0.0.1:9000".into()),
            ..FileSettings::default()
        };
        let s = Settings::from_sources(file, |n| {
            (n == "TTWC_LISTEN").then(|| "0.0.0.0:9100".to_owned())
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.listen.to_string(), "0.0.0.0:9100");
        assert_eq!(s.public_url.as_str(), "http://0.0.0.0:9100/");
    }

    #[test]
    fn bad_values_name_the_variable_and_the_value() {
        let e = with_env(&[("TTWC_LISTEN", "localhost")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("TTWC_LISTEN") && e.contains("localhost"), "{e}");
        let e = with_env(&[("TTWC_DATABASE_URL", "mysql://x")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("TTWC_DATABASE_URL") && e.contains("mysql://x"),
            "{e}"
        );
        let e = with_env(&[("TTWC_PUBLIC_URL", "ftp://x")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("TTWC_PUBLIC_URL"), "{e}");
        let e = with_env(&[("TTWC_TRUSTED_PROXIES", "10.0.0.0/8, nope")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("nope"), "{e}");
        let e = with_env(&[("TTWC_ALLOWED_PRIVATE_NETS", "10.0.0.0/8, intranet")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("TTWC_ALLOWED_PRIVATE_NETS") && e.contains("intranet"),
            "{e}"
        );
        let e = with_env(&[("TTWC_STATUS_INTERVAL", "soon")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("TTWC_STATUS_INTERVAL"), "{e}");
    }

    #[test]
    fn private_networks_are_allowed_only_when_listed() {
        let s = with_env(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert!(s.allowed_private_nets.is_empty());
        let s = with_env(&[("TTWC_ALLOWED_PRIVATE_NETS", "10.2.0.0/16, ::1")])
            .unwrap_or_else(|e| panic!("{e}"));
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or_else(|e| panic!("{e}"));
        assert!(
            s.allowed_private_nets
                .iter()
                .any(|n| n.contains(&ip("10.2.9.9")))
        );
        assert!(
            s.allowed_private_nets
                .iter()
                .any(|n| n.contains(&ip("::1")))
        );
        assert!(
            !s.allowed_private_nets
                .iter()
                .any(|n| n.contains(&ip("10.3.0.1")))
        );
        let file: FileSettings = toml::from_str(r#"allowed_private_nets = ["192.168.7.0/24"]"#)
            .unwrap_or_else(|e| panic!("{e}"));
        let s = Settings::from_sources(file, |_| None).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            s.allowed_private_nets
                .iter()
                .any(|n| n.contains(&ip("192.168.7.20")))
        );
    }

    #[test]
    fn warns_about_public_urls_woocommerce_would_refuse() {
        let s = with_env(&[("TTWC_PUBLIC_URL", "https://ttwc.example.cl")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(s.public_url_warnings().is_empty());
        let s = with_env(&[("TTWC_PUBLIC_URL", "http://192.168.1.5:8787")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.public_url_warnings().len(), 3);
    }
}
