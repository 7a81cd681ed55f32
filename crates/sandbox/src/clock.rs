//! Wall-clock time in the shapes the contract uses: unix milliseconds inside, Chile time outside.
//!
//! The sandbox has no time-zone database, so the current America/Santiago rule (in force since
//! 2023) is written out here: summer time (UTC-3) from the first Sunday on or after 2 September at
//! 04:00 UTC until the first Sunday on or after 2 April at 03:00 UTC; UTC-4 the rest of the year.

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}

/// Chile time for a unix-millisecond instant; the epoch if it is out of range.
pub(crate) fn chile(ms: i64) -> OffsetDateTime {
    let utc = OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    utc.to_offset(chile_offset(utc))
}

/// RFC 3339 with Chile's offset and whole seconds, e.g. `2026-11-27T10:15:00-03:00`.
pub(crate) fn rfc3339(ms: i64) -> String {
    chile(ms)
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

fn chile_offset(utc: OffsetDateTime) -> UtcOffset {
    let summer = UtcOffset::from_hms(-3, 0, 0).unwrap_or(UtcOffset::UTC);
    let winter = UtcOffset::from_hms(-4, 0, 0).unwrap_or(UtcOffset::UTC);
    let year = utc.year();
    let (Some(summer_ends), Some(summer_starts)) = (
        sunday_from_the_2nd(year, Month::April, 3),
        sunday_from_the_2nd(year, Month::September, 4),
    ) else {
        return winter;
    };
    if utc < summer_ends || utc >= summer_starts {
        summer
    } else {
        winter
    }
}

/// The first Sunday on or after the 2nd of `month`, at `hour`:00 UTC.
fn sunday_from_the_2nd(year: i32, month: Month, hour: u8) -> Option<OffsetDateTime> {
    let second = Date::from_calendar_date(year, month, 2).ok()?;
    let ahead = (7 - second.weekday().number_days_from_sunday()) % 7;
    let sunday = second.checked_add(time::Duration::days(i64::from(ahead)))?;
    let at = Time::from_hms(hour, 0, 0).ok()?;
    Some(PrimitiveDateTime::new(sunday, at).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        let t = OffsetDateTime::parse(text, &Rfc3339).map(|t| t.unix_timestamp() * 1000);
        t.unwrap_or(0)
    }

    #[test]
    fn summer_and_winter_offsets() {
        assert_eq!(
            rfc3339(ms("2026-11-27T13:15:00Z")),
            "2026-11-27T10:15:00-03:00"
        );
        assert_eq!(
            rfc3339(ms("2026-07-01T12:00:00Z")),
            "2026-07-01T08:00:00-04:00"
        );
        // 2026: summer time ends Sunday 5 April at 03:00 UTC and starts Sunday 6 September at 04:00 UTC.
        assert_eq!(
            rfc3339(ms("2026-04-05T02:59:59Z")),
            "2026-04-04T23:59:59-03:00"
        );
        assert_eq!(
            rfc3339(ms("2026-04-05T03:00:00Z")),
            "2026-04-04T23:00:00-04:00"
        );
        assert_eq!(
            rfc3339(ms("2026-09-06T03:59:59Z")),
            "2026-09-05T23:59:59-04:00"
        );
        assert_eq!(
            rfc3339(ms("2026-09-06T04:00:00Z")),
            "2026-09-06T01:00:00-03:00"
        );
    }
}
