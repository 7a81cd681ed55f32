//! A listener standing in for a service inside the operator's network: it counts the
//! connections it accepts and never answers, so a test can prove ttwc never dialled it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many connections the listener has accepted so far.
#[derive(Clone, Debug)]
pub struct Accepted(Arc<AtomicUsize>);

impl Accepted {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Binds `127.0.0.1:0` and counts (and holds open, unanswered) every connection; its port and
/// the count.
pub async fn counting_listener() -> (u16, Accepted) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let port = listener.local_addr().expect("its address").port();
    let accepted = Accepted(Arc::new(AtomicUsize::new(0)));
    let counter = accepted.0.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (port, accepted)
}
