//! Text for people, stored as data: a stable [`Code`] plus typed parameters, rendered in the
//! reader's language only when shown — pages and JSON by the request's language, the CLI by
//! `--lang`/`LANG`, order notes in the store's language.
//!
//! What is stored (activity entries, `last_error`, refusal reasons, queued notes) is the JSON
//! `{"code": "order.sent", "params": {"number": "1234", "tracking": "TT-1"}}`; a parameter is a
//! string, an integer, a boolean or a nested text (a refusal's reason inside the activity entry
//! that reports it). The wording lives in one table per language (`es.rs`, `en.rs`), each an
//! exhaustive `match` over [`Code`]: a code without a wording does not compile, and a third
//! language is one more table and one more [`Lang`], never a migration. Plurals and number
//! formats are the tables' own (Spanish and English need one/other and a grouping separator);
//! a table of our own rather than Fluent, since two languages with two plural forms each did
//! not need a runtime, its locale data and a message syntax.

mod en;
mod es;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A language ttwc speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Es,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Es, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }

    /// `es`/`en`, or a language tag or POSIX locale starting with one (`es-CL`, `en_US.UTF-8`).
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        let primary = s.split(['-', '_', '.', '@']).next().unwrap_or("");
        match primary {
            "es" => Some(Lang::Es),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first of `es`/`en` in an Accept-Language header, by quality; Spanish otherwise
    /// (ttwc's merchants are Chilean).
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            if let Some(lang) = Lang::parse(&tag)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Es)
    }

    /// The CLI's rule: `--lang` when given, else the locale of `LANG` when it is Spanish or
    /// English, else Spanish.
    pub fn for_cli(flag: Option<Lang>, lang_env: Option<&str>) -> Lang {
        flag.or_else(|| lang_env.and_then(Lang::parse))
            .unwrap_or(Lang::Es)
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Es => Lang::En,
            Lang::En => Lang::Es,
        }
    }

    /// `1234567` as this language writes it: `1.234.567` in Spanish, `1,234,567` in English.
    pub fn number(self, n: i64) -> String {
        let sep = match self {
            Lang::Es => '.',
            Lang::En => ',',
        };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, d) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(d);
        }
        out
    }

    /// `n` and the noun in the form that count takes ("1 pedido", "2 pedidos", "1.500 pedidos").
    /// Spanish and English both use the singular for exactly one and the plural otherwise.
    pub fn count(self, n: i64, one: &str, other: &str) -> String {
        let noun = if n == 1 { one } else { other };
        format!("{} {noun}", self.number(n))
    }
}

macro_rules! codes {
    ($($variant:ident = $code:literal,)*) => {
        /// Every kind of text ttwc stores for people. The strings are stored: never change one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            pub fn parse(s: &str) -> Option<Code> {
                match s {
                    $($code => Some(Code::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    // A text written before texts were coded: its Spanish half, as it was.
    Legacy = "legacy",
    // The connection's life.
    Connected = "connection.connected",
    Reconnected = "connection.reconnected",
    Disconnected = "connection.disconnected",
    KeyLeftInStore = "connection.key_left",
    SettingsChanged = "connection.settings",
    NeedsRelogin = "connection.needs_relogin",
    UninstallFailed = "connection.uninstall_failed",
    WebhookDeleteFailed = "connection.webhook_delete_failed",
    TakenOver = "connection.taken_over",
    TakeOverUninstallFailed = "connection.take_over_uninstall_failed",
    WebhookReenabled = "webhook.reenabled",
    WebhookRecreated = "webhook.recreated",
    WebhookPaused = "webhook.paused",
    // Orders.
    OrderSent = "order.sent",
    OrderRejected = "order.rejected",
    OrderSkipped = "order.skipped",
    OrderFailed = "order.failed",
    OrderStatus = "order.status",
    SentThenCancelled = "order.sent_then_cancelled",
    LeftOut = "order.left_out",
    WritebackFailed = "order.writeback_failed",
    TrackingItemsKept = "order.tracking_items_kept",
    BackfillDone = "backfill.done",
    BackfillProgress = "backfill.progress",
    ReconcileFound = "reconcile.found",
    ResendQueued = "resend.queued",
    // Why an order was not sent (a mapping rule, or the store).
    Pickup = "reason.pickup",
    NothingToShip = "reason.nothing_to_ship",
    NoQuantity = "reason.no_quantity",
    NoStreet = "reason.no_street",
    NoCity = "reason.no_city",
    BadPrice = "reason.bad_price",
    QuantityTooLarge = "reason.quantity_too_large",
    NotShippable = "reason.not_shippable",
    OrderGone = "reason.order_gone",
    // Why a send failed or waits.
    WooCommerceError = "error.woocommerce",
    TrackingTechError = "error.trackingtech",
    TrackingTechRefused = "error.trackingtech_refused",
    GaveUp = "error.gave_up",
    ConnectionGone = "error.connection_gone",
    ConnectionNotConnected = "error.not_connected",
    NoToken = "error.no_token",
    NoKeys = "error.no_keys",
    BadStoreUrl = "error.bad_store_url",
    PayloadUnreadable = "error.payload_unreadable",
    DatabaseUnavailable = "error.database",
    Internal = "error.internal",
    // The trigger status against the store's own statuses.
    TriggerStatusUnknown = "error.trigger_status_unknown",
    StoreStatusesUnavailable = "error.store_statuses_unavailable",
    // Notes written into the WooCommerce order.
    NoteStatus = "note.status",
}

/// One parameter of a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Param {
    Bool(bool),
    Int(i64),
    Str(String),
    Text(Box<Text>),
}

/// A text for people: what to say ([`Code`]) and the values it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    #[serde(with = "code_serde")]
    pub code: Code,
    #[serde(default)]
    pub params: BTreeMap<String, Param>,
}

mod code_serde {
    use super::Code;

    pub fn serialize<S: serde::Serializer>(code: &Code, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(code.as_str())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Code, D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        Code::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown text code {s:?}")))
    }
}

impl Text {
    pub fn new(code: Code) -> Text {
        Text {
            code,
            params: BTreeMap::new(),
        }
    }

    /// Adds a parameter (a string, an integer, a boolean or a nested text).
    pub fn with(mut self, name: &str, value: impl Into<Param>) -> Text {
        self.params.insert(name.to_owned(), value.into());
        self
    }

    /// A text from before texts were coded (or one this version cannot read): shown as it is.
    pub fn legacy(text: impl Into<String>) -> Text {
        Text::new(Code::Legacy).with("text", text.into())
    }

    /// The text in `lang`, its values exactly as they came (an order note written into the
    /// store, a log line); people reading a page or a terminal get [`Text::shown`].
    pub fn render(&self, lang: Lang) -> String {
        self.render_as(lang, false)
    }

    /// The text in `lang` as a page or a terminal shows it: every value in it from outside
    /// goes through [`crate::display::shown`] (control and bidi characters neutralized, an
    /// order number cut at [`crate::display::ORDER_NUMBER`] characters, a name at
    /// [`crate::display::NAME`], anything else at [`crate::display::TEXT`]). The tables'
    /// own wording is left as it is.
    pub fn shown(&self, lang: Lang) -> String {
        self.render_as(lang, true)
    }

    fn render_as(&self, lang: Lang, shown: bool) -> String {
        let p = Params {
            params: &self.params,
            lang,
            shown,
        };
        match lang {
            Lang::Es => es::render(self.code, &p),
            Lang::En => en::render(self.code, &p),
        }
    }

    /// The form stored in the database and the write-back queue.
    pub fn stored(&self) -> String {
        // A map of strings, numbers, booleans and nested texts always serializes.
        serde_json::to_string(self).unwrap_or_else(|_| String::from(r#"{"code":"legacy"}"#))
    }

    /// Reads a stored text. Anything else — a row older than coded texts that escaped the
    /// migration, or a code from a newer version — is kept as a legacy text, never lost.
    pub fn from_stored(s: &str) -> Text {
        serde_json::from_str(s).unwrap_or_else(|_| Text::legacy(legacy_half(s)))
    }

    /// The parameters as JSON, for API answers.
    pub fn params_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.params).unwrap_or(serde_json::Value::Null)
    }

    /// The text as JSON answers carry it: `message` rendered for the reader (as shown, see
    /// [`Text::shown`]), with its `code` and `params`, exactly as stored, for programs.
    pub fn json(&self, lang: Lang) -> serde_json::Value {
        serde_json::json!({
            "message": self.shown(lang),
            "code": self.code.as_str(),
            "params": self.params_json(),
        })
    }
}

/// The Spanish half of an old `"español | English"` text (the whole text when it has none).
pub fn legacy_half(s: &str) -> &str {
    s.split_once(" | ").map_or(s, |(es, _)| es).trim()
}

impl fmt::Display for Text {
    /// Spanish, for logs and errors read by operators; people see [`Text::render`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::Es))
    }
}

impl From<&str> for Param {
    fn from(s: &str) -> Param {
        Param::Str(s.to_owned())
    }
}

impl From<String> for Param {
    fn from(s: String) -> Param {
        Param::Str(s)
    }
}

impl From<&String> for Param {
    fn from(s: &String) -> Param {
        Param::Str(s.clone())
    }
}

impl From<i64> for Param {
    fn from(n: i64) -> Param {
        Param::Int(n)
    }
}

impl From<u64> for Param {
    fn from(n: u64) -> Param {
        Param::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<bool> for Param {
    fn from(b: bool) -> Param {
        Param::Bool(b)
    }
}

impl From<Text> for Param {
    fn from(t: Text) -> Param {
        Param::Text(Box::new(t))
    }
}

/// A text's parameters as the tables read them. A missing or mistyped parameter renders as
/// `?` (or 0, false): an old row must still show, never fail a page.
pub(crate) struct Params<'a> {
    params: &'a BTreeMap<String, Param>,
    lang: Lang,
    /// Rendering for display ([`Text::shown`]): string values go through
    /// [`crate::display::shown`].
    shown: bool,
}

impl Params<'_> {
    fn s(&self, name: &str) -> String {
        match self.params.get(name) {
            Some(Param::Str(s)) if self.shown => {
                crate::display::shown(s, display_limit(name)).into_owned()
            }
            Some(Param::Str(s)) => s.clone(),
            Some(Param::Int(n)) => n.to_string(),
            Some(Param::Bool(b)) => b.to_string(),
            Some(Param::Text(t)) => t.render_as(self.lang, self.shown),
            None => "?".to_owned(),
        }
    }

    fn n(&self, name: &str) -> i64 {
        match self.params.get(name) {
            Some(Param::Int(n)) => *n,
            Some(Param::Str(s)) => s.parse().unwrap_or(0),
            _ => 0,
        }
    }

    fn b(&self, name: &str) -> bool {
        matches!(self.params.get(name), Some(Param::Bool(true)))
    }

    /// A nested text, rendered; `?` when missing.
    fn t(&self, name: &str) -> String {
        self.s(name)
    }

    /// A number parameter, formatted for the language.
    fn num(&self, name: &str) -> String {
        self.lang.number(self.n(name))
    }
}

/// How many characters of a string parameter a page or a terminal shows, by the parameter's
/// name: an order number's, a name's, or a sentence's ([`crate::display`]).
fn display_limit(name: &str) -> usize {
    match name {
        "number" => crate::display::ORDER_NUMBER,
        "name" | "tt_store" | "courier" | "description" | "tracking" | "status" | "status_name"
        | "slug" | "state" | "trigger_status" | "ending" => crate::display::NAME,
        "store_url" | "keys_url" => crate::display::URL,
        _ => crate::display::TEXT,
    }
}

/// WooCommerce's label of an order status in `lang` (its own translations of the core
/// statuses); a status a plugin added shows as its slug.
pub fn woo_status(lang: Lang, slug: &str) -> String {
    let slug = slug.trim();
    let slug = slug.strip_prefix("wc-").unwrap_or(slug);
    let label = match (lang, slug) {
        (Lang::Es, "pending") => "Pendiente de pago",
        (Lang::Es, "processing") => "Procesando",
        (Lang::Es, "on-hold") => "En espera",
        (Lang::Es, "completed") => "Completado",
        (Lang::Es, "cancelled") => "Cancelado",
        (Lang::Es, "refunded") => "Reembolsado",
        (Lang::Es, "failed") => "Fallido",
        (Lang::Es, "checkout-draft") => "Borrador",
        (Lang::Es, "trash") => "En la papelera",
        (Lang::En, "pending") => "Pending payment",
        (Lang::En, "processing") => "Processing",
        (Lang::En, "on-hold") => "On hold",
        (Lang::En, "completed") => "Completed",
        (Lang::En, "cancelled") => "Cancelled",
        (Lang::En, "refunded") => "Refunded",
        (Lang::En, "failed") => "Failed",
        (Lang::En, "checkout-draft") => "Draft",
        (Lang::En, "trash") => "In the trash",
        _ => return slug.to_owned(),
    };
    label.to_owned()
}

/// The label of a WooCommerce webhook status in `lang`.
fn webhook_status(lang: Lang, status: &str) -> String {
    let label = match (lang, status.trim()) {
        (Lang::Es, "active") => "activo",
        (Lang::Es, "paused") => "en pausa",
        (Lang::Es, "disabled") => "desactivado",
        (Lang::En, "active") => "active",
        (Lang::En, "paused") => "paused",
        (Lang::En, "disabled") => "disabled",
        (_, other) => return other.to_owned(),
    };
    label.to_owned()
}

/// Stored in a TEXT column as [`Text::stored`]; read back with [`Text::from_stored`].
impl<DB: sqlx::Database> sqlx::Type<DB> for Text
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for Text
where
    String: sqlx::Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        sqlx::Encode::<DB>::encode(self.stored(), buf)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for Text
where
    String: sqlx::Decode<'r, DB>,
{
    fn decode(
        value: <DB as sqlx::Database>::ValueRef<'r>,
    ) -> Result<Self, sqlx::error::BoxDynError> {
        let stored = <String as sqlx::Decode<DB>>::decode(value)?;
        Ok(Text::from_stored(&stored))
    }
}

impl rusqlite::ToSql for Text {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::from(self.stored()))
    }
}

impl rusqlite::types::FromSql for Text {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let stored = String::column_result(value)?;
        Ok(Text::from_stored(&stored))
    }
}

#[cfg(test)]
mod tests;
