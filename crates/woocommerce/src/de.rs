//! Lenient field deserializers for what real stores send.
//!
//! WooCommerce's PHP is loosely typed and plugins filter its output, so a field documented as a
//! string arrives as `null` or a number, an integer as `"12"`, a boolean as `"yes"`. These
//! helpers accept every reasonable spelling and refuse only what cannot mean the field at all.

use serde::Deserialize;
use serde::de::{self, Deserializer, Unexpected};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// A string; `null` becomes `""`, numbers and booleans their JSON text.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Null => String::new(),
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => return Err(de::Error::invalid_type(unexpected(&other), &"a string")),
    })
}

/// An optional string; `null` (and only `null`) is `None`.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => return Err(de::Error::invalid_type(unexpected(&other), &"a string")),
    })
}

/// A non-negative integer id; also `"12"`, `12.0`, and `null` or `""` as 0 (WooCommerce's "none").
pub(crate) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = Value::deserialize(d)?;
    value_to_u64(&v).ok_or_else(|| de::Error::invalid_type(unexpected(&v), &"an integer id"))
}

fn value_to_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Null => Some(0),
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e19)
                .map(|f| f as u64)
        }),
        Value::String(s) if s.trim().is_empty() => Some(0),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A list of ids, each as lenient as [`id`].
pub(crate) fn ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|v| {
                value_to_u64(v)
                    .ok_or_else(|| de::Error::invalid_type(unexpected(v), &"an integer id"))
            })
            .collect(),
        other => Err(de::Error::invalid_type(
            unexpected(&other),
            &"a list of ids",
        )),
    }
}

/// A whole number that may be signed (quantities); also `"2"` and `2.0`, `null` as 0.
pub(crate) fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = Value::deserialize(d)?;
    let n = match &v {
        Value::Null => Some(0),
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9e18)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.ok_or_else(|| de::Error::invalid_type(unexpected(&v), &"a whole number"))
}

/// A boolean; also `"yes"`/`"no"`, `"true"`/`"false"`, `1`/`0`, `"1"`/`"0"`, `null` as false.
pub(crate) fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = Value::deserialize(d)?;
    let b = match &v {
        Value::Null => Some(false),
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        Value::String(s) => match s.trim() {
            "1" | "yes" | "true" => Some(true),
            "0" | "no" | "false" | "" => Some(false),
            _ => None,
        },
        _ => None,
    };
    b.ok_or_else(|| de::Error::invalid_type(unexpected(&v), &"a boolean"))
}

/// A JSON number kept as such (`line_items[].price`); a numeric string is converted, anything
/// else (`null`, `""`) is `None`.
pub(crate) fn opt_number<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<serde_json::Number>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => Some(n),
        Value::String(s) => serde_json::from_str::<serde_json::Number>(s.trim()).ok(),
        _ => None,
    })
}

/// A number of hours (`gmt_offset`): a JSON number or a numeric string (WordPress keeps options
/// as strings); anything else is `None`.
pub(crate) fn opt_hours<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|h| h.is_finite()))
}

/// A `_gmt` date: `YYYY-MM-DDTHH:MM:SS` without zone, read as UTC. `null` and `""` are `None`.
/// A value that does carry a zone (`Z`, `+00:00`, as a plugin might add) is converted to UTC.
pub(crate) fn opt_gmt_date<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => parse_gmt(&s).map(Some).ok_or_else(|| {
            de::Error::invalid_value(Unexpected::Other("a malformed date"), &"a date")
        }),
        other => Err(de::Error::invalid_type(
            unexpected(&other),
            &"a date string",
        )),
    }
}

/// Parses one of WooCommerce's GMT date strings; see [`opt_gmt_date`].
pub(crate) fn parse_gmt(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    // WordPress's "zero date" means "not set"; treat it like null rather than fail the order.
    if s.starts_with("0000-00-00") {
        return None;
    }
    let plain = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let with_fraction =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]");
    let space = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    for format in [plain, with_fraction, space] {
        if let Ok(dt) = PrimitiveDateTime::parse(s, format) {
            return Some(dt.assume_utc());
        }
    }
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|dt| dt.to_offset(time::UtcOffset::UTC))
}

/// Formats a moment the way WooCommerce's `_gmt` query parameters expect it: UTC, no zone.
pub(crate) fn format_gmt(dt: OffsetDateTime) -> String {
    let utc = dt.to_offset(time::UtcOffset::UTC);
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    // Formatting a valid date with a fixed, all-numeric description cannot fail; an empty
    // string would make the store ignore the filter, which is the safe direction.
    utc.format(format).unwrap_or_default()
}

/// A serde `Unexpected` that names the JSON type but never its content: error messages may be
/// logged, and the content may be a customer's name or address.
fn unexpected(v: &Value) -> Unexpected<'static> {
    match v {
        Value::Null => Unexpected::Unit,
        Value::Bool(_) => Unexpected::Other("a boolean"),
        Value::Number(_) => Unexpected::Other("a number"),
        Value::String(_) => Unexpected::Other("a string"),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    struct T {
        #[serde(deserialize_with = "id")]
        id: u64,
        #[serde(deserialize_with = "string")]
        s: String,
        #[serde(deserialize_with = "boolean")]
        b: bool,
        #[serde(deserialize_with = "int")]
        q: i64,
        #[serde(deserialize_with = "opt_gmt_date")]
        d: Option<OffsetDateTime>,
    }

    fn t(v: serde_json::Value) -> Result<T, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn accepts_the_spellings_stores_use() {
        let x = t(json!({"id": "12", "s": null, "b": "yes", "q": 2.0, "d": "2026-11-27T08:26:42"}))
            .unwrap();
        assert_eq!((x.id, x.s.as_str(), x.b, x.q), (12, "", true, 2));
        assert_eq!(x.d.unwrap().unix_timestamp(), 1_795_768_002);
        let x = t(json!({"id": 7, "s": 5, "b": 0, "q": "3", "d": "2026-11-27T08:26:42Z"})).unwrap();
        assert_eq!((x.id, x.s.as_str(), x.b, x.q), (7, "5", false, 3));
        assert_eq!(x.d.unwrap().unix_timestamp(), 1_795_768_002);
        let x =
            t(json!({"id": "", "s": "a", "b": null, "q": null, "d": "2026-11-27T05:26:42-03:00"}))
                .unwrap();
        assert_eq!(x.id, 0);
        assert_eq!(x.d.unwrap().unix_timestamp(), 1_795_768_002);
        let x = t(json!({"id": 1, "s": "", "b": true, "q": 1, "d": null})).unwrap();
        assert!(x.d.is_none());
    }

    #[test]
    fn refuses_wrong_types_without_echoing_the_value() {
        let e = t(json!({"id": "Ana Rojas", "s": "", "b": true, "q": 1, "d": null}))
            .err()
            .unwrap();
        assert!(!e.to_string().contains("Ana"), "{e}");
        let e = t(json!({"id": 1, "s": {"x": 1}, "b": true, "q": 1, "d": null}))
            .err()
            .unwrap();
        assert!(e.to_string().contains("map"), "{e}");
        assert!(t(json!({"id": 1, "s": "", "b": "maybe", "q": 1, "d": null})).is_err());
        assert!(t(json!({"id": 1, "s": "", "b": true, "q": 1.5, "d": null})).is_err());
        assert!(t(json!({"id": -1, "s": "", "b": true, "q": 1, "d": null})).is_err());
        let e = t(json!({"id": 1, "s": "", "b": true, "q": 1, "d": "Ana's birthday"}))
            .err()
            .unwrap();
        assert!(!e.to_string().contains("Ana"), "{e}");
    }

    #[test]
    fn gmt_dates_round_trip_in_wc_format() {
        let d = parse_gmt("2026-11-27T08:26:42").unwrap();
        assert_eq!(format_gmt(d), "2026-11-27T08:26:42");
        let d = parse_gmt("2026-11-27T05:26:42-03:00").unwrap();
        assert_eq!(format_gmt(d), "2026-11-27T08:26:42");
        assert!(parse_gmt("0000-00-00T00:00:00").is_none());
        assert!(parse_gmt("yesterday").is_none());
    }
}
