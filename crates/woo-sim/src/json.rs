//! JSON encoding as WordPress's `wp_json_encode` writes it: compact, `/` escaped as `\/` and every
//! non-ASCII character as `\uXXXX` (UTF-16 surrogate pairs above the BMP).
//!
//! Webhook signatures are computed over these exact bytes, so a receiver that re-serialises the body
//! before verifying fails here exactly as it would against a real store.

use serde::Serialize;

/// Serialises `value` the way `wp_json_encode` does.
pub(crate) fn wp_json_encode<T: Serialize + ?Sized>(value: &T) -> String {
    // serde_json only emits `/` and non-ASCII characters inside strings, so escaping them in the
    // compact output is equivalent to escaping them while encoding.
    let compact = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
    escape_like_php(&compact)
}

fn escape_like_php(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() + compact.len() / 8);
    for c in compact.chars() {
        if c == '/' {
            out.push_str("\\/");
        } else if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_slashes_and_non_ascii_like_php() {
        let v = serde_json::json!({"u": "http://a/b", "n": "Muñoz", "e": "😀", "q": "a\"b\\/"});
        let s = wp_json_encode(&v);
        assert!(s.contains(r#""u":"http:\/\/a\/b""#), "{s}");
        assert!(s.contains(r#""n":"Mu\u00f1oz""#), "{s}");
        assert!(s.contains(r#""e":"\ud83d\ude00""#), "{s}");
        assert!(s.contains(r#""q":"a\"b\\\/""#), "{s}");
        let back: serde_json::Value = serde_json::from_str(&s).unwrap_or_default();
        assert_eq!(back, v);
    }
}
