//! Server-side sessions: a random cookie (HttpOnly, SameSite=Lax, Secure when the public URL is
//! https) whose SHA-256 names a row in the database, a CSRF token bound to that row, idle expiry,
//! and the signed-in TrackingTech user and wizard progress kept (sealed) with it.
//!
//! The CSRF token plays the part of WordPress' nonce: every state-changing JSON action must carry
//! it in `X-CSRF-Token`, and a page can only learn it by being served from this origin.
//!
//! A visitor who has only looked has no row: a page view hands out the cookie and a CSRF token
//! derived from it (an HMAC under the master key, checked without a lookup), and the row is
//! written at the first state-changing action. The id changes whenever what the session may do
//! changes — its first row, every sign-in (dashboard or wizard) and sign-out — and the old id
//! dies at once (its row is deleted in the transaction that inserts the new one), so a cookie
//! planted in a browser beforehand is worth nothing afterwards (no session fixation).

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use trackingtech::Secret;

use crate::app::App;
use crate::connection::{Started, TtStore, UserInfo};
use crate::store::{self, SessionRow, StoreError};

pub const COOKIE: &str = "ttwc_sid";
pub const LANG_COOKIE: &str = "ttwc_lang";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// `last_seen_at` is written at most this often, so page views do not each cost a write.
const TOUCH_EVERY: time::Duration = time::Duration::seconds(60);

/// The wizard's progress, sealed in the session (it holds WooCommerce keys mid-way).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WizardState {
    pub started: Option<Started>,
    pub stores: Vec<TtStore>,
    pub chosen: Option<TtStore>,
    /// The unguessable `user_id` of the current wc-auth attempt.
    pub grant: Option<String>,
    /// Set when wc-auth came back denied.
    pub denied: bool,
    /// The connection the wizard ended with.
    pub done: Option<String>,
}

/// A session: a stored row, or a visitor's that is not stored yet.
#[derive(Debug, Clone)]
pub struct Session {
    pub row: SessionRow,
    pub user: Option<UserInfo>,
    /// The id the row is stored under; None for a visitor who has not acted yet.
    stored_id: Option<String>,
    /// The cookie value to hand the browser, once the id changed.
    new_token: Option<String>,
}

impl Session {
    pub fn csrf_ok(&self, headers: &HeaderMap) -> bool {
        let given = headers
            .get(CSRF_HEADER)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        !given.is_empty() && given.ct_eq(self.row.csrf_token.as_bytes()).into()
    }

    pub fn owner(&self) -> Option<String> {
        self.user.as_ref().map(UserInfo::owner)
    }

    pub fn tt_token(&self, app: &App) -> Option<Secret> {
        let sealed = self.row.tt_token.as_ref()?;
        app.key()
            .open_string(&context(&self.row.id_hash, "tt_token"), sealed)
            .ok()
            .map(Secret::new)
    }

    pub fn wizard(&self, app: &App) -> WizardState {
        self.row
            .wizard
            .as_ref()
            .and_then(|sealed| {
                app.key()
                    .open(&context(&self.row.id_hash, "wizard"), sealed)
                    .ok()
            })
            .and_then(|json| serde_json::from_slice(&json).ok())
            .unwrap_or_default()
    }

    pub fn set_wizard(&mut self, app: &App, wizard: &WizardState) {
        let json = serde_json::to_vec(wizard).unwrap_or_default();
        self.row.wizard = Some(app.key().seal(&context(&self.row.id_hash, "wizard"), &json));
    }

    /// Signs in, under a new id and CSRF token (see [`Session::renew`]): a cookie or token seen
    /// before signing in is worthless after.
    pub fn sign_in(&mut self, app: &App, user: UserInfo, token: &Secret) {
        self.renew(app);
        self.row.owner = Some(user.owner());
        self.row.user_json = serde_json::to_string(&user).ok();
        self.row.tt_token = Some(
            app.key()
                .seal_str(&context(&self.row.id_hash, "tt_token"), token.expose()),
        );
        self.user = Some(user);
    }

    /// Gives the session a new id and CSRF token, taking effect at [`Session::save`] (which
    /// deletes the old row as it writes the new one). What the session holds sealed is sealed
    /// again under the new id, since each value is bound to the id it was sealed for.
    pub fn renew(&mut self, app: &App) {
        let wizard = self.row.wizard.is_some().then(|| self.wizard(app));
        let tt_token = self.tt_token(app);
        let token = random_token();
        self.row.id_hash = hash(&token);
        self.row.csrf_token = random_token();
        self.row.created_at = store::now();
        self.row.wizard = None;
        self.row.tt_token = tt_token.map(|t| {
            app.key()
                .seal_str(&context(&self.row.id_hash, "tt_token"), t.expose())
        });
        if let Some(wizard) = wizard {
            self.set_wizard(app, &wizard);
        }
        self.new_token = Some(token);
    }

    /// Whether the session has a row (a visitor who has only looked has none).
    pub fn is_stored(&self) -> bool {
        self.stored_id.is_some()
    }

    /// Writes the session. A visitor's first write gets an id of its own, never the cookie the
    /// browser brought, which a page elsewhere could have planted.
    pub async fn save(&mut self, app: &App) -> Result<(), StoreError> {
        if self.stored_id.is_none() && self.new_token.is_none() {
            self.renew(app);
        }
        self.row.last_seen_at = store::now();
        match self.stored_id.as_deref() {
            Some(id) if id == self.row.id_hash => app.store().update_session(&self.row).await?,
            Some(old) => app.store().replace_session(old, &self.row).await?,
            None => app.store().insert_session(&self.row).await?,
        }
        self.stored_id = Some(self.row.id_hash.clone());
        Ok(())
    }

    /// The `Set-Cookie` that hands the browser the session's new id, when it changed.
    pub fn cookie(&self, app: &App) -> Option<HeaderValue> {
        self.new_token
            .as_deref()
            .map(|token| set_cookie(app, COOKIE, token, None))
    }
}

fn context(id_hash: &str, field: &str) -> String {
    format!("session/{id_hash}/{field}")
}

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// The stored session named by the request's cookie, if it exists and is not idle too long.
pub async fn load(app: &App, headers: &HeaderMap) -> Result<Option<Session>, StoreError> {
    let Some(token) = cookie_value(headers, COOKIE) else {
        return Ok(None);
    };
    if token.len() > 64 {
        return Ok(None);
    }
    let Some(row) = app.store().session(&hash(&token)).await? else {
        return Ok(None);
    };
    let now = store::now();
    let idle =
        time::Duration::try_from(app.settings().session_idle).unwrap_or(time::Duration::hours(2));
    if row.last_seen_at + idle < now {
        app.store().delete_session(&row.id_hash).await?;
        return Ok(None);
    }
    let user = row
        .user_json
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok());
    let mut session = Session {
        stored_id: Some(row.id_hash.clone()),
        row,
        user,
        new_token: None,
    };
    if session.row.last_seen_at + TOUCH_EVERY < now {
        session.save(app).await?;
    }
    Ok(Some(session))
}

/// The session of a request that may act: the stored one, or else the visitor's named by a
/// well-formed cookie (not stored; its CSRF token is derived from the cookie).
pub async fn acting(app: &App, headers: &HeaderMap) -> Result<Option<Session>, StoreError> {
    if let Some(session) = load(app, headers).await? {
        return Ok(Some(session));
    }
    Ok(cookie_value(headers, COOKIE)
        .filter(|token| well_formed(token))
        .map(|token| visitor(app, &token)))
}

/// The session for a page view, without writing anything: the stored one, or a visitor's; plus
/// the cookie to set when the browser brought none.
pub async fn for_page(
    app: &App,
    headers: &HeaderMap,
) -> Result<(Session, Option<HeaderValue>), StoreError> {
    if let Some(session) = acting(app, headers).await? {
        return Ok((session, None));
    }
    let (session, cookie) = fresh_visitor(app);
    Ok((session, Some(cookie)))
}

/// A new visitor (nothing stored) and the `Set-Cookie` that hands it to the browser.
pub fn fresh_visitor(app: &App) -> (Session, HeaderValue) {
    let token = random_token();
    let cookie = set_cookie(app, COOKIE, &token, None);
    (visitor(app, &token), cookie)
}

/// The not-yet-stored session of the visitor holding `token`.
fn visitor(app: &App, token: &str) -> Session {
    let now = store::now();
    let csrf = URL_SAFE_NO_PAD.encode(app.key().mac("session/visitor-csrf", token.as_bytes()));
    Session {
        row: SessionRow {
            id_hash: hash(token),
            csrf_token: csrf,
            created_at: now,
            last_seen_at: now,
            owner: None,
            user_json: None,
            tt_token: None,
            wizard: None,
        },
        user: None,
        stored_id: None,
        new_token: None,
    }
}

/// Whether `token` looks like one [`random_token`] makes (a visitor's cookie is trusted that far).
fn well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn set_cookie(app: &App, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let secure = if app.settings().public_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    let max_age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{max_age}");
    // Names and values here are ASCII tokens made by ttwc.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("ttwc_invalid=1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_named_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; ttwc_sid=abc; b=2"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("ttwc_lang=en"));
        assert_eq!(cookie_value(&h, COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie_value(&h, LANG_COOKIE).as_deref(), Some("en"));
        assert_eq!(cookie_value(&h, "zzz"), None);
    }

    #[test]
    fn tokens_are_long_and_random() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert!(well_formed(&a));
        assert!(!well_formed("short") && !well_formed(&format!("{}=", &a[1..])));
        assert_ne!(a, random_token());
        assert_eq!(hash("x").len(), 64);
    }
}
