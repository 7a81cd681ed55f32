//! `ttwc`: the one binary — the connector and the tools around it.
//!
//! Exit codes: 0 success, 1 an error (the cause chain is printed), 2 a usage error (clap).

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use connector::text::Lang;

#[derive(Debug, Parser)]
#[command(
    name = "ttwc",
    version,
    about = "Connects WooCommerce stores to TrackingTech"
)]
struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "TTWC_LOG_FORMAT")]
    log_format: LogFormat,
    /// Language of the texts shown (order errors, activity): es or en. Default: the language
    /// of LANG when it is Spanish or English, else Spanish.
    #[arg(long, global = true, value_name = "es|en", value_parser = parse_lang)]
    lang: Option<Lang>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the connector: the connection wizard, the dashboard, wc-auth and webhooks.
    Serve(cmd::serve::Args),
    /// Connect a store without the browser (operators).
    Connect(cmd::connect::Args),
    /// List every connection and its state.
    Status(cmd::status::Args),
    /// Disconnect a store: uninstall at TrackingTech, delete ttwc's webhook, wipe its secrets.
    Disconnect(cmd::disconnect::Args),
    /// Show a connection's activity, newest first.
    Activity(cmd::activity::Args),
    /// List orders with their state, attempts, last error, tracking id and TrackingTech status.
    Orders(cmd::orders::OrdersArgs),
    /// Queue failed or rejected orders again (built afresh from the store).
    Resend(cmd::orders::ResendArgs),
    /// Queue every trigger-status order since a date that was never sent.
    Backfill(cmd::orders::BackfillArgs),
    /// Everything on loopback — TrackingTech sandbox, WooCommerce simulator, connector — ready
    /// to connect a store in the browser.
    Demo(cmd::demo::Args),
    /// Run a TrackingTech-compatible sandbox server (for tests and the demo).
    Sandbox(cmd::sandbox::Args),
    /// Run the WooCommerce simulator (for tests and the demo).
    WooSim(cmd::woo_sim::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let lang = Lang::for_cli(cli.lang, std::env::var("LANG").ok().as_deref());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => cmd::serve::run(args).await,
            Command::Connect(args) => cmd::connect::run(args).await,
            Command::Status(args) => cmd::status::run(args).await,
            Command::Disconnect(args) => cmd::disconnect::run(args, lang).await,
            Command::Activity(args) => cmd::activity::run(args, lang).await,
            Command::Orders(args) => cmd::orders::orders(args, lang).await,
            Command::Resend(args) => cmd::orders::resend(args).await,
            Command::Backfill(args) => cmd::orders::backfill(args).await,
            Command::Demo(args) => cmd::demo::run(args).await,
            Command::Sandbox(args) => cmd::sandbox::run(args).await,
            Command::WooSim(args) => cmd::woo_sim::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The cause chain may quote a store or TrackingTech: shown as the tables show text
            // from outside, whole.
            let chain = format!("{e:#}");
            eprintln!("error: {}", connector::display::shown(&chain, usize::MAX));
            ExitCode::FAILURE
        }
    }
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    match s.trim() {
        "es" => Ok(Lang::Es),
        "en" => Ok(Lang::En),
        other => Err(format!("unknown language {other:?}; one of: es, en")),
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TTWC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
