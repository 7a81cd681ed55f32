//! Server-rendered pages (maud escapes every value) and the little plain JavaScript that turns
//! their forms into the JSON actions of [`super::api`].
//!
//! Every value from outside — a store's, TrackingTech's, an order's — is shown through
//! [`crate::display::shown`] (texts through [`Text::shown`]): control and bidi characters
//! neutralized, long values cut with an ellipsis. Form values the page sends back (a status
//! slug) stay exact.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use super::backfills::BackfillStatus;
use super::i18n::{Lang, Texts};
use super::session::{self, Session};
use super::{ApiError, WebState, api, lang};
use crate::app::App;
use crate::connection;
use crate::display::{self, shown};
use crate::site::StoreZone;
use crate::store::{ConnectionState, OrderFilter, OrderState};
use crate::text::{Code, Text};

#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    wcauth: Option<String>,
}

/// The session for a page view — a visitor's is not stored, so looking costs no write — plus
/// the cookies to set.
async fn page_session(
    app: &App,
    headers: &HeaderMap,
    query_lang: Option<&str>,
) -> Result<(Session, Vec<HeaderValue>), ApiError> {
    let (session, cookie) = session::for_page(app, headers).await?;
    let mut cookies: Vec<HeaderValue> = cookie.into_iter().collect();
    if let Some(l) = query_lang.and_then(Lang::parse) {
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
    layout_with(t, lang, session, page, "", body)
}

/// The page around `body`; `query` (e.g. `state=sent&`) is kept by the language link.
fn layout_with(
    t: &Texts,
    lang: Lang,
    session: &Session,
    page: &str,
    query: &str,
    body: Markup,
) -> Markup {
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
                            span.who { (t.signed_in_as) " " (shown(&user.name, display::NAME)) " (" (shown(&user.tenant_name, display::NAME)) ")" }
                            a href="/" { (t.dashboard) }
                            button #sign-out type="button" { (t.sign_out) }
                        }
                        a #lang-switch href={ "?" (query) "lang=" (other.code()) } hreflang=(other.code()) { (t.switch_to) }
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
        "resend_all_confirm": t.resend_all_confirm,
        "resent": t.resent,
        "backfill_running": t.backfill_running,
        "backfill_done": t.backfill_done,
        "backfill_failed": t.backfill_failed,
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
    let (session, cookies) = page_session(&st.app, &headers, q.lang.as_deref()).await?;
    let body = match session.owner() {
        Some(owner) => dashboard(&st, lang, &owner).await?,
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

async fn dashboard(st: &WebState, lang: Lang, owner: &str) -> Result<Markup, ApiError> {
    let (app, t) = (&st.app, lang.t());
    let rows = app.store().connections(Some(owner)).await?;
    // The stores' own order statuses, asked of every store at once (each waits at most
    // a few seconds): the settings offer them, and a saved one the store lacks is an error.
    let statuses = futures_util::future::join_all(rows.iter().map(|row| async move {
        if row.state == ConnectionState::Disconnected {
            None
        } else {
            Some(crate::site::order_statuses(app, row).await)
        }
    }))
    .await;
    let mut cards = Vec::new();
    for (row, statuses) in rows.into_iter().zip(statuses) {
        let activity = app.store().activity(&row.id, 10).await?;
        let depth = app.store().queue_depth(&row.id).await?;
        let backfill = st.backfills.get(&row.id);
        let paused = webhook_notice(app, lang, &row).await?;
        cards.push((row, activity, depth, backfill, statuses, paused));
    }
    let today = crate::store::now().date();
    let month_ago = today - time::Duration::days(30);
    Ok(html! {
        div.toolbar {
            h1 { (t.dashboard) }
            a.button.primary #start-connect href="/connect" { (t.connect_store) }
        }
        @if cards.is_empty() {
            p.empty { (t.no_connections) }
        }
        @for (row, activity, depth, backfill, statuses, paused) in &cards {
            @let (state_class, state_text) = match row.state {
                ConnectionState::Connected => ("ok", t.state_connected),
                ConnectionState::NeedsRelogin => ("warn", t.state_needs_relogin),
                ConnectionState::Disconnected => ("off", t.state_disconnected),
            };
            // Every time in the store's zone, named (`crate::site`).
            @let zone = StoreZone::of(row);
            @let date = |d: Option<time::OffsetDateTime>| d.map(|d| zone.show(d));
            section.card.connection data-id=(row.id) data-state=(row.state.as_str()) data-timezone=(zone.label()) {
                h2 { (shown(&row.store_url, display::URL)) " " span.badge.(state_class) { (state_text) } }
                dl {
                    dt { (t.courier) } dd { (shown(&row.tenant_name, display::NAME)) " (" (shown(&row.tenant_code, display::NAME)) ")" }
                    dt { (t.tt_store) } dd { (shown(&row.tt_store_name, display::NAME)) }
                    dt { (t.connected_since) } dd { (date(row.connected_at).unwrap_or_default()) }
                    dt { (t.last_order_sent) } dd.last-sent { (date(row.last_sent_at).unwrap_or_else(|| t.never.to_owned())) }
                    dt { (t.queue_depth) } dd.queue-depth { (depth) }
                    @if let Some(paused) = paused {
                        dt { (t.webhook) }
                        dd.warn.webhook-paused { (paused) }
                    }
                    @if let Some(Ok(list)) = statuses
                        && !crate::site::has_status(list, &row.trigger_status) {
                        dt { (t.trigger_status) }
                        dd.error.trigger-status-error {
                            (Text::new(Code::TriggerStatusUnknown).with("slug", row.trigger_status.as_str()).shown(lang))
                        }
                    }
                    @if let Some(err) = &row.last_error {
                        dt { (t.last_error) }
                        dd.error.last-error {
                            (err.shown(lang))
                            @if let Some(at) = row.last_error_at {
                                " " small.inline { "(" (t.last_error_at) " " (zone.show(at)) ")" }
                            }
                        }
                    }
                }
                p {
                    a.orders-link href={ "/connections/" (row.id) "/orders" } {
                        (t.orders) " (" (depth) " " (t.in_queue) ")"
                    }
                }
                @if row.state == ConnectionState::Connected {
                    details.backfill open[backfill.as_ref().is_some_and(|b| b.running)] {
                        summary { (t.backfill) }
                        form.backfill-form novalidate {
                            small { (t.backfill_hint) }
                            label { (t.backfill_since) input type="date" name="since" value=(month_ago) max=(today) required; }
                            button type="submit" { (t.backfill_start) }
                        }
                        p.backfill-progress role="status" data-running=[backfill.as_ref().map(|b| b.running)] {
                            @if let Some(b) = backfill {
                                (backfill_line(t, lang, b))
                            }
                        }
                    }
                }
                @if row.state != ConnectionState::Disconnected {
                    details {
                        summary { (t.settings) }
                        form.settings-form novalidate {
                            label {
                                (t.trigger_status)
                                select name="trigger_status" {
                                    @match statuses {
                                        Some(Ok(list)) => {
                                            @if !crate::site::has_status(list, &row.trigger_status) {
                                                option value="" selected disabled { (t.trigger_status_choose) }
                                            }
                                            @for s in list.iter().filter(|s| s.slug != "checkout-draft") {
                                                option value=(s.slug) selected[s.slug == row.trigger_status] { (shown(&s.name, display::NAME)) }
                                            }
                                        }
                                        // Not readable now: the saved one stays, the rest can be saved.
                                        _ => {
                                            option value=(row.trigger_status) selected { (shown(&row.trigger_status, display::NAME)) }
                                        }
                                    }
                                }
                            }
                            @if let Some(Err(why)) = statuses {
                                small.error.statuses-error { (why.shown(lang)) }
                            }
                            small { (t.trigger_status_hint) }
                            label.check { input type="checkbox" name="mark_completed" checked[row.mark_completed]; (t.mark_completed) }
                            label.check { input type="checkbox" name="notify_customer" checked[row.notify_customer]; (t.notify_customer) }
                            button type="submit" { (t.save) }
                            span.saved role="status" {}
                        }
                    }
                    button.danger.disconnect type="button" { (t.disconnect) }
                }
                @if let Some(key) = activity.iter().find(|a| a.message.code == Code::KeyLeftInStore).filter(|_| row.state == ConnectionState::Disconnected) {
                    p.key-left {
                        (key.message.shown(lang)) " "
                        a href={ (row.store_url.trim_end_matches('/')) (connection::KEYS_PAGE) } target="_blank" rel="noopener" { (t.revoke_key) }
                    }
                }
                @if row.state != ConnectionState::Connected {
                    a.button href="/connect" { (t.reconnect) }
                }
                @if !activity.is_empty() {
                    h3 { (t.recent_activity) }
                    ul.activity {
                        @for a in activity {
                            li { time { (date(Some(a.at)).unwrap_or_default()) } " " (a.message.shown(lang)) }
                        }
                    }
                }
            }
        }
    })
}

/// What the merchant must know about ttwc's webhook in the store: a pause (a person's choice,
/// left alone) means orders arrive only through reconcile. None while it is active.
pub(crate) async fn webhook_notice(
    app: &crate::app::App,
    lang: Lang,
    row: &crate::store::ConnectionRow,
) -> Result<Option<String>, crate::store::StoreError> {
    if row.state != ConnectionState::Connected {
        return Ok(None);
    }
    let status = app.store().webhook_status(&row.id).await?;
    Ok(status.filter(|s| s != "active").map(|status| {
        let minutes = app
            .settings()
            .reconcile_interval
            .as_secs()
            .div_ceil(60)
            .max(1);
        crate::text::Text::new(crate::text::Code::WebhookPaused)
            .with("status", status)
            .with("minutes", minutes)
            .shown(lang)
    }))
}

/// A backfill's progress in words (the script writes the same line while it polls).
fn backfill_line(t: &Texts, lang: Lang, b: &BackfillStatus) -> String {
    let counts = backfill_counts(lang, b);
    match (&b.error, b.running) {
        (_, true) => format!("{} {counts}", t.backfill_running),
        (Some(e), false) => format!("{} {} ({counts})", t.backfill_failed, e.shown(lang)),
        (None, false) => format!("{} {counts}", t.backfill_done),
    }
}

/// "12.345 pedidos revisados, 2 en cola": plural and number format in the reader's language.
pub(crate) fn backfill_counts(lang: Lang, b: &BackfillStatus) -> String {
    crate::text::Text::new(crate::text::Code::BackfillProgress)
        .with("seen", b.seen)
        .with("queued", b.queued)
        .render(lang)
}

/// Orders shown per page.
const PAGE_SIZE: u32 = 50;

#[derive(Deserialize)]
pub struct OrdersQuery {
    lang: Option<String>,
    state: Option<String>,
    page: Option<String>,
}

/// `GET /connections/{id}/orders?state=&page=`: the connection's outbox, newest first, 50 a
/// page, for its owner only (404 for anyone else, as the JSON actions answer).
pub async fn orders(
    State(st): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<OrdersQuery>,
) -> Result<Response, ApiError> {
    let lang = lang(&headers, q.lang.as_deref());
    let t = lang.t();
    let (session, cookies) = page_session(&st.app, &headers, q.lang.as_deref()).await?;
    let row = match api::owned(&st.app, &session, &id, lang).await {
        Ok(row) => row,
        Err(e) if e.status() == StatusCode::NOT_FOUND => {
            let body = html! {
                section.card {
                    h1 { (t.not_found) }
                    p { (t.connection_not_found) }
                    a.button href="/" { (t.back_to_dashboard) }
                }
            };
            let mut response = respond(cookies, layout(t, lang, &session, "not-found", body));
            *response.status_mut() = StatusCode::NOT_FOUND;
            return Ok(response);
        }
        Err(e) => return Err(e),
    };
    let state = q.state.as_deref().and_then(OrderState::parse);
    let mut filter = OrderFilter {
        connection_id: Some(row.id.clone()),
        state,
        limit: PAGE_SIZE,
        offset: 0,
    };
    let total = st.app.store().count_orders(&filter).await?;
    let pages = u32::try_from(total.div_ceil(u64::from(PAGE_SIZE)))
        .unwrap_or(u32::MAX)
        .max(1);
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<u32>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    filter.offset = (page - 1).saturating_mul(PAGE_SIZE);
    let list = st.app.store().orders(&filter).await?;
    let depth = st.app.store().queue_depth(&row.id).await?;
    let state_param = state
        .map(|s| format!("state={}&", s.as_str()))
        .unwrap_or_default();
    let page_href = |p: u32| format!("?{state_param}page={p}");
    let filter_href = |s: Option<OrderState>| match s {
        Some(s) => format!("?state={}", s.as_str()),
        None => "?".to_owned(),
    };
    let first = if list.is_empty() {
        0
    } else {
        u64::from(filter.offset) + 1
    };
    let last = u64::from(filter.offset) + list.len() as u64;
    let can_resend = row.state != ConnectionState::Disconnected;
    let zone = StoreZone::of(&row);
    let when = |d: time::OffsetDateTime| zone.show(d);
    let when_opt = |d: Option<time::OffsetDateTime>| d.map(when).unwrap_or_default();
    let body = html! {
        p { a href="/" { (t.back_to_dashboard) } }
        section #orders data-id=(row.id) data-page-number=(page) data-total=(total) {
            div.toolbar {
                h1 { (t.orders_of) " " (shown(&row.store_url, display::URL)) }
                @if can_resend {
                    button.danger #resend-all type="button" { (t.resend_all) }
                }
            }
            p.summary {
                (t.queue_depth) ": " span.queue-depth { (depth) }
            }
            p.notice #orders-status role="status" {}
            nav.filters aria-label=(t.col_state) {
                @for s in std::iter::once(None).chain(OrderState::ALL.into_iter().map(Some)) {
                    @let label = s.map(|s| t.order_state(s)).unwrap_or(t.all_states);
                    @if s == state {
                        a.filter.current href=(filter_href(s)) aria-current="page" data-state=(s.map(OrderState::as_str).unwrap_or("all")) { (label) }
                    } @else {
                        a.filter href=(filter_href(s)) data-state=(s.map(OrderState::as_str).unwrap_or("all")) { (label) }
                    }
                }
            }
            @if list.is_empty() {
                p.empty { (t.no_orders) }
            } @else {
                p.range { (t.showing) " " (first) "–" (last) " " (t.of_total) " " span.total { (total) } }
                div.table-wrap {
                    table.orders {
                        thead {
                            tr {
                                th { (t.col_order) }
                                th { (t.col_state) }
                                th.num { (t.col_attempts) }
                                th { (t.col_tracking) }
                                th { (t.col_tt_status) }
                                th { (t.col_error) }
                                th { (t.col_queued_at) }
                                th { (t.col_sent_at) }
                                th {}
                            }
                        }
                        tbody {
                            @for o in &list {
                                tr.order data-order=(o.order_id) data-state=(o.state.as_str()) {
                                    td.number { "#" (shown(&o.order_number, display::ORDER_NUMBER)) }
                                    td { span.state.(o.state.as_str()) { (t.order_state(o.state)) } }
                                    td.num { (o.attempts) }
                                    td.tracking { (shown(o.tracking_id.as_deref().unwrap_or(""), display::NAME)) }
                                    td.tt-status { (shown(o.tt_status_name.as_deref().or(o.tt_status.as_deref()).unwrap_or(""), display::NAME)) }
                                    td.error {
                                        @if let Some(e) = &o.last_error { (e.shown(lang)) }
                                    }
                                    td { (when(o.created_at)) }
                                    td { (when_opt(o.sent_at)) }
                                    td {
                                        @if can_resend && RESENDABLE.contains(&o.state) {
                                            button.resend type="button" data-order=(o.order_id) { (t.resend) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav.pager aria-label=(t.page) {
                    @if page > 1 {
                        a.prev rel="prev" href=(page_href(page - 1)) { (t.previous) }
                    }
                    @for p in page_numbers(page, pages) {
                        @match p {
                            Some(p) if p == page => { span.current aria-current="page" { (p) } }
                            Some(p) => { a href=(page_href(p)) { (p) } }
                            None => { span.gap { "…" } }
                        }
                    }
                    @if page < pages {
                        a.next rel="next" href=(page_href(page + 1)) { (t.next) }
                    }
                }
            }
        }
    };
    let mut query = state_param.clone();
    if page > 1 {
        query.push_str(&format!("page={page}&"));
    }
    Ok(respond(
        cookies,
        layout_with(t, lang, &session, "orders", &query, body),
    ))
}

/// The states an order can be resent from (what [`crate::store::Store::resend`] accepts).
const RESENDABLE: [OrderState; 4] = [
    OrderState::Failed,
    OrderState::Rejected,
    OrderState::Skipped,
    OrderState::Cancelled,
];

/// The page numbers a pager links to: the first, the last and two either side of the current
/// one; `None` where numbers are left out.
fn page_numbers(current: u32, pages: u32) -> Vec<Option<u32>> {
    let mut out = Vec::new();
    for p in 1..=pages {
        if p == 1 || p == pages || p.abs_diff(current) <= 2 {
            out.push(Some(p));
        } else if out.last().is_some_and(Option::is_some) {
            out.push(None);
        }
    }
    out
}

pub async fn connect(
    State(st): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let lang = lang(&headers, q.lang.as_deref());
    let t = lang.t();
    let (session, cookies) = page_session(&st.app, &headers, q.lang.as_deref()).await?;
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

#[cfg(test)]
mod tests {
    use super::page_numbers;

    #[test]
    fn the_pager_keeps_the_ends_and_the_neighbourhood() {
        assert_eq!(page_numbers(1, 2), vec![Some(1), Some(2)]);
        assert_eq!(
            page_numbers(6, 12),
            vec![
                Some(1),
                None,
                Some(4),
                Some(5),
                Some(6),
                Some(7),
                Some(8),
                None,
                Some(12)
            ]
        );
        assert_eq!(page_numbers(1, 1), vec![Some(1)]);
    }
}
