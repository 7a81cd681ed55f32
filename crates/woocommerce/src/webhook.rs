//! The receiving side of WooCommerce webhooks: signature, headers, ping, payload.
//!
//! A delivery is a POST whose body is the resource as `GET /wc/v3/<resource>/<id>` renders it
//! (`{"id": N}` for `deleted` events), with `X-WC-Webhook-*` headers and
//! `X-WC-Webhook-Signature` = base64(HMAC-SHA256(secret, raw body)). Verify over the raw bytes
//! received, before any parsing: WooCommerce escapes `/` and non-ASCII in its JSON, so a body
//! re-serialised from parsed JSON does not match.
//!
//! When a webhook is created (and on later saves until one ping got exactly 200) WooCommerce
//! sends a ping instead: a form body `webhook_id=<id>`, no `X-WC-*` headers, no signature. A
//! receiver must answer it 200 or deliveries start out as failures.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde::Deserialize;
use sha2::Sha256;

use crate::de;
use crate::error::BodyProblem;
use crate::types::{Order, OrderStatus};

pub const HEADER_SOURCE: &str = "x-wc-webhook-source";
pub const HEADER_TOPIC: &str = "x-wc-webhook-topic";
pub const HEADER_RESOURCE: &str = "x-wc-webhook-resource";
pub const HEADER_EVENT: &str = "x-wc-webhook-event";
pub const HEADER_SIGNATURE: &str = "x-wc-webhook-signature";
pub const HEADER_ID: &str = "x-wc-webhook-id";
pub const HEADER_DELIVERY_ID: &str = "x-wc-webhook-delivery-id";

/// Why a signature does not prove the body came from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the delivery has no signature")]
    Missing,
    #[error("the signature is not base64 of an HMAC-SHA256")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// The signature WooCommerce computes for `body`: base64(HMAC-SHA256(secret, body)).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    STANDARD.encode(mac(secret, body).finalize().into_bytes())
}

/// Checks `header_value` (the `X-WC-Webhook-Signature` header) against `body` in constant time.
pub fn verify_signature(
    secret: &[u8],
    body: &[u8],
    header_value: &str,
) -> Result<(), SignatureError> {
    let header_value = header_value.trim();
    if header_value.is_empty() {
        return Err(SignatureError::Missing);
    }
    let given = STANDARD
        .decode(header_value)
        .map_err(|_| SignatureError::Malformed)?;
    if given.len() != 32 {
        return Err(SignatureError::Malformed);
    }
    // `verify_slice` compares in constant time.
    mac(secret, body)
        .verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

fn mac(secret: &[u8], body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length: `new_from_slice` cannot fail here. An empty-key MAC in the
    // impossible other case would simply not verify.
    let mut m = Hmac::<Sha256>::new_from_slice(secret)
        .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
    m.update(body);
    m
}

/// The `X-WC-Webhook-*` headers of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryHeaders {
    /// The store's home URL with a trailing slash (`http://127.0.0.1:8080/`).
    pub source: String,
    /// `<resource>.<event>`, e.g. `order.updated`.
    pub topic: String,
    pub resource: String,
    pub event: String,
    pub signature: String,
    pub webhook_id: u64,
    /// 32 hex digits; two deliveries in the same second can share it, so it is not a unique key.
    pub delivery_id: String,
}

/// A header that is absent or unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("the delivery has no {0} header")]
    Missing(&'static str),
    #[error("the delivery's {0} header is not valid")]
    Invalid(&'static str),
}

impl DeliveryHeaders {
    pub fn from_headers(headers: &HeaderMap) -> Result<DeliveryHeaders, HeaderError> {
        let get = |name: &'static str| -> Result<String, HeaderError> {
            let value = headers.get(name).ok_or(HeaderError::Missing(name))?;
            let value = value
                .to_str()
                .map_err(|_| HeaderError::Invalid(name))?
                .trim();
            if value.is_empty() {
                return Err(HeaderError::Missing(name));
            }
            Ok(value.to_owned())
        };
        let webhook_id = get(HEADER_ID)?
            .parse::<u64>()
            .map_err(|_| HeaderError::Invalid(HEADER_ID))?;
        Ok(DeliveryHeaders {
            source: get(HEADER_SOURCE)?,
            topic: get(HEADER_TOPIC)?,
            resource: get(HEADER_RESOURCE)?,
            event: get(HEADER_EVENT)?,
            signature: get(HEADER_SIGNATURE)?,
            webhook_id,
            delivery_id: get(HEADER_DELIVERY_ID)?,
        })
    }

    /// [`verify_signature`] with this delivery's signature.
    pub fn verify(&self, secret: &[u8], body: &[u8]) -> Result<(), SignatureError> {
        verify_signature(secret, body, &self.signature)
    }
}

/// The webhook id of a ping body (`webhook_id=<id>`, form-encoded), if `body` is one.
///
/// `content_type` may be absent (the transport sets it); if present it must be form-encoded.
pub fn ping_webhook_id(content_type: Option<&str>, body: &[u8]) -> Option<u64> {
    if let Some(ct) = content_type {
        let essence = ct.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return None;
        }
    }
    let mut pairs = url::form_urlencoded::parse(body.trim_ascii());
    let (key, value) = pairs.next()?;
    if key != "webhook_id" || pairs.next().is_some() {
        return None;
    }
    value.parse().ok()
}

/// Whether `body` is a ping ([`ping_webhook_id`]).
pub fn is_ping(content_type: Option<&str>, body: &[u8]) -> bool {
    ping_webhook_id(content_type, body).is_some()
}

/// What arrived at the webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// The creation ping: answer 200, nothing else.
    Ping { webhook_id: u64 },
    /// A delivery; verify its signature before trusting the body.
    Delivery(DeliveryHeaders),
}

/// Tells a ping (no `X-WC-Webhook-Topic`, body `webhook_id=N`) from a delivery.
pub fn classify(headers: &HeaderMap, body: &[u8]) -> Result<Incoming, HeaderError> {
    if !headers.contains_key(HEADER_TOPIC) {
        let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        if let Some(webhook_id) = ping_webhook_id(content_type, body) {
            return Ok(Incoming::Ping { webhook_id });
        }
    }
    DeliveryHeaders::from_headers(headers).map(Incoming::Delivery)
}

/// Why a delivery body is not the resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the delivery body is {0}")]
    Body(BodyProblem),
    /// WooCommerce renders the payload with an internal REST request; when that fails, the
    /// error object is delivered instead.
    #[error("the delivery carries a WooCommerce error ({code}) instead of the resource")]
    WooCommerceError { code: String },
}

/// The order of an `order.created` / `order.updated` / `order.restored` delivery.
pub fn parse_order(body: &[u8]) -> Result<Order, PayloadError> {
    parse_payload(body)
}

/// What a receiver needs of an order delivery to decide what to do with it, read as leniently
/// as [`Order`] reads the same fields. Everything else in the body is skipped without being
/// built: addresses, line items and meta data are most of a delivery, and a receiver that
/// stores the body as it came has no use for them yet.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderHead {
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// The number shown to the customer; empty when the store sent none.
    #[serde(default, deserialize_with = "de::string")]
    pub number: String,
    pub status: OrderStatus,
    #[serde(default, deserialize_with = "de::opt_gmt_date")]
    pub date_created_gmt: Option<time::OffsetDateTime>,
    /// When the order was paid (WooCommerce sets it on the move to a paid status); `None`
    /// while unpaid. Unlike the creation date, wp-admin's order form does not ask for it.
    #[serde(default, deserialize_with = "de::opt_gmt_date")]
    pub date_paid_gmt: Option<time::OffsetDateTime>,
    /// When the order was last saved: of two deliveries of one order, the one with the later
    /// time says its current status (a delivery can be late or replayed).
    #[serde(default, deserialize_with = "de::opt_gmt_date")]
    pub date_modified_gmt: Option<time::OffsetDateTime>,
}

impl OrderHead {
    /// The number the merchant knows the order by: `number`, or the id when the store sent none.
    pub fn number_or_id(&self) -> String {
        crate::types::number_or_id(&self.number, self.id)
    }
}

/// The [`OrderHead`] of an order delivery. A body whose head reads is not checked further: a
/// field elsewhere that [`parse_order`] refuses is found when the order is mapped (which
/// fetches it again from the store), not held against the delivery.
pub fn parse_order_head(body: &[u8]) -> Result<OrderHead, PayloadError> {
    parse_payload(body)
}

/// The id in a `deleted` delivery (`{"id": N}`).
pub fn parse_deleted(body: &[u8]) -> Result<u64, PayloadError> {
    #[derive(Deserialize)]
    struct Deleted {
        #[serde(deserialize_with = "de::id")]
        id: u64,
    }
    parse_payload::<Deleted>(body).map(|d| d.id)
}

fn parse_payload<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, PayloadError> {
    #[derive(Deserialize)]
    struct ErrorPayload {
        #[serde(deserialize_with = "de::string")]
        code: String,
    }
    match serde_json::from_slice::<T>(body) {
        Ok(v) => Ok(v),
        Err(e) => {
            if let Ok(err) = serde_json::from_slice::<ErrorPayload>(body) {
                return Err(PayloadError::WooCommerceError { code: err.code });
            }
            let problem = match e.classify() {
                serde_json::error::Category::Eof => BodyProblem::Truncated,
                serde_json::error::Category::Data => BodyProblem::UnexpectedShape {
                    line: e.line(),
                    column: e.column(),
                },
                _ => BodyProblem::NotJson,
            };
            Err(PayloadError::Body(problem))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    /// Builds a header map from names in any case, as they arrive on the wire.
    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    /// The headers of the captured delivery, spelled as WooCommerce sends them, each with the
    /// constant naming it.
    const FULL: [(&str, &str, &str); 7] = [
        (
            "X-WC-Webhook-Source",
            HEADER_SOURCE,
            "http://127.0.0.1:8080/",
        ),
        ("X-WC-Webhook-Topic", HEADER_TOPIC, "order.updated"),
        ("X-WC-Webhook-Resource", HEADER_RESOURCE, "order"),
        ("X-WC-Webhook-Event", HEADER_EVENT, "updated"),
        (
            "X-WC-Webhook-Signature",
            HEADER_SIGNATURE,
            "mXK2/IwjPKrylibl3koq13g0LMsNbpaQjOAAoOmuQKs=",
        ),
        ("X-WC-Webhook-ID", HEADER_ID, "6"),
        (
            "X-WC-Webhook-Delivery-ID",
            HEADER_DELIVERY_ID,
            "b078f10e2020f27c4cac93d54cecc9ba",
        ),
    ];

    fn full_without(skip: Option<usize>) -> HeaderMap {
        let pairs: Vec<(&str, &str)> = FULL
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != skip)
            .map(|(_, (wire, _, v))| (*wire, *v))
            .collect();
        headers(&pairs)
    }

    #[test]
    fn sign_and_verify_round_trip() {
        let sig = sign(b"k", b"{\"id\":1}");
        assert_eq!(verify_signature(b"k", b"{\"id\":1}", &sig), Ok(()));
        assert_eq!(
            verify_signature(b"k", b"{\"id\":2}", &sig),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"j", b"{\"id\":1}", &sig),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"k", b"x", " "),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature(b"k", b"x", "not base64!"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_signature(b"k", b"x", "AAAA"),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn headers_parse_case_insensitively_and_missing_ones_are_named() {
        let h = DeliveryHeaders::from_headers(&full_without(None)).unwrap();
        assert_eq!(h.topic, "order.updated");
        assert_eq!(h.resource, "order");
        assert_eq!(h.event, "updated");
        assert_eq!(h.webhook_id, 6);
        assert_eq!(h.source, "http://127.0.0.1:8080/");
        assert_eq!(h.delivery_id, "b078f10e2020f27c4cac93d54cecc9ba");
        for (i, (_, constant, _)) in FULL.iter().enumerate() {
            let err = DeliveryHeaders::from_headers(&full_without(Some(i))).unwrap_err();
            assert_eq!(err, HeaderError::Missing(constant));
        }
        let mut bad = full_without(None);
        bad.insert(HEADER_ID, HeaderValue::from_static("six"));
        assert_eq!(
            DeliveryHeaders::from_headers(&bad),
            Err(HeaderError::Invalid(HEADER_ID))
        );
    }

    #[test]
    fn pings_are_recognised_and_deliveries_are_not_pings() {
        let form = Some("application/x-www-form-urlencoded");
        assert_eq!(ping_webhook_id(form, b"webhook_id=6"), Some(6));
        assert_eq!(ping_webhook_id(None, b"webhook_id=6\n"), Some(6));
        assert_eq!(
            ping_webhook_id(Some("application/json"), b"webhook_id=6"),
            None
        );
        assert_eq!(ping_webhook_id(form, b"webhook_id=6&x=1"), None);
        assert_eq!(ping_webhook_id(form, b"webhook_id=abc"), None);
        assert_eq!(ping_webhook_id(None, b"{\"id\":6}"), None);

        let ping = headers(&[("Content-Type", "application/x-www-form-urlencoded")]);
        assert_eq!(
            classify(&ping, b"webhook_id=6"),
            Ok(Incoming::Ping { webhook_id: 6 })
        );
        assert!(matches!(
            classify(&full_without(None), b"webhook_id=6"),
            Ok(Incoming::Delivery(_))
        ));
        assert_eq!(classify(&ping, b"{}"), Err(HeaderError::Missing(HEADER_ID)));
    }

    #[test]
    fn payloads() {
        assert_eq!(parse_deleted(br#"{"id":105}"#), Ok(105));
        assert!(matches!(
            parse_order(br#"{"id":105}"#),
            Err(PayloadError::Body(_))
        ));
        assert_eq!(
            parse_order(br#"{"code":"woocommerce_rest_shop_order_invalid_id","message":"Invalid ID.","data":{"status":404}}"#),
            Err(PayloadError::WooCommerceError { code: "woocommerce_rest_shop_order_invalid_id".into() })
        );
        assert_eq!(
            parse_order(br#"{"id":105,"st"#),
            Err(PayloadError::Body(BodyProblem::Truncated))
        );
        assert_eq!(
            parse_order(b"<html>"),
            Err(PayloadError::Body(BodyProblem::NotJson))
        );
    }

    #[test]
    fn the_head_reads_what_the_receiver_needs_and_skips_the_rest() {
        let body = br#"{"id":"105","number":106,"status":"wc-processing","date_created_gmt":"2026-11-27T08:26:42","billing":{"first_name":"Ana"},"line_items":"not a list"}"#;
        let head = parse_order_head(body).unwrap();
        assert_eq!((head.id, head.number.as_str()), (105, "106"));
        assert_eq!(head.status.as_str(), "processing");
        assert_eq!(
            head.date_created_gmt.map(|d| d.unix_timestamp()),
            Some(1_795_768_002)
        );
        // The full order refuses the same body: its line items are not a list.
        assert!(parse_order(body).is_err());

        assert_eq!(head.number_or_id(), "106");
        let minimal = parse_order_head(br#"{"id":7,"status":"on-hold"}"#).unwrap();
        assert_eq!(
            (minimal.number.as_str(), minimal.date_created_gmt),
            ("", None)
        );
        // No number sent: the merchant knows the order by its id.
        assert_eq!(minimal.number_or_id(), "7");
        let full = parse_order(br#"{"id":8,"number":"","status":"processing"}"#).unwrap();
        assert_eq!(full.number_or_id(), "8");
        assert!(matches!(
            parse_order_head(br#"{"id":105}"#),
            Err(PayloadError::Body(_))
        ));
        assert!(matches!(
            parse_order_head(br#"{"id":105,"status":"processing","date_created_gmt":"Ana's day"}"#),
            Err(PayloadError::Body(_))
        ));
        assert_eq!(
            parse_order_head(br#"{"code":"woocommerce_rest_shop_order_invalid_id","message":"Invalid ID.","data":{"status":404}}"#),
            Err(PayloadError::WooCommerceError { code: "woocommerce_rest_shop_order_invalid_id".into() })
        );
    }
}
