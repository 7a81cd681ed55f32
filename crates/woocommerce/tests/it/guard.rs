//! The address guard as the client applies it: a store at a loopback or private address is
//! refused before any connection, in every spelling, and answers are read only up to their cap.

use woocommerce::{
    BodyProblem, Client, Credentials, Error, ErrorClass, HttpOptions, MAX_INDEX_BYTES, StoreUrl,
};

use crate::server::{Reply, Server};

fn keys() -> Credentials {
    Credentials::new(
        "ck_0123456789abcdef0123456789abcdef01234567",
        "cs_fedcba9876543210fedcba9876543210fedcba98",
    )
    .expect("credentials")
}

#[tokio::test]
async fn loopback_in_every_spelling_is_refused_without_a_connection() {
    let (port, accepted) = testkit::net::counting_listener().await;
    let http = crate::http(HttpOptions::default());
    for url in [
        format!("http://127.0.0.1:{port}"),
        format!("http://[::ffff:127.0.0.1]:{port}"),
        format!("http://localhost:{port}"),
        format!("https://localhost:{port}"),
        format!("http://2130706433:{port}"),
    ] {
        let store = StoreUrl::parse(&url).expect("store url");
        let anonymous = Client::anonymous(&http, store.clone());
        let err = anonymous.rest_index().await.expect_err("refused");
        let refused = err.refused().unwrap_or_else(|| panic!("{url}: {err:?}"));
        assert!(
            refused.addr.to_canonical().is_loopback(),
            "{url}: {refused}"
        );
        assert_eq!(err.class(), ErrorClass::Transient { retry_after: None });
        let keyed = Client::new(&http, store, keys());
        assert!(
            matches!(keyed.get_order(1).await, Err(Error::NotPublic(_))),
            "{url}"
        );
    }
    assert_eq!(accepted.count(), 0, "no connection was made");

    // The same listener, allowed as an operator would allow an internal network, is reached.
    // The listener holds the connection without answering: a short timeout ends the wait.
    let allowed = crate::http(HttpOptions {
        timeout: std::time::Duration::from_millis(500),
        ..crate::loopback_options()
    });
    let store = StoreUrl::parse(&format!("http://localhost:{port}")).expect("store url");
    let err = Client::anonymous(&allowed, store)
        .rest_index()
        .await
        .expect_err("the listener never answers HTTP");
    assert!(err.refused().is_none(), "{err:?}");
    assert!(accepted.count() >= 1);
}

#[tokio::test]
async fn the_rest_index_is_read_up_to_one_mebibyte() {
    let padding = "x".repeat(MAX_INDEX_BYTES + 1);
    let server = Server::http(move |_| {
        Reply::json(
            200,
            &serde_json::json!({"namespaces": ["wc/v3"], "padding": padding}),
        )
    })
    .await;
    let http = crate::http(crate::loopback_options());
    let client = Client::anonymous(&http, StoreUrl::parse(&server.base_url).expect("url"));
    let err = client.rest_index().await.expect_err("too large");
    assert!(
        matches!(
            err,
            Error::InvalidResponse {
                problem: BodyProblem::TooLarge,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_redirect_names_only_the_targets_scheme_and_host() {
    let server = Server::http(|_| Reply::Http {
        status: 302,
        headers: vec![(
            "Location".into(),
            "http://10.1.2.3:8080/internal/admin?token=abc".into(),
        )],
        body: Vec::new(),
    })
    .await;
    let http = crate::http(crate::loopback_options());
    let client = Client::anonymous(&http, StoreUrl::parse(&server.base_url).expect("url"));
    let err = client.rest_index().await.expect_err("redirected");
    match &err {
        Error::Redirected { location, .. } => {
            assert_eq!(location.as_deref(), Some("http://10.1.2.3:8080"))
        }
        other => panic!("{other:?}"),
    }
    let shown = err.to_string();
    assert!(
        !shown.contains("internal") && !shown.contains("token"),
        "{shown}"
    );
}
