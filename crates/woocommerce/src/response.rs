//! Turning what a store answers into a value or an [`Error`], whatever it answers.
//!
//! Real stores put things in front of or instead of the JSON: a UTF-8 byte-order mark from a
//! plugin file saved with one, PHP notices printed because `display_errors` is on, HTML pages from
//! caching and security plugins, bodies cut short. The one recovery attempted is the simple,
//! common one: JSON that follows PHP's own notice/warning lines. Everything else is an
//! [`Error::InvalidResponse`] described without its content.

use std::time::{Duration, SystemTime};

use serde::de::{DeserializeOwned, IgnoredAny};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use crate::error::{BodyProblem, Error};
use crate::types::WcErrorBody;

/// How far into a body a PHP notice prefix is looked for; notices are a few hundred bytes each.
const NOTICE_SCAN_LIMIT: usize = 64 * 1024;
/// At most this many candidate JSON starts are tried after a notice.
const NOTICE_CANDIDATES: usize = 32;
/// The longest `Retry-After` honoured; a store asking for more gets retried after this anyway.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Reads a 2xx body as `T`.
pub(crate) fn decode_json<T: DeserializeOwned>(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<T, Error> {
    let invalid = |problem| Error::InvalidResponse {
        status,
        content_type: content_type.map(|c| c.chars().take(100).collect()),
        length: body.len(),
        problem,
    };
    let trimmed = trim_start(body);
    let first_try = match serde_json::from_slice::<T>(trimmed) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    if starts_like_json(trimmed) {
        return Err(invalid(problem_of(&first_try)));
    }
    let Some(json) = json_after_php_notice(trimmed) else {
        return Err(invalid(BodyProblem::NotJson));
    };
    match serde_json::from_slice::<T>(json) {
        Ok(value) => {
            tracing::warn!(
                prefix_bytes = trimmed.len() - json.len(),
                "the store printed PHP notices before its JSON; read the JSON after them"
            );
            Ok(value)
        }
        Err(e) => Err(invalid(problem_of(&e))),
    }
}

/// WooCommerce's `code` and `message` from an error body, when it is one.
pub(crate) fn wc_error(body: &[u8]) -> (Option<String>, Option<String>) {
    let trimmed = trim_start(body);
    let parsed = serde_json::from_slice::<WcErrorBody>(trimmed)
        .ok()
        .or_else(|| {
            json_after_php_notice(trimmed)
                .and_then(|j| serde_json::from_slice::<WcErrorBody>(j).ok())
        });
    match parsed {
        Some(e) => (non_empty(e.code), non_empty(e.message)),
        None => (None, None),
    }
}

/// `Retry-After` as seconds or an HTTP date, capped at a day.
pub(crate) fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = OffsetDateTime::parse(value, &Rfc2822).ok()?;
        let now = OffsetDateTime::from(now);
        let secs = (at - now).whole_seconds().max(0);
        Duration::from_secs(u64::try_from(secs).unwrap_or(0))
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// A `Location` header cut to its scheme and host (and port): its path and query could repeat
/// our credentials, and a redirect is shown to whoever typed the address, who must learn no more
/// of where an internal address points than which host it names. None for a relative target.
pub(crate) fn redirect_origin(location: &str) -> Option<String> {
    let url = url::Url::parse(location.trim()).ok()?;
    let host = url.host_str()?;
    let origin = match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    };
    Some(origin.chars().take(300).collect())
}

fn problem_of(e: &serde_json::Error) -> BodyProblem {
    match e.classify() {
        serde_json::error::Category::Eof => BodyProblem::Truncated,
        serde_json::error::Category::Data => BodyProblem::UnexpectedShape {
            line: e.line(),
            column: e.column(),
        },
        serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
            BodyProblem::NotJson
        }
    }
}

fn trim_start(body: &[u8]) -> &[u8] {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    &body[start..]
}

fn starts_like_json(body: &[u8]) -> bool {
    matches!(body.first(), Some(b'{' | b'['))
}

/// The JSON document that follows PHP notice, warning or deprecation lines, if the body is
/// exactly that: PHP's message text first, then a complete JSON value to the end.
fn json_after_php_notice(body: &[u8]) -> Option<&[u8]> {
    let head = &body[..body.len().min(NOTICE_SCAN_LIMIT)];
    let php_markers: [&[u8]; 4] = [b"Notice", b"Warning", b"Deprecated", b"Strict Standards"];
    if !php_markers.iter().any(|m| contains(head, m)) {
        return None;
    }
    // PHP ends each message with a newline (text) or `<br />` + newline (HTML errors); the JSON
    // starts right after one of them.
    head.iter()
        .enumerate()
        .filter(|(i, b)| matches!(b, b'{' | b'[') && *i > 0 && matches!(head[i - 1], b'\n' | b'>'))
        .take(NOTICE_CANDIDATES)
        .map(|(i, _)| &body[i..])
        .find(|rest| serde_json::from_slice::<IgnoredAny>(rest).is_ok())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() { None } else { Some(s) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Order;

    fn order(body: &str) -> Result<Order, Error> {
        decode_json::<Order>(200, Some("application/json"), body.as_bytes())
    }

    fn problem(r: Result<Order, Error>) -> BodyProblem {
        match r {
            Err(Error::InvalidResponse { problem, .. }) => problem,
            other => panic!("expected InvalidResponse, got {other:?}"),
        }
    }

    const ORDER: &str = r#"{"id": 5, "status": "processing", "billing": {"first_name": "Ana"}}"#;

    #[test]
    fn reads_plain_json_with_bom_and_whitespace() {
        assert_eq!(order(ORDER).unwrap().id, 5);
        assert_eq!(order(&format!("\u{feff}\n  {ORDER}")).unwrap().id, 5);
    }

    #[test]
    fn recovers_json_after_php_notices_text_and_html() {
        let text = format!(
            "\nNotice: Undefined index: foo in /var/www/wp-content/plugins/x/x.php on line 12\n\
             \nDeprecated: Function bar is deprecated in /var/www/y.php on line 3\n{ORDER}"
        );
        assert_eq!(order(&text).unwrap().id, 5);
        let html = format!(
            "<br />\n<b>Warning</b>:  Cannot modify header information in <b>/var/www/a.php</b> \
             on line <b>7</b><br />\n{ORDER}\n"
        );
        assert_eq!(order(&html).unwrap().id, 5);
    }

    #[test]
    fn html_pages_truncated_and_wrong_shapes_are_invalid_responses() {
        let html =
            "<!DOCTYPE html><html><body><h1>Ana Rojas, your session expired</h1></body></html>";
        let e = order(html).unwrap_err();
        let shown = e.to_string();
        assert!(!shown.contains("Ana"), "{shown}");
        assert!(shown.contains("application/json"), "{shown}");
        assert_eq!(problem(Err(e)), BodyProblem::NotJson);
        assert_eq!(problem(order("")), BodyProblem::NotJson);
        assert_eq!(problem(order(&ORDER[..30])), BodyProblem::Truncated);
        assert!(matches!(
            problem(order(r#"{"id": 5, "status": "x", "line_items": {"a": 1}}"#)),
            BodyProblem::UnexpectedShape { line: 1, .. }
        ));
        assert!(matches!(
            problem(order("[1, 2]")),
            BodyProblem::UnexpectedShape { .. }
        ));
        // A PHP fatal error has no JSON after it.
        assert_eq!(
            problem(order(
                "<br />\n<b>Fatal error</b>: Allowed memory size exhausted<br />\n"
            )),
            BodyProblem::NotJson
        );
        // A notice followed by truncated JSON is still an error.
        assert_eq!(
            problem(order(&format!("Notice: x on line 1\n{}", &ORDER[..30]))),
            BodyProblem::NotJson
        );
    }

    #[test]
    fn shape_errors_do_not_echo_values() {
        let e = order(r#"{"id": 5, "status": "x", "customer_id": "Ana Rojas"}"#).unwrap_err();
        assert!(!e.to_string().contains("Ana"), "{e}");
    }

    #[test]
    fn wc_error_bodies() {
        let body = br#"{"code":"woocommerce_rest_shop_order_invalid_id","message":"Invalid ID.","data":{"status":404}}"#;
        assert_eq!(
            wc_error(body),
            (
                Some("woocommerce_rest_shop_order_invalid_id".into()),
                Some("Invalid ID.".into())
            )
        );
        assert_eq!(wc_error(b"<html>403 Forbidden</html>"), (None, None));
        assert_eq!(wc_error(b"[]"), (None, None));
        assert_eq!(wc_error(b""), (None, None));
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("99999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn locations_keep_only_scheme_and_host() {
        assert_eq!(
            redirect_origin("https://www.example.cl/wp-json/wc/v3/orders?consumer_secret=cs_x#f")
                .as_deref(),
            Some("https://www.example.cl")
        );
        assert_eq!(
            redirect_origin("http://10.0.0.5:8080/admin/secret-panel").as_deref(),
            Some("http://10.0.0.5:8080")
        );
        assert_eq!(redirect_origin("/wp-login.php"), None);
    }
}
