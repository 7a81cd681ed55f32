//! `ttwc serve`: the connector's web app (wizard, dashboard, callbacks, webhooks, health).

use std::path::PathBuf;

use anyhow::Context;
use connector::{App, AppOptions, Settings};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Settings file (TOML); `ttwc.toml` in the working directory is read when it exists.
    /// Every setting can be overridden by its TTWC_* environment variable.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Opens the app the operator commands and `serve` share.
pub async fn open(config: Option<&std::path::Path>) -> anyhow::Result<App> {
    let settings = Settings::load(config).context("invalid settings")?;
    App::open(settings, AppOptions::default())
        .await
        .context("cannot start")
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let app = open(args.config.as_deref()).await?;
    let settings = app.settings().clone();
    for warning in settings.public_url_warnings() {
        tracing::warn!(public_url = %settings.public_url, "real WooCommerce stores cannot use this public URL: {warning}");
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {} (TTWC_LISTEN)", settings.listen))?;
    tracing::info!(listen = %settings.listen, public_url = %settings.public_url, "ttwc serving");
    println!(
        "ttwc is serving on http://{} — open {}",
        settings.listen, settings.public_url
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let engine = connector::engine::spawn(
        app.clone(),
        connector::engine::EngineConfig::from_settings(&settings),
        stopped,
    );
    let served = connector::web::serve(app, listener, super::shutdown_signal()).await;
    // Stop taking work; sends in flight finish and record their outcome.
    let _ = stop.send(true);
    let _ = engine.await;
    served.context("the web server failed")?;
    Ok(())
}
