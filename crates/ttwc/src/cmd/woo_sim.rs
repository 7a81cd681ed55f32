//! `ttwc woo-sim`: the WooCommerce simulator on a local address.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on; the store's home URL is `http://ADDR` (`https://` with --tls).
    #[arg(long, default_value = "127.0.0.1:8791")]
    listen: SocketAddr,
    /// Seed data (products, orders, keys) in JSON; the built-in store when absent.
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Fix the seeded REST API key as CONSUMER_KEY:CONSUMER_SECRET.
    #[arg(long, value_name = "CK:CS", value_parser = parse_api_key)]
    api_key: Option<(String, String)>,
    /// Serve https with a self-signed certificate (its path is printed at start).
    #[arg(long)]
    tls: bool,
    /// With --tls, serve a broken certificate: expired, wrong-host (for another name) or
    /// unknown-issuer (signed by an authority not in the printed cert.pem).
    #[arg(long, value_name = "FAULT", requires = "tls", value_parser = parse_tls_fault)]
    tls_fault: Option<woo_sim::TlsFault>,
    /// Let wc-auth POST keys to an http:// callback_url (real WooCommerce requires https).
    #[arg(long)]
    allow_http_callbacks: bool,
    /// Refuse webhook and callback URLs as stock WordPress does (loopback, private addresses,
    /// ports other than 80, 443 and 8080).
    #[arg(long)]
    strict_urls: bool,
    /// The store's language: the words of its wc-auth login and approval pages.
    #[arg(long, default_value = "es_CL", value_name = "es_CL|en_US")]
    locale: woo_sim::Locale,
}

fn parse_tls_fault(value: &str) -> Result<woo_sim::TlsFault, String> {
    woo_sim::TlsFault::parse(value)
        .ok_or_else(|| "expected expired, wrong-host or unknown-issuer".to_owned())
}

fn parse_api_key(value: &str) -> Result<(String, String), String> {
    let (ck, cs) = value
        .split_once(':')
        .ok_or_else(|| "expected CONSUMER_KEY:CONSUMER_SECRET, e.g. ck_…:cs_…".to_owned())?;
    if ck.is_empty() || cs.is_empty() {
        return Err("both the consumer key and the consumer secret must be non-empty".to_owned());
    }
    Ok((ck.to_owned(), cs.to_owned()))
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let seed = match &args.seed {
        Some(path) => woo_sim::Seed::load(path)
            .with_context(|| format!("cannot use the seed file {}", path.display()))?,
        None => woo_sim::Seed::builtin(),
    };
    let mut config = woo_sim::Config::new(seed);
    config.api_key = args.api_key;
    config.tls = args.tls;
    config.tls_fault = args.tls_fault;
    config.allow_http_callbacks = args.allow_http_callbacks;
    config.strict_urls = args.strict_urls;
    config.locale = args.locale;
    let handle = woo_sim::bind(config, args.listen)
        .await
        .with_context(|| format!("cannot start the WooCommerce simulator on {}", args.listen))?;
    println!("{}", handle.banner());
    super::shutdown_signal().await;
    handle.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse_api_key, parse_tls_fault};

    #[test]
    fn api_keys_need_both_halves() {
        assert_eq!(
            parse_api_key("ck_1:cs_2"),
            Ok(("ck_1".into(), "cs_2".into()))
        );
        assert!(parse_api_key("ck_1").is_err());
        assert!(parse_api_key(":cs_2").is_err());
        assert!(parse_api_key("ck_1:").is_err());
    }

    #[test]
    fn tls_faults_are_named_as_the_readme_says() {
        assert_eq!(parse_tls_fault("expired"), Ok(woo_sim::TlsFault::Expired));
        assert_eq!(
            parse_tls_fault("wrong-host"),
            Ok(woo_sim::TlsFault::WrongHost)
        );
        assert_eq!(
            parse_tls_fault("unknown-issuer"),
            Ok(woo_sim::TlsFault::UnknownIssuer)
        );
        assert!(parse_tls_fault("self-signed").is_err());
    }
}
