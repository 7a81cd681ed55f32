//! The TrackingTech contract: one handler per endpoint, served at the root.
//!
//! Every handler checks in the order a Laravel app would: authentication, then the body (400
//! malformed, 413 too big, 422 fields), then the lookups (404, 409), then the effect.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::fixtures::{Account, Tenant};
use crate::state::{App, Customer, Data, Idempotency, LoginToken, Order};
use crate::validate::{
    self, Empty, display, format_invalid, integer, integer_value, object, only, optional_string,
    required, selected_invalid, string,
};
use crate::web::{
    self, ALPHANUMERIC, ApiError, Errors, LOWER_ALPHANUMERIC, UPPER, bearer, random_from, reply,
};
use crate::{clock, status};

type Result<T, E = ApiError> = std::result::Result<T, E>;

/// The throttling window for failed logins.
const LOGIN_WINDOW: Duration = Duration::from_secs(60);

const SHIPPING_FIELDS: [&str; 11] = [
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
    "email",
    "phone",
];

/// Shipping fields a courier cannot deliver without.
const SHIPPING_REQUIRED: [&str; 3] = ["address_1", "city", "country"];

const WEIGHT_UNITS: [&str; 4] = ["kg", "g", "lbs", "oz"];

/// `POST /external/tenants/resolve`
pub(crate) async fn resolve(State(app): State<Arc<App>>, body: Body) -> Result<Response> {
    let value = web::read_json(body).await?;
    let obj = object(&value);
    let mut errors = Errors::default();
    let code = string(obj, "code", "code", Empty::Refused, &mut errors);
    validate::platform(obj, &mut errors);
    validate::device_id(obj, &mut errors);
    errors.check()?;
    let tenant = active_tenant(&app, code.unwrap_or_default())?;
    let mut answer = json!({
        "tenant": {"code": tenant.code, "name": tenant.name, "active": true},
    });
    if let (Some(url), Value::Object(map)) = (&tenant.api_url, &mut answer) {
        map.insert("api_url".into(), Value::String(url.clone()));
    }
    Ok(reply(StatusCode::OK, answer))
}

fn active_tenant<'a>(app: &'a App, code: &str) -> Result<&'a Tenant> {
    match app.fixtures.tenant(code) {
        None => Err(ApiError::not_found("Tenant not found.")),
        Some(t) if !t.active => Err(ApiError::new(StatusCode::CONFLICT, "Tenant is inactive.")),
        Some(t) => Ok(t),
    }
}

/// `POST /external/login`
pub(crate) async fn login(State(app): State<Arc<App>>, body: Body) -> Result<Response> {
    let value = web::read_json(body).await?;
    let obj = object(&value);
    let mut errors = Errors::default();
    let email = string(obj, "email", "email", Empty::Refused, &mut errors);
    let password = string(obj, "password", "password", Empty::Refused, &mut errors);
    let code = optional_string(obj, "code", "code", &mut errors).flatten();
    if code == Some("") {
        errors.add("code", required("code"));
    }
    let (Some(email), Some(password)) = (email, password) else {
        return Err(errors.into_error());
    };
    errors.check()?;
    if let Some(code) = code {
        active_tenant(&app, code)?;
    }

    let throttle_key = email.to_lowercase();
    if let Some(secs) = throttled(&app, &throttle_key) {
        tracing::info!(retry_after = secs, "login throttled");
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many login attempts. Please try again later.",
        )
        .retry_after(secs));
    }
    let account = app
        .fixtures
        .account(email)
        .filter(|(_, a)| a.password == password);
    let Some((user_id, account)) = account else {
        if app.login_attempts_per_minute > 0 {
            let mut runtime = app.runtime();
            runtime
                .failed_logins
                .entry(throttle_key)
                .or_default()
                .push_back(Instant::now());
        }
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Invalid credentials.",
        ));
    };
    // As Laravel's login throttle does, a success forgets the earlier failures.
    app.runtime().failed_logins.remove(&throttle_key);

    let token = format!("lt_{}", random_from(ALPHANUMERIC, 40));
    let ttl_ms = i64::try_from(app.token_ttl.as_millis()).unwrap_or(i64::MAX);
    let account_email = account.email.to_lowercase();
    let stored = token.clone();
    app.update(move |data, now| {
        data.login_tokens.retain(|_, t| t.expires_at_ms > now);
        data.login_tokens.insert(
            stored,
            LoginToken {
                account_email,
                expires_at_ms: now.saturating_add(ttl_ms),
            },
        );
        data.touch();
    })
    .await;
    Ok(reply(
        StatusCode::OK,
        json!({
            "token": token,
            "expires_in": app.token_ttl.as_secs(),
            "user": {"id": user_id, "name": account.name, "email": account.email},
        }),
    ))
}

/// Seconds until a login slot frees for this email, if it is throttled now.
fn throttled(app: &App, key: &str) -> Option<u64> {
    let limit = usize::try_from(app.login_attempts_per_minute).unwrap_or(usize::MAX);
    if limit == 0 {
        return None;
    }
    let now = Instant::now();
    let mut runtime = app.runtime();
    let failures: &mut VecDeque<Instant> = runtime.failed_logins.get_mut(key)?;
    while failures
        .front()
        .is_some_and(|t| now.duration_since(*t) >= LOGIN_WINDOW)
    {
        failures.pop_front();
    }
    if failures.len() < limit {
        return None;
    }
    let oldest = *failures.front()?;
    let frees_in = LOGIN_WINDOW.saturating_sub(now.duration_since(oldest));
    Some((frees_in.as_secs_f64().ceil() as u64).max(1))
}

/// The account behind a login token; 401 for anything else, integration tokens included.
async fn login_account<'a>(app: &'a App, headers: &HeaderMap) -> Result<(u64, &'a Account)> {
    let token = bearer(headers)
        .ok_or_else(ApiError::unauthenticated)?
        .to_owned();
    let email = app
        .update(move |data, now| {
            data.login_tokens
                .get(&token)
                .filter(|t| t.expires_at_ms > now)
                .map(|t| t.account_email.clone())
        })
        .await
        .ok_or_else(ApiError::unauthenticated)?;
    app.fixtures
        .account(&email)
        .ok_or_else(ApiError::unauthenticated)
}

/// The customer behind an integration token; 401 for anything else, login tokens included.
async fn integration_customer(app: &App, headers: &HeaderMap) -> Result<String> {
    let token = bearer(headers)
        .ok_or_else(ApiError::unauthenticated)?
        .to_owned();
    app.update(move |data, _| data.integration_tokens.get(&token).cloned())
        .await
        .ok_or_else(ApiError::unauthenticated)
}

/// `GET /external/stores`
pub(crate) async fn stores(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let (_, account) = login_account(&app, &headers).await?;
    let mut errors = Errors::default();
    let page = query_int(query.as_deref(), "page", 1, None, &mut errors);
    let per_page = query_int(query.as_deref(), "per_page", 15, Some(100), &mut errors);
    errors.check()?;
    let total = account.stores.len() as u64;
    let last_page = total.div_ceil(per_page).max(1);
    let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let take = usize::try_from(per_page).unwrap_or(usize::MAX);
    let data: Vec<Value> = account
        .stores
        .iter()
        .skip(skip)
        .take(take)
        .map(|s| json!({"id": s.id, "name": s.name, "address": s.address}))
        .collect();
    Ok(reply(
        StatusCode::OK,
        json!({
            "data": data,
            "current_page": page,
            "per_page": per_page,
            "last_page": last_page,
            "total": total,
        }),
    ))
}

/// A positive integer query parameter; absent or empty means `default`.
fn query_int(
    query: Option<&str>,
    name: &str,
    default: u64,
    max: Option<u64>,
    errors: &mut Errors,
) -> u64 {
    let raw = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then_some(v)
        })
        .next_back();
    let Some(raw) = raw.filter(|v| !v.is_empty()) else {
        return default;
    };
    let Ok(n) = raw.parse::<u64>() else {
        errors.add(
            name,
            format!("The {} field must be an integer.", display(name)),
        );
        return default;
    };
    match max {
        Some(max) if n < 1 || n > max => {
            errors.add(
                name,
                format!("The {} field must be between 1 and {max}.", display(name)),
            );
            default
        }
        _ if n < 1 => {
            errors.add(
                name,
                format!("The {} field must be at least 1.", display(name)),
            );
            default
        }
        _ => n,
    }
}

/// `POST /external/woocommerce/link`
pub(crate) async fn link(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let (_, account) = login_account(&app, &headers).await?;
    let value = web::read_json(body).await?;
    let obj = object(&value);
    let mut errors = Errors::default();
    let store_id = integer(obj, "store_id", "store_id", 1, &mut errors);
    let store_url = string(obj, "store_url", "store_url", Empty::Refused, &mut errors);
    let url_key = store_url.and_then(validate::url_key);
    if store_url.is_some() && url_key.is_none() {
        errors.add("store_url", "The store url field must be a valid URL.");
    }
    validate::device_id(obj, &mut errors);
    validate::platform(obj, &mut errors);
    let (Some(store_id), Some(store_url), Some(url_key)) = (store_id, store_url, url_key) else {
        return Err(errors.into_error());
    };
    errors.check()?;
    if !account.stores.iter().any(|s| s.id == store_id) {
        return Err(ApiError::not_found("Store not found."));
    }

    let account_email = account.email.to_lowercase();
    let store_url = store_url.to_owned();
    let (customer_id, token) = app
        .update(move |data, _| {
            let existing = data
                .customers
                .values_mut()
                .find(|c| c.account_email == account_email && c.url_key == url_key);
            let customer_id = match existing {
                Some(customer) => {
                    // The latest link decides which pickup store the customer ships from.
                    customer.store_id = store_id;
                    customer.id.clone()
                }
                None => {
                    let id = unique(
                        || format!("cus_{}", random_from(LOWER_ALPHANUMERIC, 16)),
                        |id| data.customers.contains_key(id),
                    );
                    data.customers.insert(
                        id.clone(),
                        Customer {
                            id: id.clone(),
                            account_email,
                            store_id,
                            store_url,
                            url_key,
                        },
                    );
                    id
                }
            };
            let token = unique(
                || format!("it_{}", random_from(ALPHANUMERIC, 40)),
                |t| data.integration_tokens.contains_key(t),
            );
            data.integration_tokens
                .insert(token.clone(), customer_id.clone());
            data.touch();
            (customer_id, token)
        })
        .await;
    tracing::info!(customer_id, "store linked");
    Ok(reply(
        StatusCode::CREATED,
        json!({"customer_id": customer_id, "integration_token": token}),
    ))
}

/// A fresh random value that `taken` does not know; gives up on uniqueness after many tries
/// rather than loop forever (with these alphabets a clash is already vanishingly rare).
fn unique(make: impl Fn() -> String, taken: impl Fn(&str) -> bool) -> String {
    let mut candidate = make();
    for _ in 0..100 {
        if !taken(&candidate) {
            break;
        }
        candidate = make();
    }
    candidate
}

/// The `Idempotency-Key` header: 1..=255 printable ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<String> {
    const KEY: &str = "Idempotency-Key";
    let Some(value) = headers.get(KEY) else {
        return Err(ApiError::invalid(
            KEY,
            "The Idempotency-Key header is required.",
        ));
    };
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return Err(ApiError::invalid(
            KEY,
            "The Idempotency-Key header is required.",
        ));
    }
    if bytes.len() > 255 {
        return Err(ApiError::invalid(
            KEY,
            "The Idempotency-Key header must not be greater than 255 characters.",
        ));
    }
    if !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(ApiError::invalid(
            KEY,
            "The Idempotency-Key header must contain only printable ASCII characters.",
        ));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// `POST /external/woocommerce/orders`
pub(crate) async fn send_order(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let customer_id = integration_customer(&app, &headers).await?;
    let key = idempotency_key(&headers)?;
    let bytes = web::read_body(body).await?;
    // Parsed before taking the lock, judged inside it: a malformed send still counts as a
    // request carrying its key.
    let parsed = web::parse_json(&bytes);
    app.update(move |data, now| {
        let count = data
            .key_requests
            .entry(customer_id.clone())
            .or_default()
            .entry(key.clone())
            .or_default();
        *count = count.saturating_add(1);
        data.touch();
        let value = parsed?;
        if let Some(record) = data.idempotency.get(&customer_id).and_then(|m| m.get(&key)) {
            if record.body == value {
                return Ok(reply(StatusCode::OK, record.answer.clone()));
            }
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "Idempotency-Key already used with a different body.",
            ));
        }
        let order_id = validate_order(&value, &customer_id)?;
        let answer = create_order(data, now, order_id, &customer_id, &key, &value);
        Ok(reply(StatusCode::CREATED, answer))
    })
    .await
}

fn create_order(
    data: &mut Data,
    now: i64,
    order_id: u64,
    customer_id: &str,
    key: &str,
    body: &Value,
) -> Value {
    let today = clock::chile(now);
    let prefix = format!(
        "LMTCL{:02}{:02}{:02}",
        today.day(),
        u8::from(today.month()),
        today.year().rem_euclid(100)
    );
    let tracking_id = unique(
        || format!("{prefix}{}", random_from(UPPER, 5)),
        |t| data.tracking_id_taken(t),
    );
    let id = data.next_order_id;
    data.next_order_id = id.saturating_add(1);
    let answer = json!({
        "id": id,
        "tracking_id": tracking_id,
        "status": "created",
        "status_name": status::name("created"),
    });
    data.push_order(Order {
        id,
        order_id,
        customer_id: customer_id.to_owned(),
        tracking_id: tracking_id.clone(),
        status: "created".into(),
        updated_at_ms: now,
        idempotency_key: key.to_owned(),
        body: body.clone(),
    });
    data.idempotency
        .entry(customer_id.to_owned())
        .or_default()
        .insert(
            key.to_owned(),
            Idempotency {
                body: body.clone(),
                answer: answer.clone(),
            },
        );
    data.touch();
    tracing::info!(sandbox_id = id, order_id, tracking_id, "order created");
    answer
}

/// Checks an order body; returns its WooCommerce order id.
fn validate_order(value: &Value, customer_id: &str) -> Result<u64> {
    let obj = object(value);
    let mut errors = Errors::default();
    only(
        obj,
        &[
            "order_id",
            "customer_id",
            "store_url",
            "products",
            "shipping",
        ],
        "",
        &mut errors,
    );
    let order_id = integer(obj, "order_id", "order_id", 1, &mut errors);
    if let Some(c) = string(
        obj,
        "customer_id",
        "customer_id",
        Empty::Refused,
        &mut errors,
    ) && c != customer_id
    {
        errors.add("customer_id", selected_invalid("customer_id"));
    }
    string(obj, "store_url", "store_url", Empty::Refused, &mut errors);
    match obj.get("products") {
        None | Some(Value::Null) => errors.add("products", required("products")),
        Some(Value::Array(items)) if items.is_empty() => {
            errors.add("products", "The products field must have at least 1 items.")
        }
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                validate_product(item, i, &mut errors);
            }
        }
        Some(_) => errors.add("products", "The products field must be an array."),
    }
    match obj.get("shipping") {
        None | Some(Value::Null) => errors.add("shipping", required("shipping")),
        Some(Value::Object(shipping)) => validate_shipping(shipping, &mut errors),
        Some(_) => errors.add("shipping", "The shipping field must be an object."),
    }
    let Some(order_id) = order_id else {
        return Err(errors.into_error());
    };
    errors.check()?;
    Ok(order_id)
}

fn validate_product(item: &Value, i: usize, errors: &mut Errors) {
    let Value::Object(p) = item else {
        let key = format!("products.{i}");
        errors.add(&key, format!("The {key} field must be an object."));
        return;
    };
    let key = |name: &str| format!("products.{i}.{name}");
    only(
        p,
        &["name", "sku", "quantity", "price", "weight", "weight_unit"],
        &format!("products.{i}."),
        errors,
    );
    string(p, "name", &key("name"), Empty::Refused, errors);
    // WooCommerce products often have no SKU, so an empty one is fine.
    string(p, "sku", &key("sku"), Empty::Allowed, errors);
    integer(p, "quantity", &key("quantity"), 1, errors);
    if let Some(price) = string(p, "price", &key("price"), Empty::Refused, errors)
        && !validate::is_decimal(price)
    {
        errors.add(&key("price"), format_invalid(&key("price")));
    }
    let weight = optional_string(p, "weight", &key("weight"), errors);
    if let Some(Some(w)) = weight
        && !validate::is_decimal(w)
    {
        errors.add(&key("weight"), format_invalid(&key("weight")));
    }
    let unit = optional_string(p, "weight_unit", &key("weight_unit"), errors);
    if let Some(Some(u)) = unit
        && !WEIGHT_UNITS.contains(&u)
    {
        errors.add(&key("weight_unit"), selected_invalid(&key("weight_unit")));
    }
    match (weight, unit) {
        (Some(Some(_)), Some(None)) => errors.add(
            &key("weight_unit"),
            format!(
                "The {} field is required when {} is present.",
                display(&key("weight_unit")),
                display(&key("weight"))
            ),
        ),
        (Some(None), Some(Some(_))) => errors.add(
            &key("weight_unit"),
            format!(
                "The {} field is prohibited unless {} is present.",
                display(&key("weight_unit")),
                display(&key("weight"))
            ),
        ),
        _ => {}
    }
}

fn validate_shipping(shipping: &Map<String, Value>, errors: &mut Errors) {
    only(shipping, &SHIPPING_FIELDS, "shipping.", errors);
    for field in SHIPPING_FIELDS {
        let empty = if SHIPPING_REQUIRED.contains(&field) {
            Empty::Refused
        } else {
            Empty::Allowed
        };
        string(shipping, field, &format!("shipping.{field}"), empty, errors);
    }
}

/// `POST /external/woocommerce/orders/status`
pub(crate) async fn order_status(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let customer_id = integration_customer(&app, &headers).await?;
    let value = web::read_json(body).await?;
    let obj = object(&value);
    let mut errors = Errors::default();
    let mut ids = Vec::new();
    match obj.get("order_ids") {
        None | Some(Value::Null) => errors.add("order_ids", required("order_ids")),
        Some(Value::Array(items)) if items.is_empty() => errors.add(
            "order_ids",
            "The order ids field must have at least 1 items.",
        ),
        Some(Value::Array(items)) if items.len() > 100 => errors.add(
            "order_ids",
            "The order ids field must not have more than 100 items.",
        ),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(id) = integer_value(item, &format!("order_ids.{i}"), 1, &mut errors) {
                    ids.push(id);
                }
            }
        }
        Some(_) => errors.add("order_ids", "The order ids field must be an array."),
    }
    errors.check()?;
    let data = app
        .update(move |data, _| {
            let mut seen = HashSet::new();
            ids.into_iter()
                .filter(|id| seen.insert(*id))
                .filter_map(|id| data.latest_order(&customer_id, id))
                .map(Order::status_json)
                .collect::<Vec<_>>()
        })
        .await;
    Ok(reply(StatusCode::OK, json!({"data": data})))
}

/// `POST /external/woocommerce/uninstall`
pub(crate) async fn uninstall(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let customer_id = integration_customer(&app, &headers).await?;
    let value = web::read_json(body).await?;
    let obj = object(&value);
    let mut errors = Errors::default();
    let store_url = string(obj, "store_url", "store_url", Empty::Refused, &mut errors);
    let claimed = string(
        obj,
        "customer_id",
        "customer_id",
        Empty::Refused,
        &mut errors,
    );
    if claimed.is_some_and(|c| c != customer_id) {
        errors.add("customer_id", selected_invalid("customer_id"));
    }
    let store_url = store_url.map(|u| validate::url_key(u).unwrap_or_else(|| u.to_owned()));
    errors.check()?;
    app.update(move |data, _| {
        let same_store = data
            .customers
            .get(&customer_id)
            .is_some_and(|c| Some(&c.url_key) == store_url.as_ref());
        if !same_store {
            return Err(ApiError::invalid(
                "store_url",
                selected_invalid("store_url"),
            ));
        }
        let revoked = data.revoke(Some(&customer_id));
        tracing::info!(customer_id, revoked, "store uninstalled");
        Ok(())
    })
    .await?;
    Ok(reply(StatusCode::OK, json!({"uninstalled": true})))
}
