//! Laravel-style field validation over parsed JSON, with Laravel's messages and dotted keys.
//!
//! The checks work on `serde_json::Value` rather than typed structs so that every wrong field is
//! reported at once, keyed the way Laravel keys it (`products.0.quantity`), instead of serde
//! stopping at the first problem.

use serde_json::{Map, Value};

use crate::web::Errors;

/// What Laravel shows for a key: `snake_case` words separated by spaces (`deviceId` → `device id`).
pub(crate) fn display(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut prev_lower = false;
    for c in key.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        if c == '_' {
            out.push(' ');
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

pub(crate) fn required(key: &str) -> String {
    format!("The {} field is required.", display(key))
}

pub(crate) fn selected_invalid(key: &str) -> String {
    format!("The selected {} is invalid.", display(key))
}

pub(crate) fn format_invalid(key: &str) -> String {
    format!("The {} field format is invalid.", display(key))
}

/// The body as an object; a JSON array or scalar has no fields, so every field is missing.
pub(crate) fn object(value: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    match value {
        Value::Object(map) => map,
        _ => EMPTY.get_or_init(Map::new),
    }
}

/// Whether empty strings pass.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Empty {
    Allowed,
    Refused,
}

/// A required string; `key` is the full dotted key used in the errors.
pub(crate) fn string<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
    key: &str,
    empty: Empty,
    errors: &mut Errors,
) -> Option<&'a str> {
    match obj.get(name) {
        None => {
            errors.add(key, required(key));
            None
        }
        Some(Value::Null) if empty == Empty::Refused => {
            errors.add(key, required(key));
            None
        }
        Some(Value::String(s)) if s.is_empty() && empty == Empty::Refused => {
            errors.add(key, required(key));
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            errors.add(key, format!("The {} field must be a string.", display(key)));
            None
        }
    }
}

/// A string that may be left out (absent or `null`); `Some(None)` means absent, `None` means wrong.
pub(crate) fn optional_string<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
    key: &str,
    errors: &mut Errors,
) -> Option<Option<&'a str>> {
    match obj.get(name) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s)),
        Some(_) => {
            errors.add(key, format!("The {} field must be a string.", display(key)));
            None
        }
    }
}

/// A required JSON integer of at least `min` (strings and fractions are refused).
pub(crate) fn integer(
    obj: &Map<String, Value>,
    name: &str,
    key: &str,
    min: u64,
    errors: &mut Errors,
) -> Option<u64> {
    match obj.get(name) {
        None | Some(Value::Null) => {
            errors.add(key, required(key));
            None
        }
        Some(v) => integer_value(v, key, min, errors),
    }
}

/// An integer value of at least `min`.
pub(crate) fn integer_value(v: &Value, key: &str, min: u64, errors: &mut Errors) -> Option<u64> {
    match v {
        Value::Number(n) if n.is_u64() => match n.as_u64() {
            Some(i) if i >= min => Some(i),
            _ => {
                errors.add(
                    key,
                    format!("The {} field must be at least {min}.", display(key)),
                );
                None
            }
        },
        Value::Number(n) if n.is_i64() => {
            errors.add(
                key,
                format!("The {} field must be at least {min}.", display(key)),
            );
            None
        }
        _ => {
            errors.add(
                key,
                format!("The {} field must be an integer.", display(key)),
            );
            None
        }
    }
}

/// `platform` must be exactly `woocommerce`.
pub(crate) fn platform(obj: &Map<String, Value>, errors: &mut Errors) {
    if let Some(p) = string(obj, "platform", "platform", Empty::Refused, errors)
        && p != "woocommerce"
    {
        errors.add("platform", selected_invalid("platform"));
    }
}

/// `deviceId` must be a SHA-256 digest in lowercase hex.
pub(crate) fn device_id(obj: &Map<String, Value>, errors: &mut Errors) {
    if let Some(d) = string(obj, "deviceId", "deviceId", Empty::Refused, errors)
        && !is_device_id(d)
    {
        errors.add(
            "deviceId",
            "The device id field must be 64 lowercase hexadecimal characters.",
        );
    }
}

pub(crate) fn is_device_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `^\d+(\.\d+)?$`: how WooCommerce writes prices and weights.
pub(crate) fn is_decimal(s: &str) -> bool {
    let (whole, fraction) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

/// An http(s) URL with a host, reduced to a key for comparing store URLs: the URL crate
/// lowercases scheme and host, and a trailing slash is dropped.
pub(crate) fn url_key(s: &str) -> Option<String> {
    let url = url::Url::parse(s).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    Some(url.as_str().trim_end_matches('/').to_owned())
}

/// Fields outside `allowed` are reported as prohibited, one error each.
pub(crate) fn only(obj: &Map<String, Value>, allowed: &[&str], prefix: &str, errors: &mut Errors) {
    for name in obj.keys() {
        if !allowed.contains(&name.as_str()) {
            let key = format!("{prefix}{name}");
            errors.add(&key, format!("The {} field is prohibited.", display(&key)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_match_laravel() {
        assert_eq!(display("deviceId"), "device id");
        assert_eq!(display("products.0.weight_unit"), "products.0.weight unit");
        assert_eq!(display("Idempotency-Key"), "idempotency-key");
    }

    #[test]
    fn decimals() {
        for ok in ["0", "19990", "12.50"] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in ["", ".5", "5.", "1.2.3", "-1", "1e3", " 1", "12,50"] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn url_keys() {
        assert_eq!(
            url_key("HTTPS://Shop.Example/").as_deref(),
            Some("https://shop.example")
        );
        assert_eq!(url_key("ftp://shop.example"), None);
        assert_eq!(url_key("shop.example"), None);
    }
}
