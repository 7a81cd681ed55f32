//! The `wc-auth` key handshake (`WC_Auth`): login page, approval page, key creation and the
//! callback POST carrying the new key.
//!
//! The pages are plain, semantic HTML so that a browser test can drive them: the login form has
//! fields `username` and `password` and a button `#wc-auth-login`; the approval page has links
//! `#wc-auth-approve` and `#wc-auth-deny`. A login sets a session cookie.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::auth::rawurlencode;
use crate::json::wp_json_encode;
use crate::rest::parse_pairs;
use crate::server::App;
use crate::store::ADMIN_USER_ID;

const COOKIE: &str = "wordpress_logged_in_woosim";

/// The five handshake parameters, raw from the query.
struct AuthParams {
    app_name: String,
    scope: String,
    user_id: String,
    return_url: String,
    callback_url: String,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#039;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"UTF-8\"><title>{}</title></head>\n<body class=\"wc-auth\">\n<h1>WooCommerce</h1>\n{body}\n</body>\n</html>\n",
        escape(title)
    )
}

/// `wp_die(..., 'Access denied', 401)`.
fn error_page(message: &str) -> Response {
    let body = format!(
        "<div class=\"wp-die-message\"><p id=\"wc-auth-error\">Error: {}.</p></div>",
        escape(message)
    );
    (StatusCode::UNAUTHORIZED, Html(page("Access denied", &body))).into_response()
}

/// `get_formatted_url`: urldecode, then `https://` if no scheme.
fn formatted_url(url: &str) -> String {
    let decoded = crate::auth::urldecode(url);
    if decoded.contains("://") {
        decoded
    } else {
        format!("https://{decoded}")
    }
}

/// PHP `FILTER_VALIDATE_URL`, approximately: a parseable absolute URL with a host.
fn valid_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty()))
}

/// `make_validation`.
fn validate(app: &App, query: &[(String, String)]) -> Result<AuthParams, String> {
    let get = |k: &str| {
        query
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    for name in ["app_name", "user_id", "return_url", "callback_url", "scope"] {
        if get(name).is_none_or(|v| v.is_empty() || v == "0") {
            return Err(format!("Missing parameter {name}"));
        }
    }
    let p = AuthParams {
        app_name: get("app_name").unwrap_or_default(),
        scope: get("scope").unwrap_or_default(),
        user_id: get("user_id").unwrap_or_default(),
        return_url: get("return_url").unwrap_or_default(),
        callback_url: get("callback_url").unwrap_or_default(),
    };
    if !matches!(p.scope.as_str(), "read" | "write" | "read_write") {
        return Err(format!("Invalid scope {}", p.scope));
    }
    for (name, url) in [
        ("return_url", &p.return_url),
        ("callback_url", &p.callback_url),
    ] {
        if !valid_url(&formatted_url(url)) {
            return Err(format!("The {name} is not a valid URL"));
        }
    }
    let callback = formatted_url(&p.callback_url);
    if !app.allow_http_callbacks && !callback.to_ascii_lowercase().starts_with("https://") {
        return Err("The callback_url needs to be over SSL".into());
    }
    Ok(p)
}

/// `build_url`: the five parameters re-encoded for another route.
fn build_url(app: &App, p: &AuthParams, route: &str) -> String {
    format!(
        "{}/wc-auth/v1/{route}?app_name={}&user_id={}&return_url={}&callback_url={}&scope={}",
        app.base_url,
        rawurlencode(&p.app_name),
        rawurlencode(&p.user_id),
        rawurlencode(&formatted_url(&p.return_url)),
        rawurlencode(&formatted_url(&p.callback_url)),
        rawurlencode(&p.scope),
    )
}

/// `add_query_arg` of `success` and `user_id` onto the return URL.
fn return_with(p: &AuthParams, success: u8) -> String {
    let url = formatted_url(&p.return_url);
    let sep = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{sep}success={success}&user_id={}",
        rawurlencode(&p.user_id)
    )
}

fn session_user(app: &App, headers: &HeaderMap) -> Option<u64> {
    let cookies = headers.get_all(header::COOKIE);
    let store = app.lock();
    for value in cookies.iter().filter_map(|v| v.to_str().ok()) {
        for pair in value.split(';') {
            if let Some((k, v)) = pair.trim().split_once('=')
                && k == COOKIE
                && let Some(user) = store.sessions.get(v)
            {
                return Some(*user);
            }
        }
    }
    None
}

fn redirect(location: &str) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

fn login_form(app: &App, p: &AuthParams, error: Option<&str>) -> Response {
    let action = build_url(app, p, "login");
    let error = error
        .map(|e| {
            format!(
                "<p class=\"woocommerce-error\" id=\"login-error\" role=\"alert\">{}</p>\n",
                escape(e)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<main>\n<p>To connect to {app_name} you need to be logged in. Log in to your store below, or cancel and return to {app_name}.</p>\n{error}<form method=\"post\" action=\"{action}\" class=\"wc-auth-login\">\n<p><label for=\"username\">Username or email address</label>\n<input type=\"text\" name=\"username\" id=\"username\" autocomplete=\"username\"></p>\n<p><label for=\"password\">Password</label>\n<input type=\"password\" name=\"password\" id=\"password\" autocomplete=\"current-password\"></p>\n<p><button type=\"submit\" id=\"wc-auth-login\" name=\"login\" value=\"Login\">Login</button></p>\n</form>\n</main>",
        app_name = escape(&p.app_name),
        action = escape(&action),
    );
    Html(page("Log in", &body)).into_response()
}

fn grant_page(app: &App, p: &AuthParams, nonce: &str) -> Response {
    let approve = format!(
        "{}&wc_auth_nonce={nonce}",
        build_url(app, p, "access_granted")
    );
    let deny = return_with(p, 0);
    let what = match p.scope.as_str() {
        "read" => "View coupons, customers, orders, products and reports",
        "write" => "Create webhooks, create coupons, customers, orders and products",
        _ => "Create webhooks, view and manage coupons, customers, orders, products and reports",
    };
    let (user, display) = {
        let s = app.lock();
        (s.admin.username.clone(), s.admin.display_name.clone())
    };
    let body = format!(
        "<main>\n<p>{app_name} would like to connect to your store and <strong>{perm}</strong> access to:</p>\n<ul><li>{what}</li></ul>\n<p>Logged in as {display} ({user})</p>\n<p class=\"wc-auth-actions\">\n<a href=\"{approve}\" id=\"wc-auth-approve\" class=\"button button-primary wc-auth-approve\">Approve</a>\n<a href=\"{deny}\" id=\"wc-auth-deny\" class=\"button wc-auth-deny\">Deny</a>\n</p>\n</main>",
        app_name = escape(&p.app_name),
        perm = escape(&p.scope.replace('_', "/")),
        what = escape(what),
        display = escape(&display),
        user = escape(&user),
        approve = escape(&approve),
        deny = escape(&deny),
    );
    Html(page("Grant access", &body)).into_response()
}

/// `GET /wc-auth/v1/{login|authorize|access_granted}`.
pub(crate) async fn endpoint(
    State(app): State<Arc<App>>,
    Path(route): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = parse_pairs(query.as_deref().unwrap_or(""));
    let route = route.to_lowercase();
    let p = match validate(&app, &query) {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
    let user = session_user(&app, &headers);
    match (route.as_str(), user) {
        ("login", None) => login_form(&app, &p, None),
        ("login", Some(_)) => redirect(&build_url(&app, &p, "authorize")),
        ("authorize", None) => redirect(&build_url(&app, &p, "login")),
        ("authorize", Some(_)) => {
            let nonce = hex::encode(rand::random::<[u8; 5]>());
            app.lock().auth_nonces.insert(nonce.clone());
            grant_page(&app, &p, &nonce)
        }
        ("access_granted", Some(_)) => {
            let nonce = query
                .iter()
                .rev()
                .find(|(k, _)| k == "wc_auth_nonce")
                .map(|(_, v)| v.clone());
            if !nonce.is_some_and(|n| app.lock().auth_nonces.contains(&n)) {
                return error_page("Invalid nonce verification");
            }
            grant(&app, &p).await
        }
        _ => error_page("You do not have permission to access this page"),
    }
}

/// `create_keys` + `post_consumer_data` + the redirect.
async fn grant(app: &Arc<App>, p: &AuthParams) -> Response {
    let name: String = p.app_name.trim().chars().take(170).collect();
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default();
    let key = app
        .lock()
        .create_key(&format!("{name} - API ({stamp})"), &p.scope);
    let body = callback_body(&key, &p.user_id);
    let callback = formatted_url(&p.callback_url);
    let sent = match crate::urls::check(&callback, &app.base_url, app.strict_urls).await {
        Err(e) => Err(e),
        Ok(()) => app
            .callback_client
            .post(&callback)
            .header("Content-Type", "application/json;charset=UTF-8")
            .header("User-Agent", app.wordpress_user_agent())
            .body(body)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| e.to_string()),
    };
    if sent == Ok(200) {
        return redirect(&return_with(p, 1));
    }
    tracing::warn!(?sent, "wc-auth callback failed; key deleted");
    app.lock().delete_key(key.key_id);
    error_page(
        "An error occurred in the request and at the time were unable to send the consumer data",
    )
}

/// The callback JSON, members in WooCommerce's order; `user_id` stays the app's string.
fn callback_body(key: &crate::store::NewKey, user_id: &str) -> String {
    #[derive(serde::Serialize)]
    struct Callback<'a> {
        key_id: u64,
        user_id: &'a str,
        consumer_key: &'a str,
        consumer_secret: &'a str,
        key_permissions: &'a str,
    }
    wp_json_encode(&Callback {
        key_id: key.key_id,
        user_id,
        consumer_key: &key.consumer_key,
        consumer_secret: &key.consumer_secret,
        key_permissions: &key.permissions,
    })
}

/// `POST /wc-auth/v1/login?...` with `username` and `password`: the login form's submission.
pub(crate) async fn login_post(
    State(app): State<Arc<App>>,
    Path(route): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let query = parse_pairs(query.as_deref().unwrap_or(""));
    let p = match validate(&app, &query) {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
    if route.to_lowercase() != "login" {
        return error_page("You do not have permission to access this page");
    }
    let form = parse_pairs(&String::from_utf8_lossy(&body));
    let get = |k: &str| {
        form.iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (username, password) = (get("username"), get("password"));
    let ok = {
        let s = app.lock();
        (username == s.admin.username || username == s.admin.email) && password == s.admin.password
    };
    if username.is_empty() {
        return login_form(&app, &p, Some("Error: Username is required."));
    }
    if !ok {
        return login_form(
            &app,
            &p,
            Some("Error: The username or password you entered is incorrect."),
        );
    }
    let token = hex::encode(rand::random::<[u8; 16]>());
    app.lock().sessions.insert(token.clone(), ADMIN_USER_ID);
    let mut resp = redirect(&build_url(&app, &p, "authorize"));
    if let Ok(v) =
        HeaderValue::from_str(&format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax"))
    {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}
