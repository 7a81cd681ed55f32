//! Which URLs WordPress's `wp_safe_remote_*` agrees to call (`wp_http_validate_url`).
//!
//! By default the simulator only checks the scheme, so that tests and the demo can receive
//! deliveries on `127.0.0.1:<any port>`. With `strict_urls` it applies WordPress's rules:
//! loopback and private addresses refused unless they are the store's own host, explicit ports
//! other than 80, 443 and 8080 refused unless they are the store's own host and port. A refused
//! URL is a failed delivery (WordPress returns a `WP_Error`, response code 0).

use std::net::IpAddr;

/// Checks `target` for a request made by the store at `home`.
pub(crate) async fn check(target: &str, home: &str, strict: bool) -> Result<(), String> {
    let invalid = || "A valid URL was not provided.".to_owned();
    let url = url::Url::parse(target).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid());
    }
    let Some(host) = url.host_str() else {
        return Err(invalid());
    };
    if !strict {
        return Ok(());
    }
    let home = url::Url::parse(home).map_err(|_| invalid())?;
    let same_host = home
        .host_str()
        .is_some_and(|h| h.eq_ignore_ascii_case(host));
    if !same_host {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let ip = match bare.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => {
                let port = url.port_or_known_default().unwrap_or(80);
                let mut addrs = tokio::net::lookup_host((bare, port))
                    .await
                    .map_err(|_| invalid())?;
                addrs.next().map(|a| a.ip()).ok_or_else(invalid)?
            }
        };
        if is_internal(ip) {
            return Err(invalid());
        }
    }
    let Some(port) = url.port() else {
        return Ok(());
    };
    if same_host && home.port_or_known_default() == Some(port) {
        return Ok(());
    }
    if matches!(port, 80 | 443 | 8080) {
        return Ok(());
    }
    Err(invalid())
}

/// 127/8, 10/8, 0/8, 172.16/12, 192.168/16 (the ranges `wp_http_validate_url` refuses), plus
/// IPv6 loopback/unspecified.
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            o[0] == 127
                || o[0] == 10
                || o[0] == 0
                || (o[0] == 172 && (16..32).contains(&o[1]))
                || (o[0] == 192 && o[1] == 168)
        }
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unspecified(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn strict_rules_follow_wordpress() {
        let home = "http://127.0.0.1:8080";
        assert!(
            check("http://127.0.0.1:9099/hook", home, false)
                .await
                .is_ok()
        );
        assert!(check("ftp://127.0.0.1/hook", home, false).await.is_err());
        assert!(
            check("http://user:pw@example.com/", home, false)
                .await
                .is_err()
        );
        assert!(check("http://10.1.2.3/hook", home, true).await.is_err());
        assert!(check("http://192.168.1.1/hook", home, true).await.is_err());
        assert!(check("http://8.8.8.8:9099/hook", home, true).await.is_err());
        assert!(check("http://8.8.8.8:8080/hook", home, true).await.is_ok());
        assert!(check("https://8.8.8.8/hook", home, true).await.is_ok());
        // The store's own host is trusted, its own port too.
        assert!(check("http://127.0.0.1:8080/x", home, true).await.is_ok());
        assert!(check("http://127.0.0.1:9099/x", home, true).await.is_err());
    }
}
