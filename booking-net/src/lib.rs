//! # booking-net
//!
//! Outbound HTTP for a booking service that fetches or calls URLs its users
//! give it: an organizer's calendar feed, a CalDAV server, a webhook
//! endpoint. Such a URL is attacker-controlled input, so a plain HTTP client
//! would let anyone make the service request its own network (server-side
//! request forgery): `http://127.0.0.1:6379/`, the cloud metadata address
//! `http://169.254.169.254/`, a database on `10.0.0.5`.
//!
//! [`SafeClient`] refuses that, and bounds what one request can cost:
//!
//! * only `http` and `https`, no credentials in the URL, at most
//!   [`MAX_URL_LEN`] characters ([`UrlPolicy::check`], also usable to
//!   validate input before storing it);
//! * the target address must be public: loopback, private (RFC 1918,
//!   unique-local), link-local, unspecified, multicast, shared (CGNAT),
//!   documentation and IPv4-mapped forms of them are refused, **after DNS
//!   resolution** (a name that resolves to `127.0.0.1` is refused at
//!   connect time, so DNS rebinding does not help) and **on every redirect
//!   hop** (at most [`MAX_REDIRECTS`]);
//! * every request has a timeout, and a body larger than the configured
//!   cap is cut off with an error instead of being read into memory.
//!
//! Tests and local development, which talk to servers on loopback, set
//! [`UrlPolicy::allow_private`] (the example service maps the environment
//! variable `BOOKING_ALLOW_PRIVATE_URLS=1` to it).
//!
//! ```
//! use booking_net::{UrlError, UrlPolicy};
//!
//! let policy = UrlPolicy::default();
//! assert!(policy.check("https://calendar.example.com/feed.ics").is_ok());
//! assert!(matches!(policy.check("http://127.0.0.1:6379/"), Err(UrlError::PrivateAddress(_))));
//! assert!(matches!(policy.check("file:///etc/passwd"), Err(UrlError::Scheme(_))));
//! ```

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt as _;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
pub use url::Url;

/// The longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// The most redirects followed.
pub const MAX_REDIRECTS: usize = 5;

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Longer than [`MAX_URL_LEN`].
    #[error("a URL must be at most {MAX_URL_LEN} characters")]
    TooLong,
    /// Not a URL.
    #[error("not a valid URL: {0}")]
    Malformed(String),
    /// Not `http` or `https`.
    #[error("only http and https URLs are accepted, not {0:?}")]
    Scheme(String),
    /// A user name or password inside the URL.
    #[error("a URL must not contain a user name or password")]
    Credentials,
    /// No host.
    #[error("a URL must name a host")]
    NoHost,
    /// The host is, or resolves to, a loopback, private or otherwise
    /// non-public address.
    #[error("{0} is not a public address; only public hosts can be reached")]
    PrivateAddress(String),
}

/// Which URLs outbound requests may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UrlPolicy {
    allow_private: bool,
}

impl UrlPolicy {
    /// Public addresses only (the default).
    pub fn public_only() -> Self {
        UrlPolicy {
            allow_private: false,
        }
    }

    /// Also loopback and private addresses: for tests and local
    /// development only.
    pub fn allow_private() -> Self {
        UrlPolicy {
            allow_private: true,
        }
    }

    /// Whether private addresses are allowed.
    pub fn allows_private(&self) -> bool {
        self.allow_private
    }

    /// Checks a URL's form, and its host when that is an address literal (a
    /// host name is checked when it is resolved, at every connection).
    pub fn check(&self, text: &str) -> Result<Url, UrlError> {
        if text.len() > MAX_URL_LEN {
            return Err(UrlError::TooLong);
        }
        let url = Url::parse(text).map_err(|e| UrlError::Malformed(e.to_string()))?;
        self.check_url(&url)?;
        Ok(url)
    }

    fn check_url(&self, url: &Url) -> Result<(), UrlError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(UrlError::Scheme(url.scheme().to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlError::Credentials);
        }
        match url.host() {
            None => Err(UrlError::NoHost),
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)),
            Some(url::Host::Domain(name)) => {
                let lower = name.trim_end_matches('.').to_ascii_lowercase();
                if !self.allow_private && (lower == "localhost" || lower.ends_with(".localhost")) {
                    Err(UrlError::PrivateAddress(name.to_owned()))
                } else {
                    Ok(())
                }
            }
        }
    }

    fn check_ip(&self, ip: IpAddr) -> Result<(), UrlError> {
        if self.allow_private || is_public(ip) {
            Ok(())
        } else {
            Err(UrlError::PrivateAddress(ip.to_string()))
        }
    }
}

/// Whether `ip` is an ordinary public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let segments = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (segments[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (segments[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
                || (segments[0] == 0x0064 && segments[1] == 0xff9b) // NAT64 to anything
                || segments[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

/// Resolves names and keeps only addresses the policy allows, so the
/// connection itself can never reach a refused address.
#[derive(Debug)]
struct CheckingResolver {
    policy: UrlPolicy,
}

impl Resolve for CheckingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|addr| policy.allow_private || is_public(addr.ip()))
                .collect();
            if allowed.is_empty() {
                let error: Box<dyn std::error::Error + Send + Sync> =
                    Box::new(UrlError::PrivateAddress(host));
                return Err(error);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Limits of a [`SafeClient`].
#[derive(Debug, Clone)]
pub struct SafeClientOptions {
    /// The whole request's time limit (default 10 s).
    pub timeout: Duration,
    /// Connecting's time limit (default 5 s).
    pub connect_timeout: Duration,
    /// The largest response body read (default 5 MiB).
    pub max_body_bytes: usize,
    /// The `User-Agent` sent.
    pub user_agent: String,
    /// Whether redirects are followed (default yes, up to
    /// [`MAX_REDIRECTS`]). A sender of `POST`s (webhooks) turns this off: a
    /// `301`/`302`/`303` would turn the `POST` into a `GET` without its body,
    /// so a redirect must count as a failed delivery instead.
    pub follow_redirects: bool,
}

impl Default for SafeClientOptions {
    fn default() -> Self {
        SafeClientOptions {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: 5 * 1024 * 1024,
            user_agent: concat!("booking/", env!("CARGO_PKG_VERSION")).to_owned(),
            follow_redirects: true,
        }
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL (or a redirect's) is refused by the policy.
    #[error(transparent)]
    Refused(#[from] UrlError),
    /// The response body is larger than the cap.
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
    /// The request failed (connection refused, timeout, TLS, too many
    /// redirects, a name resolving only to refused addresses ...).
    #[error("the request failed: {0}")]
    Http(#[source] reqwest::Error),
    /// The client could not be built.
    #[error("the HTTP client could not be set up: {0}")]
    Setup(#[source] reqwest::Error),
}

impl FetchError {
    /// Whether the request timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, FetchError::Http(e) if e.is_timeout())
    }
}

/// A response, read whole (up to the cap).
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// An HTTP client that only reaches what its [`UrlPolicy`] allows; see the
/// [crate docs](crate). Cheap to clone.
#[derive(Debug, Clone)]
pub struct SafeClient {
    client: reqwest::Client,
    policy: UrlPolicy,
    max_body_bytes: usize,
}

impl SafeClient {
    /// A client for `policy` with `options`.
    pub fn new(policy: UrlPolicy, options: SafeClientOptions) -> Result<Self, FetchError> {
        let follow = options.follow_redirects;
        let redirect_policy = reqwest::redirect::Policy::custom(move |attempt| {
            if !follow {
                attempt.stop()
            } else if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if let Err(refused) = policy.check_url(attempt.url()) {
                attempt.error(refused)
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .user_agent(options.user_agent)
            .redirect(redirect_policy)
            .dns_resolver(Arc::new(CheckingResolver { policy }))
            .no_proxy()
            .build()
            .map_err(FetchError::Setup)?;
        Ok(SafeClient {
            client,
            policy,
            max_body_bytes: options.max_body_bytes,
        })
    }

    /// The policy.
    pub fn policy(&self) -> UrlPolicy {
        self.policy
    }

    /// Sends a request and reads the response body, up to the cap.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Fetched, FetchError> {
        let url = self.policy.check(url)?;
        let mut request = self.client.request(method, url).headers(headers);
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.map_err(FetchError::Http)?;
        let status = response.status();
        let headers = response.headers().clone();
        if response
            .content_length()
            .is_some_and(|len| len > self.max_body_bytes as u64)
        {
            return Err(FetchError::TooLarge(self.max_body_bytes));
        }
        let mut body = BytesMut::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(FetchError::Http)?;
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(FetchError::TooLarge(self.max_body_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            status,
            headers,
            body: body.freeze(),
        })
    }

    /// `GET url` with `headers`.
    pub async fn get(&self, url: &str, headers: HeaderMap) -> Result<Fetched, FetchError> {
        self.send(Method::GET, url, headers, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_unicast_addresses_pass() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:2800:220:1:248:1893:25c8:1946",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn urls_are_checked_for_form_and_literal_hosts() {
        let policy = UrlPolicy::public_only();
        assert!(policy.check("https://example.com/a.ics").is_ok());
        assert_eq!(policy.check(&"a".repeat(3000)), Err(UrlError::TooLong));
        assert!(matches!(
            policy.check("not a url"),
            Err(UrlError::Malformed(_))
        ));
        assert!(matches!(
            policy.check("ftp://example.com/"),
            Err(UrlError::Scheme(_))
        ));
        assert_eq!(
            policy.check("https://user:pw@example.com/"),
            Err(UrlError::Credentials)
        );
        for private in [
            "http://127.0.0.1/",
            "http://[::1]:8080/",
            "http://localhost/",
            "http://api.localhost/",
            "http://localhost./",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:10.0.0.1]/",
        ] {
            assert!(
                matches!(policy.check(private), Err(UrlError::PrivateAddress(_))),
                "{private}"
            );
        }
        assert!(
            UrlPolicy::allow_private()
                .check("http://127.0.0.1:3000/")
                .is_ok()
        );
    }
}
