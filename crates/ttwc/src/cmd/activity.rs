//! `ttwc activity`: what happened to a connection, newest first, in the reader's language.

use std::path::PathBuf;

use anyhow::Context;
use connector::text::Lang;
use serde::Serialize;

use super::table::{Column, Table};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Settings file (TOML), as for `serve`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The connection (see `ttwc status`).
    #[arg(long, value_name = "ID")]
    connection: String,
    /// How many entries, newest first.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    /// Print a JSON array: at, kind, message (rendered), code, params.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Entry {
    at: String,
    kind: String,
    message: String,
    code: &'static str,
    params: serde_json::Value,
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
    let entries: Vec<Entry> = app
        .store()
        .activity(&args.connection, args.limit)
        .await?
        .into_iter()
        .map(|a| Entry {
            at: a
                .at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            message: a.message.render(lang),
            code: a.message.code.as_str(),
            params: a.message.params_json(),
            kind: a.kind,
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(());
    }
    if entries.is_empty() {
        println!("No activity yet for {}.", args.connection);
        return Ok(());
    }
    let mut table = Table::new(vec![
        Column::left("AT (UTC)", 32),
        Column::left("KIND", 16),
        Column::left("MESSAGE", 200),
    ]);
    for e in &entries {
        table.row([e.at.as_str(), &e.kind, &e.message]);
    }
    print!("{}", table.render());
    Ok(())
}
