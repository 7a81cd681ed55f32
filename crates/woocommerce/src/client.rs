//! The REST v3 client: authentication, paging, and one method per call ttwc makes.
//!
//! Authentication follows what WooCommerce accepts (`WC_REST_Authentication`):
//! - over `https`, HTTP Basic (key as user, secret as password). Many shared hosts drop the
//!   `Authorization` header before PHP sees it; the store then treats the call as anonymous and
//!   answers 401. On a 401 the client retries once with the keys as `consumer_key` /
//!   `consumer_secret` query parameters and, if the store then answers anything but 401, keeps
//!   using them for the life of this client ([`Client::auth_mode`] tells which is in use, and
//!   [`ClientOptions::query_string_auth`] starts there for a store known to need it);
//! - over plain `http`, only OAuth 1.0a is accepted (Basic and query keys are silently ignored),
//!   so every request is signed with a fresh nonce and timestamp ([`crate::oauth`]).
//!
//! Paging builds and signs each page's URL itself. The `Link` header WooCommerce sends repeats
//! the request's OAuth parameters, nonce included, so following it replays the nonce and gets 401.
//!
//! Redirects are not followed: a redirected OAuth request no longer matches its signature, a
//! redirected POST may turn into a GET, and a redirect means the configured store URL is not the
//! store's home URL, which a person must correct ([`crate::Error::Redirected`]).
//!
//! A [`Client`] is a handle — store URL, keys, the auth mode learned — over one shared [`Http`]:
//! one connection pool, one set of TLS roots, and the address guard ([`egress`]) every store
//! call goes through, so a store URL that names or resolves to a private address is refused
//! before a connection is made ([`crate::Error::NotPublic`]), at every call.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use futures_util::{Stream, StreamExt, TryStreamExt};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, LOCATION, RETRY_AFTER};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::de::format_gmt;
use crate::error::{BodyProblem, Error};
use crate::oauth;
use crate::response::{decode_json, redirect_origin, retry_after, wc_error};
use crate::secrets::Credentials;
use crate::store_url::StoreUrl;
use crate::types::{
    Order, OrderNote, OrderStatus, OrderStatusTotal, Product, RestIndex, SettingValue,
    ShipmentTracking, SystemStatus, Variation, Webhook, WebhookCreate, WebhookStatus, WeightUnit,
};

/// WooCommerce's REST v3 namespace, under the store's home URL.
const V3: &str = "/wp-json/wc/v3";
/// WooCommerce's maximum `per_page`.
const MAX_PER_PAGE: u32 = 100;
/// The largest body read; a page of 100 orders is well under a megabyte.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// The largest REST index read: with `_fields` it is a few hundred bytes.
pub const MAX_INDEX_BYTES: usize = 1024 * 1024;
/// A store that keeps sending full pages without paging headers is stopped here.
const MAX_PAGES: u32 = 100_000;

/// How the shared HTTP side talks to stores.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Time to establish a connection (default 5 s).
    pub connect_timeout: Duration,
    /// Time for a whole request, body included (default 30 s).
    pub timeout: Duration,
    /// An extra trusted root certificate (PEM), e.g. the simulator's self-signed one in tests.
    pub extra_root_cert_pem: Option<Vec<u8>>,
    pub user_agent: String,
    /// Which addresses stores may be reached at (default: public addresses only).
    pub policy: egress::Policy,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            extra_root_cert_pem: None,
            user_agent: concat!("ttwc-woocommerce/", env!("CARGO_PKG_VERSION")).to_owned(),
            policy: egress::Policy::public_only(),
        }
    }
}

/// The HTTP side every store call shares: one connection pool, TLS roots, timeouts and the
/// address guard. Cheap to clone.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    policy: Arc<egress::Policy>,
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Http {
    pub fn new(options: HttpOptions) -> Result<Http, BuildError> {
        let policy = Arc::new(options.policy);
        let mut builder = egress::client_builder(policy.clone())
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .user_agent(options.user_agent);
        if let Some(pem) = &options.extra_root_cert_pem {
            // `from_pem` defers parsing and an empty bundle would silently trust nothing
            // extra, so read the bundle now and insist on a certificate.
            let certs =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|_| BuildError::Certificate)?;
            if certs.is_empty() {
                return Err(BuildError::Certificate);
            }
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder.build().map_err(BuildError::Http)?;
        Ok(Http { client, policy })
    }

    /// The addresses this side may reach.
    pub fn policy(&self) -> &egress::Policy {
        &self.policy
    }
}

/// How requests are authenticated right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Plain http: OAuth 1.0a, HMAC-SHA256, parameters in the query string.
    OAuth1,
    /// https: HTTP Basic.
    Basic,
    /// https: `consumer_key` / `consumer_secret` query parameters.
    QueryString,
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Not a PEM file holding at least one certificate.
    #[error("the extra root certificate is not a PEM certificate")]
    Certificate,
    #[error("could not build the HTTP client")]
    Http(#[source] reqwest::Error),
}

/// Which orders [`Client::list_orders`] returns.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    /// Status slugs (`processing`, ...); empty means any status.
    pub status: Vec<String>,
    /// Only orders modified strictly after this moment (compared in GMT).
    pub modified_after: Option<OffsetDateTime>,
    /// Only orders created strictly after this moment (compared in GMT).
    pub created_after: Option<OffsetDateTime>,
    /// Page size, 1..=100; `None` (or anything out of range) means 100.
    pub per_page: Option<u32>,
}

/// A WooCommerce store's REST API. Cheap to clone; clones share the learned auth mode.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    store: StoreUrl,
    /// None for an anonymous client ([`Client::anonymous`]).
    credentials: Option<Credentials>,
    /// Set once Basic auth got a 401 and query-string keys then worked.
    query_keys: AtomicBool,
    /// The guard's refusal of the store's host when it is an IP literal, which hyper dials
    /// without the guard's resolver. The host never changes, so it is judged once, here.
    refused: Option<egress::Refused>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("store", &self.inner.store)
            .field("credentials", &self.inner.credentials)
            .field("auth_mode", &self.auth_mode())
            .finish()
    }
}

/// Whether a request carries the keys. The REST index is fetched anonymously: since
/// WooCommerce 11.1 an API key on a non-WooCommerce route is refused with 401.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    Keys,
    Anonymous,
}

/// A 2xx answer.
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let content_type = self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        decode_json(self.status, content_type, &self.body)
    }

    fn header_u32(&self, name: &str) -> Option<u32> {
        self.headers.get(name)?.to_str().ok()?.trim().parse().ok()
    }
}

/// Any answer, before its status is judged.
struct RawReply {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// The query string of an order listing, oldest id first.
fn order_params(query: &OrderQuery) -> Query {
    let mut params = q(&[("orderby", "id"), ("order", "asc")]);
    let statuses: Vec<&str> = query
        .status
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if !statuses.is_empty() {
        // A comma list, not repeated `status=` keys: PHP keeps only the last of those.
        params.push(("status".into(), statuses.join(",")));
    }
    if let Some(after) = query.modified_after {
        params.push(("modified_after".into(), format_gmt(after)));
    }
    if let Some(after) = query.created_after {
        params.push(("after".into(), format_gmt(after)));
    }
    if query.modified_after.is_some() || query.created_after.is_some() {
        // Without it WooCommerce compares against the store's local time.
        params.push(("dates_are_gmt".into(), "true".into()));
    }
    params
}

type Query = Vec<(String, String)>;

/// The Shipment Tracking extension's collection of an order's tracking items.
fn trackings_path(order_id: u64) -> String {
    format!("/wp-json/wc-shipment-tracking/v3/orders/{order_id}/shipment-trackings")
}

fn q(pairs: &[(&str, &str)]) -> Query {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Ids as WooCommerce's `include=` wants them: a comma list (parsed by `wp_parse_id_list`).
fn id_list(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

/// Ids without duplicates or zeros (a line item's `variation_id` 0 means "none").
fn unique_ids(ids: &[u64]) -> Vec<u64> {
    let mut ids: Vec<u64> = ids.iter().copied().filter(|id| *id != 0).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

impl Client {
    /// A handle for one store and its keys over the shared HTTP side.
    pub fn new(http: &Http, store: StoreUrl, credentials: Credentials) -> Client {
        Client::build(http, store, Some(credentials))
    }

    /// A client without keys, for what a store serves to anyone (the REST index, to learn
    /// whether a URL is a WooCommerce store before keys exist). Calls that need keys go
    /// unsigned, and the store refuses them.
    pub fn anonymous(http: &Http, store: StoreUrl) -> Client {
        Client::build(http, store, None)
    }

    /// Over https, sends the keys as query parameters from the start instead of Basic auth (a
    /// store already known to strip the `Authorization` header).
    pub fn with_query_string_auth(self) -> Client {
        self.inner.query_keys.store(true, Ordering::Relaxed);
        self
    }

    fn build(http: &Http, store: StoreUrl, credentials: Option<Credentials>) -> Client {
        let refused = http.policy.check_url(&store.url("/")).err();
        Client {
            inner: Arc::new(Inner {
                http: http.clone(),
                store,
                credentials,
                query_keys: AtomicBool::new(false),
                refused,
            }),
        }
    }

    pub fn store_url(&self) -> &StoreUrl {
        &self.inner.store
    }

    /// How the next request will authenticate.
    pub fn auth_mode(&self) -> AuthMode {
        if !self.inner.store.is_https() {
            AuthMode::OAuth1
        } else if self.inner.query_keys.load(Ordering::Relaxed) {
            AuthMode::QueryString
        } else {
            AuthMode::Basic
        }
    }

    // ---- Calls ----

    /// The REST index (`GET /wp-json/`), to learn which namespaces the store serves (e.g.
    /// [`RestIndex::SHIPMENT_TRACKING`]), its time zone, and which address the store calls its
    /// own (`home`, `url`). Asked anonymously with `_fields`, because the full index lists every
    /// route and can be megabytes.
    /// Read at most [`MAX_INDEX_BYTES`]: the wizard asks this of any address a visitor types.
    pub async fn rest_index(&self) -> Result<RestIndex, Error> {
        self.call_capped(
            Method::GET,
            "/wp-json/",
            q(&[("_fields", "namespaces,home,url,timezone_string,gmt_offset")]),
            None,
            Auth::Anonymous,
            MAX_INDEX_BYTES,
        )
        .await?
        .json()
    }

    /// Every order matching `query`, page after page (ordered by id, ascending, so orders that
    /// change while paging do not shift later pages). The stream ends after the first error.
    pub fn list_orders(
        &self,
        query: &OrderQuery,
    ) -> impl Stream<Item = Result<Order, Error>> + Send + 'static {
        let per_page = query.per_page.filter(|n| (1..=MAX_PER_PAGE).contains(n));
        self.paged(
            format!("{V3}/orders"),
            order_params(query),
            per_page.unwrap_or(MAX_PER_PAGE),
        )
    }

    /// How many orders `query` matches, from the `X-WP-Total` header of a one-order page; None
    /// when the store does not send it (a plugin stripped the paging headers).
    pub async fn count_orders(&self, query: &OrderQuery) -> Result<Option<u64>, Error> {
        let mut params = order_params(query);
        params.push(("per_page".into(), "1".into()));
        params.push(("page".into(), "1".into()));
        let reply = self
            .call(
                Method::GET,
                &format!("{V3}/orders"),
                params,
                None,
                Auth::Keys,
            )
            .await?;
        Ok(reply.header_u32("x-wp-total").map(u64::from))
    }

    /// The highest order id the store has, trashed orders included; `None` when it has no
    /// order. WooCommerce ids only grow, so an order with a higher id was created later,
    /// whatever date wp-admin gives it. The listing's default status (`any`) leaves the trash
    /// out, hence `any,trash`.
    pub async fn highest_order_id(&self) -> Result<Option<u64>, Error> {
        #[derive(serde::Deserialize)]
        struct IdOnly {
            #[serde(deserialize_with = "crate::de::id")]
            id: u64,
        }
        let params = q(&[
            ("orderby", "id"),
            ("order", "desc"),
            ("per_page", "1"),
            ("status", "any,trash"),
        ]);
        let newest: Vec<IdOnly> = self.get(&format!("{V3}/orders"), params).await?;
        Ok(newest.first().map(|o| o.id))
    }

    pub async fn get_order(&self, id: u64) -> Result<Order, Error> {
        self.get(&format!("{V3}/orders/{id}"), Vec::new()).await
    }

    /// Sets meta entries on an order (`PUT meta_data`); a `null` value deletes the key. Other
    /// meta is untouched. Note that this saves the order, which fires `order.updated`.
    pub async fn update_order_meta<K, V>(&self, id: u64, entries: &[(K, V)]) -> Result<Order, Error>
    where
        K: AsRef<str>,
        V: Serialize,
    {
        let meta: Vec<Value> = entries
            .iter()
            .map(|(k, v)| json!({"key": k.as_ref(), "value": v}))
            .collect();
        self.send_json(
            Method::PUT,
            &format!("{V3}/orders/{id}"),
            Vec::new(),
            &json!({"meta_data": meta}),
        )
        .await
    }

    pub async fn update_order_status(&self, id: u64, status: &OrderStatus) -> Result<Order, Error> {
        let body = json!({"status": status.as_str()});
        self.send_json(Method::PUT, &format!("{V3}/orders/{id}"), Vec::new(), &body)
            .await
    }

    /// Adds a note to an order; `customer_note` also e-mails it to the customer.
    pub async fn add_order_note(
        &self,
        order_id: u64,
        note: &str,
        customer_note: bool,
    ) -> Result<OrderNote, Error> {
        let body = json!({"note": note, "customer_note": customer_note});
        self.send_json(
            Method::POST,
            &format!("{V3}/orders/{order_id}/notes"),
            Vec::new(),
            &body,
        )
        .await
    }

    /// All notes of an order (this endpoint is not paged).
    pub async fn list_order_notes(&self, order_id: u64) -> Result<Vec<OrderNote>, Error> {
        self.get(&format!("{V3}/orders/{order_id}/notes"), Vec::new())
            .await
    }

    /// The products with these ids (duplicates and zeros ignored), 100 per request. Ids that
    /// are not products (deleted ones, variation ids) are simply absent from the result.
    pub async fn products_by_ids(&self, ids: &[u64]) -> Result<Vec<Product>, Error> {
        let mut out = Vec::new();
        for chunk in unique_ids(ids).chunks(MAX_PER_PAGE as usize) {
            let params = q(&[("include", &id_list(chunk)), ("per_page", "100")]);
            out.extend(
                self.get::<Vec<Product>>(&format!("{V3}/products"), params)
                    .await?,
            );
        }
        Ok(out)
    }

    /// Variations of `product_id`: those in `ids` (100 per request), or all of them when `ids`
    /// is empty.
    pub async fn variations(&self, product_id: u64, ids: &[u64]) -> Result<Vec<Variation>, Error> {
        let path = format!("{V3}/products/{product_id}/variations");
        let mut out: Vec<Variation> = if ids.is_empty() {
            self.paged(path, Vec::new(), MAX_PER_PAGE)
                .try_collect()
                .await?
        } else {
            let mut out = Vec::new();
            for chunk in unique_ids(ids).chunks(MAX_PER_PAGE as usize) {
                let params = q(&[("include", &id_list(chunk)), ("per_page", "100")]);
                out.extend(self.get::<Vec<Variation>>(&path, params).await?);
            }
            out
        };
        for v in &mut out {
            if v.parent_id == 0 {
                v.parent_id = product_id;
            }
        }
        Ok(out)
    }

    /// Every order status the store has registered, custom ones included, with the names it
    /// shows them by (`GET /wc/v3/reports/orders/totals`).
    pub async fn order_statuses(&self) -> Result<Vec<OrderStatusTotal>, Error> {
        self.get(&format!("{V3}/reports/orders/totals"), Vec::new())
            .await
    }

    /// The site's language (`environment.language` of `GET /wc/v3/system_status`, e.g.
    /// `es_CL`); `None` when the store does not say. The report is heavy to build, so ask once.
    pub async fn store_language(&self) -> Result<Option<String>, Error> {
        let status: SystemStatus = self
            .get(
                &format!("{V3}/system_status"),
                q(&[("_fields", "environment")]),
            )
            .await?;
        let language = status.environment.language.trim().to_owned();
        Ok((!language.is_empty()).then_some(language))
    }

    /// The store's weight unit (`woocommerce_weight_unit`).
    pub async fn weight_unit(&self) -> Result<WeightUnit, Error> {
        let setting: SettingValue = self
            .get(
                &format!("{V3}/settings/products/woocommerce_weight_unit"),
                Vec::new(),
            )
            .await?;
        Ok(match &setting.value {
            Value::String(s) => WeightUnit::parse(s),
            other => WeightUnit::Other(other.to_string()),
        })
    }

    /// Creates a webhook. WooCommerce pings its delivery URL before answering, and does not
    /// return the secret: keep the one in `webhook`.
    pub async fn create_webhook(&self, webhook: &WebhookCreate) -> Result<Webhook, Error> {
        self.send_json(
            Method::POST,
            &format!("{V3}/webhooks"),
            Vec::new(),
            &webhook.to_json(),
        )
        .await
    }

    pub async fn get_webhook(&self, id: u64) -> Result<Webhook, Error> {
        self.get(&format!("{V3}/webhooks/{id}"), Vec::new()).await
    }

    /// Sets a webhook's status, e.g. back to `active` after WooCommerce disabled it.
    pub async fn update_webhook_status(
        &self,
        id: u64,
        status: &WebhookStatus,
    ) -> Result<Webhook, Error> {
        let body = json!({"status": status.as_str()});
        self.send_json(
            Method::PUT,
            &format!("{V3}/webhooks/{id}"),
            Vec::new(),
            &body,
        )
        .await
    }

    /// Deletes a webhook for good (`force=true`; WooCommerce has no trash for webhooks). A
    /// webhook already gone is an error with [`Error::is_not_found`].
    pub async fn delete_webhook(&self, id: u64) -> Result<Webhook, Error> {
        self.call(
            Method::DELETE,
            &format!("{V3}/webhooks/{id}"),
            q(&[("force", "true")]),
            None,
            Auth::Keys,
        )
        .await?
        .json()
    }

    /// All webhooks of the store, whatever their status.
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>, Error> {
        self.paged(format!("{V3}/webhooks"), Vec::new(), MAX_PER_PAGE)
            .try_collect()
            .await
    }

    /// Adds a tracking number through the Shipment Tracking extension (check
    /// [`RestIndex::SHIPMENT_TRACKING`] first; without the extension this is a 404).
    pub async fn add_shipment_tracking(
        &self,
        order_id: u64,
        provider: &str,
        tracking_number: &str,
    ) -> Result<ShipmentTracking, Error> {
        let body =
            json!({"custom_tracking_provider": provider, "tracking_number": tracking_number});
        self.send_json(Method::POST, &trackings_path(order_id), Vec::new(), &body)
            .await
    }

    /// The order's tracking items through the Shipment Tracking extension (one unpaged list).
    pub async fn list_shipment_trackings(
        &self,
        order_id: u64,
    ) -> Result<Vec<ShipmentTracking>, Error> {
        self.get(&trackings_path(order_id), Vec::new()).await
    }

    /// Deletes one tracking item through the Shipment Tracking extension (the extension cannot
    /// update one). An item already gone is an error with [`Error::is_not_found`].
    pub async fn delete_shipment_tracking(
        &self,
        order_id: u64,
        tracking_id: &str,
    ) -> Result<ShipmentTracking, Error> {
        let path = format!(
            "{}/{}",
            trackings_path(order_id),
            utf8_percent_encode(tracking_id, NON_ALPHANUMERIC)
        );
        self.call(Method::DELETE, &path, Vec::new(), None, Auth::Keys)
            .await?
            .json()
    }

    // ---- Plumbing ----

    async fn get<T: DeserializeOwned>(&self, path: &str, params: Query) -> Result<T, Error> {
        self.call(Method::GET, path, params, None, Auth::Keys)
            .await?
            .json()
    }

    async fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        params: Query,
        body: &Value,
    ) -> Result<T, Error> {
        // Serialising a `Value` cannot fail.
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.call(method, path, params, Some(bytes), Auth::Keys)
            .await?
            .json()
    }

    /// A stream over every item of a paged collection.
    fn paged<T>(
        &self,
        path: String,
        params: Query,
        per_page: u32,
    ) -> impl Stream<Item = Result<T, Error>> + Send + 'static
    where
        T: DeserializeOwned + Send + 'static,
    {
        struct State<T> {
            client: Client,
            path: String,
            params: Query,
            per_page: u32,
            page: u32,
            buffer: VecDeque<T>,
            done: bool,
        }
        let state = State {
            client: self.clone(),
            path,
            params,
            per_page,
            page: 1,
            buffer: VecDeque::new(),
            done: false,
        };
        futures_util::stream::unfold(state, |mut st| async move {
            loop {
                if let Some(item) = st.buffer.pop_front() {
                    return Some((Ok(item), st));
                }
                if st.done {
                    return None;
                }
                let mut params = st.params.clone();
                params.push(("per_page".into(), st.per_page.to_string()));
                params.push(("page".into(), st.page.to_string()));
                let reply = match st
                    .client
                    .call(Method::GET, &st.path, params, None, Auth::Keys)
                    .await
                {
                    Ok(reply) => reply,
                    Err(e) => {
                        st.done = true;
                        return Some((Err(e), st));
                    }
                };
                let items: Vec<T> = match reply.json() {
                    Ok(items) => items,
                    Err(e) => {
                        st.done = true;
                        return Some((Err(e), st));
                    }
                };
                let count = items.len();
                st.done = count == 0
                    || st.page >= MAX_PAGES
                    || match reply.header_u32("x-wp-totalpages") {
                        Some(total_pages) => st.page >= total_pages,
                        // Without paging headers (a plugin stripped them), a short page is the last.
                        None => count < st.per_page as usize,
                    };
                st.page += 1;
                st.buffer.extend(items);
            }
        })
        .boxed()
    }

    /// Sends one request and returns its 2xx answer or the error it amounts to. Over https a
    /// 401 to Basic auth is retried once with query-string keys (see the module doc).
    async fn call(
        &self,
        method: Method,
        path: &str,
        params: Query,
        body: Option<Vec<u8>>,
        auth: Auth,
    ) -> Result<Reply, Error> {
        self.call_capped(method, path, params, body, auth, MAX_BODY_BYTES)
            .await
    }

    /// [`Client::call`], reading at most `max_body` bytes of the answer.
    async fn call_capped(
        &self,
        method: Method,
        path: &str,
        params: Query,
        body: Option<Vec<u8>>,
        auth: Auth,
        max_body: usize,
    ) -> Result<Reply, Error> {
        let mode = match auth {
            Auth::Anonymous => None,
            Auth::Keys => Some(self.auth_mode()),
        };
        let mut raw = self
            .send_once(&method, path, &params, body.as_deref(), mode, max_body)
            .await?;
        if raw.status == 401 && mode == Some(AuthMode::Basic) {
            let retry = self
                .send_once(
                    &method,
                    path,
                    &params,
                    body.as_deref(),
                    Some(AuthMode::QueryString),
                    max_body,
                )
                .await?;
            if retry.status != 401 {
                tracing::info!(
                    store = %self.inner.store,
                    status = retry.status,
                    "Basic auth got 401 but query-string keys did not: the host strips the \
                     Authorization header; using query-string keys from now on"
                );
                self.inner.query_keys.store(true, Ordering::Relaxed);
            }
            raw = retry;
        }
        judge(raw)
    }

    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        params: &Query,
        body: Option<&[u8]>,
        mode: Option<AuthMode>,
        max_body: usize,
    ) -> Result<RawReply, Error> {
        let base_uri = self.inner.store.join(path);
        let creds = self.inner.credentials.as_ref();
        let mut params = params.clone();
        match (mode, creds) {
            (Some(AuthMode::OAuth1), Some(creds)) => {
                let timestamp = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                oauth::sign(
                    method.as_str(),
                    &base_uri,
                    &mut params,
                    creds.consumer_key(),
                    creds.consumer_secret(),
                    &oauth::nonce(),
                    timestamp,
                );
            }
            (Some(AuthMode::QueryString), Some(creds)) => {
                params.push(("consumer_key".into(), creds.consumer_key().into()));
                params.push(("consumer_secret".into(), creds.consumer_secret().into()));
            }
            _ => {}
        }
        let url = if params.is_empty() {
            base_uri
        } else {
            format!("{base_uri}?{}", oauth::query_string(&params))
        };
        if let Some(refused) = &self.inner.refused {
            return Err(Error::NotPublic(refused.clone()));
        }
        let mut request = self
            .inner
            .http
            .client
            .request(method.clone(), url)
            .header(ACCEPT, "application/json");
        if let (Some(AuthMode::Basic), Some(creds)) = (mode, creds) {
            request = request.basic_auth(creds.consumer_key(), Some(creds.consumer_secret()));
        }
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let started = Instant::now();
        let mut response = request.send().await.map_err(|e| {
            let e = Error::transport(e);
            tracing::debug!(%method, path, error = %e, "woocommerce request failed");
            e
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(Error::transport)? {
            if body.len() + chunk.len() > max_body {
                return Err(Error::InvalidResponse {
                    status,
                    content_type: headers
                        .get(CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                    length: body.len() + chunk.len(),
                    problem: BodyProblem::TooLarge,
                });
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(
            %method,
            path,
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "woocommerce request"
        );
        Ok(RawReply {
            status,
            headers,
            body,
        })
    }
}

/// A 2xx becomes a [`Reply`], anything else its [`Error`].
fn judge(raw: RawReply) -> Result<Reply, Error> {
    if (200..300).contains(&raw.status) {
        return Ok(Reply {
            status: raw.status,
            headers: raw.headers,
            body: raw.body,
        });
    }
    let (code, message) = wc_error(&raw.body);
    let wait = raw
        .headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after(v, SystemTime::now()));
    let location = raw
        .headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(redirect_origin);
    Err(Error::from_status(
        raw.status, code, message, wait, location,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deduplicated_and_zero_dropped() {
        assert_eq!(unique_ids(&[3, 0, 1, 3, 2]), vec![1, 2, 3]);
        assert_eq!(id_list(&[1, 2, 3]), "1,2,3");
    }

    #[test]
    fn auth_mode_follows_scheme_and_option() {
        let creds = Credentials::new("ck_a", "cs_b").unwrap();
        let http = StoreUrl::parse("http://127.0.0.1:1").unwrap();
        let https = StoreUrl::parse("https://127.0.0.1:1").unwrap();
        let shared = Http::new(HttpOptions::default()).unwrap();
        let c = Client::new(&shared, http, creds.clone());
        assert_eq!(c.auth_mode(), AuthMode::OAuth1);
        let c = Client::new(&shared, https.clone(), creds.clone());
        assert_eq!(c.auth_mode(), AuthMode::Basic);
        let c = Client::new(&shared, https, creds).with_query_string_auth();
        assert_eq!(c.auth_mode(), AuthMode::QueryString);
        assert!(!format!("{c:?}").contains("cs_b"));
    }

    #[test]
    fn bad_extra_certificate_is_a_build_error() {
        let opts = HttpOptions {
            extra_root_cert_pem: Some(b"not a certificate".to_vec()),
            ..HttpOptions::default()
        };
        assert!(matches!(Http::new(opts), Err(BuildError::Certificate)));
    }
}
