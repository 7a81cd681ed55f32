//! Server-rendered pages (maud escapes every value) and the little plain JavaScript that turns
//! their forms into the JSON actions of [`super::api`].

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use super::i18n::{Lang, Texts};
use super::session::{self, Session};
use super::{ApiError, WebState, lang};
use crate::app::App;
use crate::store::ConnectionState;

#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    wcauth: Option<String>,
}

/// The session for a page view, created when there is none; plus the cookies to set.
async fn page_session(
    app: &App,
    headers: &HeaderMap,
    q: &PageQuery,
) -> Result<(Session, Vec<HeaderValue>), ApiError> {
    let mut cookies = Vec::new();
    let session = match session::load(app, headers).await? {
        Some(s) => s,
        None => {
            let (s, cookie) = session::create(app).await?;
            cookies.push(cookie);
            s
        }
    };
    if let Some(l) = q.lang.as_deref().and_then(Lang::parse) {
        cookies.push(session::set_cookie(
            app,
            session::LANG_COOKIE,
            l.code(),
            Some(365 * 24 * 3600),
        ));
    }
    Ok((session, cookies))
}

fn respond(cookies: Vec<HeaderValue>, markup: Markup) -> Response {
    let mut response = markup.into_response();
    let headers = response.headers_mut();
    for c in cookies {
        headers.append(header::SET_COOKIE, c);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    response
}

fn layout(t: &Texts, lang: Lang, session: &Session, page: &str, body: Markup) -> Markup {
    let other = lang.other();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf" content=(session.row.csrf_token);
                title { (t.title) }
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
            }
            body data-page=(page) data-lang=(lang.code()) {
                header {
                    a.brand href="/" { (t.title) }
                    nav {
                        @if let Some(user) = &session.user {
                            span.who { (t.signed_in_as) " " (user.name) " (" (user.tenant_name) ")" }
                            a href="/" { (t.dashboard) }
                            button #sign-out type="button" { (t.sign_out) }
                        }
                        a #lang-switch href={ "?lang=" (other.code()) } hreflang=(other.code()) { (t.switch_to) }
                    }
                }
                main { (body) }
                div #error role="alert" hidden {}
                script #texts type="application/json" { (PreEscaped(js_texts(t))) }
            }
        }
    }
}

/// The texts the script needs, as JSON (with `<` escaped so it cannot close the script tag).
fn js_texts(t: &Texts) -> String {
    serde_json::json!({
        "working": t.working,
        "saved": t.saved,
        "disconnect_confirm": t.disconnect_confirm,
        "disconnected_ok": t.disconnected_ok,
        "session_expired": t.session_expired,
        "network_error": t.network_error,
        "keys_received": t.keys_received,
        "wcauth_denied": t.wcauth_denied,
    })
    .to_string()
    .replace('<', "\\u003c")
}

pub async fn home(
    State(st): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let lang = lang(&headers, q.lang.as_deref());
    let t = lang.t();
    let (session, cookies) = page_session(&st.app, &headers, &q).await?;
    let body = match session.owner() {
        Some(owner) => dashboard(&st.app, t, &owner).await?,
        None => welcome(t),
    };
    Ok(respond(cookies, layout(t, lang, &session, "home", body)))
}

fn welcome(t: &Texts) -> Markup {
    html! {
        section.hero {
            h1 { (t.title) }
            p { (t.tagline) }
            a.button.primary #start-connect href="/connect" { (t.connect_store) }
        }
        section.card {
            h2 { (t.sign_in) }
            p { (t.sign_in_intro) }
            form #sign-in-form novalidate {
                label for="si-code" { (t.courier_code) }
                input #si-code name="code" autocomplete="off" maxlength="32" required;
                label for="si-email" { (t.email) }
                input #si-email name="email" type="email" autocomplete="username" required;
                label for="si-password" { (t.password) }
                input #si-password name="password" type="password" autocomplete="current-password" required;
                button #sign-in-submit type="submit" { (t.sign_in) }
            }
        }
    }
}

async fn dashboard(app: &App, t: &Texts, owner: &str) -> Result<Markup, ApiError> {
    let rows = app.store().connections(Some(owner)).await?;
    let mut cards = Vec::new();
    for row in rows {
        let activity = app.store().activity(&row.id, 10).await?;
        let depth = app.store().queue_depth(&row.id).await?;
        cards.push((row, activity, depth));
    }
    let date = |d: Option<time::OffsetDateTime>| {
        d.map(|d| format!("{} {:02}:{:02} UTC", d.date(), d.hour(), d.minute()))
    };
    Ok(html! {
        div.toolbar {
            h1 { (t.dashboard) }
            a.button.primary #start-connect href="/connect" { (t.connect_store) }
        }
        @if cards.is_empty() {
            p.empty { (t.no_connections) }
        }
        @for (row, activity, depth) in &cards {
            @let (state_class, state_text) = match row.state {
                ConnectionState::Connected => ("ok", t.state_connected),
                ConnectionState::NeedsRelogin => ("warn", t.state_needs_relogin),
                ConnectionState::Disconnected => ("off", t.state_disconnected),
            };
            section.card.connection data-id=(row.id) data-state=(row.state.as_str()) {
                h2 { (row.store_url) " " span.badge.(state_class) { (state_text) } }
                dl {
                    dt { (t.courier) } dd { (row.tenant_name) " (" (row.tenant_code) ")" }
                    dt { (t.tt_store) } dd { (row.tt_store_name) }
                    dt { (t.connected_since) } dd { (date(row.connected_at).unwrap_or_default()) }
                    dt { (t.last_order_sent) } dd { (date(row.last_sent_at).unwrap_or_else(|| t.never.to_owned())) }
                    dt { (t.queue_depth) } dd.queue-depth { (depth) }
                    @if let Some(err) = &row.last_error {
                        dt { (t.last_error) } dd.error { (err) }
                    }
                }
                @if row.state != ConnectionState::Disconnected {
                    details {
                        summary { (t.settings) }
                        form.settings-form novalidate {
                            label { (t.trigger_status) input name="trigger_status" value=(row.trigger_status) maxlength="43"; }
                            small { (t.trigger_status_hint) }
                            label.check { input type="checkbox" name="mark_completed" checked[row.mark_completed]; (t.mark_completed) }
                            label.check { input type="checkbox" name="notify_customer" checked[row.notify_customer]; (t.notify_customer) }
                            button type="submit" { (t.save) }
                            span.saved role="status" {}
                        }
                    }
                    button.danger.disconnect type="button" { (t.disconnect) }
                }
                @if row.state != ConnectionState::Connected {
                    a.button href="/connect" { (t.reconnect) }
                }
                @if !activity.is_empty() {
                    h3 { (t.recent_activity) }
                    ul.activity {
                        @for a in activity {
                            li { time { (date(Some(a.at)).unwrap_or_default()) } " " (a.message) }
                        }
                    }
                }
            }
        }
    })
}

pub async fn connect(
    State(st): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let lang = lang(&headers, q.lang.as_deref());
    let t = lang.t();
    let (session, cookies) = page_session(&st.app, &headers, &q).await?;
    let wcauth = q.wcauth.as_deref().unwrap_or("");
    let body = html! {
        div #wizard data-wcauth=(wcauth) {
            section.card.disclosure #disclosure {
                h2 { (t.disclosure_title) }
                @for p in t.disclosure { p { (p) } }
                p {
                    a href="https://trackingtech.cl/terms.html" rel="noopener" target="_blank" { (t.terms) }
                    " · "
                    a href="https://trackingtech.cl/privacy.html" rel="noopener" target="_blank" { (t.privacy) }
                }
            }
            section.card.step #step-start data-step="start" {
                h2 { (t.step1) }
                form #start-form novalidate {
                    label for="store_url" { (t.store_url) }
                    input #store_url name="store_url" type="url" inputmode="url" placeholder="https://" maxlength="2048" required;
                    small { (t.store_url_hint) }
                    label for="code" { (t.courier_code) }
                    input #code name="code" autocomplete="off" maxlength="32" required;
                    small { (t.courier_code_hint) }
                    button #start-submit type="submit" { (t.continue_) }
                }
            }
            section.card.step #step-login data-step="login" hidden {
                h2 { (t.step2) }
                p.tenant {}
                form #login-form novalidate {
                    label for="email" { (t.email) }
                    input #email name="email" type="email" autocomplete="username" required;
                    label for="password" { (t.password) }
                    input #password name="password" type="password" autocomplete="current-password" required;
                    small { (t.password_hint) }
                    button #login-submit type="submit" { (t.continue_) }
                }
            }
            section.card.step #step-store data-step="store" hidden {
                h2 { (t.step3) }
                form #store-form novalidate {
                    p { (t.choose_store) }
                    div #store-list {}
                    button #store-submit type="submit" { (t.continue_) }
                }
            }
            section.card.step #step-keys data-step="keys" hidden {
                h2 { (t.step4) }
                p { (t.keys_intro) }
                a.button.primary #authorize href="#" { (t.authorize) }
                p.notice #keys-status role="status" {}
                form #keys-form novalidate {
                    p { (t.or_paste) }
                    label for="consumer_key" { (t.consumer_key) }
                    input #consumer_key name="consumer_key" autocomplete="off" spellcheck="false";
                    label for="consumer_secret" { (t.consumer_secret) }
                    input #consumer_secret name="consumer_secret" type="password" autocomplete="off";
                    button #keys-submit type="submit" { (t.connect) }
                }
            }
            section.card.step #step-done data-step="done" hidden {
                h2 #done-title { (t.connected_title) }
                p { (t.connected_body) }
                p.store {}
                a.button.primary #go-dashboard href="/" { (t.go_dashboard) }
            }
            p { button.link #restart type="button" { (t.start_over) } }
        }
    };
    Ok(respond(cookies, layout(t, lang, &session, "connect", body)))
}

pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("assets/app.js"),
    )
}

pub async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("assets/app.css"),
    )
}
