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
    options: AppOptions,
    /// Wakes the sync engine when an order is queued.
    wakeup: Arc<tokio::sync::Notify>,
    metrics: crate::metrics::Metrics,
    /// The webhook receiver's short-lived view of connections.
    targets: crate::targets::Targets,
    /// WooCommerce clients by SHA-256 of (store URL, keys).
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
        let tt = trackingtech::Client::new(trackingtech::ClientOptions {
            base_url: settings.trackingtech_url.clone(),
            ..trackingtech::ClientOptions::default()
        })?;
        Ok(App {
            inner: Arc::new(Inner {
                settings,
                store,
                key,
                installation,
                tt,
                options,
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
    pub fn trackingtech_at(
        &self,
        base_url: &str,
    ) -> Result<trackingtech::Client, trackingtech::Error> {
        if base_url == self.inner.tt.base_url() {
            Ok(self.inner.tt.clone())
        } else {
            self.inner.tt.with_base_url(base_url)
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
        let set = self.store().set_order_id_at_connect(id, order_id).await;
        self.inner.targets.forget(id);
        set
    }

    /// Saves a changed connection and drops what this process has cached about it.
    pub async fn update_connection(&self, row: &store::ConnectionRow) -> Result<(), StoreError> {
        let done = self.store().update_connection(row).await;
        self.inner.targets.forget(&row.id);
        done
    }

    /// A WooCommerce client for a connection's store, with its keys.
    ///
    /// Clients are kept per store and keys: building one builds an HTTP client with its TLS
    /// roots, which cost milliseconds of CPU per send and per write-back before they were kept.
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
        let client = woocommerce::Client::new(store, credentials, self.woo_options()).ok()?;
        // Keys replaced by a reconnect leave their client behind; a bound keeps that finite.
        if clients.len() >= 20_000 {
            clients.clear();
        }
        clients.insert(key, client.clone());
        Some(client)
    }

    pub fn woo_options(&self) -> woocommerce::ClientOptions {
        let defaults = woocommerce::ClientOptions::default();
        woocommerce::ClientOptions {
            extra_root_cert_pem: self.inner.options.woo_root_cert_pem.clone(),
            user_agent: format!("ttwc/{}", env!("CARGO_PKG_VERSION")),
            timeout: self.inner.options.woo_timeout.unwrap_or(defaults.timeout),
            ..defaults
        }
    }
}
