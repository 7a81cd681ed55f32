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

/// Opens the app for `connect`, creating the database when there is none yet.
pub async fn open(config: Option<&std::path::Path>) -> anyhow::Result<App> {
    let settings = Settings::load(config).context("invalid settings")?;
    App::open(settings, AppOptions::default())
        .await
        .context("cannot start")
}

/// Opens the app for the operator commands that read or change what is there (`status`,
/// `orders`, `resend`, `backfill`, `disconnect`, `activity`): a SQLite file that does not exist
/// is a mistake of place or setting, never a database to create.
pub async fn open_existing(config: Option<&std::path::Path>) -> anyhow::Result<App> {
    let settings = Settings::load(config).context("invalid settings")?;
    if let Some(file) = settings.sqlite_file()
        && !file.exists()
    {
        anyhow::bail!(
            "there is no ttwc database at {} (TTWC_DATABASE_URL={}): run this where `ttwc serve` \
             runs, or set TTWC_DATABASE_URL (or database_url in ttwc.toml) to its database",
            file.display(),
            settings.database_url
        );
    }
    App::open(settings, AppOptions::default())
        .await
        .context("cannot start")
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut settings = Settings::load(args.config.as_deref()).context("invalid settings")?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {} (TTWC_LISTEN)", settings.listen))?;
    // Port 0 asks the system for a free port; everything after this uses the one it gave.
    settings.bound_to(
        listener
            .local_addr()
            .context("the listening socket has no address")?,
    );
    for warning in settings.public_url_warnings() {
        tracing::warn!(public_url = %settings.public_url, "real WooCommerce stores cannot use this public URL: {warning}");
    }
    let app = App::open(settings.clone(), AppOptions::default())
        .await
        .context("cannot start")?;
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
