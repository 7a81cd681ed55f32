//! The state file, and fixtures loaded from files.

use reqwest::StatusCode;
use sandbox::{Config, Error, FixtureError, Fixtures};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("sandbox-state.json");
    let with_file = |c: &mut Config| c.state_file = Some(file.clone());

    let app = spawn_with(with_file).await;
    let (customer, token) = app.link().await;
    let body = order_body(&customer, 314);
    let (status, first) = app.send(&token, "pi", &body).await;
    assert_eq!(status, StatusCode::CREATED);
    app.handle.shutdown().await;
    assert!(file.exists(), "state file written");
    assert!(
        !dir.path().join("sandbox-state.json.tmp").exists(),
        "no temporary file left behind"
    );

    let app = spawn_with(with_file).await;
    let orders = app.admin_orders().await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["order"], body);
    assert_eq!(orders[0]["requests"], 1);
    // The integration token, the idempotency record and the status all came back.
    let (status, replay) = app.send(&token, "pi", &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replay, first);
    let (_, statuses) = app.statuses(&token, &[314]).await;
    assert_eq!(statuses["data"][0]["tracking_id"], first["tracking_id"]);
    // Linking the same store again finds the same customer; new orders get new ids.
    let (again, _) = app.link().await;
    assert_eq!(again, customer);
    let (_, next) = app.send(&token, "e", &order_body(&customer, 271)).await;
    assert_ne!(next["id"], first["id"]);
    app.handle.shutdown().await;
}

#[tokio::test]
async fn every_change_is_on_disk_before_shutdown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("state.json");
    let app = spawn_with(|c| c.state_file = Some(file.clone())).await;
    let (customer, token) = app.link().await;
    app.send(&token, "k", &order_body(&customer, 1)).await;
    let text = std::fs::read_to_string(&file).expect("state file exists while running");
    let saved: serde_json::Value = serde_json::from_str(&text).expect("state file is JSON");
    assert_eq!(saved["data"]["orders"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_corrupt_state_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("state.json");
    std::fs::write(&file, "{ not json").expect("write");
    let mut config = Config::new(Fixtures::builtin());
    config.state_file = Some(file.clone());
    match sandbox::spawn(config).await {
        Err(error @ Error::StateCorrupt { .. }) => {
            assert!(error.to_string().contains("state.json"), "{error}");
        }
        other => panic!("expected StateCorrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn fixtures_load_from_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("fixtures.toml");
    std::fs::write(
        &file,
        r#"
[[tenants]]
code = "SUR"
name = "Courier Sur"
active = true

[[accounts]]
email = "tienda@sur.test"
password = "sur-secreta"
name = "Tienda Sur"
  [[accounts.stores]]
  id = 7
  name = "Bodega Temuco"
  address = "Av. Alemania 0671, Temuco"
"#,
    )
    .expect("write");
    let fixtures = Fixtures::load(&file).expect("fixtures load");
    assert!(
        fixtures
            .describe()
            .contains("tienda@sur.test / sur-secreta")
    );
    let app = spawn_with(|c| c.fixtures = fixtures).await;
    let (status, body) = app
        .post(
            "/external/login",
            None,
            &json!({"email": "tienda@sur.test", "password": "sur-secreta", "code": "SUR"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let token = body["token"].as_str().unwrap_or_default().to_owned();
    let (_, stores) = app.get("/external/stores", Some(&token)).await;
    assert_eq!(stores["data"][0]["name"], "Bodega Temuco");
    let (status, _) = app
        .post(
            "/external/login",
            None,
            &json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the built-in account is gone"
    );
}

#[test]
fn bad_fixtures_name_the_problem() {
    let missing = Fixtures::load(std::path::Path::new("/definitely/not/here.toml"));
    assert!(matches!(missing, Err(FixtureError::Read { .. })));

    let no_password = "[[accounts]]\nemail = \"a@b.test\"\nname = \"A\"\n";
    let error = Fixtures::from_toml(no_password)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("password"), "{error}");

    let wrong_type = "[[accounts]]\nemail = \"a@b.test\"\npassword = \"p\"\nname = \"A\"\n[[accounts.stores]]\nid = \"x\"\nname = \"S\"\naddress = \"A\"\n";
    let error = Fixtures::from_toml(wrong_type)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("id"), "{error}");

    let bad_url = "[[tenants]]\ncode = \"A\"\nname = \"A\"\napi_url = \"not a url\"\n";
    let error = Fixtures::from_toml(bad_url)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("tenants[0].api_url"), "{error}");
}
