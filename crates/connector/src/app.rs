//! The running connector's shared state: settings, storage, the master key, the installation,
//! and the clients it talks through.

use std::sync::Arc;

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::config::Settings;
use crate::crypto::{KeyError, MasterKey};
use crate::store::{self, Installation, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(
        "the database already holds sealed secrets but the key file {0} is missing; restore it or set TTWC_MASTER_KEY to the installation's key"
    )]
    KeyFileMissing(String),
    #[error("TTWC_MASTER_KEY is required with a {0} database (there is no key file beside it)")]
    KeyRequired(&'static str),
    #[error(
        "the master key does not match this installation's (the installation was created with key id {expected}, this key's id is {given}); use the installation's key"
    )]
    WrongKey { expected: String, given: String },
    #[error("cannot build the TrackingTech client: {0}")]
    TrackingTech(#[from] trackingtech::Error),
    #[error("cannot build the HTTP client for stores: {0}")]
    Woo(#[from] woocommerce::BuildError),
}

/// Options tests and the demo set that have no environment variable.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// An extra root certificate (PEM) trusted when calling stores, e.g. woo-sim's.
    pub woo_root_cert_pem: Option<Vec<u8>>,
    /// Whole-request timeout for calls to stores (default: the client's 30 s).
    pub woo_timeout: Option<std::time::Duration>,
}

/// Everything a request handler or an operator command needs. Cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    store: Arc<dyn Store>,
    key: MasterKey,
    installation: Installation,
    tt: trackingtech::Client,
    /// For tenants' own `api_url`s, which TrackingTech's registry gives: behind the guard.
    tt_tenants: trackingtech::Client,
    /// The one HTTP side every store call goes through, behind the guard.
    woo_http: woocommerce::Http,
    /// Wakes the sync engine when an order is queued.
    wakeup: Arc<tokio::sync::Notify>,
    metrics: crate::metrics::Metrics,
    /// The webhook receiver's short-lived view of connections.
    targets: crate::targets::Targets,
    /// WooCommerce clients by SHA-256 of (store URL, keys): handles, kept so the auth mode a
    /// store taught one (query-string keys) is not learned again at every call.
    woo_clients: std::sync::Mutex<std::collections::HashMap<[u8; 32], woocommerce::Client>>,
}

impl App {
    /// Opens the database (running migrations), finds or creates the master key, and checks
    /// that it is the installation's.
    pub async fn open(settings: Settings, options: AppOptions) -> Result<App, StartError> {
        let store = store::open(&settings.database_url).await?;
        let has_installation = store.has_installation().await?;
        let key = match &settings.master_key {
            Some(hex) => MasterKey::from_hex(hex)?,
            None => match settings.key_file() {
                Some(path) => match MasterKey::load_or_create_file(&path, !has_installation)? {
                    Some(key) => key,
                    None => return Err(StartError::KeyFileMissing(path.display().to_string())),
                },
                None if settings.database_url.starts_with("postgres") => {
                    return Err(StartError::KeyRequired("PostgreSQL"));
                }
                // An in-memory database lives and dies with the process; so may its key.
                None => MasterKey::generate(),
            },
        };
        let candidate = Installation {
            salt: rand::rng()
                .sample_iter(&Alphanumeric)
                .take(48)
                .map(char::from)
                .collect(),
            key_id: key.id().to_owned(),
            created_at: store::now(),
        };
        let installation = store.installation(&candidate).await?;
        if installation.key_id != key.id() {
            return Err(StartError::WrongKey {
                expected: installation.key_id,
                given: key.id().to_owned(),
            });
        }
        let policy = egress::Policy::allowing(settings.allowed_private_nets.clone());
        let tt = trackingtech::Client::new(trackingtech::ClientOptions {
            base_url: settings.trackingtech_url.clone(),
            ..trackingtech::ClientOptions::default()
        })?;
        let tt_tenants = trackingtech::Client::new(trackingtech::ClientOptions {
            // Any valid base: every use points it at a tenant's own with `with_base_url`.
            base_url: trackingtech::contract::PRODUCTION_BASE_URL.to_owned(),
            policy: Some(policy.clone()),
            ..trackingtech::ClientOptions::default()
        })?;
        let woo_defaults = woocommerce::HttpOptions::default();
        let woo_http = woocommerce::Http::new(woocommerce::HttpOptions {
            extra_root_cert_pem: options.woo_root_cert_pem.clone(),
            user_agent: format!("ttwc/{}", env!("CARGO_PKG_VERSION")),
            timeout: options.woo_timeout.unwrap_or(woo_defaults.timeout),
            policy,
            ..woo_defaults
        })?;
        Ok(App {
            inner: Arc::new(Inner {
                settings,
                store,
                key,
                installation,
                tt,
                tt_tenants,
                woo_http,
                wakeup: Arc::new(tokio::sync::Notify::new()),
                metrics: crate::metrics::Metrics::new(),
                targets: crate::targets::Targets::default(),
                woo_clients: std::sync::Mutex::default(),
            }),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }
    pub fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }
    pub fn key(&self) -> &MasterKey {
        &self.inner.key
    }
    pub fn installation(&self) -> &Installation {
        &self.inner.installation
    }
    /// The TrackingTech client on the configured base URL.
    pub fn trackingtech(&self) -> &trackingtech::Client {
        &self.inner.tt
    }
    /// A TrackingTech client for a tenant's base URL (its `api_url`, or the configured one).
    ///
    /// The configured URL is the operator's choice and is used as it is, and so is another path
    /// on its scheme and host. Any other address came from TrackingTech's registry, so it must
    /// be https and goes through the same address guard as stores.
    pub fn trackingtech_at(
        &self,
        base_url: &str,
    ) -> Result<trackingtech::Client, trackingtech::Error> {
        let configured = self.inner.tt.base_url();
        if base_url == configured {
            return Ok(self.inner.tt.clone());
        }
        let origin = |u: &str| {
            url::Url::parse(u).ok().map(|u| {
                (
                    u.scheme().to_owned(),
                    u.host_str().map(str::to_owned),
                    u.port_or_known_default(),
                )
            })
        };
        if origin(base_url).is_some() && origin(base_url) == origin(configured) {
            return self.inner.tt.with_base_url(base_url);
        }
        if origin(base_url).is_none_or(|(scheme, ..)| scheme != "https") {
            return Err(trackingtech::Error::InvalidBaseUrl {
                url: base_url.to_owned(),
                reason: "a tenant's address must be https".into(),
            });
        }
        self.inner.tt_tenants.with_base_url(base_url)
    }

    /// The client for a resolved tenant: its own `api_url` when it has one (see
    /// [`App::trackingtech_at`]).
    pub fn trackingtech_for(
        &self,
        resolved: &trackingtech::Resolved,
    ) -> Result<trackingtech::Client, trackingtech::Error> {
        match resolved.own_api_url() {
            Some(url) => self.trackingtech_at(url),
            None => Ok(self.inner.tt.clone()),
        }
    }
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.inner.metrics
    }

    /// The engine waits on this; the webhook receiver pokes it after queueing an order.
    pub fn wakeup(&self) -> Arc<tokio::sync::Notify> {
        self.inner.wakeup.clone()
    }

    /// What the webhook receiver needs of connection `id`: from memory when read less than
    /// [`crate::targets::TTL`] ago, else from the database. `None` for an unknown id.
    pub async fn delivery_target(
        &self,
        id: &str,
    ) -> Result<Option<Arc<crate::targets::Target>>, StoreError> {
        match self.inner.targets.get(id) {
            Some(target) => Ok(Some(target)),
            None => self.fresh_delivery_target(id).await,
        }
    }

    /// Like [`App::delivery_target`], always read from the database.
    pub async fn fresh_delivery_target(
        &self,
        id: &str,
    ) -> Result<Option<Arc<crate::targets::Target>>, StoreError> {
        let Some(row) = self.store().connection(id).await? else {
            self.inner.targets.forget(id);
            return Ok(None);
        };
        let secret = crate::connection::Secrets::open_webhook_secret(self, &row);
        Ok(Some(
            self.inner
                .targets
                .put(crate::targets::Target::new(&row, secret)),
        ))
    }

    /// Inserts or replaces a connection (see [`Store::upsert_connection`]) and drops what this
    /// process has cached about it.
    pub async fn upsert_connection(
        &self,
        row: &store::ConnectionRow,
    ) -> Result<store::ConnectionRow, StoreError> {
        let stored = self.store().upsert_connection(row).await;
        self.inner.targets.forget(&row.id);
        if let Ok(stored) = &stored {
            self.inner.targets.forget(&stored.id);
        }
        stored
    }

    /// Stores a connection's highest order id at connect time where none is yet (see
    /// [`Store::set_order_id_at_connect`]) and drops what this process has cached about it.
    pub async fn set_order_id_at_connect(
        &self,
        id: &str,
        order_id: i64,
    ) -> Result<bool, StoreError> {
        self.forgetting(id, self.store().set_order_id_at_connect(id, order_id).await)
    }

    /// See [`Store::mark_needs_relogin`]; drops what this process has cached about it.
    pub async fn mark_needs_relogin(
        &self,
        id: &str,
        error: &crate::text::Text,
    ) -> Result<bool, StoreError> {
        self.forgetting(id, self.store().mark_needs_relogin(id, error).await)
    }

    /// See [`Store::set_webhook`]; drops what this process has cached about it.
    pub async fn set_webhook(
        &self,
        id: &str,
        webhook_id: i64,
        sealed_secret: &[u8],
    ) -> Result<bool, StoreError> {
        let done = self
            .store()
            .set_webhook(id, webhook_id, sealed_secret)
            .await;
        self.forgetting(id, done)
    }

    /// Saves a changed connection and drops what this process has cached about it.
    pub async fn update_connection(&self, row: &store::ConnectionRow) -> Result<(), StoreError> {
        self.forgetting(&row.id, self.store().update_connection(row).await)
    }

    /// Drops what this process has cached about connection `id`, after a change made to it,
    /// and passes the change's result on.
    fn forgetting<T>(&self, id: &str, result: T) -> T {
        self.inner.targets.forget(id);
        result
    }

    /// A WooCommerce client for a connection's store, with its keys; None when the stored URL
    /// is not a store URL.
    ///
    /// Handles are kept per store and keys, so the auth mode one learned (query-string keys for
    /// a host that strips `Authorization`) is not learned again, a 401 later, at every call.
    pub fn woo_client(
        &self,
        store_url: &str,
        credentials: woocommerce::Credentials,
    ) -> Option<woocommerce::Client> {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for part in [
            store_url,
            credentials.consumer_key(),
            credentials.consumer_secret(),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let key: [u8; 32] = hash.finalize().into();
        let mut clients = self
            .inner
            .woo_clients
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(client) = clients.get(&key) {
            return Some(client.clone());
        }
        let store = woocommerce::StoreUrl::parse(store_url).ok()?;
        let client = woocommerce::Client::new(&self.inner.woo_http, store, credentials);
        // Keys replaced by a reconnect leave their handle behind; a bound keeps that finite.
        if clients.len() >= 20_000 {
            clients.clear();
        }
        clients.insert(key, client.clone());
        Some(client)
    }

    /// The HTTP side every store call shares (one pool, the address guard).
    pub fn woo_http(&self) -> &woocommerce::Http {
        &self.inner.woo_http
    }
}
