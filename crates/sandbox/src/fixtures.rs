//! Fixtures: the tenants, merchant accounts and stores the sandbox knows about.

use std::collections::HashSet;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why a fixtures file was refused.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("could not read the fixtures file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Bad TOML, a missing or unknown key, or a value of the wrong type; the message names the key.
    #[error("invalid fixtures: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("invalid fixtures: duplicate {field} {value:?}")]
    Duplicate { field: &'static str, value: String },
    #[error("invalid fixtures: {field} {reason}")]
    Invalid { field: String, reason: &'static str },
}

/// The tenants, accounts and stores the sandbox serves.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    #[serde(default)]
    tenants: Vec<Tenant>,
    #[serde(default)]
    accounts: Vec<Account>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Tenant {
    pub(crate) code: String,
    pub(crate) name: String,
    /// Absent means active: a fixture usually lists the couriers that work.
    #[serde(default = "active_by_default")]
    pub(crate) active: bool,
    #[serde(default)]
    pub(crate) api_url: Option<String>,
}

fn active_by_default() -> bool {
    true
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Account {
    pub(crate) email: String,
    pub(crate) password: String,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) stores: Vec<Store>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Store {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) address: String,
}

// Hand-written so that a stray `{:?}` in a log line never prints a password.
impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("name", &self.name)
            .field("stores", &self.stores)
            .finish()
    }
}

impl fmt::Debug for Fixtures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fixtures")
            .field("tenants", &self.tenants)
            .field("accounts", &self.accounts)
            .finish()
    }
}

impl Fixtures {
    /// The demo data: active tenant `DEMO`, inactive tenant `OLD`, and the account
    /// `demo@trackingtech.test` / `demo1234` with two stores.
    pub fn builtin() -> Fixtures {
        Fixtures {
            tenants: vec![
                Tenant {
                    code: "DEMO".into(),
                    name: "Courier Demo".into(),
                    active: true,
                    api_url: None,
                },
                Tenant {
                    code: "OLD".into(),
                    name: "Courier Antiguo".into(),
                    active: false,
                    api_url: None,
                },
            ],
            accounts: vec![Account {
                email: "demo@trackingtech.test".into(),
                password: "demo1234".into(),
                name: "Demo Merchant".into(),
                stores: vec![
                    Store {
                        id: 101,
                        name: "Bodega Central".into(),
                        address: "Av. Providencia 1234, Providencia".into(),
                    },
                    Store {
                        id: 102,
                        name: "Tienda Valparaíso".into(),
                        address: "Av. Brasil 2950, Valparaíso".into(),
                    },
                ],
            }],
        }
    }

    /// These fixtures with their tenants replaced by active ones: (code, name, the courier's
    /// own API URL when it is not this sandbox), checked as a file's would be.
    pub fn with_tenants(
        mut self,
        tenants: impl IntoIterator<Item = (String, String, Option<String>)>,
    ) -> Result<Fixtures, FixtureError> {
        self.tenants = tenants
            .into_iter()
            .map(|(code, name, api_url)| Tenant {
                code,
                name,
                active: true,
                api_url,
            })
            .collect();
        self.check()?;
        Ok(self)
    }

    /// Parses and checks fixtures written in TOML.
    pub fn from_toml(text: &str) -> Result<Fixtures, FixtureError> {
        let fixtures: Fixtures = toml::from_str(text)?;
        fixtures.check()?;
        Ok(fixtures)
    }

    /// Reads, parses and checks a fixtures file.
    pub fn load(path: &Path) -> Result<Fixtures, FixtureError> {
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
            path: path.to_owned(),
            source,
        })?;
        Fixtures::from_toml(&text)
    }

    /// A listing for humans, printed when the sandbox starts. It shows the passwords on purpose:
    /// they are fake, and whoever starts the sandbox needs them to log in.
    pub fn describe(&self) -> String {
        let mut out = String::from("Tenants:\n");
        if self.tenants.is_empty() {
            out.push_str("  (none)\n");
        }
        for t in &self.tenants {
            let state = if t.active { "active" } else { "inactive" };
            let url = t
                .api_url
                .as_deref()
                .unwrap_or("(none: clients keep their base URL)");
            let _ = writeln!(
                out,
                "  {}  {:?}  {}  api_url: {}",
                t.code, t.name, state, url
            );
        }
        out.push_str("Accounts:\n");
        if self.accounts.is_empty() {
            out.push_str("  (none)\n");
        }
        for a in &self.accounts {
            let _ = writeln!(out, "  {} / {}  {:?}", a.email, a.password, a.name);
            for s in &a.stores {
                let _ = writeln!(out, "    store {}  {:?}  {}", s.id, s.name, s.address);
            }
        }
        out
    }

    pub(crate) fn tenant(&self, code: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.code == code)
    }

    /// Emails are matched without regard to case, as a mail system would.
    pub(crate) fn account(&self, email: &str) -> Option<(u64, &Account)> {
        self.accounts
            .iter()
            .enumerate()
            .find(|(_, a)| a.email.eq_ignore_ascii_case(email))
            .map(|(i, a)| (i as u64 + 1, a))
    }

    fn check(&self) -> Result<(), FixtureError> {
        let mut codes = HashSet::new();
        for (i, t) in self.tenants.iter().enumerate() {
            if t.code.trim().is_empty() || t.code.chars().any(char::is_whitespace) {
                return Err(invalid(
                    format!("tenants[{i}].code"),
                    "must be non-empty, without spaces",
                ));
            }
            if t.name.trim().is_empty() {
                return Err(invalid(format!("tenants[{i}].name"), "must not be empty"));
            }
            if let Some(url) = &t.api_url {
                let ok = url::Url::parse(url).is_ok_and(|u| {
                    matches!(u.scheme(), "http" | "https") && u.host_str().is_some()
                });
                if !ok {
                    return Err(invalid(
                        format!("tenants[{i}].api_url"),
                        "must be an http(s) URL",
                    ));
                }
            }
            if !codes.insert(t.code.as_str()) {
                return Err(FixtureError::Duplicate {
                    field: "tenant code",
                    value: t.code.clone(),
                });
            }
        }
        let mut emails = HashSet::new();
        let mut store_ids = HashSet::new();
        for (i, a) in self.accounts.iter().enumerate() {
            if !a.email.contains('@') || a.email.chars().any(char::is_whitespace) {
                return Err(invalid(
                    format!("accounts[{i}].email"),
                    "must be an email address",
                ));
            }
            if a.password.is_empty() {
                return Err(invalid(
                    format!("accounts[{i}].password"),
                    "must not be empty",
                ));
            }
            if a.name.trim().is_empty() {
                return Err(invalid(format!("accounts[{i}].name"), "must not be empty"));
            }
            if !emails.insert(a.email.to_lowercase()) {
                return Err(FixtureError::Duplicate {
                    field: "account email",
                    value: a.email.clone(),
                });
            }
            for (j, s) in a.stores.iter().enumerate() {
                if s.id == 0 {
                    return Err(invalid(
                        format!("accounts[{i}].stores[{j}].id"),
                        "must be at least 1",
                    ));
                }
                if s.name.trim().is_empty() {
                    return Err(invalid(
                        format!("accounts[{i}].stores[{j}].name"),
                        "must not be empty",
                    ));
                }
                if !store_ids.insert(s.id) {
                    return Err(FixtureError::Duplicate {
                        field: "store id",
                        value: s.id.to_string(),
                    });
                }
            }
        }
        Ok(())
    }
}

fn invalid(field: String, reason: &'static str) -> FixtureError {
    FixtureError::Invalid { field, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_passes_its_own_checks() {
        assert!(Fixtures::builtin().check().is_ok());
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Fixtures::from_toml("[[tenants]]\ncode = \"A\"\nname = \"A\"\ncolour = 1\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn tenants_replaced_keep_the_accounts_and_are_checked() {
        let f = Fixtures::builtin()
            .with_tenants([
                ("A1".to_owned(), "Courier A1".to_owned(), None),
                (
                    "B2".to_owned(),
                    "Courier B2".to_owned(),
                    Some("http://127.0.0.1:9".to_owned()),
                ),
            ])
            .expect("valid tenants");
        assert!(f.tenant("DEMO").is_none());
        assert!(
            f.tenant("A1")
                .is_some_and(|t| t.active && t.api_url.is_none())
        );
        assert_eq!(
            f.tenant("B2").and_then(|t| t.api_url.as_deref()),
            Some("http://127.0.0.1:9")
        );
        let emails =
            |f: &Fixtures| -> Vec<String> { f.accounts.iter().map(|a| a.email.clone()).collect() };
        assert_eq!(emails(&f), emails(&Fixtures::builtin()));
        let err = Fixtures::builtin()
            .with_tenants([("C3".to_owned(), "C".to_owned(), Some("ftp://x".to_owned()))])
            .expect_err("bad URL")
            .to_string();
        assert!(err.contains("api_url"), "{err}");
    }

    #[test]
    fn duplicate_store_ids_across_accounts_are_refused() {
        let text = r#"
            [[accounts]]
            email = "a@x.test"
            password = "p"
            name = "A"
              [[accounts.stores]]
              id = 1
              name = "S"
              address = "X"
            [[accounts]]
            email = "b@x.test"
            password = "p"
            name = "B"
              [[accounts.stores]]
              id = 1
              name = "T"
              address = "Y"
        "#;
        assert!(matches!(
            Fixtures::from_toml(text),
            Err(FixtureError::Duplicate {
                field: "store id",
                ..
            })
        ));
    }

    #[test]
    fn duplicate_emails_differing_in_case_are_refused() {
        let text = "[[accounts]]\nemail = \"a@x.test\"\npassword = \"p\"\nname = \"A\"\n\
                    [[accounts]]\nemail = \"A@X.test\"\npassword = \"p\"\nname = \"B\"\n";
        assert!(matches!(
            Fixtures::from_toml(text),
            Err(FixtureError::Duplicate {
                field: "account email",
                ..
            })
        ));
    }

    #[test]
    fn duplicate_tenant_codes_are_refused() {
        let text =
            "[[tenants]]\ncode = \"A\"\nname = \"A\"\n[[tenants]]\ncode = \"A\"\nname = \"B\"\n";
        assert!(matches!(
            Fixtures::from_toml(text),
            Err(FixtureError::Duplicate {
                field: "tenant code",
                ..
            })
        ));
    }

    #[test]
    fn describe_lists_everything() {
        let text = Fixtures::builtin().describe();
        for needle in [
            "DEMO",
            "OLD",
            "inactive",
            "demo@trackingtech.test / demo1234",
            "store 101",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
    }
}
