//! The REST API under `/wp-json/` (and `?rest_route=`): routing, parameters, pagination and the
//! WooCommerce v3 endpoints the connector uses.
//!
//! Requests are parsed the way PHP and WordPress see them (`$_GET`, `$_POST`, JSON body with
//! WordPress's parameter precedence), authenticated by [`crate::auth`], then dispatched on the
//! route. Handlers run under the store lock and return an [`Outcome`]: the reply, the webhook
//! deliveries the request queued and the webhook to ping once the lock is released.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::auth::{AuthInput, Authenticated, authenticate, urldecode};
use crate::error::RestError;
use crate::json::wp_json_encode;
use crate::server::App;
use crate::store::{
    Billing, NewLine, NewOrder, OrderEvent, Shipping, Store, Trigger, Webhook, is_valid_topic,
    merge_address, now, parse_money,
};
use crate::wire;

/// A parsed REST request.
pub(crate) struct Req {
    pub method: Method,
    /// The route inside the API, e.g. `/wc/v3/orders/12`.
    pub route: String,
    pub raw_path: String,
    /// `$_GET`, decoded, in request order.
    pub query: Vec<(String, String)>,
    /// `$_POST` (form bodies only).
    pub form: Vec<(String, String)>,
    pub json: Option<Map<String, Value>>,
    pub headers: HeaderMap,
}

impl Req {
    /// `$request[name]` with WordPress's precedence: JSON body, form body, query string.
    pub fn param(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.json.as_ref().and_then(|j| j.get(name)) {
            return Some(v.clone());
        }
        let last = |pairs: &[(String, String)]| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| Value::String(v.clone()))
        };
        last(&self.form).or_else(|| last(&self.query))
    }

    pub fn str_param(&self, name: &str) -> Option<String> {
        match self.param(name)? {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(if b { "true".into() } else { "false".into() }),
            _ => None,
        }
    }

    /// A list parameter: JSON array, comma list, or `name[]=`/`name[N]=` query keys.
    pub fn list_param(&self, name: &str) -> Option<Vec<String>> {
        if let Some(v) = self.json.as_ref().and_then(|j| j.get(name)) {
            return Some(match v {
                Value::Array(items) => items.iter().map(value_to_string).collect(),
                other => split_list(&value_to_string(other)),
            });
        }
        let mut out = Vec::new();
        let mut found = false;
        for (k, v) in self.form.iter().chain(self.query.iter()) {
            let is_it = k == name
                || k.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('[') && rest.ends_with(']'));
            if is_it {
                found = true;
                out.extend(split_list(v));
            }
        }
        found.then_some(out)
    }

    /// `rest_sanitize_boolean`.
    pub fn bool_param(&self, name: &str) -> Option<bool> {
        Some(match self.param(name)? {
            Value::Bool(b) => b,
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            Value::String(s) => {
                !matches!(s.to_lowercase().as_str(), "" | "0" | "false" | "no" | "off")
            }
            _ => false,
        })
    }
}

fn value_to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Parses a query string or form body as PHP does (`+` is space, percent-decoding; key dots and
/// spaces become `_`; `k[]` become `k[0]`, `k[1]`...).
pub(crate) fn parse_pairs(raw: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut counters: std::collections::HashMap<String, usize> = Default::default();
    for part in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let mut key = urldecode(k);
        if key.is_empty() {
            continue;
        }
        let bracket = key.find('[').unwrap_or(key.len());
        let head: String = key[..bracket].replace(['.', ' '], "_");
        key = format!("{head}{}", &key[bracket..]);
        if let Some(base) = key.strip_suffix("[]") {
            let n = counters.entry(base.to_owned()).or_insert(0);
            key = format!("{base}[{n}]");
            *n += 1;
        }
        out.push((key, urldecode(v)));
    }
    out
}

/// What a handler produced.
pub(crate) struct Outcome {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
    pub triggers: Vec<Trigger>,
    pub ping: Option<u64>,
}

impl Outcome {
    fn json<T: serde::Serialize + ?Sized>(status: u16, body: &T) -> Outcome {
        Outcome {
            status,
            body: wp_json_encode(body),
            headers: Vec::new(),
            triggers: Vec::new(),
            ping: None,
        }
    }
    fn error(e: &RestError) -> Outcome {
        Outcome::json(e.status, &e.body())
    }
    fn header(mut self, name: &'static str, value: String) -> Outcome {
        self.headers.push((name, value));
        self
    }
}

type R = Result<Outcome, RestError>;

/// Answers a REST request.
pub(crate) async fn handle(
    app: Arc<App>,
    method: Method,
    route: String,
    raw_path: String,
    raw_query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let faults = app.lock().faults.clone();
    if faults.rest_latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(
            faults.rest_latency_ms.min(120_000),
        ))
        .await;
    }
    if faults.rest_error_rate > 0.0 && rand::random::<f64>() < faults.rest_error_rate {
        let e = RestError::new(
            500,
            "internal_server_error",
            "<p>There has been a critical error on this website.</p><p><a href=\"https://wordpress.org/documentation/article/faq-troubleshooting/\">Learn more about troubleshooting WordPress.</a></p>",
        );
        return respond(Outcome::error(&e));
    }
    let query = parse_pairs(raw_query.as_deref().unwrap_or(""));
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut form = Vec::new();
    let mut json_body = None;
    if content_type.starts_with("application/x-www-form-urlencoded") {
        form = parse_pairs(&String::from_utf8_lossy(&body));
    } else if content_type.starts_with("application/json")
        && !body.iter().all(|b| b.is_ascii_whitespace())
    {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) => json_body = Some(m),
            Ok(_) => {}
            Err(e) => {
                let mut err = RestError::new(400, "rest_invalid_json", "Invalid JSON body passed.");
                err.data.insert("json_error_code".into(), json!(4));
                err.data
                    .insert("json_error_message".into(), json!(e.to_string()));
                return respond(Outcome::error(&err));
            }
        }
    }
    // `_method` override (X-HTTP-Method-Override / ?_method=), as WordPress allows on POST.
    let mut method = method;
    if method == Method::POST {
        let over = headers
            .get("x-http-method-override")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                query
                    .iter()
                    .rev()
                    .find(|(k, _)| k == "_method")
                    .map(|(_, v)| v.clone())
            });
        if let Some(m) =
            over.and_then(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
        {
            method = m;
        }
    }
    let req = Req {
        method,
        route,
        raw_path,
        query,
        form,
        json: json_body,
        headers,
    };

    let outcome = {
        let mut store = app.lock();
        dispatch(&app, &mut store, &req).unwrap_or_else(|e| Outcome::error(&e))
    };
    if !outcome.triggers.is_empty() {
        crate::webhooks::enqueue(&app, outcome.triggers.clone());
    }
    if let Some(id) = outcome.ping {
        crate::webhooks::ping(&app, id).await;
    }
    let outcome = apply_fields(&req, outcome);
    respond(outcome)
}

/// `_fields=a,b`: keeps only those top-level members.
fn apply_fields(req: &Req, outcome: Outcome) -> Outcome {
    let Some(fields) = req.list_param("_fields") else {
        return outcome;
    };
    if !(200..300).contains(&outcome.status) {
        return outcome;
    }
    let Ok(value) = serde_json::from_str::<Value>(&outcome.body) else {
        return outcome;
    };
    let pick = |v: &Value| -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| fields.iter().any(|f| f == *k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            other => other.clone(),
        }
    };
    let filtered = match &value {
        Value::Array(items) => Value::Array(items.iter().map(pick).collect()),
        other => pick(other),
    };
    Outcome {
        body: wp_json_encode(&filtered),
        ..outcome
    }
}

fn respond(o: Outcome) -> Response {
    let mut resp = (
        StatusCode::from_u16(o.status).unwrap_or(StatusCode::OK),
        o.body,
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "access-control-expose-headers",
        HeaderValue::from_static("X-WP-Total, X-WP-TotalPages, Link"),
    );
    for (name, value) in o.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    resp
}

fn is_wc_namespace(route: &str) -> bool {
    let ns = route.trim_start_matches('/');
    ns.starts_with("wc/") || ns.starts_with("wc-")
}

fn dispatch(app: &App, store: &mut Store, req: &Req) -> R {
    let route = req.route.trim_end_matches('/').to_owned();
    if route.is_empty() || route == "/" {
        return index(app, store, req);
    }
    let mut user = None;
    if is_wc_namespace(&route) {
        let mut auth_params = req.query.clone();
        auth_params.extend(req.form.iter().cloned());
        let faults = store.faults.clone();
        let input = AuthInput {
            method: &req.method,
            raw_path: &req.raw_path,
            params: &auth_params,
            headers: &req.headers,
            https: app.https,
            home: &app.base_url,
            strip_authorization: faults.strip_authorization,
        };
        user = authenticate(store, &input)?;
    }
    let segs: Vec<&str> = route.trim_start_matches('/').split('/').collect();
    let m = &req.method;
    let base = app.base_url.as_str();
    let id = |s: &str| s.parse::<u64>().ok();
    let get = *m == Method::GET || *m == Method::HEAD;
    let write = matches!(*m, Method::POST | Method::PUT | Method::PATCH);
    match segs.as_slice() {
        ["wc", "v3", "orders"] if get => list_orders(store, req, &user, base),
        ["wc", "v3", "orders"] if *m == Method::POST => create_order(store, req, &user, base),
        ["wc", "v3", "orders", o] if id(o).is_some() && get => get_order(store, &user, id(o), base),
        ["wc", "v3", "orders", o] if id(o).is_some() && write => {
            update_order(store, req, &user, id(o), base)
        }
        ["wc", "v3", "orders", o, "notes"] if id(o).is_some() && get => {
            list_notes(store, req, &user, id(o), base)
        }
        ["wc", "v3", "orders", o, "notes"] if id(o).is_some() && *m == Method::POST => {
            create_note(store, req, &user, id(o), base)
        }
        ["wc", "v3", "orders", o, "notes", n] if id(o).is_some() && id(n).is_some() && get => {
            get_note(store, &user, id(o), id(n), base)
        }
        ["wc", "v3", "orders", o, "notes", n]
            if id(o).is_some() && id(n).is_some() && *m == Method::DELETE =>
        {
            delete_note(store, req, &user, id(o), id(n), base)
        }
        ["wc", "v3", "products"] if get => list_products(store, req, &user, base),
        ["wc", "v3", "products"] if *m == Method::POST => create_product(store, req, &user, base),
        ["wc", "v3", "products", p, "variations"] if id(p).is_some() && *m == Method::POST => {
            create_variation(store, req, &user, id(p), base)
        }
        ["wc", "v3", "products", p] if id(p).is_some() && get => {
            get_product(store, &user, id(p), base)
        }
        ["wc", "v3", "products", p, "variations"] if id(p).is_some() && get => {
            list_variations(store, req, &user, id(p), base)
        }
        ["wc", "v3", "products", p, "variations", v]
            if id(p).is_some() && id(v).is_some() && get =>
        {
            get_variation(store, &user, id(p), id(v), base)
        }
        ["wc", "v3", "webhooks"] if get => list_webhooks(store, req, &user, base),
        ["wc", "v3", "webhooks"] if *m == Method::POST => create_webhook(store, req, &user, base),
        ["wc", "v3", "webhooks", w] if id(w).is_some() && get => {
            get_webhook(store, &user, id(w), base)
        }
        ["wc", "v3", "webhooks", w] if id(w).is_some() && write => {
            update_webhook(store, req, &user, id(w), base)
        }
        ["wc", "v3", "webhooks", w] if id(w).is_some() && *m == Method::DELETE => {
            delete_webhook(store, req, &user, id(w), base)
        }
        ["wc", "v3", "reports", "orders", "totals"] if get => {
            require(&user, CANNOT_LIST.0, CANNOT_LIST.1)?;
            Ok(Outcome::json(200, &wire::order_totals(store)))
        }
        ["wc", "v3", "system_status"] if get => {
            require(&user, CANNOT_LIST.0, CANNOT_LIST.1)?;
            Ok(Outcome::json(200, &wire::system_status(store, base)))
        }
        [
            "wc",
            "v3",
            "settings",
            "products",
            "woocommerce_weight_unit",
        ] if get => {
            require(
                &user,
                "woocommerce_rest_cannot_view",
                "Sorry, you cannot view this resource.",
            )?;
            Ok(Outcome::json(200, &wire::weight_unit_setting(store, base)))
        }
        ["wc", "v3", "settings", group, setting] if get => {
            require(&user, CANNOT_LIST.0, CANNOT_LIST.1)?;
            Err(unknown_setting(group, setting))
        }
        [
            "wc-shipment-tracking",
            "v3",
            "orders",
            o,
            "shipment-trackings",
        ] if store.settings.shipment_tracking && id(o).is_some() => {
            shipment_trackings(store, req, &user, id(o))
        }
        [
            "wc-shipment-tracking",
            "v3",
            "orders",
            o,
            "shipment-trackings",
            t,
        ] if store.settings.shipment_tracking && id(o).is_some() && tracking_id_route(t) => {
            shipment_tracking(store, req, &user, id(o), t)
        }
        _ => Err(RestError::no_route()),
    }
}

fn require(user: &Option<Authenticated>, code: &str, message: &str) -> Result<(), RestError> {
    match user {
        Some(_) => Ok(()),
        None => Err(RestError::cannot(code, message, false)),
    }
}

const CANNOT_LIST: (&str, &str) = (
    "woocommerce_rest_cannot_view",
    "Sorry, you cannot list resources.",
);
const CANNOT_VIEW: (&str, &str) = (
    "woocommerce_rest_cannot_view",
    "Sorry, you cannot view this resource.",
);
const CANNOT_CREATE: (&str, &str) = (
    "woocommerce_rest_cannot_create",
    "Sorry, you are not allowed to create resources.",
);
const CANNOT_EDIT: (&str, &str) = (
    "woocommerce_rest_cannot_edit",
    "Sorry, you are not allowed to edit this resource.",
);
const CANNOT_DELETE: (&str, &str) = (
    "woocommerce_rest_cannot_delete",
    "Sorry, you are not allowed to delete this resource.",
);

fn index(app: &App, store: &Store, _req: &Req) -> R {
    let mut namespaces = vec![
        "oembed/1.0",
        "wc/v3",
        "jetpack/v4",
        "wc-admin",
        "wc-analytics",
        "wc/store",
        "wc/store/v1",
        "wc/private",
        "wc/v1",
        "wc/v2",
        "wc-telemetry",
        "wccom-site/v3",
        "wp/v2",
        "wp-site-health/v1",
        "wp-block-editor/v1",
        "wp-abilities/v1",
    ];
    if store.settings.shipment_tracking {
        namespaces.insert(2, "wc-shipment-tracking/v3");
    }
    let base = &app.base_url;
    Ok(Outcome::json(
        200,
        &json!({
            "name": "Tienda woo-sim",
            "description": "Simulated WooCommerce store",
            "url": base,
            "home": base,
            "gmt_offset": f64::from(store.settings.utc_offset_minutes) / 60.0,
            "timezone_string": store.settings.timezone_string,
            "page_for_posts": 0,
            "page_on_front": 0,
            "show_on_front": "posts",
            "namespaces": namespaces,
            "authentication": [],
            "routes": {},
            "_links": { "help": [{ "href": "https://developer.wordpress.org/rest-api/" }] }
        }),
    ))
}

// ---------------------------------------------------------------- pagination

struct Paging {
    page: usize,
    per_page: usize,
    offset: Option<usize>,
}

fn int_param(
    req: &Req,
    name: &str,
    default: i64,
    min: i64,
    max: Option<i64>,
) -> Result<i64, RestError> {
    let Some(v) = req.param(name) else {
        return Ok(default);
    };
    let n = match &v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    let Some(n) = n else {
        return Err(RestError::invalid_param(
            name,
            format!("{name} is not of type integer."),
        ));
    };
    if n < min || max.is_some_and(|m| n > m) {
        let msg = match max {
            Some(max) => format!("{name} must be between {min} (inclusive) and {max} (inclusive)"),
            None => format!("{name} must be greater than or equal to {min}"),
        };
        return Err(RestError::invalid_param(name, msg));
    }
    Ok(n)
}

fn paging(req: &Req) -> Result<Paging, RestError> {
    let page = int_param(req, "page", 1, 1, None)?;
    let per_page = int_param(req, "per_page", 10, 1, Some(100))?;
    let offset = match req.param("offset") {
        Some(_) => Some(int_param(req, "offset", 0, 0, None)?),
        None => None,
    };
    Ok(Paging {
        page: usize::try_from(page).unwrap_or(1),
        per_page: usize::try_from(per_page).unwrap_or(10),
        offset: offset.and_then(|o| usize::try_from(o).ok()),
    })
}

/// PHP `urlencode` (used by `add_query_arg(urlencode_deep(...))`).
fn php_urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(b as char);
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Slices `items` and builds `X-WP-Total`, `X-WP-TotalPages` and `Link` (prev/next) the way
/// `WC_REST_CRUD_Controller::get_items` does: the request's own query (OAuth members included)
/// with `page` changed, plus the defaults WordPress filled in.
fn paginate<T>(
    items: Vec<T>,
    p: &Paging,
    req: &Req,
    base: &str,
    defaults: &[(&str, String)],
) -> (Vec<T>, Vec<(&'static str, String)>) {
    let total = items.len();
    let start = p.offset.unwrap_or((p.page - 1).saturating_mul(p.per_page));
    let pages = total.div_ceil(p.per_page);
    let slice: Vec<T> = items.into_iter().skip(start).take(p.per_page).collect();
    let mut headers = vec![
        ("x-wp-total", total.to_string()),
        ("x-wp-totalpages", pages.to_string()),
    ];
    let page_url = |page: usize| {
        let mut pairs: Vec<(String, String)> = req.query.clone();
        match pairs.iter_mut().find(|(k, _)| k == "page") {
            Some(slot) => slot.1 = page.to_string(),
            None => pairs.push(("page".into(), page.to_string())),
        }
        for (k, v) in defaults {
            let present = pairs.iter().any(|(key, _)| {
                key == k || key.starts_with(&format!("{}[", k.split('[').next().unwrap_or(k)))
            });
            if !present {
                pairs.push(((*k).to_owned(), v.clone()));
            }
        }
        let qs: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", php_urlencode(k), php_urlencode(v)))
            .collect();
        format!("{base}{}?{}", req.raw_path, qs.join("&"))
    };
    let mut links = Vec::new();
    if p.page > 1 {
        let prev = if p.page - 1 > pages {
            pages
        } else {
            p.page - 1
        };
        links.push(format!("<{}>; rel=\"prev\"", page_url(prev.max(1))));
    }
    if p.page < pages {
        links.push(format!("<{}>; rel=\"next\"", page_url(p.page + 1)));
    }
    if !links.is_empty() {
        headers.push(("link", links.join(", ")));
    }
    (slice, headers)
}

/// Joins already-encoded JSON documents into a JSON array.
fn json_array(items: Vec<String>) -> String {
    format!("[{}]", items.join(","))
}

fn ids_param(req: &Req, name: &str) -> Result<Option<Vec<u64>>, RestError> {
    let Some(list) = req.list_param(name) else {
        return Ok(None);
    };
    let mut ids = Vec::new();
    for s in list {
        match s.trim().parse::<i64>() {
            Ok(n) => ids.push(n.unsigned_abs()),
            Err(_) => {
                return Err(RestError::invalid_param(
                    name,
                    format!("{name}[0] is not of type integer."),
                ));
            }
        }
    }
    Ok(Some(ids))
}

/// Parses an ISO 8601 date-time and returns its wall-clock fields (WordPress hands the string to
/// `WP_Date_Query`, which compares wall-clock values and ignores a trailing offset).
fn wall_clock(name: &str, s: &str) -> Result<time::PrimitiveDateTime, RestError> {
    let err = || RestError::invalid_param(name, "Invalid date.");
    let s = s.trim();
    let main = s.get(..19).ok_or_else(err)?;
    let rest = &s[19..];
    let rest_ok = rest.is_empty()
        || rest == "Z"
        || rest.starts_with('.')
        || rest.starts_with('+')
        || rest.starts_with('-');
    if !rest_ok {
        return Err(err());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let main = main.replacen(' ', "T", 1);
    time::PrimitiveDateTime::parse(&main, fmt).map_err(|_| err())
}

// ---------------------------------------------------------------- orders

const LIST_STATUSES: &[&str] = &[
    "any",
    "trash",
    "auto-draft",
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
];

fn list_orders(store: &Store, req: &Req, user: &Option<Authenticated>, base: &str) -> R {
    require(user, CANNOT_LIST.0, CANNOT_LIST.1)?;
    let p = paging(req)?;
    let statuses = req
        .list_param("status")
        .unwrap_or_else(|| vec!["any".into()]);
    let custom = &store.settings.custom_order_statuses;
    for (i, s) in statuses.iter().enumerate() {
        if !LIST_STATUSES.contains(&s.as_str()) && !custom.iter().any(|c| &c.slug == s) {
            let all: Vec<&str> = LIST_STATUSES
                .iter()
                .copied()
                .chain(custom.iter().map(|c| c.slug.as_str()))
                .collect();
            return Err(RestError::invalid_param(
                "status",
                format!("status[{i}] is not one of {}.", all.join(", ")),
            ));
        }
    }
    let include = ids_param(req, "include")?;
    let exclude = ids_param(req, "exclude")?.unwrap_or_default();
    let gmt = req.bool_param("dates_are_gmt").unwrap_or(false);
    let mut bounds = Vec::new();
    for (name, modified, after) in [
        ("after", false, true),
        ("before", false, false),
        ("modified_after", true, true),
        ("modified_before", true, false),
    ] {
        if let Some(s) = req.str_param(name) {
            bounds.push((wall_clock(name, &s)?, modified, after));
        }
    }
    let order_dir = req.str_param("order").unwrap_or_else(|| "desc".into());
    if order_dir != "asc" && order_dir != "desc" {
        return Err(RestError::invalid_param(
            "order",
            "order is not one of asc, desc.",
        ));
    }
    let orderby = req.str_param("orderby").unwrap_or_else(|| "date".into());
    if !["date", "id", "include", "title", "slug", "modified"].contains(&orderby.as_str()) {
        return Err(RestError::invalid_param(
            "orderby",
            "orderby is not one of date, id, include, title, slug, modified.",
        ));
    }
    let mut orders: Vec<&crate::store::Order> = store
        .orders
        .values()
        .filter(|o| {
            statuses.iter().any(|s| match s.as_str() {
                "any" => !matches!(o.status.as_str(), "trash" | "auto-draft" | "checkout-draft"),
                s => o.status == s,
            })
        })
        .filter(|o| include.as_ref().is_none_or(|ids| ids.contains(&o.id)))
        .filter(|o| !exclude.contains(&o.id))
        .filter(|o| {
            bounds.iter().all(|(bound, modified, after)| {
                let t = if *modified {
                    o.date_modified
                } else {
                    o.date_created
                };
                let t = if gmt { t } else { wire::local(store, t) };
                let t = time::PrimitiveDateTime::new(t.date(), t.time());
                if *after { t > *bound } else { t < *bound }
            })
        })
        .collect();
    let asc = order_dir == "asc";
    orders.sort_by(|a, b| {
        let ord = match orderby.as_str() {
            "id" => a.id.cmp(&b.id),
            "modified" => a.date_modified.cmp(&b.date_modified).then(a.id.cmp(&b.id)),
            "include" => {
                let pos = |id: u64| {
                    include
                        .as_ref()
                        .and_then(|ids| ids.iter().position(|i| *i == id))
                        .unwrap_or(usize::MAX)
                };
                return pos(a.id).cmp(&pos(b.id));
            }
            _ => a.date_created.cmp(&b.date_created).then(a.id.cmp(&b.id)),
        };
        if asc { ord } else { ord.reverse() }
    });
    let defaults = [
        ("status[0]", "any".to_owned()),
        ("dp", store.decimals().to_string()),
        ("context", "view".to_owned()),
    ];
    let (page, headers) = paginate(orders, &p, req, base, &defaults);
    let body = json_array(
        page.iter()
            .map(|o| wp_json_encode(&wire::order(store, o, base)))
            .collect(),
    );
    let mut out = Outcome {
        status: 200,
        body,
        headers: Vec::new(),
        triggers: Vec::new(),
        ping: None,
    };
    out.headers = headers;
    Ok(out)
}

fn invalid_order(status: u16) -> RestError {
    RestError::new(
        status,
        "woocommerce_rest_shop_order_invalid_id",
        "Invalid ID.",
    )
}

fn get_order(store: &Store, user: &Option<Authenticated>, id: Option<u64>, base: &str) -> R {
    require(user, CANNOT_VIEW.0, CANNOT_VIEW.1)?;
    let o = id
        .and_then(|id| store.orders.get(&id))
        .ok_or_else(|| invalid_order(404))?;
    Ok(Outcome::json(200, &wire::order(store, o, base)))
}

fn address_patch(v: Option<Value>) -> Option<Map<String, Value>> {
    match v? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn meta_items(req: &Req) -> Result<Vec<(String, Value, Option<u64>)>, RestError> {
    let Some(v) = req.param("meta_data") else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = v else {
        return Err(RestError::invalid_param(
            "meta_data",
            "meta_data is not of type array.",
        ));
    };
    let mut out = Vec::new();
    for item in items {
        let Value::Object(m) = item else {
            return Err(RestError::invalid_param(
                "meta_data",
                "meta_data[0] is not of type object.",
            ));
        };
        let key = m.get("key").map(value_to_string).unwrap_or_default();
        let id = m.get("id").and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        });
        if key.is_empty() && id.is_none() {
            continue;
        }
        out.push((key, m.get("value").cloned().unwrap_or(Value::Null), id));
    }
    Ok(out)
}

fn status_param(store: &Store, req: &Req) -> Result<Option<String>, RestError> {
    let Some(s) = req.str_param("status") else {
        return Ok(None);
    };
    if !store.is_order_status(&s) {
        let slugs: Vec<String> = store.order_statuses().into_iter().map(|(s, _)| s).collect();
        return Err(RestError::invalid_param(
            "status",
            format!("status is not one of auto-draft, {}.", slugs.join(", ")),
        ));
    }
    Ok(Some(s))
}

fn money_field(m: &Map<String, Value>, key: &str) -> Option<f64> {
    m.get(key).map(|v| match v {
        Value::String(s) => parse_money(s),
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        _ => 0.0,
    })
}

fn create_order(store: &mut Store, req: &Req, user: &Option<Authenticated>, base: &str) -> R {
    require(user, CANNOT_CREATE.0, CANNOT_CREATE.1)?;
    if req
        .param("id")
        .is_some_and(|v| !v.is_null() && v != json!(0))
    {
        return Err(RestError::new(
            400,
            "woocommerce_rest_shop_order_exists",
            "Cannot create existing shop_order.",
        ));
    }
    let status = status_param(store, req)?.unwrap_or_else(|| "pending".into());
    let mut lines = Vec::new();
    if let Some(Value::Array(items)) = req.param("line_items") {
        for item in items {
            let Value::Object(m) = item else { continue };
            let num = |k: &str| {
                m.get(k)
                    .and_then(|v| {
                        v.as_u64()
                            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    })
                    .unwrap_or(0)
            };
            let mut product_id = num("product_id");
            let variation_id = num("variation_id");
            if let Some(sku) = m
                .get("sku")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                product_id = store
                    .products
                    .values()
                    .find(|p| p.sku == sku)
                    .map(|p| p.id)
                    .unwrap_or(0);
            }
            if product_id == 0 && variation_id == 0 && m.get("sku").is_none() {
                return Err(RestError::new(
                    400,
                    "woocommerce_rest_required_product_reference",
                    "Product ID or SKU is required.",
                ));
            }
            let quantity = m
                .get("quantity")
                .and_then(|v| {
                    v.as_i64()
                        .or_else(|| v.as_f64().map(|f| f as i64))
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                })
                .unwrap_or(1);
            lines.push(NewLine {
                product_id,
                variation_id,
                quantity,
                name: m.get("name").and_then(Value::as_str).map(str::to_owned),
                total: money_field(&m, "total"),
                subtotal: money_field(&m, "subtotal"),
            });
        }
    }
    let mut shipping_lines = Vec::new();
    if let Some(Value::Array(items)) = req.param("shipping_lines") {
        for item in items {
            let Value::Object(m) = item else { continue };
            shipping_lines.push((
                m.get("method_id").map(value_to_string).unwrap_or_default(),
                m.get("method_title")
                    .map(value_to_string)
                    .unwrap_or_default(),
                money_field(&m, "total").unwrap_or(0.0),
            ));
        }
    }
    let meta = meta_items(req)?;
    let new = NewOrder {
        status: "pending".into(),
        billing: address_patch(req.param("billing"))
            .map(|p| merge_address(&Billing::default(), &p))
            .unwrap_or_default(),
        shipping: address_patch(req.param("shipping"))
            .map(|p| merge_address(&Shipping::default(), &p))
            .unwrap_or_default(),
        lines,
        shipping_lines,
        customer_note: req.str_param("customer_note").unwrap_or_default(),
        customer_id: req
            .param("customer_id")
            .and_then(|v| v.as_u64())
            .unwrap_or(0),
        payment_method: req.str_param("payment_method").unwrap_or_default(),
        payment_method_title: req.str_param("payment_method_title").unwrap_or_default(),
        transaction_id: req.str_param("transaction_id").unwrap_or_default(),
        created_via: req
            .str_param("created_via")
            .unwrap_or_else(|| "rest-api".into()),
        meta: Vec::new(),
        set_paid: false,
        created: None,
    };
    let id = store.create_order(new);
    let mut triggers = store.triggers(OrderEvent::Created, id);
    // The REST controller then sets the remaining props, recalculates totals and saves again:
    // that second save is `woocommerce_update_order`.
    if let Some(mut order) = store.orders.remove(&id) {
        for (key, value, meta_id) in meta {
            store.update_meta(&mut order, &key, value, meta_id);
        }
        if status != "pending" {
            store.apply_status(&mut order, &status);
        }
        store.orders.insert(id, order);
    }
    if req.bool_param("set_paid").unwrap_or(false)
        && let Some(mut order) = store.orders.remove(&id)
    {
        if order.needs_payment() {
            let to = if order.needs_processing() {
                "processing"
            } else {
                "completed"
            };
            store.apply_status(&mut order, to);
        }
        store.orders.insert(id, order);
    }
    triggers.extend(store.triggers(OrderEvent::Updated, id));
    let o = store.orders.get(&id).ok_or_else(|| invalid_order(500))?;
    let mut out = Outcome::json(201, &wire::order(store, o, base))
        .header("location", format!("{base}/wp-json/wc/v3/orders/{id}"));
    out.triggers = triggers;
    Ok(out)
}

fn update_order(
    store: &mut Store,
    req: &Req,
    user: &Option<Authenticated>,
    id: Option<u64>,
    base: &str,
) -> R {
    require(user, CANNOT_EDIT.0, CANNOT_EDIT.1)?;
    let id = id
        .filter(|id| store.orders.contains_key(id))
        .ok_or_else(|| invalid_order(400))?;
    let status = status_param(store, req)?;
    let meta = meta_items(req)?;
    let Some(mut order) = store.orders.remove(&id) else {
        return Err(invalid_order(400));
    };
    if let Some(p) = address_patch(req.param("billing")) {
        order.billing = merge_address(&order.billing, &p);
    }
    if let Some(p) = address_patch(req.param("shipping")) {
        order.shipping = merge_address(&order.shipping, &p);
    }
    for (field, slot) in [
        ("customer_note", &mut order.customer_note),
        ("payment_method", &mut order.payment_method),
        ("payment_method_title", &mut order.payment_method_title),
        ("transaction_id", &mut order.transaction_id),
    ] {
        if let Some(v) = req.str_param(field) {
            *slot = v;
        }
    }
    for (key, value, meta_id) in meta {
        store.update_meta(&mut order, &key, value, meta_id);
    }
    if let Some(s) = status {
        store.apply_status(&mut order, &s);
    }
    if req.bool_param("set_paid").unwrap_or(false) && order.needs_payment() {
        let to = if order.needs_processing() {
            "processing"
        } else {
            "completed"
        };
        store.apply_status(&mut order, to);
    }
    store.touch_order(&mut order);
    store.orders.insert(id, order);
    let triggers = store.triggers(OrderEvent::Updated, id);
    let o = store.orders.get(&id).ok_or_else(|| invalid_order(400))?;
    let mut out = Outcome::json(200, &wire::order(store, o, base));
    out.triggers = triggers;
    Ok(out)
}

// ---------------------------------------------------------------- notes

fn invalid_note_order() -> RestError {
    RestError::new(
        404,
        "woocommerce_rest_order_invalid_id",
        "Invalid order ID.",
    )
}

fn invalid_note() -> RestError {
    RestError::new(404, "woocommerce_rest_invalid_id", "Invalid resource ID.")
}

fn list_notes(
    store: &Store,
    req: &Req,
    user: &Option<Authenticated>,
    id: Option<u64>,
    base: &str,
) -> R {
    require(user, CANNOT_LIST.0, CANNOT_LIST.1)?;
    let order = id.and_then(|id| store.orders.get(&id)).ok_or_else(|| {
        RestError::new(
            404,
            "woocommerce_rest_shop_order_invalid_id",
            "Invalid order ID.",
        )
    })?;
    let kind = req.str_param("type").unwrap_or_else(|| "any".into());
    if !["any", "customer", "internal"].contains(&kind.as_str()) {
        return Err(RestError::invalid_param(
            "type",
            "type is not one of any, customer, internal.",
        ));
    }
    let notes: Vec<Value> = order
        .notes
        .iter()
        .rev()
        .filter(|n| match kind.as_str() {
            "customer" => n.customer_note,
            "internal" => !n.customer_note,
            _ => true,
        })
        .map(|n| wire::note(store, order.id, n, base))
        .collect();
    Ok(Outcome::json(200, &notes))
}

fn create_note(
    store: &mut Store,
    req: &Req,
    user: &Option<Authenticated>,
    id: Option<u64>,
    base: &str,
) -> R {
    require(user, CANNOT_CREATE.0, CANNOT_CREATE.1)?;
    let Some(text) = req.str_param("note").filter(|s| !s.is_empty()) else {
        return Err(RestError::missing_param("note"));
    };
    let id = id
        .filter(|id| store.orders.contains_key(id))
        .ok_or_else(invalid_note_order)?;
    let customer_note = req.bool_param("customer_note").unwrap_or(false);
    let author = if req.bool_param("added_by_user").unwrap_or(false) {
        store.admin.display_name.clone()
    } else {
        "WooCommerce".to_owned()
    };
    let note_id = store
        .add_note(id, text, customer_note, author)
        .ok_or_else(invalid_note_order)?;
    let order = store.orders.get(&id).ok_or_else(invalid_note_order)?;
    let note = order
        .notes
        .iter()
        .find(|n| n.id == note_id)
        .ok_or_else(invalid_note)?;
    Ok(
        Outcome::json(201, &wire::note(store, id, note, base)).header(
            "location",
            format!("{base}/wp-json/wc/v3/orders/{id}/notes/{note_id}"),
        ),
    )
}

fn get_note(
    store: &Store,
    user: &Option<Authenticated>,
    id: Option<u64>,
    note: Option<u64>,
    base: &str,
) -> R {
    require(user, CANNOT_VIEW.0, CANNOT_VIEW.1)?;
    let order = id
        .and_then(|id| store.orders.get(&id))
        .ok_or_else(invalid_note_order)?;
    let n = order
        .notes
        .iter()
        .find(|n| Some(n.id) == note)
        .ok_or_else(invalid_note)?;
    Ok(Outcome::json(200, &wire::note(store, order.id, n, base)))
}

fn delete_note(
    store: &mut Store,
    req: &Req,
    user: &Option<Authenticated>,
    id: Option<u64>,
    note: Option<u64>,
    base: &str,
) -> R {
    require(user, CANNOT_DELETE.0, CANNOT_DELETE.1)?;
    if !req.bool_param("force").unwrap_or(false) {
        // Sic: WooCommerce's order-notes controller really says "Webhooks" here.
        return Err(RestError::new(
            501,
            "woocommerce_rest_trash_not_supported",
            "Webhooks do not support trashing.",
        ));
    }
    let order_id = id
        .filter(|id| store.orders.contains_key(id))
        .ok_or_else(invalid_note_order)?;
    let body = {
        let order = store.orders.get(&order_id).ok_or_else(invalid_note_order)?;
        let n = order
            .notes
            .iter()
            .find(|n| Some(n.id) == note)
            .ok_or_else(invalid_note)?;
        wire::note(store, order_id, n, base)
    };
    if let Some(order) = store.orders.get_mut(&order_id) {
        order.notes.retain(|n| Some(n.id) != note);
    }
    Ok(Outcome::json(200, &body))
}

// ---------------------------------------------------------------- products

fn list_products(store: &Store, req: &Req, user: &Option<Authenticated>, base: &str) -> R {
    require(user, CANNOT_LIST.0, CANNOT_LIST.1)?;
    let p = paging(req)?;
    let include = ids_param(req, "include")?;
    let sku = req.str_param("sku");
    let mut items: Vec<&crate::store::Product> = store
        .products
        .values()
        .filter(|p| p.kind != crate::store::ProductKind::Variation)
        .filter(|p| include.as_ref().is_none_or(|ids| ids.contains(&p.id)))
        .filter(|p| sku.as_ref().is_none_or(|s| split_list(s).contains(&p.sku)))
        .collect();
    // Same creation date: MySQL returns ties by primary key.
    items.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
    let (page, headers) = paginate(items, &p, req, base, &[]);
    let body: Vec<Value> = page.iter().map(|p| wire::product(store, p, base)).collect();
    let mut out = Outcome::json(200, &body);
    out.headers = headers;
    Ok(out)
}

/// `wc_get_product($id)`: a variation's id is served too, in the products' shape with
/// `"type": "variation"` and its `parent_id`.
fn get_product(store: &Store, user: &Option<Authenticated>, id: Option<u64>, base: &str) -> R {
    require(user, CANNOT_VIEW.0, CANNOT_VIEW.1)?;
    let p = id
        .and_then(|id| store.products.get(&id))
        .ok_or_else(|| RestError::new(404, "woocommerce_rest_product_invalid_id", "Invalid ID."))?;
    Ok(Outcome::json(200, &wire::product(store, p, base)))
}

fn create_product(store: &mut Store, req: &Req, user: &Option<Authenticated>, base: &str) -> R {
    require(user, CANNOT_CREATE.0, CANNOT_CREATE.1)?;
    let id = crate::products::create_product(store, req.json.as_ref())?;
    let p = store.products.get(&id).ok_or_else(|| {
        RestError::new(
            500,
            "woocommerce_rest_product_not_created",
            "Product not created.",
        )
    })?;
    Ok(Outcome::json(201, &wire::product(store, p, base))
        .header("location", format!("{base}/wp-json/wc/v3/products/{id}")))
}

fn create_variation(
    store: &mut Store,
    req: &Req,
    user: &Option<Authenticated>,
    parent: Option<u64>,
    base: &str,
) -> R {
    require(user, CANNOT_CREATE.0, CANNOT_CREATE.1)?;
    let id = crate::products::create_variation(store, parent, req.json.as_ref())?;
    let v = store.products.get(&id).ok_or_else(|| {
        RestError::new(
            500,
            "woocommerce_rest_product_not_created",
            "Product not created.",
        )
    })?;
    Ok(Outcome::json(201, &wire::variation(store, v, base)).header(
        "location",
        format!(
            "{base}/wp-json/wc/v3/products/{}/variations/{id}",
            v.parent_id
        ),
    ))
}

/// The settings groups of a stock WooCommerce 9.2 store (`woocommerce_settings_groups`).
const SETTING_GROUPS: &[&str] = &[
    "general",
    "products",
    "tax",
    "shipping",
    "checkout",
    "account",
    "email",
    "integration",
    "advanced",
    "site-visibility",
];

/// `get_setting`: an unknown id in a known group is `rest_setting_setting_invalid`, an unknown
/// group `rest_setting_setting_group_invalid`; both 404.
fn unknown_setting(group: &str, _setting: &str) -> RestError {
    if SETTING_GROUPS.contains(&group) {
        RestError::new(404, "rest_setting_setting_invalid", "Invalid setting.")
    } else {
        RestError::new(
            404,
            "rest_setting_setting_group_invalid",
            "Invalid setting group.",
        )
    }
}

fn list_variations(
    store: &Store,
    req: &Req,
    user: &Option<Authenticated>,
    id: Option<u64>,
    base: &str,
) -> R {
    require(user, CANNOT_LIST.0, CANNOT_LIST.1)?;
    let p = paging(req)?;
    let include = ids_param(req, "include")?;
    let parent = id.and_then(|id| store.products.get(&id));
    let mut items: Vec<&crate::store::Product> = match parent {
        Some(parent) => parent
            .variations
            .iter()
            .filter_map(|v| store.products.get(v))
            .filter(|v| include.as_ref().is_none_or(|ids| ids.contains(&v.id)))
            .collect(),
        None => Vec::new(),
    };
    items.sort_by_key(|v| std::cmp::Reverse(v.id));
    let (page, headers) = paginate(items, &p, req, base, &[]);
    let body: Vec<Value> = page
        .iter()
        .map(|v| wire::variation(store, v, base))
        .collect();
    let mut out = Outcome::json(200, &body);
    out.headers = headers;
    Ok(out)
}

fn get_variation(
    store: &Store,
    user: &Option<Authenticated>,
    parent: Option<u64>,
    id: Option<u64>,
    base: &str,
) -> R {
    require(user, CANNOT_VIEW.0, CANNOT_VIEW.1)?;
    let v = id
        .and_then(|id| store.products.get(&id))
        .filter(|v| v.kind == crate::store::ProductKind::Variation && Some(v.parent_id) == parent)
        .ok_or_else(|| {
            RestError::new(
                404,
                "woocommerce_rest_product_variation_invalid_id",
                "Invalid ID.",
            )
        })?;
    Ok(Outcome::json(200, &wire::variation(store, v, base)))
}

// ---------------------------------------------------------------- webhooks

/// `GET` of a missing webhook and `PUT` of one: `prepare_item_for_response` / `update_item`
/// answer 400 "ID is invalid."; `DELETE` (with `force`) and id 0 answer 404 "Invalid ID.".
fn invalid_webhook() -> RestError {
    RestError::new(
        400,
        "woocommerce_rest_shop_webhook_invalid_id",
        "ID is invalid.",
    )
}

fn missing_webhook() -> RestError {
    RestError::new(
        404,
        "woocommerce_rest_shop_webhook_invalid_id",
        "Invalid ID.",
    )
}

/// `wc_is_valid_url`.
fn is_valid_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = if let Some(r) = lower.strip_prefix("http://") {
        r
    } else if let Some(r) = lower.strip_prefix("https://") {
        r
    } else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty() && !url.chars().any(char::is_whitespace)
}

const WEBHOOK_STATUSES: &[&str] = &["active", "paused", "disabled"];

fn list_webhooks(store: &Store, req: &Req, user: &Option<Authenticated>, base: &str) -> R {
    require(user, CANNOT_LIST.0, CANNOT_LIST.1)?;
    let p = paging(req)?;
    let status = req.str_param("status").unwrap_or_else(|| "all".into());
    if status != "all" && !WEBHOOK_STATUSES.contains(&status.as_str()) {
        return Err(RestError::invalid_param(
            "status",
            "status is not one of all, active, paused, disabled.",
        ));
    }
    let include = ids_param(req, "include")?;
    let mut items: Vec<&Webhook> = store
        .webhooks
        .values()
        .filter(|w| status == "all" || w.status == status)
        .filter(|w| include.as_ref().is_none_or(|ids| ids.contains(&w.id)))
        .collect();
    let asc = req.str_param("order").is_some_and(|o| o == "asc");
    items.sort_by(|a, b| {
        if asc {
            a.id.cmp(&b.id)
        } else {
            b.id.cmp(&a.id)
        }
    });
    let (page, headers) = paginate(items, &p, req, base, &[]);
    let body: Vec<Value> = page.iter().map(|w| wire::webhook(store, w, base)).collect();
    let mut out = Outcome::json(200, &body);
    out.headers = headers;
    Ok(out)
}

fn get_webhook(store: &Store, user: &Option<Authenticated>, id: Option<u64>, base: &str) -> R {
    require(user, CANNOT_VIEW.0, CANNOT_VIEW.1)?;
    let id = id.filter(|id| *id != 0).ok_or_else(missing_webhook)?;
    let w = store.webhooks.get(&id).ok_or_else(invalid_webhook)?;
    Ok(Outcome::json(200, &wire::webhook(store, w, base)))
}

fn topic_error() -> RestError {
    RestError::new(
        400,
        "woocommerce_rest_shop_webhook_invalid_topic",
        "Webhook topic is required and must be valid.",
    )
}

fn url_error() -> RestError {
    RestError::new(
        400,
        "woocommerce_rest_shop_webhook_invalid_delivery_url",
        "Webhook delivery URL must be a valid URL starting with http:// or https://.",
    )
}

/// `wp_generate_password(50, true, true)`.
fn generate_secret() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*()-_ []{}<>~`+=,.;:/?|";
    let mut rng = rand::rng();
    (0..50)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

fn create_webhook(store: &mut Store, req: &Req, user: &Option<Authenticated>, base: &str) -> R {
    require(user, CANNOT_CREATE.0, CANNOT_CREATE.1)?;
    let topic = req.str_param("topic").unwrap_or_default().to_lowercase();
    if topic.is_empty() || !is_valid_topic(&topic) {
        return Err(topic_error());
    }
    let url = req.str_param("delivery_url").unwrap_or_default();
    if !is_valid_url(&url) {
        return Err(url_error());
    }
    let at = now();
    let name = req.str_param("name").filter(|n| !n.is_empty()).unwrap_or_else(|| {
        let local = wire::local(store, at);
        let fmt = time::macros::format_description!("[month repr:long] [day padding:none], [year] @ [hour repr:12 padding:none]:[minute] [period case:upper]");
        format!("Webhook created on {}", local.format(fmt).unwrap_or_default())
    });
    let id = store.new_webhook_id();
    let webhook = Webhook {
        id,
        name,
        status: "active".into(),
        topic,
        delivery_url: url,
        secret: req
            .str_param("secret")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(generate_secret),
        api_version: "wp_api_v3".into(),
        user_id: user.as_ref().map(|u| u.user_id).unwrap_or(0),
        failure_count: 0,
        pending_delivery: true,
        date_created: at,
        date_modified: None,
    };
    let body = wire::webhook(store, &webhook, base);
    store.webhooks.insert(id, webhook);
    let mut out =
        Outcome::json(201, &body).header("location", format!("{base}/wp-json/wc/v3/webhooks/{id}"));
    out.ping = Some(id);
    Ok(out)
}

fn update_webhook(
    store: &mut Store,
    req: &Req,
    user: &Option<Authenticated>,
    id: Option<u64>,
    base: &str,
) -> R {
    require(user, CANNOT_EDIT.0, CANNOT_EDIT.1)?;
    let id = id
        .filter(|id| store.webhooks.contains_key(id))
        .ok_or_else(invalid_webhook)?;
    let topic = match req.str_param("topic") {
        Some(t) => {
            let t = t.to_lowercase();
            if !is_valid_topic(&t) {
                return Err(topic_error());
            }
            Some(t)
        }
        None => None,
    };
    let url = match req.str_param("delivery_url") {
        Some(u) if !is_valid_url(&u) => return Err(url_error()),
        other => other,
    };
    let status = match req.str_param("status") {
        Some(s) if !WEBHOOK_STATUSES.contains(&s.as_str()) => {
            return Err(RestError::new(
                400,
                "woocommerce_rest_webhook_invalid_status",
                "Status is invalid.",
            ));
        }
        other => other,
    };
    let Some(w) = store.webhooks.get_mut(&id) else {
        return Err(invalid_webhook());
    };
    let mut url_changed = false;
    if let Some(t) = topic {
        w.topic = t;
    }
    if let Some(u) = url {
        url_changed = u != w.delivery_url;
        w.delivery_url = u;
    }
    if let Some(s) = req.str_param("secret") {
        w.secret = s;
    }
    if let Some(n) = req.str_param("name") {
        w.name = n;
    }
    if let Some(s) = status {
        w.status = s;
    }
    w.date_modified = Some(now());
    if url_changed {
        w.pending_delivery = true;
    }
    let ping = (w.status == "active" && w.pending_delivery).then_some(id);
    let w = w.clone();
    let mut out = Outcome::json(200, &wire::webhook(store, &w, base));
    out.ping = ping;
    Ok(out)
}

fn delete_webhook(
    store: &mut Store,
    req: &Req,
    user: &Option<Authenticated>,
    id: Option<u64>,
    base: &str,
) -> R {
    require(user, CANNOT_DELETE.0, CANNOT_DELETE.1)?;
    if !req.bool_param("force").unwrap_or(false) {
        return Err(RestError::new(
            501,
            "woocommerce_rest_trash_not_supported",
            "Webhooks do not support trashing.",
        ));
    }
    let id = id
        .filter(|id| store.webhooks.contains_key(id))
        .ok_or_else(missing_webhook)?;
    let body = store
        .webhooks
        .get(&id)
        .map(|w| wire::webhook(store, w, base))
        .ok_or_else(missing_webhook)?;
    store.webhooks.remove(&id);
    Ok(Outcome::json(200, &body))
}

// ---------------------------------------------------------------- shipment tracking plugin

const TRACKING_META: &str = "_wc_shipment_tracking_items";

fn shipment_trackings(
    store: &mut Store,
    req: &Req,
    user: &Option<Authenticated>,
    id: Option<u64>,
) -> R {
    let get = req.method == Method::GET;
    if get {
        require(user, CANNOT_LIST.0, CANNOT_LIST.1)?;
    } else if req.method == Method::POST {
        require(user, CANNOT_CREATE.0, CANNOT_CREATE.1)?;
    } else {
        return Err(RestError::no_route());
    }
    let order_id = tracking_order(store, id)?;
    let current = tracking_items(store, order_id);
    if get {
        let items: Vec<Value> = current.iter().map(render_tracking).collect();
        return Ok(Outcome::json(200, &items));
    }
    let tracking_number = req.str_param("tracking_number").unwrap_or_default();
    if tracking_number.is_empty() {
        return Err(RestError::missing_param("tracking_number"));
    }
    let provider = req.str_param("tracking_provider").unwrap_or_default();
    let custom = req
        .str_param("custom_tracking_provider")
        .unwrap_or_default();
    let date_shipped = req
        .str_param("date_shipped")
        .and_then(|d| {
            wall_clock(
                "date_shipped",
                &format!("{}T00:00:00", d.get(..10).unwrap_or(&d)),
            )
            .ok()
        })
        .map(|d| d.assume_utc().unix_timestamp())
        .unwrap_or_else(|| now().unix_timestamp());
    let tracking_id = hex::encode(rand::random::<[u8; 16]>());
    let item = json!({
        "tracking_provider": if custom.is_empty() { provider.to_lowercase().replace(' ', "-") } else { String::new() },
        "custom_tracking_provider": custom,
        "custom_tracking_link": req.str_param("custom_tracking_link").unwrap_or_default(),
        "tracking_number": tracking_number,
        "date_shipped": date_shipped,
        "tracking_id": tracking_id,
    });
    let mut items = current;
    items.push(item.clone());
    if let Some(mut order) = store.orders.remove(&order_id) {
        store.update_meta(&mut order, TRACKING_META, Value::Array(items), None);
        store.touch_order(&mut order);
        store.orders.insert(order_id, order);
    }
    let mut out = Outcome::json(201, &render_tracking(&item));
    out.triggers = store.triggers(OrderEvent::Updated, order_id);
    Ok(out)
}

/// The extension's item route: `(?P<id>[a-fA-F0-9]{0,32})` — the ids it generates are 32 hex
/// digits; any other last segment is no route at all.
fn tracking_id_route(segment: &str) -> bool {
    segment.len() <= 32 && segment.bytes().all(|b| b.is_ascii_hexdigit())
}

fn tracking_order(store: &Store, id: Option<u64>) -> Result<u64, RestError> {
    id.filter(|id| store.orders.contains_key(id))
        .ok_or_else(|| {
            RestError::new(
                404,
                "woocommerce_rest_order_invalid_id",
                "Invalid order ID.",
            )
        })
}

/// The order's items as the extension reads them: the meta when it is an array, else none.
fn tracking_items(store: &Store, order_id: u64) -> Vec<Value> {
    store
        .orders
        .get(&order_id)
        .and_then(|o| o.meta.iter().find(|m| m.key == TRACKING_META))
        .and_then(|m| m.value.as_array().cloned())
        .unwrap_or_default()
}

/// An item as the extension's REST API shows it (`prepare_item_for_response`).
fn render_tracking(item: &Value) -> Value {
    let s = |k: &str| item.get(k).cloned().unwrap_or(json!(""));
    let provider = s("tracking_provider");
    let custom = s("custom_tracking_provider");
    let shown = if custom.as_str().is_some_and(|c| !c.is_empty()) {
        custom.clone()
    } else {
        provider.clone()
    };
    json!({
        "tracking_id": s("tracking_id"),
        "tracking_provider": shown,
        "tracking_link": s("custom_tracking_link"),
        "tracking_number": s("tracking_number"),
        "date_shipped": item.get("date_shipped").and_then(Value::as_i64).map(|ts| {
            time::OffsetDateTime::from_unix_timestamp(ts).map(|d| wire::date(d)[..10].to_owned()).unwrap_or_default()
        }),
    })
}

/// `GET`/`DELETE /orders/<id>/shipment-trackings/<tracking id>`: one item, or its removal
/// (the answer is the item as it was; the other items keep their order).
fn shipment_tracking(
    store: &mut Store,
    req: &Req,
    user: &Option<Authenticated>,
    id: Option<u64>,
    tracking_id: &str,
) -> R {
    let get = req.method == Method::GET;
    if get {
        require(user, CANNOT_VIEW.0, CANNOT_VIEW.1)?;
    } else if req.method == Method::DELETE {
        require(user, CANNOT_DELETE.0, CANNOT_DELETE.1)?;
    } else {
        return Err(RestError::no_route());
    }
    let order_id = tracking_order(store, id)?;
    let mut items = tracking_items(store, order_id);
    let at = items
        .iter()
        .position(|i| i.get("tracking_id").and_then(Value::as_str) == Some(tracking_id))
        .ok_or_else(|| {
            RestError::new(
                404,
                "woocommerce_rest_order_shipment_tracking_invalid_id",
                "Invalid shipment tracking ID.",
            )
        })?;
    let item = items.remove(at);
    if get {
        return Ok(Outcome::json(200, &render_tracking(&item)));
    }
    if let Some(mut order) = store.orders.remove(&order_id) {
        store.update_meta(&mut order, TRACKING_META, Value::Array(items), None);
        store.touch_order(&mut order);
        store.orders.insert(order_id, order);
    }
    let mut out = Outcome::json(200, &render_tracking(&item));
    out.triggers = store.triggers(OrderEvent::Updated, order_id);
    Ok(out)
}
