//! WordPress REST errors: `{"code","message","data":{"status"}}` with WooCommerce's codes.

use serde_json::{Value, json};

/// An error answered by the REST API, shaped like `WP_Error` once WordPress serialises it.
#[derive(Debug, Clone)]
pub(crate) struct RestError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Extra members of `data` (e.g. `params` for `rest_invalid_param`).
    pub data: serde_json::Map<String, Value>,
}

impl RestError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> RestError {
        RestError {
            status,
            code: code.to_owned(),
            message: message.into(),
            data: Default::default(),
        }
    }

    pub fn body(&self) -> Value {
        let mut data = self.data.clone();
        data.insert("status".into(), json!(self.status));
        json!({ "code": self.code, "message": self.message, "data": data })
    }

    /// `rest_no_route`.
    pub fn no_route() -> RestError {
        RestError::new(
            404,
            "rest_no_route",
            "No route was found matching the URL and request method.",
        )
    }

    /// `rest_invalid_param` for one parameter.
    pub fn invalid_param(name: &str, reason: impl Into<String>) -> RestError {
        let reason = reason.into();
        let mut e = RestError::new(
            400,
            "rest_invalid_param",
            format!("Invalid parameter(s): {name}"),
        );
        e.data.insert("params".into(), json!({ name: reason }));
        e.data.insert(
            "details".into(),
            json!({ name: { "code": "rest_invalid_type", "message": reason, "data": null } }),
        );
        e
    }

    /// `rest_missing_callback_param`.
    pub fn missing_param(name: &str) -> RestError {
        let mut e = RestError::new(
            400,
            "rest_missing_callback_param",
            format!("Missing parameter(s): {name}"),
        );
        e.data.insert("params".into(), json!([name]));
        e
    }

    /// 401 for anonymous requests / 403 for a logged-in user lacking the capability
    /// (`rest_authorization_required_code`).
    pub fn cannot(code: &str, message: &str, authenticated: bool) -> RestError {
        RestError::new(if authenticated { 403 } else { 401 }, code, message)
    }
}
