//! A TCP proxy the test owns, to take a server away from one service
//! without stopping the server that every other test shares.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Forwards every connection on its own loopback port to `upstream`, until
/// [`Proxy::cut`].
pub struct Proxy {
    addr: SocketAddr,
    accept: JoinHandle<()>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// Starts forwarding to `upstream` (`HOST:PORT`).
    pub async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = tokio::spawn({
            let links = Arc::clone(&links);
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    let upstream = upstream.clone();
                    let link = tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(&upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    links.lock().expect("links").push(link);
                }
            }
        });
        Proxy {
            addr,
            accept,
            links,
        }
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops listening and drops every forwarded connection: to its clients
    /// the server is gone (connections reset, new ones refused).
    pub fn cut(&self) {
        self.accept.abort();
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// `HOST:PORT` of a `postgres://user@host:port/db?...` URL (port 5432 when
/// it has none).
pub fn url_authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}

/// `url` with its `HOST:PORT` replaced by `addr`.
pub fn url_via(url: &str, addr: SocketAddr) -> String {
    url.replacen(&url_authority(url), &addr.to_string(), 1)
}
