//! Webhook deliveries: header classification, signature verification, payload parsing.
//!
//! Input layout: byte 0 = secret length (mod 64), then the secret, then header lines
//! (`name: value`, `\n`-separated) up to the first empty line, then the raw body. A header name
//! that is a single digit `0`..`8` stands for one of the `X-WC-Webhook-*` headers (or
//! `Content-Type`) so the fuzzer reaches them cheaply.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use woocommerce::webhook::{self, DeliveryHeaders, Incoming, SignatureError};

const KNOWN: [&str; 9] = [
    webhook::HEADER_SOURCE,
    webhook::HEADER_TOPIC,
    webhook::HEADER_RESOURCE,
    webhook::HEADER_EVENT,
    webhook::HEADER_SIGNATURE,
    webhook::HEADER_ID,
    webhook::HEADER_DELIVERY_ID,
    "content-type",
    "x-wc-webhook-signature",
];

const FIXED_SECRET: &[u8] = b"wc_secret_0123456789abcdef";

fn split(data: &[u8]) -> (&[u8], HeaderMap, &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return (&[], HeaderMap::new(), &[]);
    };
    let n = usize::from(n % 64).min(rest.len());
    let (secret, rest) = rest.split_at(n);
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (rest, &[][..]),
    };
    let mut headers = HeaderMap::new();
    for line in head.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        let name = match name {
            [d @ b'0'..=b'8'] => HeaderName::from_static(KNOWN[usize::from(d - b'0')]),
            _ => match HeaderName::from_bytes(name) {
                Ok(n) => n,
                Err(_) => continue,
            },
        };
        let value = value.strip_prefix(b" ").unwrap_or(value);
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.append(name, v);
        }
    }
    (secret, headers, body)
}

fuzz_target!(|data: &[u8]| {
    let (secret, headers, body) = split(data);

    // Whatever arrives: classify, verify, parse. None of it may panic.
    match webhook::classify(&headers, body) {
        Ok(Incoming::Ping { .. }) => {}
        Ok(Incoming::Delivery(d)) => {
            let _ = d.verify(secret, body);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Ok(d) = DeliveryHeaders::from_headers(&headers) {
        let verdict = d.verify(secret, body);
        assert_eq!(
            verdict,
            webhook::verify_signature(secret, body, &d.signature),
            "DeliveryHeaders::verify disagrees with verify_signature"
        );
    }
    if let Some(sig) = headers
        .get(webhook::HEADER_SIGNATURE)
        .and_then(|v| v.to_str().ok())
    {
        let _ = webhook::verify_signature(secret, body, sig);
    }
    let _ = webhook::verify_signature(secret, body, &String::from_utf8_lossy(body));
    let _ = webhook::is_ping(None, body);
    // The receiver reads only the head; whatever the full parse reads, the head reads alike.
    let head = webhook::parse_order_head(body).map_err(|e| e.to_string());
    if let Ok(order) = webhook::parse_order(body) {
        let head = head.expect("an order whose head does not read");
        assert_eq!(
            (head.id, head.number, head.status, head.date_created_gmt),
            (order.id, order.number, order.status, order.date_created_gmt),
            "the head and the full order disagree"
        );
    }
    let _ = webhook::parse_deleted(body).map_err(|e| e.to_string());

    // Signing round trip: a body signed with the secret verifies (with the fuzzed secret and a
    // fixed one); the same body with one byte changed does not.
    for key in [secret, FIXED_SECRET] {
        let sig = webhook::sign(key, body);
        assert_eq!(
            webhook::verify_signature(key, body, &sig),
            Ok(()),
            "a body signed with the secret must verify"
        );
        assert_eq!(
            webhook::verify_signature(key, body, &format!(" {sig}\t")),
            Ok(()),
            "surrounding whitespace of the header is ignored"
        );
        if !body.is_empty() {
            let mut tampered = body.to_vec();
            let i = usize::from(data[0]) % tampered.len();
            tampered[i] ^= 0x01;
            assert_eq!(
                webhook::verify_signature(key, &tampered, &sig),
                Err(SignatureError::Mismatch),
                "a body with one byte changed must not verify"
            );
        }
        if key != FIXED_SECRET {
            let other = webhook::sign(FIXED_SECRET, body);
            assert_eq!(
                webhook::verify_signature(key, body, &other).is_ok(),
                sig == other,
                "a signature made with another secret must not verify"
            );
        }
    }
});
