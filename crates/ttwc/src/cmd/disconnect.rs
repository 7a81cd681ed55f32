//! `ttwc disconnect`: uninstall at TrackingTech, delete ttwc's webhook, forget the secrets, and
//! name the REST API key that stays in the store.

use std::path::PathBuf;

use anyhow::Context;
use connector::text::Lang;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Settings file (TOML), as for `serve`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The connection to disconnect (see `ttwc status`).
    #[arg(long, value_name = "ID")]
    connection: String,
}

pub async fn run(args: Args, lang: Lang) -> anyhow::Result<()> {
    let app = super::serve::open_existing(args.config.as_deref()).await?;
    app.store()
        .connection(&args.connection)
        .await?
        .with_context(|| {
            format!(
                "there is no connection {:?} (see `ttwc status`)",
                args.connection
            )
        })?;
    let report = connector::connection::disconnect(&app, &args.connection)
        .await
        .map_err(|e| anyhow::anyhow!("cannot disconnect {}: {e}", args.connection))?;
    if report.already_disconnected {
        println!("{} was already disconnected.", args.connection);
        return Ok(());
    }
    println!(
        "{} disconnected: uninstalled at TrackingTech: {}; webhook deleted in the store: {}; ttwc forgot its keys and tokens.",
        args.connection,
        if report.uninstalled { "yes" } else { "no" },
        if report.webhook_deleted { "yes" } else { "no" },
    );
    if let Some(key) = &report.key_left {
        println!("{}", key.text().shown(lang));
    }
    if !(report.uninstalled && report.webhook_deleted) {
        println!("Why: ttwc activity --connection {}", args.connection);
    }
    Ok(())
}
