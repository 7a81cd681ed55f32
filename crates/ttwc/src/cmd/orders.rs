//! `ttwc orders`, `ttwc resend` and `ttwc backfill`: the outbox, for operators.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use connector::store::{OrderFilter, OrderState};
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub struct OrdersArgs {
    /// Settings file (TOML), as for `serve`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Only this connection's orders.
    #[arg(long, value_name = "ID")]
    connection: Option<String>,
    /// Only orders in this state: queued, sending, sent, failed, rejected, skipped, cancelled.
    #[arg(long, value_name = "STATE", value_parser = parse_state)]
    state: Option<OrderState>,
    /// How many, newest first (0 = all).
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// Print a JSON array.
    #[arg(long)]
    json: bool,
}

fn parse_state(s: &str) -> Result<OrderState, String> {
    OrderState::parse(s).ok_or_else(|| {
        let all: Vec<&str> = OrderState::ALL.iter().map(|s| s.as_str()).collect();
        format!("unknown state {s:?}; one of: {}", all.join(", "))
    })
}

#[derive(Serialize)]
struct Line {
    connection_id: String,
    order_id: i64,
    state: &'static str,
    attempts: i64,
    last_error: Option<String>,
    tracking_id: Option<String>,
    tt_status: Option<String>,
}

pub async fn orders(args: OrdersArgs) -> anyhow::Result<()> {
    let app = super::serve::open(args.config.as_deref()).await?;
    if let Some(id) = &args.connection {
        known(&app, id).await?;
    }
    let rows = app
        .store()
        .orders(&OrderFilter {
            connection_id: args.connection.clone(),
            state: args.state,
            limit: args.limit,
            offset: 0,
        })
        .await?;
    let lines: Vec<Line> = rows
        .into_iter()
        .map(|o| Line {
            connection_id: o.connection_id,
            order_id: o.order_id,
            state: o.state.as_str(),
            attempts: o.attempts,
            last_error: o.last_error,
            tracking_id: o.tracking_id,
            tt_status: o.tt_status,
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&lines)?);
        return Ok(());
    }
    if lines.is_empty() {
        println!("No orders.");
        return Ok(());
    }
    println!(
        "{:<26} {:>8} {:<10} {:>4} {:<18} {:<16} LAST ERROR",
        "CONNECTION", "ORDER", "STATE", "TRY", "TRACKING", "STATUS"
    );
    for l in lines {
        println!(
            "{:<26} {:>8} {:<10} {:>4} {:<18} {:<16} {}",
            l.connection_id,
            l.order_id,
            l.state,
            l.attempts,
            l.tracking_id.as_deref().unwrap_or("-"),
            l.tt_status.as_deref().unwrap_or("-"),
            l.last_error.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

async fn known(app: &connector::App, id: &str) -> anyhow::Result<()> {
    app.store()
        .connection(id)
        .await?
        .with_context(|| format!("there is no connection {id:?} (see `ttwc status`)"))?;
    Ok(())
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["order", "all"])))]
pub struct ResendArgs {
    /// Settings file (TOML), as for `serve`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[arg(long, value_name = "ID")]
    connection: String,
    /// Resend this WooCommerce order (failed, rejected, skipped or cancelled).
    #[arg(long, value_name = "ORDER_ID")]
    order: Option<i64>,
    /// Resend every failed or rejected order of the connection.
    #[arg(long)]
    all: bool,
}

pub async fn resend(args: ResendArgs) -> anyhow::Result<()> {
    let app = super::serve::open(args.config.as_deref()).await?;
    known(&app, &args.connection).await?;
    let n = app.store().resend(&args.connection, args.order).await?;
    match (args.order, n) {
        (Some(order), 0) => anyhow::bail!(
            "order {order} of {} is not failed, rejected, skipped or cancelled (see `ttwc orders --connection {}`)",
            args.connection,
            args.connection
        ),
        _ => println!(
            "{n} order(s) queued again; a running `ttwc serve` sends them, built afresh from the store."
        ),
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct BackfillArgs {
    /// Settings file (TOML), as for `serve`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[arg(long, value_name = "ID")]
    connection: String,
    /// Orders created on or after this date (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    since: time::OffsetDateTime,
}

fn parse_date(s: &str) -> Result<time::OffsetDateTime, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s.trim(), &format)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| format!("{s:?} is not a date; expected YYYY-MM-DD, e.g. 2026-11-01"))
}

pub async fn backfill(args: BackfillArgs) -> anyhow::Result<()> {
    let app = super::serve::open(args.config.as_deref()).await?;
    let mut out = std::io::stderr();
    let done = connector::engine::backfill::run(&app, &args.connection, args.since, |p| {
        let _ = write!(
            out,
            "\rbackfill: {} orders seen, {} queued",
            p.seen, p.queued
        );
        let _ = out.flush();
    })
    .await
    .with_context(|| format!("backfill of {} failed", args.connection))?;
    eprintln!();
    println!(
        "{} orders at the trigger status since {}; {} queued (the others were already known). A running `ttwc serve` sends them.",
        done.seen,
        args.since.date(),
        done.queued
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_states_are_checked() {
        assert!(parse_date("2026-11-01").is_ok());
        assert!(parse_date("01/11/2026").unwrap_err().contains("YYYY-MM-DD"));
        assert_eq!(parse_state("rejected"), Ok(OrderState::Rejected));
        assert!(parse_state("lost").unwrap_err().contains("queued"));
    }
}
