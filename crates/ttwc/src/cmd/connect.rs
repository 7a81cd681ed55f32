//! `ttwc connect`: the wizard's flow for operators, non-interactive but for the password.
//!
//! Like the wizard, it refuses a store another TrackingTech account holds; `--take-over` moves
//! the store to the account signing in, an operator's deliberate act recorded in the activity.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use connector::connection::{self, ConnectRequest, StepError};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Settings file (TOML), as for `serve`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The WooCommerce store's URL, e.g. https://tienda.cl
    #[arg(long, value_name = "URL")]
    store_url: String,
    /// The courier (tenant) code.
    #[arg(long, value_name = "CODE")]
    code: String,
    /// The TrackingTech account's email; the password comes from TTWC_PASSWORD or a prompt.
    #[arg(long, value_name = "EMAIL")]
    email: String,
    /// The TrackingTech store, by id or by exact name.
    #[arg(long, value_name = "STORE")]
    store: String,
    /// WooCommerce REST API consumer key (ck_…), read/write.
    #[arg(long, value_name = "CK")]
    woo_key: String,
    /// WooCommerce REST API consumer secret (cs_…).
    #[arg(
        long,
        value_name = "CS",
        env = "TTWC_WOO_SECRET",
        hide_env_values = true
    )]
    woo_secret: String,
    /// Print `{"id", "state"}` as JSON.
    #[arg(long)]
    json: bool,
    /// Connect the store even when another TrackingTech account holds its connection, for when
    /// that account cannot disconnect it: its queued orders are cancelled, its integration is
    /// uninstalled at TrackingTech, and the activity records the change of owner.
    #[arg(long)]
    take_over: bool,
}

/// A failed link for the operator; a store another account holds is named with what can be
/// done about it.
fn link_error(e: StepError, user: &connection::UserInfo) -> anyhow::Error {
    match e {
        StepError::HeldByAnotherAccount {
            store_url,
            owner,
            connection_id,
        } => anyhow::anyhow!(
            "{store_url} is connected to another TrackingTech account ({owner}, connection \
             {connection_id}); that account must disconnect it first, or an operator runs \
             `ttwc disconnect --connection {connection_id}`. To move the store to {} now, \
             run this again with --take-over (its queued orders are cancelled and its \
             integration is uninstalled at TrackingTech)",
            user.owner()
        ),
        e => anyhow::anyhow!("step 4 (WooCommerce keys, webhook and link): {e}"),
    }
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let app = super::serve::open(args.config.as_deref()).await?;
    let password = match std::env::var("TTWC_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ if std::io::stdin().is_terminal() => {
            rpassword::prompt_password(format!("TrackingTech password for {}: ", args.email))
                .context("cannot read the password")?
        }
        _ => anyhow::bail!("no password: set TTWC_PASSWORD or run in a terminal to be asked"),
    };
    let step = |what: &'static str| move |e: connection::StepError| anyhow::anyhow!("{what}: {e}");
    let started = connection::start(&app, &args.store_url, &args.code)
        .await
        .map_err(step("step 1 (store URL and courier code)"))?;
    let (user, token) = connection::login(
        &app,
        &started.tenant_code,
        &started.tenant_name,
        &started.api_base,
        &args.email,
        &password,
    )
    .await
    .map_err(step("step 2 (TrackingTech login)"))?;
    drop(password);
    // Refused before anything else is asked, as the wizard does once a store is chosen.
    let taking_from = match connection::check_owner(&app, &started.store_url, &user).await {
        Ok(()) => None,
        Err(StepError::HeldByAnotherAccount { owner, .. }) if args.take_over => Some(owner),
        Err(e) => return Err(link_error(e, &user)),
    };
    let stores = connection::stores(&app, &user, &token)
        .await
        .map_err(step("step 3 (TrackingTech stores)"))?;
    let wanted = args.store.trim();
    let store = stores
        .iter()
        .find(|s| s.id.to_string() == wanted)
        .or_else(|| stores.iter().find(|s| s.name == wanted))
        .with_context(|| {
            let known: Vec<String> = stores
                .iter()
                .map(|s| format!("{} ({})", s.id, s.name))
                .collect();
            format!(
                "--store {wanted:?} is not one of the account's stores: {}",
                known.join(", ")
            )
        })?;
    let credentials = woocommerce::Credentials::new(&args.woo_key, &args.woo_secret)
        .map_err(|e| anyhow::anyhow!("--woo-key/--woo-secret: {e}"))?;
    let req = ConnectRequest {
        started: &started,
        user: &user,
        token: &token,
        store,
        credentials,
        permissions: None,
    };
    let row = if args.take_over {
        connection::take_over(&app, req).await
    } else {
        connection::connect(&app, req).await
    }
    .map_err(|e| link_error(e, &user))?;
    if let Some(old) = &taking_from
        && !args.json
    {
        println!(
            "Took {} over from TrackingTech account {old} for {} (see `ttwc activity --connection {}`).",
            row.store_url,
            user.owner(),
            row.id
        );
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({"id": row.id, "state": row.state.as_str()})
        );
    } else {
        println!(
            "Connected {} as {} ({}).",
            connector::display::shown(&row.store_url, connector::display::URL),
            row.id,
            row.state.as_str()
        );
    }
    Ok(())
}
