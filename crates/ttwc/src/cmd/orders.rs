//! `ttwc orders`, `ttwc resend` and `ttwc backfill`: the outbox, for operators.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use connector::engine::backfill::Progress;
use connector::store::{OrderFilter, OrderState};
use connector::text::Lang;
use serde::Serialize;

use super::table::{Column, Table};

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
    /// As the store wrote it (the table shows it neutralized and cut).
    order_number: String,
    state: &'static str,
    attempts: i64,
    last_error: Option<String>,
    last_error_code: Option<&'static str>,
    last_error_params: Option<serde_json::Value>,
    tracking_id: Option<String>,
    tt_status: Option<String>,
}

pub async fn orders(args: OrdersArgs, lang: Lang) -> anyhow::Result<()> {
    let app = super::serve::open_existing(args.config.as_deref()).await?;
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
            order_number: o.order_number,
            state: o.state.as_str(),
            attempts: o.attempts,
            last_error: o.last_error.as_ref().map(|t| t.render(lang)),
            last_error_code: o.last_error.as_ref().map(|t| t.code.as_str()),
            last_error_params: o.last_error.as_ref().map(|t| t.params_json()),
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
    let mut table = Table::new(vec![
        Column::left("CONNECTION", 32),
        Column::right("ORDER", 10),
        Column::left("NUMBER", connector::display::ORDER_NUMBER),
        Column::left("STATE", 10),
        Column::right("TRY", 4),
        Column::left("TRACKING", 24),
        Column::left("STATUS", 20),
        Column::left("LAST ERROR", 80),
    ]);
    for l in &lines {
        table.row([
            l.connection_id.as_str(),
            &l.order_id.to_string(),
            &l.order_number,
            l.state,
            &l.attempts.to_string(),
            l.tracking_id.as_deref().unwrap_or("-"),
            l.tt_status.as_deref().unwrap_or("-"),
            l.last_error.as_deref().unwrap_or(""),
        ]);
    }
    print!("{}", table.render());
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
    let app = super::serve::open_existing(args.config.as_deref()).await?;
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

/// A day as `YYYY-MM-DD`, not after today (UTC), as the start of that day in UTC — the web's
/// backfill form takes the same.
fn parse_date(s: &str) -> Result<time::OffsetDateTime, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(s.trim(), &format)
        .map_err(|_| format!("{s:?} is not a date; expected YYYY-MM-DD, e.g. 2026-11-01"))?;
    if date > time::OffsetDateTime::now_utc().date() {
        return Err(format!(
            "{s:?} is in the future: choose today or an earlier day"
        ));
    }
    Ok(date.midnight().assume_utc())
}

pub async fn backfill(args: BackfillArgs) -> anyhow::Result<()> {
    let app = super::serve::open_existing(args.config.as_deref()).await?;
    let mut meter = Meter::new(std::io::stderr().is_terminal());
    let done = connector::engine::backfill::run(&app, &args.connection, args.since, |p| {
        meter.show(p);
    })
    .await;
    meter.finish();
    let done = done.with_context(|| format!("backfill of {} failed", args.connection))?;
    println!(
        "{} orders at the trigger status since {}; {} queued (the others were already known). A running `ttwc serve` sends them.",
        done.seen,
        args.since.date(),
        done.queued
    );
    Ok(())
}

/// Backfill's progress on stderr: a bar redrawn in place on a terminal; elsewhere (a log, a
/// pipe) a plain line at every tenth of the way, or every 100 orders when the store gave no
/// total, so a log holds a dozen lines rather than one per order.
struct Meter {
    terminal: bool,
    drawn: bool,
    /// The last step a plain line was written for.
    step: Option<u64>,
}

impl Meter {
    fn new(terminal: bool) -> Meter {
        Meter {
            terminal,
            drawn: false,
            step: None,
        }
    }

    fn show(&mut self, p: Progress) {
        let mut err = std::io::stderr();
        if self.terminal {
            let _ = write!(err, "\r{}", bar(p));
            let _ = err.flush();
            self.drawn = true;
        } else if let Some(line) = self.plain(p) {
            let _ = writeln!(err, "{line}");
        }
    }

    /// The plain line for `p`, when it starts a new step.
    fn plain(&mut self, p: Progress) -> Option<String> {
        let step = match p.total {
            Some(total) if total > 0 => p.seen.min(total) * 10 / total,
            _ => p.seen / 100,
        };
        if self.step.is_some_and(|last| step <= last) {
            return None;
        }
        self.step = Some(step);
        Some(match p.total {
            Some(total) if total > 0 => format!(
                "backfill: {} % ({} of {total} orders seen, {} queued)",
                step * 10,
                p.seen,
                p.queued
            ),
            _ => format!("backfill: {} orders seen, {} queued", p.seen, p.queued),
        })
    }

    /// Ends the bar's line, so what follows starts on a line of its own.
    fn finish(&self) {
        if self.drawn {
            eprintln!();
        }
    }
}

/// `backfill [#########-----------]  45 % 123 of 270 seen, 100 queued`
fn bar(p: Progress) -> String {
    const WIDTH: u64 = 20;
    match p.total {
        Some(total) if total > 0 => {
            let seen = p.seen.min(total);
            let filled = (seen * WIDTH / total) as usize;
            format!(
                "backfill [{}{}] {:>3} % {} of {total} seen, {} queued",
                "#".repeat(filled),
                "-".repeat(WIDTH as usize - filled),
                seen * 100 / total,
                p.seen,
                p.queued
            )
        }
        _ => format!("backfill: {} orders seen, {} queued", p.seen, p.queued),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_states_are_checked() {
        assert!(parse_date("2026-11-01").is_ok());
        assert!(parse_date("01/11/2026").unwrap_err().contains("YYYY-MM-DD"));
        let tomorrow = time::OffsetDateTime::now_utc().date() + time::Duration::days(1);
        assert!(
            parse_date(&tomorrow.to_string())
                .unwrap_err()
                .contains("is in the future")
        );
        assert_eq!(parse_state("rejected"), Ok(OrderState::Rejected));
        assert!(parse_state("lost").unwrap_err().contains("queued"));
    }

    fn progress(seen: u64, queued: u64, total: Option<u64>) -> Progress {
        Progress {
            seen,
            queued,
            total,
        }
    }

    #[test]
    fn off_a_terminal_backfill_writes_a_line_per_tenth() {
        let mut meter = Meter::new(false);
        let lines: Vec<String> = (0..=270)
            .filter_map(|seen| meter.plain(progress(seen, seen / 2, Some(270))))
            .collect();
        assert_eq!(lines.len(), 11, "{lines:#?}");
        assert_eq!(lines[0], "backfill: 0 % (0 of 270 orders seen, 0 queued)");
        assert_eq!(
            lines[1],
            "backfill: 10 % (27 of 270 orders seen, 13 queued)"
        );
        assert_eq!(
            lines[10],
            "backfill: 100 % (270 of 270 orders seen, 135 queued)"
        );
    }

    #[test]
    fn without_a_total_backfill_writes_a_line_per_hundred_orders() {
        let mut meter = Meter::new(false);
        let lines: Vec<String> = (0..=250)
            .filter_map(|seen| meter.plain(progress(seen, 0, None)))
            .collect();
        assert_eq!(
            lines,
            [
                "backfill: 0 orders seen, 0 queued",
                "backfill: 100 orders seen, 0 queued",
                "backfill: 200 orders seen, 0 queued",
            ]
        );
    }

    #[test]
    fn the_bar_fills_with_the_orders_seen_and_stops_at_full() {
        assert_eq!(
            bar(progress(135, 100, Some(270))),
            "backfill [##########----------]  50 % 135 of 270 seen, 100 queued"
        );
        assert_eq!(
            bar(progress(300, 1, Some(270))),
            "backfill [####################] 100 % 300 of 270 seen, 1 queued"
        );
        assert_eq!(
            bar(progress(5, 1, None)),
            "backfill: 5 orders seen, 1 queued"
        );
    }
}
