//! `ttwc status`: every connection with its state, for operators.

use std::path::PathBuf;

use serde::Serialize;

use super::table::{Column, Table};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Settings file (TOML), as for `serve`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Line {
    id: String,
    store_url: String,
    state: &'static str,
    tenant_code: String,
    tt_store_id: serde_json::Value,
    tt_store_name: String,
    queue_depth: u64,
    last_sent_at: Option<String>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let app = super::serve::open_existing(args.config.as_deref()).await?;
    let mut lines = Vec::new();
    for row in app.store().connections(None).await? {
        lines.push(Line {
            queue_depth: app.store().queue_depth(&row.id).await?,
            tt_store_id: serde_json::from_str(&row.tt_store_id).unwrap_or(serde_json::Value::Null),
            last_sent_at: row.last_sent_at.and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            }),
            tt_store_name: row.tt_store_name,
            id: row.id,
            store_url: row.store_url,
            state: row.state.as_str(),
            tenant_code: row.tenant_code,
        });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&lines)?);
        return Ok(());
    }
    if lines.is_empty() {
        println!(
            "No connections yet. Connect a store with the wizard (ttwc serve) or `ttwc connect`."
        );
        return Ok(());
    }
    let mut table = Table::new(vec![
        Column::left("ID", 32),
        Column::left("STATE", 14),
        Column::left("COURIER", 12),
        Column::left("TRACKINGTECH STORE", 32),
        Column::right("QUEUE", 8),
        Column::left("LAST SENT", 25),
        Column::left("STORE URL", 60),
    ]);
    for l in &lines {
        let store = match &l.tt_store_id {
            serde_json::Value::String(id) => format!("{} ({id})", l.tt_store_name),
            serde_json::Value::Null => l.tt_store_name.clone(),
            id => format!("{} ({id})", l.tt_store_name),
        };
        table.row([
            l.id.as_str(),
            l.state,
            &l.tenant_code,
            store.trim(),
            &l.queue_depth.to_string(),
            l.last_sent_at.as_deref().unwrap_or("never"),
            &l.store_url,
        ]);
    }
    print!("{}", table.render());
    Ok(())
}
