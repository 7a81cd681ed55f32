//! How text from outside — orders, stores, TrackingTech — is shown to people, on the pages
//! and in the terminal: one helper for both.
//!
//! A store or TrackingTech can send any string: a NUL, an escape sequence that redraws an
//! operator's terminal, a newline that breaks a table's rows, a bidi override (U+202E) that
//! makes the text after it read backwards, a 100,000-character order number. What ttwc stores
//! and sends keeps every byte as it came; only what is shown goes through [`shown`], which
//! neutralizes those characters and cuts a long value with an ellipsis. Maud already escapes
//! HTML and the pages' script inserts text with `textContent`, so this is about what people
//! read, not about markup.
//!
//! The limits, in characters (the terminal counts display columns instead, see
//! [`shown_by`]): an order number [`ORDER_NUMBER`], a name (a store, a courier, a person, a
//! product, a tracking code, a status) [`NAME`], a store's address [`URL`], and a sentence
//! from outside (a refusal's reason, an error's detail, a whole message) [`TEXT`].

use std::borrow::Cow;

/// An order number: WooCommerce's are short (`1234`, `WC-2024-0001`); mapping also names an
/// order by its id past 40 characters.
pub const ORDER_NUMBER: usize = 40;
/// A name: a store's, a courier's, a person's, a product's, a tracking code, a status.
pub const NAME: usize = 80;
/// A store's address.
pub const URL: usize = 200;
/// A sentence from outside or a whole message: an error's detail, a refusal's reason.
pub const TEXT: usize = 500;

/// What an unsafe character is shown as.
const REPLACEMENT: char = '?';
/// What ends a value that was cut.
const ELLIPSIS: char = '…';

/// Characters that change what a reader sees beyond themselves: control characters (C0 with
/// NUL, DEL, C1) move a terminal's cursor or change its state, bidi controls reorder the text
/// around them, line and paragraph separators break a line.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// What an unsafe character becomes: a space for the ones that only space text out (tab,
/// newline, carriage return, the separators), so a multi-line error still reads; `?` for the
/// rest, so that something odd in a value stays visible.
fn replacement(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' | '\u{2028}' | '\u{2029}' => ' ',
        _ => REPLACEMENT,
    }
}

/// `s` as shown to people: unsafe characters ([`is_unsafe`]) replaced, and cut to at most
/// `max_chars` characters, the last of them `…`, when longer. Borrowed when nothing changes.
pub fn shown(s: &str, max_chars: usize) -> Cow<'_, str> {
    shown_by(s, max_chars, |_| 1)
}

/// [`shown`] with `width` measuring each character (the terminal's display columns: a CJK
/// character takes two, an accent none): at most `max` of them, the ellipsis counting one.
pub fn shown_by(s: &str, max: usize, width: impl Fn(char) -> usize) -> Cow<'_, str> {
    let measure = |c: char| {
        if is_unsafe(c) {
            width(replacement(c))
        } else {
            width(c)
        }
    };
    let mut total = 0usize;
    let mut clean = true;
    for c in s.chars() {
        clean &= !is_unsafe(c);
        total = total.saturating_add(measure(c));
        // Past the limit the value is cut, and whether it was clean no longer matters.
        if total > max {
            break;
        }
    }
    if clean && total <= max {
        return Cow::Borrowed(s);
    }
    let long = total > max;
    let mut out = String::with_capacity(s.len().min(max.saturating_mul(4)) + ELLIPSIS.len_utf8());
    let mut used = 0usize;
    for c in s.chars() {
        let c = if is_unsafe(c) { replacement(c) } else { c };
        let w = width(c);
        if long && used + w + 1 > max {
            out.push(ELLIPSIS);
            break;
        }
        used += w;
        out.push(c);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_short_values_are_borrowed_as_they_are() {
        assert!(matches!(
            shown("Ñuñoa Tienda", 80),
            Cow::Borrowed("Ñuñoa Tienda")
        ));
        assert!(matches!(shown("", 80), Cow::Borrowed("")));
    }

    #[test]
    fn control_and_bidi_characters_never_show() {
        assert_eq!(shown("a\u{1b}[2Jb", 80), "a?[2Jb");
        assert_eq!(shown("x\u{0}y\u{7f}z\u{85}w\u{9b}", 80), "x?y?z?w?");
        for bidi in [
            '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{061c}',
        ] {
            assert_eq!(shown(&format!("#12{bidi}34"), 80), "#12?34", "{bidi:?}");
        }
        assert_eq!(
            shown("line one\nline two\r\n\tend", 80),
            "line one line two   end"
        );
        assert_eq!(shown("a\u{2028}b\u{2029}c", 80), "a b c");
    }

    #[test]
    fn long_values_are_cut_with_an_ellipsis_within_the_limit() {
        assert_eq!(shown("abcdef", 6), "abcdef");
        assert_eq!(shown("abcdefg", 6), "abcde…");
        assert_eq!(shown("ñandúes", 4), "ñan…");
        let long = "7".repeat(100_000);
        let cut = shown(&long, ORDER_NUMBER);
        assert_eq!(cut.chars().count(), ORDER_NUMBER);
        assert!(cut.ends_with('…'));
        // Cut and cleaned at once.
        assert_eq!(shown("\u{202e}\u{0}abcdefgh", 6), "??abc…");
    }

    #[test]
    fn widths_are_the_callers() {
        let columns = |c: char| if c == '東' || c == '京' { 2 } else { 1 };
        assert_eq!(shown_by("東京東京", 6, columns), "東京…");
        assert_eq!(shown_by("東京東", 6, columns), "東京東");
    }
}
