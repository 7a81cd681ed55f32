//! The client never panics on a malformed answer: it returns a transient or rejected error.

use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use trackingtech::{Error, ErrorClass, LoginRequest};

use crate::helpers::{EMAIL, PASSWORD, client_for};

/// Serves `answer` for the login path on a random port.
async fn serve(status: StatusCode, content_type: &'static str, body: &'static str) -> String {
    let app = Router::new().route(
        "/external/login",
        post(move || async move {
            (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

async fn login_against(
    status: StatusCode,
    content_type: &'static str,
    body: &'static str,
) -> Error {
    let base = serve(status, content_type, body).await;
    client_for(&base, Duration::from_secs(5))
        .login(&LoginRequest {
            email: EMAIL,
            password: PASSWORD,
            code: None,
        })
        .await
        .expect_err("a malformed answer is an error")
}

#[tokio::test]
async fn html_instead_of_json_is_transient() {
    let e = login_against(
        StatusCode::OK,
        "text/html",
        "<html><body>Cloudflare</body></html>",
    )
    .await;
    assert!(
        matches!(e, Error::InvalidResponse { status: 200, .. }),
        "{e:?}"
    );
    assert_eq!(e.class(), ErrorClass::Transient { retry_after: None });
}

#[tokio::test]
async fn truncated_json_is_transient() {
    let e = login_against(
        StatusCode::OK,
        "application/json",
        r#"{"token":"abc","user":{"id":"#,
    )
    .await;
    assert!(matches!(e, Error::InvalidResponse { .. }), "{e:?}");
}

#[tokio::test]
async fn wrong_types_are_an_invalid_response_that_does_not_echo_the_body() {
    let e = login_against(
        StatusCode::OK,
        "application/json",
        r#"{"token":12345,"user":"secret-name"}"#,
    )
    .await;
    assert!(matches!(e, Error::InvalidResponse { .. }), "{e:?}");
    assert!(!e.to_string().contains("secret-name"));
}

#[tokio::test]
async fn an_empty_error_body_keeps_its_class() {
    let e = login_against(StatusCode::UNPROCESSABLE_ENTITY, "text/plain", "").await;
    assert_eq!((e.status(), e.class()), (Some(422), ErrorClass::Rejected));
    let e = login_against(StatusCode::BAD_GATEWAY, "text/html", "<h1>502</h1>").await;
    assert_eq!(e.class(), ErrorClass::Transient { retry_after: None });
    let e = login_against(StatusCode::FORBIDDEN, "application/json", "[]").await;
    assert_eq!(e.class(), ErrorClass::Auth);
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let e = login_against(StatusCode::FOUND, "text/html", "").await;
    assert!(
        matches!(e, Error::InvalidResponse { status: 302, .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn an_answer_over_the_cap_is_not_read_whole() {
    // Valid JSON, one byte past the cap: it must be refused for its size, not parsed.
    let huge: &'static str = Box::leak(
        format!(
            "{{\"pad\":\"{}\"}}",
            "x".repeat(trackingtech::MAX_BODY_BYTES)
        )
        .into_boxed_str(),
    );
    let e = login_against(StatusCode::OK, "application/json", huge).await;
    match &e {
        Error::InvalidResponse {
            status: 200,
            reason,
        } => {
            assert!(reason.contains("larger than"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_guarded_client_refuses_a_tenant_at_a_private_address() {
    let base = serve(StatusCode::OK, "application/json", "{}").await;
    let guarded = trackingtech::Client::new(trackingtech::ClientOptions {
        policy: Some(egress::Policy::public_only()),
        ..trackingtech::ClientOptions::default()
    })
    .expect("client");
    // An IP literal is refused when the client is pointed at it.
    assert!(matches!(
        guarded.with_base_url(&base),
        Err(Error::NotPublic(_))
    ));
    // A name is refused when it is resolved, at the call.
    let named = base.replace("127.0.0.1", "localhost");
    let e = guarded
        .with_base_url(&named)
        .expect("a name passes until it is resolved")
        .login(&LoginRequest {
            email: EMAIL,
            password: PASSWORD,
            code: None,
        })
        .await
        .expect_err("refused");
    assert!(matches!(e, Error::NotPublic(_)), "{e:?}");
}
