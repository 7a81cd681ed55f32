//! The wc-auth handshake driven like a browser: login, approve or deny, callback, redirect.

use std::sync::atomic::Ordering;

use serde_json::Value;

use crate::helpers::*;

fn authorize_url(h: &woo_sim::Handle, callback: &str, scope: &str) -> String {
    format!(
        "{}/wc-auth/v1/authorize?app_name={}&scope={scope}&user_id=merchant-42&return_url={}&callback_url={}",
        h.base_url(),
        pct("ttwc"),
        pct("https://ttwc.example/return?x=1"),
        pct(callback),
    )
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn html_attr_by_id(html: &str, id: &str, attr: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let tag_start = html[..at].rfind('<').unwrap_or(0);
    let tag_end = at + html[at..].find('>').unwrap_or(0);
    let tag = &html[tag_start..tag_end];
    let key = format!("{attr}=\"");
    let v = tag.find(&key).map(|i| &tag[i + key.len()..]).unwrap_or("");
    v[..v.find('"').unwrap_or(0)].replace("&amp;", "&")
}

/// Logs in through the form and returns the session cookie and the grant page.
async fn login(h: &woo_sim::Handle, start: &str) -> (String, String) {
    let c = client(h);
    let resp = c.get(start).send().await.expect("sent");
    assert_eq!(resp.status(), 302);
    let login_url = location(&resp);
    assert!(login_url.contains("/wc-auth/v1/login/?"), "{login_url}");
    let resp = c.get(&login_url).send().await.expect("sent");
    assert_eq!(resp.status(), 200);
    let form = resp.text().await.unwrap_or_default();
    assert!(
        form.contains("id=\"username\"")
            && form.contains("id=\"password\"")
            && form.contains("id=\"wc-auth-login\"")
    );
    let action = html_attr_by_id(&form, "wc-auth-login", "id");
    assert_eq!(action, "wc-auth-login");
    // Wrong password: the form again with an error.
    let resp = c
        .post(&login_url)
        .form(&[("username", "admin"), ("password", "nope")])
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap_or_default().contains("incorrect"));
    let resp = c
        .post(&login_url)
        .form(&[("username", "admin"), ("password", "admin1234")])
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 302);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .to_owned();
    let authorize = location(&resp);
    assert!(authorize.contains("/wc-auth/v1/authorize/?"));
    let resp = c
        .get(&authorize)
        .header("cookie", &cookie)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    (cookie, resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn login_approve_callback_redirect() {
    let h = sim_with(|c| {
        c.allow_http_callbacks = true;
        c.locale = woo_sim::Locale::EnUs;
    })
    .await;
    let cb = receiver().await;
    let (cookie, page) = login(&h, &authorize_url(&h, &cb.url(), "read_write")).await;
    let approve = html_attr_by_id(&page, "wc-auth-approve", "href");
    assert!(approve.contains("/wc-auth/v1/access_granted/?") && approve.contains("wc_auth_nonce="));
    let resp = client(&h)
        .get(&approve)
        .header("cookie", &cookie)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 302);
    assert_eq!(
        location(&resp),
        "https://ttwc.example/return?x=1&success=1&user_id=merchant-42"
    );

    let posts = cb.all();
    assert_eq!(posts.len(), 1);
    let p = &posts[0];
    assert_eq!(p.header("content-type"), "application/json;charset=UTF-8");
    assert_eq!(
        p.header("user-agent"),
        format!("WordPress/7.0; {}", h.base_url())
    );
    let raw = String::from_utf8_lossy(&p.body).into_owned();
    assert!(
        raw.starts_with("{\"key_id\":") && raw.contains("\"user_id\":\"merchant-42\""),
        "{raw}"
    );
    let order: Vec<usize> = [
        "key_id",
        "user_id",
        "consumer_key",
        "consumer_secret",
        "key_permissions",
    ]
    .iter()
    .map(|k| raw.find(&format!("\"{k}\"")).unwrap_or(usize::MAX))
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "members in WooCommerce's order: {raw}"
    );
    let body: Value = serde_json::from_slice(&p.body).expect("json");
    assert_eq!(body["key_permissions"], "read_write");
    let (ck, cs) = (
        body["consumer_key"].as_str().unwrap_or(""),
        body["consumer_secret"].as_str().unwrap_or(""),
    );
    assert!(ck.starts_with("ck_") && ck.len() == 43 && cs.starts_with("cs_") && cs.len() == 43);
    // The new key works.
    let u = signed_url(
        &h.base_url(),
        "GET",
        "/wp-json/wc/v3/orders",
        &[],
        &OAuth::new(ck, cs),
    );
    assert_eq!(client(&h).get(u).send().await.expect("sent").status(), 200);
    // And is listed with WooCommerce's description.
    let (_, keys) = admin(&h, "GET", "/_sim/keys", None).await;
    let desc = keys[1]["description"].as_str().unwrap_or("");
    assert!(
        desc.starts_with("ttwc - API (") && desc.len() == "ttwc - API (2026-01-31 14:05:09)".len(),
        "{desc}"
    );
    assert_eq!(keys[1]["truncated_key"], ck[ck.len() - 7..]);
    h.shutdown().await;
}

#[tokio::test]
async fn deny_and_callback_failures() {
    let h = sim_with(|c| {
        c.allow_http_callbacks = true;
        c.locale = woo_sim::Locale::EnUs;
    })
    .await;
    let cb = receiver().await;
    let (cookie, page) = login(&h, &authorize_url(&h, &cb.url(), "read")).await;
    let deny = html_attr_by_id(&page, "wc-auth-deny", "href");
    assert_eq!(
        deny,
        "https://ttwc.example/return?x=1&success=0&user_id=merchant-42"
    );

    // A callback answering 201 is a failure: 401 page, key deleted.
    cb.delivery_status.store(201, Ordering::SeqCst);
    cb.ping_status.store(201, Ordering::SeqCst);
    let approve = html_attr_by_id(&page, "wc-auth-approve", "href");
    let resp = client(&h)
        .get(&approve)
        .header("cookie", &cookie)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 401);
    let text = resp.text().await.unwrap_or_default();
    assert!(text.contains("Error: An error occurred in the request and at the time were unable to send the consumer data."), "{text}");
    let (_, keys) = admin(&h, "GET", "/_sim/keys", None).await;
    assert_eq!(
        keys.as_array().map(Vec::len),
        Some(1),
        "the key was deleted"
    );
    // A forged nonce.
    let forged = approve.replace("wc_auth_nonce=", "wc_auth_nonce=x");
    let resp = client(&h)
        .get(&forged)
        .header("cookie", &cookie)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 401);
    assert!(
        resp.text()
            .await
            .unwrap_or_default()
            .contains("Invalid nonce verification")
    );
    h.shutdown().await;
}

#[tokio::test]
async fn validation_errors() {
    let h = sim_with(|c| c.locale = woo_sim::Locale::EnUs).await;
    let c = client(&h);
    // http callback refused without allow_http_callbacks.
    let resp = c
        .get(authorize_url(&h, "http://127.0.0.1:9/cb", "read_write"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 401);
    assert!(
        resp.text()
            .await
            .unwrap_or_default()
            .contains("Error: The callback_url needs to be over SSL.")
    );
    let resp = c
        .get(authorize_url(&h, "https://ttwc.example/cb", "admin"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 401);
    assert!(
        resp.text()
            .await
            .unwrap_or_default()
            .contains("Error: Invalid scope admin.")
    );
    let resp = c
        .get(format!(
            "{}/wc-auth/v1/authorize?app_name=x&scope=read",
            h.base_url()
        ))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 401);
    assert!(
        resp.text()
            .await
            .unwrap_or_default()
            .contains("Error: Missing parameter user_id.")
    );
    // A callback without a scheme becomes https://.
    let resp = c
        .get(authorize_url(&h, "ttwc.example/cb", "read"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 302);
    // access_granted without a session.
    let resp = c
        .get(
            authorize_url(&h, "https://ttwc.example/cb", "read")
                .replace("/authorize?", "/access_granted?"),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 401);
    assert!(
        resp.text()
            .await
            .unwrap_or_default()
            .contains("You do not have permission to access this page")
    );
    h.shutdown().await;
}

/// The login page for `authorize_url`'s parameters, fetched at `path` (`login` or `login/`).
async fn login_page(h: &woo_sim::Handle, path: &str) -> (u16, String) {
    let start = authorize_url(h, "https://ttwc.example/cb", "read_write");
    let query = start.split_once('?').map(|(_, q)| q).unwrap_or("");
    let resp = client(h)
        .get(format!("{}/wc-auth/v1/{path}?{query}", h.base_url()))
        .send()
        .await
        .expect("sent");
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn both_url_forms_serve_the_login_page_with_a_cancel_link() {
    let h = sim_with(|c| c.locale = woo_sim::Locale::EnUs).await;
    let (s1, with_slash) = login_page(&h, "login/").await;
    let (s2, without) = login_page(&h, "login").await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(with_slash, without);
    assert!(with_slash.contains("wc-auth-login-button"), "{with_slash}");
    assert!(with_slash.contains("ttwc would like to connect to your store"));
    let cancel = with_slash
        .split("class=\"wc-auth-cancel\"")
        .next()
        .and_then(|head| head.rsplit("href=\"").next())
        .map(|h| h.trim_end_matches(['"', ' ']).replace("&amp;", "&"))
        .expect("cancel link");
    assert_eq!(
        cancel,
        "https://ttwc.example/return?x=1&success=0&user_id=merchant-42"
    );
    assert!(
        with_slash.contains(">cancel and return to ttwc</a>"),
        "{with_slash}"
    );
    // The authorize redirect goes to the trailing-slash form, as WooCommerce builds it.
    let resp = client(&h)
        .get(authorize_url(&h, "https://ttwc.example/cb", "read_write"))
        .send()
        .await
        .expect("sent");
    assert!(location(&resp).starts_with(&format!("{}/wc-auth/v1/login/?", h.base_url())));
    h.shutdown().await;
}

#[tokio::test]
async fn the_pages_speak_the_site_language() {
    let es = sim().await;
    let (_, page) = login_page(&es, "login/").await;
    assert!(page.contains("<html lang=\"es-CL\">"), "{page}");
    assert!(
        page.contains("ttwc quiere conectarse a tu tienda"),
        "{page}"
    );
    assert!(page.contains("cancela y vuelve a ttwc</a>"), "{page}");
    assert!(!page.contains("would like to connect"));
    es.shutdown().await;
    let en = sim_with(|c| c.locale = woo_sim::Locale::EnUs).await;
    let (_, page) = login_page(&en, "login/").await;
    assert!(page.contains("<html lang=\"en-US\">"), "{page}");
    assert!(!page.contains("quiere conectarse"));
    en.shutdown().await;
    assert_eq!(
        "en_US".parse::<woo_sim::Locale>(),
        Ok(woo_sim::Locale::EnUs)
    );
    assert!("fr_FR".parse::<woo_sim::Locale>().is_err());
}
