//! How the SQLite backend stores a time: UTC text of fixed width,
//! `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` (always nine digits of fraction, always `Z`).
//!
//! SQLite has no time type; its columns compare text byte by byte. RFC 3339 as the `time`
//! crate writes it (and as sqlx binds an `OffsetDateTime`) trims the fraction's trailing zeros
//! and drops it on a whole second, so `…:05Z` sorted after `…:05.3Z` ('.' < 'Z') and `…:05.12Z`
//! after `…:05.123Z`: due checks, lease checks, `MAX` and `ORDER BY` could be wrong within a
//! second. Text of one width, in one offset, sorts as the instants do, stays readable in the
//! sqlite3 shell and keeps every nanosecond an `OffsetDateTime` has.
//!
//! Every write of the backend goes through [`encode`] (sqlx binds a [`Stored`]; the writer
//! thread binds the text) and every read through [`decode`], which also reads the trimmed forms
//! written before `0004_sortable_times.sql` rewrote them.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Encode, Sqlite, Type};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::store::{Result, StoreError};

/// `t` as stored: UTC, `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`. Only years 0000–9999 (in UTC) have
/// four digits; any other is refused rather than stored in a form that does not sort.
pub(crate) fn encode(t: OffsetDateTime) -> Result<String> {
    let utc = t
        .checked_to_offset(UtcOffset::UTC)
        .filter(|u| (0..=9999).contains(&u.year()))
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "the time {t} cannot be stored: its year in UTC is not between 0000 and 9999"
            ))
        })?;
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.nanosecond()
    ))
}

/// A time read from `table`.`column` (named in the error): the stored form, or any RFC 3339
/// form of older rows (trimmed fraction, `Z` or an offset). Answered in UTC. Anything else is
/// damaged data.
pub(crate) fn decode(table: &str, column: &str, text: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .and_then(|t| t.checked_to_offset(UtcOffset::UTC))
        .ok_or_else(|| StoreError::Corrupt(format!("{table}.{column} is not a time: {text:?}")))
}

/// A nullable time column as read (`None` for NULL), decoded.
pub(crate) fn decode_or_none(
    table: &str,
    column: &str,
    text: Option<&str>,
) -> Result<Option<OffsetDateTime>> {
    text.map(|text| decode(table, column, text)).transpose()
}

/// A time column that is never NULL, decoded; NULL is damaged data.
pub(crate) fn decode_required(
    table: &str,
    column: &str,
    text: Option<&str>,
) -> Result<OffsetDateTime> {
    decode_or_none(table, column, text)?
        .ok_or_else(|| StoreError::Corrupt(format!("{table}.{column} is NULL")))
}

/// A time bound to a sqlx query: stored as [`encode`] writes it (sqlx's own binding of an
/// `OffsetDateTime` writes the trimmed RFC 3339 that does not sort). Bind `Option<Stored>`
/// for a nullable column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stored(pub OffsetDateTime);

impl Type<Sqlite> for Stored {
    fn type_info() -> <Sqlite as Database>::TypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl Encode<'_, Sqlite> for Stored {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer,
    ) -> std::result::Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(encode(self.0)?, buf)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{datetime, offset};

    use super::*;

    #[test]
    fn every_time_is_stored_in_utc_with_nine_digits_of_fraction() {
        let cases = [
            (
                datetime!(2024-05-01 12:00:01 UTC),
                "2024-05-01T12:00:01.000000000Z",
            ),
            (
                datetime!(2024-05-01 12:00:01.3 UTC),
                "2024-05-01T12:00:01.300000000Z",
            ),
            (
                datetime!(2024-05-01 12:00:01.123456789 UTC),
                "2024-05-01T12:00:01.123456789Z",
            ),
            (
                datetime!(2024-05-01 00:30:00.000001 +01:00),
                "2024-04-30T23:30:00.000001000Z",
            ),
            (
                datetime!(2024-12-31 21:00:00 -04:00),
                "2025-01-01T01:00:00.000000000Z",
            ),
            (
                datetime!(0000-01-01 00:00:00 UTC),
                "0000-01-01T00:00:00.000000000Z",
            ),
            (
                datetime!(9999-12-31 23:59:59.999999999 UTC),
                "9999-12-31T23:59:59.999999999Z",
            ),
        ];
        for (t, stored) in cases {
            assert_eq!(encode(t).unwrap(), stored, "{t}");
            assert_eq!(stored.len(), 30);
            let back = decode("t", "c", stored).unwrap();
            assert_eq!(back, t);
            assert_eq!(back.offset(), UtcOffset::UTC);
        }
    }

    #[test]
    fn years_that_do_not_fit_four_digits_are_refused() {
        for t in [
            datetime!(-0001-12-31 23:59:59 UTC),
            // Year 10000 once in UTC.
            datetime!(9999-12-31 23:00:00 -02:00),
        ] {
            let e = encode(t).unwrap_err().to_string();
            assert!(e.contains("cannot be stored"), "{t}: {e}");
        }
    }

    /// What the backend wrote before `0004_sortable_times.sql`: RFC 3339 as the `time` crate
    /// formats it (sqlx's binding, and the writer thread's own formatting), trimmed.
    #[test]
    fn the_old_trimmed_forms_still_read() {
        let cases = [
            ("2024-05-01T12:00:01Z", datetime!(2024-05-01 12:00:01 UTC)),
            (
                "2024-05-01T12:00:01.3Z",
                datetime!(2024-05-01 12:00:01.3 UTC),
            ),
            (
                "2024-05-01T12:00:01.123456789Z",
                datetime!(2024-05-01 12:00:01.123456789 UTC),
            ),
            (
                "2024-05-01T12:00:01+00:00",
                datetime!(2024-05-01 12:00:01 UTC),
            ),
            (
                "2024-05-01T08:00:01.25-04:00",
                datetime!(2024-05-01 12:00:01.25 UTC),
            ),
        ];
        for (old, t) in cases {
            let back = decode("t", "c", old).unwrap();
            assert_eq!(back, t, "{old}");
            assert_eq!(back.offset(), UtcOffset::UTC, "{old}");
        }
        assert_eq!(
            datetime!(2024-05-01 12:00:01 UTC).format(&Rfc3339).unwrap(),
            "2024-05-01T12:00:01Z",
            "the form the old code wrote on a whole second"
        );
    }

    #[test]
    fn damage_is_an_error_naming_the_column() {
        for bad in [
            "",
            "yesterday",
            "2024-05-01 12:00:01",
            "2024-13-01T00:00:00Z",
        ] {
            let e = decode("orders", "run_at", bad).unwrap_err();
            assert!(matches!(e, StoreError::Corrupt(_)), "{bad:?}: {e:?}");
            assert!(e.to_string().contains("orders.run_at"), "{bad:?}: {e}");
        }
        let e = decode_required("orders", "created_at", None).unwrap_err();
        assert!(e.to_string().contains("orders.created_at is NULL"), "{e}");
        assert_eq!(decode_or_none("orders", "sent_at", None).unwrap(), None);
    }

    /// The stored text sorts as the instants do, within one second above all: a whole second,
    /// fractions that are prefixes of one another, the last nanosecond, other offsets.
    #[test]
    fn stored_text_sorts_as_time() {
        let second = datetime!(2024-05-01 12:00:01 UTC);
        let ns = time::Duration::nanoseconds;
        let mut times = vec![
            second,
            second + ns(300_000_000),
            second + ns(120_000_000),
            second + ns(123_000_000),
            second + ns(123_456_789),
            second + ns(1),
            second + ns(999_999_999),
            second - ns(1),
            second + time::Duration::SECOND,
            (second + ns(500_000_000)).to_offset(offset!(-04:00)),
            (second + ns(200_000_000)).to_offset(offset!(+05:30)),
        ];
        // Deterministic scatter through a few years.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..500 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let offset = ns((x % 100_000_000_000_000_000) as i64);
            times.push(second + offset);
        }
        let mut by_text: Vec<(String, OffsetDateTime)> =
            times.iter().map(|t| (encode(*t).unwrap(), *t)).collect();
        by_text.sort();
        let mut by_time = times.clone();
        by_time.sort();
        assert_eq!(
            by_text.into_iter().map(|(_, t)| t).collect::<Vec<_>>(),
            by_time
        );
        // The old form did not: a whole second after a time inside it.
        let old = |t: OffsetDateTime| t.format(&Rfc3339).unwrap();
        assert!(old(second) > old(second + ns(300_000_000)));
    }
}
