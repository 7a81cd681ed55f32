//! The whole wizard in a real headless Chromium, in Spanish and in English, against the sandbox
//! and woo-sim, ending connected; a screenshot of the last page is kept in `artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (scripts/test.sh installs them). Without
//! them the test is recorded as skipped (`testkit::skipped`) — unless `TTWC_REQUIRE_BROWSER=1`
//! (set by scripts/test.sh), where their absence fails it.

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use testkit::chromedriver::{self, Chromedriver};

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(30);

async fn browser(driver: &Chromedriver) -> Client {
    ClientBuilder::rustls()
        .expect("tls")
        .capabilities(driver.capabilities(1200, 1400))
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

async fn fill(c: &Client, css: &str, text: &str) {
    let el = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    el.clear().await.ok();
    el.send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
}

async fn click(c: &Client, css: &str) {
    let el = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    el.click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

async fn text_of(c: &Client, css: &str) -> String {
    let el = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    el.text().await.unwrap_or_default()
}

async fn wizard_in(lang: &str, expected_title: &str, expected_done: &str) {
    let test = format!("browser::the_wizard_in_a_real_browser ({lang})");
    let Some(driver) = chromedriver::start(&test) else {
        return;
    };
    let t = spawn_app().await;
    let c = browser(&driver).await;
    // Closing the session is best effort; the driver's Drop ends the browser in any case.
    async {
        c.goto(&format!("{}/connect?lang={lang}", t.base))
            .await
            .expect("wizard page");
        assert!(text_of(&c, "#disclosure h2").await.contains(expected_title));
        fill(&c, "#store_url", &t.woo.base_url()).await;
        fill(&c, "#code", "demo").await;
        click(&c, "#start-submit").await;
        fill(&c, "#step-login:not([hidden]) #email", EMAIL).await;
        fill(&c, "#password", PASSWORD).await;
        click(&c, "#login-submit").await;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#store-list input[type=radio]"))
            .await
            .expect("stores listed");
        click(&c, "#store-submit").await;
        click(&c, "#step-keys:not([hidden]) #authorize[href^='http']").await;
        // WooCommerce's own pages: log in as the store admin, approve.
        fill(&c, "#username", "admin").await;
        fill(&c, "#password", "admin1234").await;
        click(&c, "#wc-auth-login").await;
        click(&c, "#wc-auth-approve").await;
        // Back in ttwc, the wizard finishes with the keys WooCommerce handed over.
        let done = text_of(&c, "#step-done:not([hidden]) #done-title").await;
        assert_eq!(done, expected_done);
        let png = c.screenshot().await.expect("screenshot");
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../artifacts"));
        std::fs::create_dir_all(&dir).expect("artifacts dir");
        std::fs::write(dir.join(format!("browser-wizard-{lang}.png")), png)
            .expect("screenshot written");
    }
    .await;
    let _ = c.close().await;
    let rows = t.app.store().connections(None).await.expect("list");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state.as_str(), "connected");
    assert_eq!(t.woo_webhooks().await.len(), 1);
}

#[tokio::test]
async fn the_wizard_in_a_real_browser_in_spanish() {
    wizard_in("es", "Qué se envía a TrackingTech", "¡Tienda conectada!").await;
}

#[tokio::test]
async fn the_wizard_in_a_real_browser_in_english() {
    wizard_in("en", "What is sent to TrackingTech", "Store connected!").await;
}
