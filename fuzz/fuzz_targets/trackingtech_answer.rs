//! TrackingTech answers: every response type the client parses, and the error built from a
//! non-2xx answer.
//!
//! Input layout: bytes 0..2 = HTTP status (big endian, folded into 100..=599 most of the time),
//! byte 2 = Retry-After (0 = absent, else seconds), then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use trackingtech::{
    ErrorClass, Linked, Login, OrderStatus, Page, Resolved, SentOrder, Store, error_from_answer,
};

/// The crate-private `StatusList` shape.
#[derive(Deserialize)]
struct StatusList {
    #[allow(dead_code)]
    data: Vec<OrderStatus>,
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let raw_status = u16::from_be_bytes([data[0], data[1]]);
    // Mostly real-looking statuses, sometimes anything at all.
    let status = if raw_status & 0x8000 == 0 {
        100 + raw_status % 500
    } else {
        raw_status
    };
    let retry_after = match data[2] {
        0 => None,
        s => Some(u64::from(s) * 37),
    };
    let body = &data[3..];

    if let Ok(r) = serde_json::from_slice::<Resolved>(body) {
        let _ = format!("{r:?}");
    }
    if let Ok(l) = serde_json::from_slice::<Login>(body) {
        let _ = (
            format!("{l:?}"),
            l.user.id.to_string(),
            l.token.expose().len(),
        );
    }
    if let Ok(p) = serde_json::from_slice::<Page<Store>>(body) {
        assert!(p.last_page >= 1, "a page's last_page is at least 1");
        for s in &p.data {
            let _ = s.id.to_string();
        }
    }
    if let Ok(l) = serde_json::from_slice::<Linked>(body) {
        let _ = format!("{l:?}");
    }
    if let Ok(o) = serde_json::from_slice::<SentOrder>(body) {
        assert!(!o.replayed, "replayed is never read from the body");
        let _ = (o.id.to_string(), o.status.is_final(), o.status.to_string());
    }
    if let Ok(list) = serde_json::from_slice::<Vec<OrderStatus>>(body) {
        for s in &list {
            let _ = s.status.is_final();
        }
    }
    let _ = serde_json::from_slice::<StatusList>(body);

    let e = error_from_answer(status, body, retry_after);
    let class = e.class();
    let _ = (e.status(), e.message(), e.field_errors(), e.to_string());
    assert_eq!(
        e.status(),
        Some(status),
        "the error keeps the answer's status"
    );
    if let Some(m) = e.message() {
        assert!(
            m.len() <= 303,
            "a server message is cut to a readable length"
        );
    }
    match status {
        401 | 403 => assert_eq!(class, ErrorClass::Auth),
        408 | 429 | 500..=599 => assert!(matches!(class, ErrorClass::Transient { .. })),
        400..=499 => assert_eq!(class, ErrorClass::Rejected),
        _ => assert_eq!(class, ErrorClass::Transient { retry_after: None }),
    }
});
