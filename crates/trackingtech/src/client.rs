//! The async TrackingTech client.

use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use url::Url;

use crate::contract;
use crate::error::Error;
use crate::types::{
    LinkRequest, Linked, Login, LoginRequest, OrderPayload, OrderStatus, Page, ResolveRequest,
    Resolved, Secret, SentOrder, StatusList, StatusRequest, Store, UninstallRequest,
};

/// How to reach TrackingTech.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Base URL every contract path is appended to, e.g. `https://api-app.trackingtech.cl/api`.
    pub base_url: String,
    pub connect_timeout: Duration,
    /// Whole-request timeout, answer body included.
    pub timeout: Duration,
    pub user_agent: String,
    /// The address guard, for a client that calls addresses TrackingTech's registry gave (a
    /// tenant's `api_url`). None for the operator's configured URL, which is their choice.
    pub policy: Option<egress::Policy>,
}

/// The largest answer read: a page of 100 stores or 100 statuses is a few kilobytes.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            base_url: contract::PRODUCTION_BASE_URL.to_owned(),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            user_agent: format!("ttwc/{}", env!("CARGO_PKG_VERSION")),
            policy: None,
        }
    }
}

/// A TrackingTech client for one base URL. Cloning is cheap and shares the connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    policy: Option<std::sync::Arc<egress::Policy>>,
}

impl Client {
    pub fn new(options: ClientOptions) -> Result<Client, Error> {
        let policy = options.policy.map(std::sync::Arc::new);
        let builder = match &policy {
            Some(policy) => egress::client_builder(policy.clone()),
            None => reqwest::Client::builder(),
        };
        let http = builder
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .user_agent(options.user_agent)
            // An API answer that redirects is not following the contract; surfacing the 3xx is
            // clearer than silently re-sending an order somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(Error::Transport)?;
        let base = checked_base(&options.base_url, policy.as_deref())?;
        Ok(Client { http, base, policy })
    }

    /// The base URL in use, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The same client pointed at another base URL (sharing the connection pool).
    pub fn with_base_url(&self, base_url: &str) -> Result<Client, Error> {
        Ok(Client {
            http: self.http.clone(),
            base: checked_base(base_url, self.policy.as_deref())?,
            policy: self.policy.clone(),
        })
    }

    /// Validates a courier code against the tenant registry.
    pub async fn resolve(&self, request: &ResolveRequest<'_>) -> Result<Resolved, Error> {
        let req = self
            .request(Method::POST, contract::PATH_RESOLVE)
            .json(request);
        Ok(self.call(req).await?.1)
    }

    pub async fn login(&self, request: &LoginRequest<'_>) -> Result<Login, Error> {
        let req = self
            .request(Method::POST, contract::PATH_LOGIN)
            .json(request);
        Ok(self.call(req).await?.1)
    }

    /// One page of the account's stores (pages start at 1).
    pub async fn stores_page(&self, token: &Secret, page: u64) -> Result<Page<Store>, Error> {
        let req = self
            .request(Method::GET, contract::PATH_STORES)
            .bearer_auth(token.expose())
            .query(&[("page", page), ("per_page", 100)]);
        Ok(self.call(req).await?.1)
    }

    /// Every store of the account, across pages.
    pub async fn stores(&self, token: &Secret) -> Result<Vec<Store>, Error> {
        // A runaway `last_page` must not turn into a runaway loop.
        const MAX_PAGES: u64 = 100;
        let mut stores = Vec::new();
        let mut page = 1;
        loop {
            let current = self.stores_page(token, page).await?;
            let empty = current.data.is_empty();
            stores.extend(current.data);
            if empty || page >= current.last_page || page >= MAX_PAGES {
                return Ok(stores);
            }
            page += 1;
        }
    }

    pub async fn link(&self, token: &Secret, request: &LinkRequest<'_>) -> Result<Linked, Error> {
        let req = self
            .request(Method::POST, contract::PATH_LINK)
            .bearer_auth(token.expose())
            .json(request);
        Ok(self.call(req).await?.1)
    }

    /// Sends an order. The same key with the same bytes is safe to send again: TrackingTech
    /// answers the first result (`replayed` = true) and creates nothing.
    pub async fn send_order(
        &self,
        integration_token: &Secret,
        idempotency_key: &str,
        payload: &OrderPayload,
    ) -> Result<SentOrder, Error> {
        let req = self
            .request(Method::POST, contract::PATH_ORDERS)
            .bearer_auth(integration_token.expose())
            .header(contract::HEADER_IDEMPOTENCY_KEY, idempotency_key)
            .header(CONTENT_TYPE, "application/json")
            .body(payload.as_bytes().to_vec());
        let (status, mut sent): (u16, SentOrder) = self.call(req).await?;
        sent.replayed = status == 200;
        Ok(sent)
    }

    /// Statuses of up to [`contract::MAX_STATUS_BATCH`] orders (WooCommerce order ids).
    /// Orders TrackingTech does not know are left out of the answer.
    pub async fn order_status(
        &self,
        integration_token: &Secret,
        order_ids: &[u64],
    ) -> Result<Vec<OrderStatus>, Error> {
        let req = self
            .request(Method::POST, contract::PATH_ORDER_STATUS)
            .bearer_auth(integration_token.expose())
            .json(&StatusRequest { order_ids });
        let (_, list): (u16, StatusList) = self.call(req).await?;
        Ok(list.data)
    }

    pub async fn uninstall(
        &self,
        integration_token: &Secret,
        request: &UninstallRequest<'_>,
    ) -> Result<(), Error> {
        let req = self
            .request(Method::POST, contract::PATH_UNINSTALL)
            .bearer_auth(integration_token.expose())
            .json(request);
        let _: (u16, serde_json::Value) = self.call(req).await?;
        Ok(())
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.base, path))
            .header(ACCEPT, "application/json")
    }

    /// Sends a request and reads a 2xx JSON answer, or turns the answer into an [`Error`].
    #[tracing::instrument(level = "debug", skip_all, fields(path, status))]
    async fn call<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<(u16, T), Error> {
        let mut response = req.send().await.map_err(Error::transport)?;
        let status = response.status().as_u16();
        let span = tracing::Span::current();
        span.record("path", response.url().path());
        span.record("status", status);
        let retry_after = retry_after(response.headers());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(Error::transport)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(Error::InvalidResponse {
                    status,
                    reason: format!("an answer larger than {MAX_BODY_BYTES} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        if !(200..300).contains(&status) {
            let error = Error::from_status(status, &body, retry_after);
            tracing::debug!(error = %error, "TrackingTech answered with an error");
            return Err(error);
        }
        serde_json::from_slice(&body)
            .map(|value| (status, value))
            .map_err(|e| {
                // The serde message names the field and position, never the value, so it is safe to
                // keep; the body itself may hold personal data and is not.
                Error::InvalidResponse {
                    status,
                    reason: format!("{e} ({} bytes)", body.len()),
                }
            })
    }
}

/// A base URL as the client uses it; with a guard, an IP-literal host must be one it permits
/// (named hosts are checked by its resolver at every call).
fn checked_base(input: &str, policy: Option<&egress::Policy>) -> Result<String, Error> {
    let invalid = |reason: &str| Error::InvalidBaseUrl {
        url: input.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(input.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("it must start with http:// or https://"));
    }
    if url.host_str().is_none() {
        return Err(invalid("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not carry a query or fragment"));
    }
    if let Some(policy) = policy {
        policy.check_url(&url).map_err(Error::NotPublic)?;
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, format)
        .ok()?
        .assume_utc();
    let wait = at - time::OffsetDateTime::now_utc();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_trimmed() {
        assert_eq!(
            checked_base("https://api.example/api/", None)
                .ok()
                .as_deref(),
            Some("https://api.example/api")
        );
        assert!(matches!(
            checked_base("ftp://x", None),
            Err(Error::InvalidBaseUrl { .. })
        ));
        assert!(matches!(
            checked_base("not a url", None),
            Err(Error::InvalidBaseUrl { .. })
        ));
    }

    #[test]
    fn a_guarded_base_must_not_name_a_private_address() {
        let guard = egress::Policy::public_only();
        for url in ["http://127.0.0.1:8080/api", "https://[::ffff:10.0.0.1]/api"] {
            assert!(
                matches!(checked_base(url, Some(&guard)), Err(Error::NotPublic(_))),
                "{url}"
            );
            assert!(checked_base(url, None).is_ok(), "{url}");
        }
        assert!(checked_base("https://api.example/api", Some(&guard)).is_ok());
    }

    #[test]
    fn default_options_match_the_contract() {
        let o = ClientOptions::default();
        assert_eq!(o.base_url, "https://api-app.trackingtech.cl/api");
        assert_eq!(o.connect_timeout, Duration::from_secs(5));
        assert_eq!(o.timeout, Duration::from_secs(30));
    }

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, reqwest::header::HeaderValue::from_static("12"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(12)));
        h.insert(
            RETRY_AFTER,
            reqwest::header::HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(
            RETRY_AFTER,
            reqwest::header::HeaderValue::from_static("soon"),
        );
        assert_eq!(retry_after(&h), None);
    }
}
