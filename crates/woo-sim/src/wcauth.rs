//! The `wc-auth` key handshake (`WC_Auth`): login page, approval page, key creation and the
//! callback POST carrying the new key.
//!
//! The pages follow WooCommerce's templates (`auth/header.php`, `form-login.php`,
//! `form-grant-access.php`, `footer.php`): structure, CSS classes and words, in the site's
//! language (`Config::locale`). The login form has fields `username` and `password` and the
//! button `.wc-auth-login-button`; the approval page has the links `.wc-auth-approve` and
//! `.wc-auth-deny`. woo-sim adds the ids `wc-auth-login`, `wc-auth-approve`, `wc-auth-deny` for
//! tests. A login sets a session cookie.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::auth::rawurlencode;
use crate::json::wp_json_encode;
use crate::locale::AuthMessage;
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

/// `auth/header.php` + content + `auth/footer.php`: WooCommerce's structure and CSS classes,
/// with a few inline styles of woo-sim's own.
fn page(app: &App, body: &str) -> String {
    let w = app.locale.words();
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta name=\"viewport\" content=\"width=device-width\" />\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\" />\n<meta name=\"robots\" content=\"noindex, nofollow\" />\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body class=\"wc-auth wp-core-ui\">\n<h1 id=\"wc-logo\">WooCommerce</h1>\n<div class=\"wc-auth-content\">\n{body}\n</div>\n</body>\n</html>\n",
        lang = app.locale.html_lang(),
        title = escape(w.title),
    )
}

/// woo-sim's own few rules: a centred white card on grey, a purple primary button.
const STYLE: &str = "body{background:#f0f0f1;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,sans-serif;color:#3c434a;margin:0;padding:2em 1em}#wc-logo{text-align:center;color:#7f54b3;font-size:2em;margin:0 0 1em}.wc-auth-content{background:#fff;max-width:500px;margin:0 auto;padding:24px;box-shadow:0 1px 3px rgba(0,0,0,.13)}.wc-auth-content h1{font-size:1.3em;margin-top:0}.form-row{margin:0 0 1em}.form-row label{display:block;margin-bottom:.3em}.input-text{width:100%;box-sizing:border-box;padding:.5em}.wc-auth-actions{display:flex;gap:.5em;justify-content:flex-end}.button{display:inline-block;padding:.5em 1.2em;border:1px solid #7f54b3;border-radius:3px;background:#fff;color:#7f54b3;text-decoration:none;cursor:pointer;font-size:1em}.button-primary{background:#7f54b3;color:#fff}.woocommerce-error{border-left:4px solid #d63638;background:#fcf0f1;padding:.7em 1em;list-style:none}";

/// `wp_die(..., 'Access denied', 401)`.
fn error_page(app: &App, message: &AuthMessage) -> Response {
    let w = app.locale.words();
    let text = w.error.replace("{message}", &app.locale.message(message));
    let body = format!(
        "<div class=\"wp-die-message\"><p id=\"wc-auth-error\">{}</p></div>",
        escape(&text)
    );
    let html = page(app, &body).replacen(
        &format!("<title>{}</title>", escape(w.title)),
        &format!("<title>{}</title>", escape(w.access_denied)),
        1,
    );
    (StatusCode::UNAUTHORIZED, Html(html)).into_response()
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
fn validate(app: &App, query: &[(String, String)]) -> Result<AuthParams, AuthMessage> {
    let get = |k: &str| {
        query
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    for name in ["app_name", "user_id", "return_url", "callback_url", "scope"] {
        if get(name).is_none_or(|v| v.is_empty() || v == "0") {
            return Err(AuthMessage::MissingParameter(name));
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
        return Err(AuthMessage::InvalidScope(p.scope.clone()));
    }
    for (name, url) in [
        ("return_url", &p.return_url),
        ("callback_url", &p.callback_url),
    ] {
        if !valid_url(&formatted_url(url)) {
            return Err(AuthMessage::InvalidUrl(name));
        }
    }
    let callback = formatted_url(&p.callback_url);
    if !app.allow_http_callbacks && !callback.to_ascii_lowercase().starts_with("https://") {
        return Err(AuthMessage::CallbackNotSsl);
    }
    Ok(p)
}

/// `build_url`: the five parameters re-encoded for another route.
fn build_url(app: &App, p: &AuthParams, route: &str) -> String {
    format!(
        "{}/wc-auth/v1/{route}/?app_name={}&user_id={}&return_url={}&callback_url={}&scope={}",
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

/// `auth/form-login.php`. The form posts back to the login URL (WooCommerce's form has no
/// `action`, so a browser posts to the page's own URL: the same thing).
fn login_form(app: &App, p: &AuthParams, error: Option<&str>, username: &str) -> Response {
    let w = app.locale.words();
    let action = build_url(app, p, "login");
    let error = error
        .map(|e| {
            format!(
                "<ul class=\"woocommerce-error\" id=\"login-error\" role=\"alert\"><li>{}</li></ul>\n",
                escape(e)
            )
        })
        .unwrap_or_default();
    let app_name = escape(&p.app_name);
    let intro = escape(w.login_intro)
        .replace("{app}", &app_name)
        .replace(
            "{link}",
            &format!(
                "<a href=\"{}\" class=\"wc-auth-cancel\">",
                escape(&return_with(p, 0))
            ),
        )
        .replace("{/link}", "</a>");
    let body = format!(
        "<h1>{h1}</h1>\n{error}<p>{intro}</p>\n<form method=\"post\" action=\"{action}\" class=\"wc-auth-login\">\n<p class=\"form-row form-row-wide\"><label for=\"username\">{user_label}&nbsp;<span class=\"required\">*</span></label>\n<input type=\"text\" class=\"input-text\" name=\"username\" id=\"username\" value=\"{username}\" autocomplete=\"username\" /></p>\n<p class=\"form-row form-row-wide\"><label for=\"password\">{pass_label}&nbsp;<span class=\"required\">*</span></label>\n<input class=\"input-text\" type=\"password\" name=\"password\" id=\"password\" autocomplete=\"current-password\" /></p>\n<p class=\"wc-auth-actions\">\n<button type=\"submit\" id=\"wc-auth-login\" class=\"button button-large button-primary wc-auth-login-button wp-element-button\" name=\"login\" value=\"{login}\">{login}</button>\n<input type=\"hidden\" name=\"redirect\" value=\"{redirect}\" />\n</p>\n</form>",
        h1 = escape(w.would_like).replace("{app}", &app_name),
        action = escape(&action),
        user_label = escape(w.username),
        pass_label = escape(w.password),
        username = escape(username),
        login = escape(w.login),
        redirect = escape(&build_url(app, p, "authorize")),
    );
    Html(page(app, &body)).into_response()
}

/// `auth/form-grant-access.php`.
fn grant_page(app: &App, p: &AuthParams, nonce: &str) -> Response {
    let w = app.locale.words();
    let approve = format!(
        "{}&wc_auth_nonce={nonce}",
        build_url(app, p, "access_granted")
    );
    let deny = return_with(p, 0);
    let (scope, permissions): (&str, &[&str]) = match p.scope.as_str() {
        "read" => (w.scopes[0], &w.read),
        "write" => (w.scopes[1], &w.write),
        _ => (w.scopes[2], &w.read_write),
    };
    let display = app.lock().admin.display_name.clone();
    let app_name = escape(&p.app_name);
    let items: String = permissions
        .iter()
        .map(|p| format!("<li>{}</li>", escape(p)))
        .collect();
    let body = format!(
        "<h1>{h1}</h1>\n<p>{intro}</p>\n<ul class=\"wc-auth-permissions\">{items}</ul>\n<div class=\"wc-auth-logged-in-as\">\n<p>{logged_in} <a href=\"{logout}\" class=\"wc-auth-logout\">{logout_label}</a></p>\n</div>\n<p class=\"wc-auth-actions\">\n<a href=\"{approve}\" id=\"wc-auth-approve\" class=\"button button-primary wc-auth-approve\">{approve_label}</a>\n<a href=\"{deny}\" id=\"wc-auth-deny\" class=\"button wc-auth-deny\">{deny_label}</a>\n</p>",
        h1 = escape(w.would_like).replace("{app}", &app_name),
        intro = escape(w.grant_intro)
            .replace("{app}", &format!("<strong>{app_name}</strong>"))
            .replace("{scope}", &format!("<strong>{}</strong>", escape(scope))),
        logged_in = escape(w.logged_in_as).replace("{name}", &escape(&display)),
        logout = escape(&build_url(app, p, "login")),
        logout_label = escape(w.logout),
        approve = escape(&approve),
        approve_label = escape(w.approve),
        deny = escape(&deny),
        deny_label = escape(w.deny),
    );
    Html(page(app, &body)).into_response()
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
        Err(e) => return error_page(&app, &e),
    };
    let user = session_user(&app, &headers);
    match (route.as_str(), user) {
        ("login", None) => login_form(&app, &p, None, ""),
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
                return error_page(&app, &AuthMessage::InvalidNonce);
            }
            grant(&app, &p).await
        }
        _ => error_page(&app, &AuthMessage::NoPermission),
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
    error_page(app, &AuthMessage::CallbackFailed)
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
        Err(e) => return error_page(&app, &e),
    };
    if route.to_lowercase() != "login" {
        return error_page(&app, &AuthMessage::NoPermission);
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
    let words = app.locale.words();
    if username.is_empty() {
        return login_form(&app, &p, Some(words.username_required), "");
    }
    if !ok {
        return login_form(&app, &p, Some(words.wrong_password), &username);
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
