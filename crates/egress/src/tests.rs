use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn every_non_public_range_is_refused() {
    for s in [
        "0.0.0.0",
        "0.1.2.3",
        "10.1.2.3",
        "100.64.0.1",
        "100.127.255.254",
        "127.0.0.1",
        "127.255.0.9",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.8",
        "192.0.2.10",
        "192.88.99.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.19.255.1",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::127.0.0.1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::7f00:1",
        "64:ff9b:1::1",
        "100::1",
        "2001::1",
        "2001:db8::1",
        "2002:7f00:1::1",
        "3fff::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
    ] {
        assert!(!is_public(ip(s)), "{s} must not be public");
        assert!(!Policy::public_only().permits(ip(s)), "{s} must be refused");
    }
}

#[test]
fn public_addresses_pass() {
    for s in [
        "1.1.1.1",
        "8.8.8.8",
        "100.63.255.255",
        "100.128.0.1",
        "172.15.0.1",
        "172.32.0.1",
        "192.0.1.1",
        "192.169.0.1",
        "198.20.0.1",
        "200.27.1.1",
        "223.255.255.254",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2606:4700::1111",
        "2800:150::1",
    ] {
        assert!(is_public(ip(s)), "{s} must be public");
    }
}

#[test]
fn allowed_networks_open_their_addresses_and_their_mapped_forms_only() {
    let policy = Policy::allowing(parse_nets("127.0.0.0/8, 10.9.0.0/16").unwrap());
    assert!(policy.permits(ip("127.0.0.1")));
    assert!(policy.permits(ip("::ffff:127.0.0.1")));
    assert!(policy.permits(ip("10.9.3.4")));
    assert!(!policy.permits(ip("10.8.3.4")));
    assert!(!policy.permits(ip("::1")));
    assert!(!policy.permits(ip("169.254.169.254")));
}

#[test]
fn literal_hosts_are_checked_in_every_spelling() {
    let policy = Policy::public_only();
    for url in [
        "http://127.0.0.1:8080/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]:9/",
        "http://2130706433/",
        "http://0x7f.1/",
        "https://[fe80::1]/",
    ] {
        let parsed = url::Url::parse(url).unwrap();
        let refused = policy.check_url(&parsed).unwrap_err();
        assert!(!policy.permits(refused.addr), "{url}");
    }
    for url in [
        "http://8.8.8.8/",
        "https://shop.example/",
        "http://localhost/",
    ] {
        // Names pass here: the resolver checks them when they are dialled.
        assert!(
            policy.check_url(&url::Url::parse(url).unwrap()).is_ok(),
            "{url}"
        );
    }
}

#[test]
fn nets_parse_with_bare_addresses_and_name_the_bad_entry() {
    let nets = parse_nets(" 10.0.0.0/8 ,::1,, 192.168.1.7").unwrap();
    assert_eq!(nets.len(), 3);
    assert!(nets[2].contains(&ip("192.168.1.7")));
    assert!(!nets[2].contains(&ip("192.168.1.8")));
    assert_eq!(parse_nets("10.0.0.0/8, intranet").unwrap_err(), "intranet");
    assert!(parse_nets("").unwrap().is_empty());
}

#[tokio::test]
async fn the_resolver_refuses_names_that_resolve_to_refused_addresses() {
    let resolver = GuardedResolver::new(Arc::new(Policy::public_only()));
    let error = resolver
        .resolve("localhost".parse().unwrap())
        .await
        .err()
        .expect("localhost is refused");
    let refused = refusal(error.as_ref()).expect("a refusal");
    assert_eq!(refused.host, "localhost");
    assert!(refused.addr.is_loopback());

    let allowing = GuardedResolver::new(Arc::new(Policy::allowing(loopback())));
    let addrs: Vec<SocketAddr> = allowing
        .resolve("localhost".parse().unwrap())
        .await
        .expect("allowed")
        .collect();
    assert!(!addrs.is_empty());
    assert!(addrs.iter().all(|a| a.ip().is_loopback()));
}

#[tokio::test]
async fn a_guarded_client_never_connects_to_a_refused_address() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let client = client_builder(Arc::new(Policy::public_only()))
        .build()
        .unwrap();
    let error = client
        .get(format!("http://localhost:{port}/"))
        .send()
        .await
        .unwrap_err();
    let refused = refusal(&error).expect("the guard refused it");
    assert!(refused.addr.is_loopback());
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 0);
}
