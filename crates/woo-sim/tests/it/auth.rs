//! Authentication: OAuth 1.0a over http, Basic and query keys over https, key permissions.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use woo_sim::{Config, Seed};

use crate::helpers::*;

const RW_CK: &str = "ck_1111111111111111111111111111111111111111";
const RW_CS: &str = "cs_1111111111111111111111111111111111111111";
const R_CK: &str = "ck_2222222222222222222222222222222222222222";
const R_CS: &str = "cs_2222222222222222222222222222222222222222";
const W_CK: &str = "ck_3333333333333333333333333333333333333333";
const W_CS: &str = "cs_3333333333333333333333333333333333333333";

fn basic(ck: &str, cs: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{ck}:{cs}")))
}

async fn code_of(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or_default();
    (
        status,
        body["code"].as_str().unwrap_or("").to_owned(),
        body["message"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn http_ignores_basic_and_query_keys() {
    let h = sim().await;
    let c = client(&h);
    let orders = format!("{}/wp-json/wc/v3/orders", h.base_url());
    let resp = c
        .get(&orders)
        .header(
            "Authorization",
            basic(h.consumer_key(), h.consumer_secret()),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(
        code_of(resp).await,
        (
            401,
            "woocommerce_rest_cannot_view".into(),
            "Sorry, you cannot list resources.".into()
        )
    );
    let resp = c
        .get(format!(
            "{orders}?consumer_key={}&consumer_secret={}",
            h.consumer_key(),
            h.consumer_secret()
        ))
        .send()
        .await
        .expect("sent");
    assert_eq!(code_of(resp).await.1, "woocommerce_rest_cannot_view");
    h.shutdown().await;
}

#[tokio::test]
async fn oauth_sha1_sha256_query_and_header() {
    let h = sim().await;
    let c = client(&h);
    for algo in [Algo::Sha1, Algo::Sha256] {
        let mut o = OAuth::new(h.consumer_key(), h.consumer_secret());
        o.algo = algo;
        let u = signed_url(
            &h.base_url(),
            "GET",
            "/wp-json/wc/v3/orders",
            &[("per_page", "2")],
            &o,
        );
        let resp = c.get(u).send().await.expect("sent");
        assert_eq!(resp.status(), 200);
    }
    // Parameters in an Authorization: OAuth header instead of the query.
    let o = OAuth::new(h.consumer_key(), h.consumer_secret());
    let uri = format!("{}/wp-json/wc/v3/orders", h.base_url());
    let params = oauth_params("GET", &uri, &[("status", "completed")], &o);
    let header = format!(
        "OAuth {}",
        params
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", pct(v)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let resp = c
        .get(format!("{uri}?status=completed"))
        .header("Authorization", header)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap_or_default();
    assert!(
        body.as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|o| o["status"] == "completed"))
    );
    h.shutdown().await;
}

#[tokio::test]
async fn oauth_refusals() {
    let h = sim().await;
    let c = client(&h);
    let base = h.base_url();
    let path = "/wp-json/wc/v3/orders";

    let bad = OAuth::new(h.consumer_key(), "cs_wrong");
    let (s, code, msg) = code_of(
        c.get(signed_url(&base, "GET", path, &[], &bad))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(
        (s, code.as_str(), msg.as_str()),
        (
            401,
            "woocommerce_rest_authentication_error",
            "Invalid signature - provided signature does not match."
        )
    );

    let unknown = OAuth::new(
        "ck_9999999999999999999999999999999999999999",
        h.consumer_secret(),
    );
    let (s, _, msg) = code_of(
        c.get(signed_url(&base, "GET", path, &[], &unknown))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!((s, msg.as_str()), (401, "Consumer key is invalid."));

    // Replayed nonce: the same signed URL twice.
    let u = url(&h, "GET", path, &[]);
    assert_eq!(c.get(&u).send().await.expect("sent").status(), 200);
    let (s, _, msg) = code_of(c.get(&u).send().await.expect("sent")).await;
    assert_eq!(
        (s, msg.as_str()),
        (401, "Invalid nonce - nonce has already been used.")
    );

    // A timestamp 30 minutes old, correctly signed.
    let mut old = OAuth::new(h.consumer_key(), h.consumer_secret());
    old.timestamp -= 30 * 60;
    let (s, _, msg) = code_of(
        c.get(signed_url(&base, "GET", path, &[], &old))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!((s, msg.as_str()), (401, "Invalid timestamp."));

    // Some but not all OAuth parameters.
    let (s, code, msg) = code_of(
        c.get(format!(
            "{base}{path}?oauth_consumer_key={}&oauth_nonce=abc",
            h.consumer_key()
        ))
        .send()
        .await
        .expect("sent"),
    )
    .await;
    assert_eq!(s, 401);
    assert_eq!(code, "woocommerce_rest_authentication_missing_parameter");
    assert_eq!(
        msg,
        "Missing OAuth parameters oauth_timestamp, oauth_signature, oauth_signature_method"
    );

    // Signed for localhost while the home URL is 127.0.0.1.
    let local = base.replace("127.0.0.1", "localhost");
    let o = OAuth::new(h.consumer_key(), h.consumer_secret());
    let u = signed_url(&local, "GET", path, &[], &o).replace("localhost", "127.0.0.1");
    let (s, _, msg) = code_of(c.get(u).send().await.expect("sent")).await;
    assert_eq!(
        (s, msg.as_str()),
        (
            401,
            "Invalid signature - provided signature does not match."
        )
    );

    // Unsupported method.
    let u = url(&h, "GET", path, &[]).replace("HMAC-SHA256", "PLAINTEXT");
    let (_, _, msg) = code_of(c.get(u).send().await.expect("sent")).await;
    assert_eq!(msg, "Invalid signature - signature method is invalid.");
    h.shutdown().await;
}

/// `include=1,2` must be signed as `include%3D1%252C2` (pairs encoded twice, RFC 5849); a
/// signer that encodes the pairs only once fails on the first comma.
#[tokio::test]
async fn oauth_commas_need_the_pair_encoded_twice() {
    let h = sim().await;
    let c = client(&h);
    let (s, _, body) = get_json(&h, "/wp-json/wc/v3/products", &[("include", "11,12")]).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body.as_array().map(Vec::len), Some(2));

    // A naive signer: pct(k)=pct(v) joined by %26 without encoding the pair again.
    let o = OAuth::new(h.consumer_key(), h.consumer_secret());
    let uri = format!("{}/wp-json/wc/v3/products", h.base_url());
    let mut params: Vec<(String, String)> = vec![
        ("include".into(), "11,12".into()),
        ("oauth_consumer_key".into(), o.ck.into()),
        ("oauth_nonce".into(), o.nonce.clone()),
        ("oauth_signature_method".into(), "HMAC-SHA256".into()),
        ("oauth_timestamp".into(), o.timestamp.to_string()),
    ];
    params.sort();
    let joined = params
        .iter()
        .map(|(k, v)| format!("{}%3D{}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("%26");
    let base = format!("GET&{}&{joined}", pct(&uri));
    let sig = {
        use hmac::Mac;
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(format!("{}&", o.cs).as_bytes())
            .expect("key");
        m.update(base.as_bytes());
        STANDARD.encode(m.finalize().into_bytes())
    };
    params.push(("oauth_signature".into(), sig));
    let qs = params
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&");
    let (s, _, msg) = code_of(c.get(format!("{uri}?{qs}")).send().await.expect("sent")).await;
    assert_eq!(
        (s, msg.as_str()),
        (
            401,
            "Invalid signature - provided signature does not match."
        )
    );
    h.shutdown().await;
}

#[tokio::test]
async fn following_the_link_header_replays_the_nonce() {
    let h = sim().await;
    let (s, headers, _) = get_json(&h, "/wp-json/wc/v3/orders", &[("per_page", "2")]).await;
    assert_eq!(s, 200);
    let link = headers["link"].to_str().unwrap_or("").to_owned();
    let next = link
        .split(['<', '>'])
        .nth(1)
        .expect("a next URL")
        .to_owned();
    // WooCommerce checks the signature before the nonce: the changed `page` and the added
    // defaults break the signature first; either way the request is refused.
    let (s, code, _) = code_of(client(&h).get(next).send().await.expect("sent")).await;
    assert_eq!(
        (s, code.as_str()),
        (401, "woocommerce_rest_authentication_error")
    );
    h.shutdown().await;
}

fn keyed_seed() -> Seed {
    let text = format!(
        r#"{{"api_keys": [
            {{"consumer_key": "{RW_CK}", "consumer_secret": "{RW_CS}", "permissions": "read_write"}},
            {{"consumer_key": "{R_CK}", "consumer_secret": "{R_CS}", "permissions": "read"}},
            {{"consumer_key": "{W_CK}", "consumer_secret": "{W_CS}", "permissions": "write"}}
        ]}}"#
    );
    Seed::from_json(&text).expect("seed")
}

#[tokio::test]
async fn https_basic_and_query_keys() {
    let h = sim_with(|c: &mut Config| {
        c.seed = keyed_seed();
        c.tls = true;
    })
    .await;
    assert!(h.base_url().starts_with("https://127.0.0.1:"));
    assert!(h.cert_pem_path().is_some_and(|p| p.is_file()));
    assert!(h.banner().contains(RW_CK));
    assert_eq!(h.consumer_key(), RW_CK);
    let c = client(&h);
    let orders = format!("{}/wp-json/wc/v3/orders", h.base_url());

    let resp = c
        .get(&orders)
        .header("Authorization", basic(RW_CK, RW_CS))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    let resp = c
        .get(format!(
            "{orders}?consumer_key={RW_CK}&consumer_secret={RW_CS}"
        ))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    // Query keys take precedence over a wrong Basic header.
    let resp = c
        .get(format!(
            "{orders}?consumer_key={RW_CK}&consumer_secret={RW_CS}"
        ))
        .header("Authorization", basic(RW_CK, "cs_nope"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    // Known key, wrong secret.
    let resp = c
        .get(&orders)
        .header("Authorization", basic(RW_CK, "cs_nope"))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        code_of(resp).await,
        (
            401,
            "woocommerce_rest_authentication_error".into(),
            "Consumer secret is invalid.".into()
        )
    );
    // Unknown key: silently anonymous.
    let resp = c
        .get(&orders)
        .header("Authorization", basic("ck_unknown", "cs_x"))
        .send()
        .await
        .expect("sent");
    assert_eq!(code_of(resp).await.1, "woocommerce_rest_cannot_view");
    // OAuth still works over https.
    let u = signed_url(
        &h.base_url(),
        "GET",
        "/wp-json/wc/v3/orders",
        &[],
        &OAuth::new(RW_CK, RW_CS),
    );
    assert_eq!(c.get(u).send().await.expect("sent").status(), 200);

    // Permissions.
    let resp = c
        .post(format!("{}/wp-json/wc/v3/orders/1/notes", h.base_url()))
        .header("Authorization", basic(R_CK, R_CS))
        .json(&json!({"note": "x"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        code_of(resp).await,
        (
            401,
            "woocommerce_rest_authentication_error".into(),
            "The API key provided does not have write permissions.".into()
        )
    );
    let resp = c
        .get(&orders)
        .header("Authorization", basic(W_CK, W_CS))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        code_of(resp).await.2,
        "The API key provided does not have read permissions."
    );
    let resp = c
        .get(&orders)
        .header("Authorization", basic(R_CK, R_CS))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);

    // A host that strips Authorization: Basic fails, query keys still work.
    let (s, _) = admin(
        &h,
        "PUT",
        "/_sim/faults",
        Some(json!({"strip_authorization": true})),
    )
    .await;
    assert_eq!(s, 200);
    let resp = c
        .get(&orders)
        .header("Authorization", basic(RW_CK, RW_CS))
        .send()
        .await
        .expect("sent");
    assert_eq!(code_of(resp).await.0, 401);
    let resp = c
        .get(format!(
            "{orders}?consumer_key={RW_CK}&consumer_secret={RW_CS}"
        ))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    let (s, _) = admin(&h, "DELETE", "/_sim/faults", None).await;
    assert_eq!(s, 204);
    let resp = c
        .get(&orders)
        .header("Authorization", basic(RW_CK, RW_CS))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    h.shutdown().await;
}

#[tokio::test]
async fn fixed_api_key_from_config() {
    let h = sim_with(|c| c.api_key = Some((RW_CK.into(), RW_CS.into()))).await;
    assert_eq!((h.consumer_key(), h.consumer_secret()), (RW_CK, RW_CS));
    let (s, _, _) = get_json(&h, "/wp-json/wc/v3/orders", &[]).await;
    assert_eq!(s, 200);
    h.shutdown().await;
    let mut config = Config::new(Seed::builtin());
    config.api_key = Some(("ck_short".into(), RW_CS.into()));
    assert!(matches!(
        woo_sim::spawn(config).await,
        Err(woo_sim::Error::ApiKey(_))
    ));
}

#[tokio::test]
async fn random_keys_look_like_woocommerce_keys() {
    let h = sim().await;
    for (k, prefix) in [(h.consumer_key(), "ck_"), (h.consumer_secret(), "cs_")] {
        let hex = k.strip_prefix(prefix).expect("prefix");
        assert_eq!(hex.len(), 40);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    h.shutdown().await;
}
