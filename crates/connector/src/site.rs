//! What a store says about itself and ttwc keeps with its connection: its time zone (shown
//! beside every time a merchant reads) and its language (the language of order notes).

use crate::app::App;
use crate::connection::Secrets;
use crate::store::ConnectionRow;
use crate::text::{Code, Lang, Text};

/// A store's time zone: WordPress's `timezone_string` (an IANA name) when set, else its fixed
/// `gmt_offset`; UTC until ttwc has read it.
#[derive(Debug, Clone)]
pub enum StoreZone {
    Named(String, jiff::tz::TimeZone),
    Offset(i32),
    Unknown,
}

impl StoreZone {
    /// What the REST index said, as the connection's columns keep it: `(timezone, offset)`.
    /// A name the zone database does not know falls back to the offset.
    pub fn columns_from_index(index: &woocommerce::RestIndex) -> (Option<String>, Option<i32>) {
        let name = index.timezone_string.trim();
        if !name.is_empty() && jiff::tz::db().get(name).is_ok() {
            return (Some(name.to_owned()), None);
        }
        let minutes = index
            .gmt_offset
            .map(|h| (h * 60.0).round())
            .filter(|m| m.abs() <= 24.0 * 60.0)
            .map(|m| m as i32);
        (None, minutes)
    }

    /// The zone a connection's columns describe.
    pub fn of(row: &ConnectionRow) -> StoreZone {
        if let Some(name) = &row.store_timezone
            && let Ok(tz) = jiff::tz::db().get(name)
        {
            return StoreZone::Named(name.clone(), tz);
        }
        match row.store_utc_offset {
            Some(minutes) => StoreZone::Offset(minutes),
            None => StoreZone::Unknown,
        }
    }

    /// How the zone is named beside a time: `America/Santiago`, `UTC-4`, `UTC+5:30`, `UTC`.
    pub fn label(&self) -> String {
        match self {
            StoreZone::Named(name, _) => name.clone(),
            StoreZone::Offset(0) | StoreZone::Unknown => "UTC".to_owned(),
            StoreZone::Offset(m) => {
                let sign = if *m < 0 { '-' } else { '+' };
                let (h, min) = (m.abs() / 60, m.abs() % 60);
                if min == 0 {
                    format!("UTC{sign}{h}")
                } else {
                    format!("UTC{sign}{h}:{min:02}")
                }
            }
        }
    }

    /// `2026-12-02 06:35 (America/Santiago)`: the wall-clock time in the store's zone, named.
    pub fn show(&self, at: time::OffsetDateTime) -> String {
        let local = match self {
            StoreZone::Named(_, tz) => {
                match jiff::Timestamp::from_nanosecond(at.unix_timestamp_nanos()) {
                    Ok(ts) => {
                        let z = ts.to_zoned(tz.clone());
                        format!(
                            "{:04}-{:02}-{:02} {:02}:{:02}",
                            z.year(),
                            z.month(),
                            z.day(),
                            z.hour(),
                            z.minute()
                        )
                    }
                    Err(_) => wall(at),
                }
            }
            StoreZone::Offset(m) => wall(at + time::Duration::minutes(i64::from(*m))),
            StoreZone::Unknown => wall(at),
        };
        format!("{local} ({})", self.label())
    }
}

fn wall(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!("{} {:02}:{:02}", at.date(), at.hour(), at.minute())
}

/// The language order notes are written in: the store's (`es_*` → Spanish, `en_*` → English),
/// Spanish when unknown or another language.
pub fn notes_lang(row: &ConnectionRow) -> Lang {
    match row.store_language.as_deref() {
        Some(l) if l.to_ascii_lowercase().starts_with("en") => Lang::En,
        _ => Lang::Es,
    }
}

/// How long the dashboard and the settings action wait for the store's statuses.
const STATUSES_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The store's registered order statuses (slug and the name the store shows), custom ones
/// included, as `GET /wc/v3/reports/orders/totals` lists them; `Err` says why they could not be
/// read, for the merchant.
pub async fn order_statuses(app: &App, row: &ConnectionRow) -> Result<Vec<StoreStatus>, Text> {
    let unavailable =
        |detail: String| Text::new(Code::StoreStatusesUnavailable).with("detail", detail);
    let credentials = Secrets::open(app, row)
        .woo
        .ok_or_else(|| Text::new(Code::NoKeys))?;
    let woo = app
        .woo_client(&row.store_url, credentials)
        .ok_or_else(|| Text::new(Code::BadStoreUrl))?;
    match tokio::time::timeout(STATUSES_TIMEOUT, woo.order_statuses()).await {
        Ok(Ok(list)) => Ok(list
            .into_iter()
            .filter(|s| !s.slug.is_empty())
            .map(|s| StoreStatus {
                name: if s.name.trim().is_empty() {
                    s.slug.clone()
                } else {
                    s.name
                },
                slug: s.slug,
            })
            .collect()),
        Ok(Err(e)) => Err(unavailable(match e.status() {
            Some(status) => format!("HTTP {status}"),
            None => "no answer".to_owned(),
        })),
        Err(_) => Err(unavailable("timeout".to_owned())),
    }
}

/// One of the store's order statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreStatus {
    /// Without `wc-`, as the REST API and webhooks spell it.
    pub slug: String,
    /// As the store names it (in its language; custom ones as their plugin named them).
    pub name: String,
}

/// Whether `slug` is one of `statuses`.
pub fn has_status(statuses: &[StoreStatus], slug: &str) -> bool {
    statuses.iter().any(|s| s.slug == slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(name: &str, offset: Option<f64>) -> woocommerce::RestIndex {
        woocommerce::RestIndex {
            timezone_string: name.to_owned(),
            gmt_offset: offset,
            ..Default::default()
        }
    }

    #[test]
    fn zones_from_the_index() {
        assert_eq!(
            StoreZone::columns_from_index(&index("America/Santiago", Some(-3.0))),
            (Some("America/Santiago".to_owned()), None)
        );
        assert_eq!(
            StoreZone::columns_from_index(&index("", Some(-4.0))),
            (None, Some(-240))
        );
        assert_eq!(
            StoreZone::columns_from_index(&index("Mars/Olympus", Some(5.5))),
            (None, Some(330))
        );
        assert_eq!(
            StoreZone::columns_from_index(&index("", None)),
            (None, None)
        );
    }

    #[test]
    fn times_in_the_zone_named() {
        // 2026-12-02 09:35 UTC: Santiago is on summer time (UTC-3) in December, UTC-4 in July.
        let dec = time::macros::datetime!(2026-12-02 09:35 UTC);
        let jul = time::macros::datetime!(2026-07-02 09:35 UTC);
        let santiago = StoreZone::Named(
            "America/Santiago".into(),
            jiff::tz::db()
                .get("America/Santiago")
                .expect("bundled zone"),
        );
        assert_eq!(santiago.show(dec), "2026-12-02 06:35 (America/Santiago)");
        assert_eq!(santiago.show(jul), "2026-07-02 05:35 (America/Santiago)");
        assert_eq!(
            StoreZone::Offset(-240).show(dec),
            "2026-12-02 05:35 (UTC-4)"
        );
        assert_eq!(
            StoreZone::Offset(330).show(dec),
            "2026-12-02 15:05 (UTC+5:30)"
        );
        assert_eq!(StoreZone::Unknown.show(dec), "2026-12-02 09:35 (UTC)");
    }
}
