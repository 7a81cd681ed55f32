//! `ttwc sandbox`: the TrackingTech-compatible server on a local address.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on; clients use `http://ADDR` as their TrackingTech base URL.
    #[arg(long, default_value = "127.0.0.1:8790")]
    listen: SocketAddr,
    /// Fixtures (tenants, accounts, stores) in TOML; the built-in set when absent.
    #[arg(long, value_name = "FILE")]
    fixtures: Option<PathBuf>,
    /// Bearer token for the `/_sandbox/` admin API; a random one is printed when absent.
    #[arg(long, value_name = "TOKEN", env = "TTWC_SANDBOX_ADMIN_TOKEN")]
    admin_token: Option<String>,
    /// Keep the sandbox's state in this file across restarts (in memory when absent).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Lifetime of login tokens, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    token_ttl: u64,
    /// Every SECS seconds each shipment not yet final moves one status forward; 0 = only by
    /// the admin API.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    advance_every: u64,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let fixtures = match &args.fixtures {
        Some(path) => sandbox::Fixtures::load(path)
            .with_context(|| format!("cannot use the fixtures file {}", path.display()))?,
        None => sandbox::Fixtures::builtin(),
    };
    let mut config = sandbox::Config::new(fixtures);
    if let Some(token) = args.admin_token {
        anyhow::ensure!(!token.trim().is_empty(), "--admin-token must not be empty");
        config.admin_token = token;
    }
    config.state_file = args.state;
    config.token_ttl = Duration::from_secs(args.token_ttl.max(1));
    config.advance_every =
        (args.advance_every > 0).then(|| Duration::from_secs(args.advance_every));
    let handle = sandbox::bind(config, args.listen)
        .await
        .with_context(|| format!("cannot start the sandbox on {}", args.listen))?;
    println!("{}", handle.banner());
    super::shutdown_signal().await;
    handle.shutdown().await;
    Ok(())
}
