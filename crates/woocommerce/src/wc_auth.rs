//! wc-auth: getting API keys from a merchant's click instead of a copy-paste.
//!
//! The merchant's browser is sent to the store's `/wc-auth/v1/authorize` with the app's name,
//! the scope, an opaque `user_id` of ours, a `return_url` and a `callback_url`. After the
//! merchant logs in and approves, WooCommerce POSTs the new keys as JSON to `callback_url`
//! (which must be `https` and answer exactly 200; anything else deletes the key) and then sends
//! the browser to `return_url?success=1&user_id=<user_id>` (`success=0` when denied).

use std::fmt;

use serde::Deserialize;
use url::Url;

use crate::de;
use crate::secrets::{Credentials, CredentialsError};
use crate::store_url::StoreUrl;

/// The permissions asked for, and granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Read,
    Write,
    ReadWrite,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::ReadWrite => "read_write",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            "read_write" => Some(Scope::ReadWrite),
            _ => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The parameters of an authorize request.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    /// Shown to the merchant and kept in the key's description (`<app_name> - API (<date>)`).
    pub app_name: String,
    pub scope: Scope,
    /// Our own opaque id for this attempt, echoed back in the callback and the return URL. Not
    /// a WordPress user id. Make it unguessable: it is how the callback is matched to a store.
    pub user_id: String,
    /// Where the browser lands afterwards; may be http.
    pub return_url: Url,
    /// Where WooCommerce POSTs the keys. Real stores refuse anything but `https`
    /// ("The callback_url needs to be over SSL"); see [`callback_url_accepted`].
    pub callback_url: Url,
}

/// Whether WooCommerce will accept `url` as a `callback_url` (it must be https).
pub fn callback_url_accepted(url: &Url) -> bool {
    url.scheme() == "https"
}

/// The URL to send the merchant's browser to: `<store>/wc-auth/v1/authorize?...`.
pub fn authorize_url(store: &StoreUrl, request: &AuthorizeRequest) -> Url {
    let mut url = store.url("/wc-auth/v1/authorize");
    url.query_pairs_mut()
        .append_pair("app_name", &request.app_name)
        .append_pair("scope", request.scope.as_str())
        .append_pair("user_id", &request.user_id)
        .append_pair("return_url", request.return_url.as_str())
        .append_pair("callback_url", request.callback_url.as_str());
    url
}

/// The JSON WooCommerce POSTs to `callback_url`.
#[derive(Clone, PartialEq, Eq)]
pub struct CallbackBody {
    /// The key's row id in the store (shown nowhere, useful in support).
    pub key_id: u64,
    /// Our `user_id` from the authorize request (a JSON string in practice; the docs show a
    /// number, so both are read).
    pub user_id: String,
    pub credentials: Credentials,
    pub key_permissions: Scope,
}

impl fmt::Debug for CallbackBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackBody")
            .field("key_id", &self.key_id)
            .field("user_id", &self.user_id)
            .field("credentials", &self.credentials)
            .field("key_permissions", &self.key_permissions)
            .finish()
    }
}

/// Why a callback body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// Not the JSON object WooCommerce sends (or a required field missing). The serde message is
    /// not kept: it could quote the secret.
    #[error("the callback body is not WooCommerce's key JSON")]
    Malformed,
    #[error("the callback's key_permissions is not read, write or read_write")]
    Permissions,
    #[error("the callback's keys are not usable: {0}")]
    Credentials(#[from] CredentialsError),
}

impl CallbackBody {
    pub fn parse(body: &[u8]) -> Result<CallbackBody, CallbackError> {
        #[derive(Deserialize)]
        struct Wire {
            #[serde(deserialize_with = "de::id")]
            key_id: u64,
            #[serde(deserialize_with = "de::string")]
            user_id: String,
            #[serde(deserialize_with = "de::string")]
            consumer_key: String,
            #[serde(deserialize_with = "de::string")]
            consumer_secret: String,
            #[serde(deserialize_with = "de::string")]
            key_permissions: String,
        }
        let wire: Wire = serde_json::from_slice(body).map_err(|_| CallbackError::Malformed)?;
        let key_permissions =
            Scope::parse(wire.key_permissions.trim()).ok_or(CallbackError::Permissions)?;
        Ok(CallbackBody {
            key_id: wire.key_id,
            user_id: wire.user_id,
            credentials: Credentials::new(wire.consumer_key, wire.consumer_secret)?,
            key_permissions,
        })
    }
}

/// The query WooCommerce appends to `return_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnParams {
    /// `true` when the merchant approved (and the callback got its 200).
    pub success: bool,
    pub user_id: String,
}

impl ReturnParams {
    /// Reads `success` and `user_id` from a query string (with or without the leading `?`).
    /// `None` when either is missing or `success` is not `0`/`1`.
    pub fn parse(query: &str) -> Option<ReturnParams> {
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut success = None;
        let mut user_id = None;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "success" => {
                    success = match v.as_ref() {
                        "1" => Some(true),
                        "0" => Some(false),
                        _ => return None,
                    }
                }
                "user_id" => user_id = Some(v.into_owned()),
                _ => {}
            }
        }
        Some(ReturnParams {
            success: success?,
            user_id: user_id?,
        })
    }

    /// [`ReturnParams::parse`] on a URL's query.
    pub fn from_url(url: &Url) -> Option<ReturnParams> {
        ReturnParams::parse(url.query().unwrap_or(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorize_url_carries_the_five_parameters() {
        let store = StoreUrl::parse("https://shop.example.cl/tienda/").unwrap();
        let req = AuthorizeRequest {
            app_name: "ttwc & TrackingTech".into(),
            scope: Scope::ReadWrite,
            user_id: "conn-42".into(),
            return_url: Url::parse("https://ttwc.example/connect/return?c=1").unwrap(),
            callback_url: Url::parse("https://ttwc.example/wc-auth/callback").unwrap(),
        };
        let url = authorize_url(&store, &req);
        assert_eq!(url.path(), "/tienda/wc-auth/v1/authorize");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            vec![
                ("app_name".into(), "ttwc & TrackingTech".into()),
                ("scope".into(), "read_write".into()),
                ("user_id".into(), "conn-42".into()),
                (
                    "return_url".into(),
                    "https://ttwc.example/connect/return?c=1".into()
                ),
                (
                    "callback_url".into(),
                    "https://ttwc.example/wc-auth/callback".into()
                ),
            ]
        );
        assert!(callback_url_accepted(&req.callback_url));
        assert!(!callback_url_accepted(
            &Url::parse("http://ttwc.example/cb").unwrap()
        ));
    }

    #[test]
    fn callback_accepts_user_id_as_string_or_number() {
        let s = br#"{"key_id":3,"user_id":"merchant-42","consumer_key":"ck_1","consumer_secret":"cs_2","key_permissions":"read_write"}"#;
        let b = CallbackBody::parse(s).unwrap();
        assert_eq!(b.key_id, 3);
        assert_eq!(b.user_id, "merchant-42");
        assert_eq!(b.credentials.consumer_secret(), "cs_2");
        assert_eq!(b.key_permissions, Scope::ReadWrite);
        assert!(!format!("{b:?}").contains("cs_2"));
        let n = br#"{"key_id":"3","user_id":123,"consumer_key":"ck_1","consumer_secret":"cs_2","key_permissions":"read"}"#;
        let b = CallbackBody::parse(n).unwrap();
        assert_eq!(b.user_id, "123");
        assert_eq!(b.key_permissions, Scope::Read);
    }

    #[test]
    fn callback_rejects_bad_bodies() {
        assert_eq!(
            CallbackBody::parse(b"key_id=3"),
            Err(CallbackError::Malformed)
        );
        assert_eq!(
            CallbackBody::parse(br#"{"key_id":3}"#),
            Err(CallbackError::Malformed)
        );
        let bad_scope = br#"{"key_id":3,"user_id":"u","consumer_key":"ck_1","consumer_secret":"cs_2","key_permissions":"admin"}"#;
        assert_eq!(
            CallbackBody::parse(bad_scope),
            Err(CallbackError::Permissions)
        );
        let empty = br#"{"key_id":3,"user_id":"u","consumer_key":"ck_1","consumer_secret":"","key_permissions":"read"}"#;
        assert_eq!(
            CallbackBody::parse(empty),
            Err(CallbackError::Credentials(CredentialsError::EmptySecret))
        );
    }

    #[test]
    fn return_params() {
        assert_eq!(
            ReturnParams::parse("?success=1&user_id=merchant-42"),
            Some(ReturnParams {
                success: true,
                user_id: "merchant-42".into()
            })
        );
        let u = Url::parse("https://ttwc.example/r?c=1&success=0&user_id=a%20b").unwrap();
        assert_eq!(
            ReturnParams::from_url(&u),
            Some(ReturnParams {
                success: false,
                user_id: "a b".into()
            })
        );
        assert_eq!(ReturnParams::parse("success=1"), None);
        assert_eq!(ReturnParams::parse("success=yes&user_id=1"), None);
    }
}
