//! The one guard every request to an address someone else gave goes through: a store's URL, a
//! tenant's `api_url`.
//!
//! ttwc fetches URLs that visitors type into a public wizard. Without a guard, anyone could
//! make it probe and talk to services inside the operator's network (server-side request
//! forgery). The guard allows only public unicast addresses, plus the networks an operator
//! lists ([`Policy::allowing`], `TTWC_ALLOWED_PRIVATE_NETS`), and it checks the address that
//! is actually dialled:
//! - hostnames are resolved by [`GuardedResolver`], which drops every address the policy
//!   refuses, so DNS rebinding (a name that answers public at the first call and private at the
//!   next) is caught at every call, not just the first;
//! - IP literals never reach a resolver (hyper dials them directly), so clients check them with
//!   [`Policy::check_url`] before sending;
//! - [`client_builder`] turns off reqwest's environment proxies (a proxy would dial for us,
//!   past the resolver) and redirects (a redirect's target is another unchecked URL).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Which addresses may be dialled: public unicast ones and the listed networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    allowed: Vec<IpNet>,
}

/// A refused address: the host as given and the address it named or resolved to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused to connect to {host} ({addr}): not a public address")]
pub struct Refused {
    pub host: String,
    pub addr: IpAddr,
}

impl Policy {
    /// Public addresses only.
    pub fn public_only() -> Policy {
        Policy::default()
    }

    /// Public addresses and these networks (an operator's internal stores, a test's loopback).
    pub fn allowing(allowed: Vec<IpNet>) -> Policy {
        Policy { allowed }
    }

    /// The networks allowed besides public addresses.
    pub fn allowed(&self) -> &[IpNet] {
        &self.allowed
    }

    /// Whether `addr` may be dialled.
    pub fn permits(&self, addr: IpAddr) -> bool {
        let canonical = addr.to_canonical();
        is_public(addr)
            || self
                .allowed
                .iter()
                .any(|net| net.contains(&addr) || net.contains(&canonical))
    }

    /// Checks a URL whose host is an IP literal (`http://127.0.0.1`, `http://[::1]`, and the
    /// forms the URL parser reads as IPv4, such as `http://2130706433/`). Named hosts pass
    /// here: the resolver checks them when they are dialled.
    pub fn check_url(&self, url: &url::Url) -> Result<(), Refused> {
        let addr = match url.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Ok(()),
        };
        if self.permits(addr) {
            Ok(())
        } else {
            Err(Refused {
                host: url.host_str().unwrap_or_default().to_owned(),
                addr,
            })
        }
    }
}

/// Whether an address is public unicast: not loopback, private, link-local, shared (CGNAT),
/// unspecified, multicast, broadcast, reserved, documentation or benchmarking space, nor an
/// IPv6 form (mapped, compatible, NAT64, 6to4) of one of these.
pub fn is_public(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network", unspecified
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // IPv4-mapped (::ffff:a.b.c.d) and the NAT64 well-known prefix (64:ff9b::/96) reach the
    // embedded IPv4 address, so they are as public as it is.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded_v4(ip));
    }
    // Only 2000::/3 is allocated as global unicast; everything else (::, ::1, IPv4-compatible
    // ::a.b.c.d, fc00::/7, fe80::/10, ff00::/8, discard 100::/64, ...) is not public.
    if s[0] & 0xe000 != 0x2000 {
        return false;
    }
    let ietf = s[0] == 0x2001 && s[1] < 0x0200; // IETF protocol assignments (Teredo, ORCHID)
    let documentation = (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] & 0xfff0) == 0x3ff0;
    let six_to_four = s[0] == 0x2002; // reaches an arbitrary IPv4 address
    !(ietf || documentation || six_to_four)
}

fn embedded_v4(ip: Ipv6Addr) -> Ipv4Addr {
    let o = ip.octets();
    Ipv4Addr::new(o[12], o[13], o[14], o[15])
}

/// A DNS resolver that answers only with the addresses the policy permits.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: Arc<Policy>,
}

impl GuardedResolver {
    pub fn new(policy: Arc<Policy>) -> GuardedResolver {
        GuardedResolver { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // The system resolver, as reqwest's default uses (getaddrinfo on a blocking thread).
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            match (permitted.is_empty(), found.first()) {
                (true, Some(first)) => Err(Box::new(Refused {
                    host,
                    addr: first.ip(),
                })
                    as Box<dyn std::error::Error + Send + Sync>),
                _ => Ok(Box::new(permitted.into_iter()) as Addrs),
            }
        })
    }
}

/// A reqwest client builder with the guard in place: the filtering resolver, no proxies from
/// the environment, no redirects followed. Callers add timeouts, roots and their user agent.
pub fn client_builder(policy: Arc<Policy>) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .dns_resolver(GuardedResolver::new(policy))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
}

/// The refusal behind an error, if the guard caused it (reqwest wraps the resolver's error in
/// its own and hyper's).
pub fn refusal<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused);
        }
        // An io::Error's payload is not its `source()`.
        current = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as _),
            None => e.source(),
        };
    }
    None
}

/// Parses a comma-separated list of networks (`10.0.0.0/8, 127.0.0.1`); a bare address is a
/// network of one. The error names the entry that is not one.
pub fn parse_nets(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_net)
        .collect()
}

/// One network or address (`192.168.0.0/16`, `::1`).
pub fn parse_net(entry: &str) -> Result<IpNet, String> {
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| entry.to_owned())
}

/// Loopback, IPv4 and IPv6: what the demo and tests allow for their stand-in stores.
pub fn loopback() -> Vec<IpNet> {
    vec![
        IpNet::new_assert(IpAddr::V4(Ipv4Addr::LOCALHOST), 8).trunc(),
        IpNet::new_assert(IpAddr::V6(Ipv6Addr::LOCALHOST), 128),
    ]
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.allowed.is_empty() {
            return f.write_str("public addresses only");
        }
        f.write_str("public addresses and ")?;
        for (i, net) in self.allowed.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{net}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
