//! Per-client rate limits: each client address gets a budget per class of
//! request, refilled continuously (GCRA, from [`governor`]); a request over
//! its budget gets 429 `rate_limited` with `Retry-After` in whole seconds.
//!
//! | class | requests | default |
//! |---|---|---|
//! | public reads | `GET /api/organizers/{username}/slots`, `GET /api/organizers/{username}/event-types`, `GET /api/organizers/{username}/calendar.ics` (the feed), `GET /{username}`, `GET /{username}/{slug}` | 120 per minute |
//! | bookings | `POST /api/bookings`, `POST /api/organizers/{username}/holds`, `POST /{username}`, `POST /{username}/{slug}` | 10 per minute |
//! | registrations | `POST /api/organizers`, `POST /dashboard/signup` | 5 per hour |
//! | failed authentications | wrong API tokens, cancel tokens (cancelling or rescheduling), feed tokens and sign-ins | 10 per minute |
//!
//! A budget of `N/min` allows a burst of `N` and then one request every
//! minute / `N`. Probes (`/healthz`, `/readyz`, `/metrics`), the
//! organizer's own authenticated calls and static assets are not limited.
//!
//! **Token guessing.** Only *failed* authentications are counted (a reply
//! of 401 or 403 to a request that presented a credential: an
//! `Authorization` header, a `...token=` query parameter, a cancel or
//! sign-in `POST`). Once a client has used that budget, every request of it
//! that presents a credential is refused with 429 before the credential is
//! checked, until one failure's worth has refilled (a minute / `N`), so
//! guesses stop being tried, right or wrong; its public requests keep their
//! own budgets. The budget is kept per client address: a guesser tries many
//! tokens, so it is the address, not the token, that gives it away.
//!
//! **Client address.** The TCP peer's address. `X-Forwarded-For` is
//! believed only when the peer is one of the trusted proxies
//! (`BOOKING_TRUSTED_PROXIES`): the client is then the right-most address in
//! the header that is not itself a trusted proxy, the one the nearest
//! trusted proxy saw. A request without a known peer (a router served
//! without connection information) is not limited.
//!
//! `BOOKING_RATE_LIMIT=off` turns every limit off, for load tests and
//! benchmarks.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;

use super::error::ApiError;

/// A budget: `count` requests per `per`, as a burst of `count` refilled
/// evenly over `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per period (and the largest burst).
    pub count: NonZeroU32,
    /// The period.
    pub per: Duration,
}

impl Rate {
    /// `count` per `per`; `None` when either is zero.
    pub fn new(count: u32, per: Duration) -> Option<Rate> {
        let count = NonZeroU32::new(count)?;
        (!per.is_zero()).then_some(Rate { count, per })
    }

    /// Parses `N/s`, `N/min` or `N/h` (also `N/sec`, `N/m`, `N/hour`).
    pub fn parse(text: &str) -> Result<Rate, String> {
        let bad =
            || format!("expected COUNT/UNIT with UNIT s, min or h, e.g. 10/min; got {text:?}");
        let (count, unit) = text.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        Rate::new(count, per).ok_or_else(|| format!("the count must be 1 or more; got {text:?}"))
    }

    fn quota(self) -> Quota {
        // `per / count` is at least a nanosecond for any u32 count and a
        // period of a second or more, so the quota always exists.
        let interval = self.per / self.count.get();
        Quota::with_period(interval.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(self.count))
            .allow_burst(self.count)
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per.as_secs() {
            3600 => "h".to_owned(),
            60 => "min".to_owned(),
            1 => "s".to_owned(),
            secs => format!("{secs}s"),
        };
        write!(f, "{}/{unit}", self.count)
    }
}

/// Every limit the service applies (the `BOOKING_RATE_LIMIT*` and
/// `BOOKING_TRUSTED_PROXIES` settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// `false` (`BOOKING_RATE_LIMIT=off`): nothing is limited.
    pub enabled: bool,
    /// Public reads per client.
    pub reads: Rate,
    /// Bookings per client.
    pub bookings: Rate,
    /// Registrations per client.
    pub registrations: Rate,
    /// Failed authentications per client.
    pub auth_failures: Rate,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
}

/// `count` per minute or hour, for the defaults.
const fn per(count: u32, secs: u64) -> Rate {
    match NonZeroU32::new(count) {
        Some(count) => Rate {
            count,
            per: Duration::from_secs(secs),
        },
        None => Rate {
            count: NonZeroU32::MIN,
            per: Duration::from_secs(secs),
        },
    }
}

impl RateLimits {
    /// Default public reads per client: 120 per minute.
    pub const DEFAULT_READS: Rate = per(120, 60);
    /// Default bookings per client: 10 per minute.
    pub const DEFAULT_BOOKINGS: Rate = per(10, 60);
    /// Default registrations per client: 5 per hour.
    pub const DEFAULT_REGISTRATIONS: Rate = per(5, 3600);
    /// Default failed authentications per client: 10 per minute.
    pub const DEFAULT_AUTH_FAILURES: Rate = per(10, 60);

    /// The same budgets, switched off.
    pub fn off() -> RateLimits {
        RateLimits {
            enabled: false,
            ..RateLimits::default()
        }
    }
}

impl Default for RateLimits {
    /// On, with the documented budgets and no trusted proxy.
    fn default() -> Self {
        RateLimits {
            enabled: true,
            reads: Self::DEFAULT_READS,
            bookings: Self::DEFAULT_BOOKINGS,
            registrations: Self::DEFAULT_REGISTRATIONS,
            auth_failures: Self::DEFAULT_AUTH_FAILURES,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Which budget a request spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Class {
    Reads,
    Bookings,
    Registrations,
}

impl Class {
    fn label(self) -> &'static str {
        match self {
            Class::Reads => "reads",
            Class::Bookings => "bookings",
            Class::Registrations => "registrations",
        }
    }
}

/// Method and route template of each limited request. A new endpoint that
/// creates something for anonymous callers (holds, event types) belongs in
/// this table.
const CLASSES: &[(&str, &str, Class)] = &[
    ("GET", "/api/organizers/{username}/slots", Class::Reads),
    (
        "GET",
        "/api/organizers/{username}/event-types",
        Class::Reads,
    ),
    // The feed: each fetch renders every recent booking, and its `token=`
    // is a credential (a wrong one also spends the failed-authentication
    // budget, so guessing stops there).
    (
        "GET",
        "/api/organizers/{username}/calendar.ics",
        Class::Reads,
    ),
    ("GET", "/{username}", Class::Reads),
    ("GET", "/{username}/{slug}", Class::Reads),
    ("POST", "/api/bookings", Class::Bookings),
    ("POST", "/{username}", Class::Bookings),
    ("POST", "/{username}/{slug}", Class::Bookings),
    ("POST", "/api/organizers/{username}/holds", Class::Bookings),
    ("POST", "/api/organizers", Class::Registrations),
    ("POST", "/dashboard/signup", Class::Registrations),
];

fn class_of(method: &Method, route: &str) -> Option<Class> {
    CLASSES
        .iter()
        .find(|(m, r, _)| method.as_str() == *m && route == *r)
        .map(|(_, _, class)| *class)
}

/// Keyed limiters are pruned of full buckets once they track this many
/// clients, so memory stays bounded under many addresses.
const PRUNE_AT: usize = 10_000;

/// The limiters of one router, shared by all its requests.
pub struct Limiter {
    reads: DefaultKeyedRateLimiter<IpAddr>,
    bookings: DefaultKeyedRateLimiter<IpAddr>,
    registrations: DefaultKeyedRateLimiter<IpAddr>,
    /// Tells how many failures are left, so a client is refused as soon as
    /// it has used its budget, not one failure later.
    auth_failures: DefaultKeyedRateLimiter<IpAddr, StateInformationMiddleware>,
    /// The time one failure takes to be forgiven.
    auth_failure_interval: Duration,
    /// Clients over their failed-authentication budget, until when.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    trusted_proxies: Vec<IpNet>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

impl Limiter {
    /// Limiters for `limits`; `None` when they are off.
    pub fn new(limits: &RateLimits) -> Option<Arc<Limiter>> {
        limits.enabled.then(|| {
            Arc::new(Limiter {
                reads: RateLimiter::keyed(limits.reads.quota()),
                bookings: RateLimiter::keyed(limits.bookings.quota()),
                registrations: RateLimiter::keyed(limits.registrations.quota()),
                auth_failures: RateLimiter::keyed(limits.auth_failures.quota())
                    .with_middleware::<StateInformationMiddleware>(),
                auth_failure_interval: limits.auth_failures.per / limits.auth_failures.count.get(),
                blocked: Mutex::new(HashMap::new()),
                trusted_proxies: limits.trusted_proxies.clone(),
            })
        })
    }

    fn limiter(&self, class: Class) -> &DefaultKeyedRateLimiter<IpAddr> {
        match class {
            Class::Reads => &self.reads,
            Class::Bookings => &self.bookings,
            Class::Registrations => &self.registrations,
        }
    }

    /// Spends one request of `class` for `client`; the wait when over.
    fn spend(&self, class: Class, client: IpAddr) -> Result<(), Duration> {
        let limiter = self.limiter(class);
        if limiter.len() > PRUNE_AT {
            limiter.retain_recent();
        }
        limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// How long `client` is still refused credentials, if it is.
    fn blocked_for(&self, client: IpAddr) -> Option<Duration> {
        let blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        let until = *blocked.get(&client)?;
        until.checked_duration_since(Instant::now())
    }

    /// Counts a failed authentication of `client`, blocking it once its
    /// budget is used up, until one failure's worth has refilled.
    fn failed(&self, client: IpAddr) {
        if self.auth_failures.len() > PRUNE_AT {
            self.auth_failures.retain_recent();
        }
        let wait = match self.auth_failures.check_key(&client) {
            Ok(state) if state.remaining_burst_capacity() > 0 => return,
            Ok(_) => self.auth_failure_interval,
            Err(not_until) => not_until.wait_time_from(DefaultClock::default().now()),
        };
        let now = Instant::now();
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        if blocked.len() > PRUNE_AT {
            blocked.retain(|_, until| *until > now);
        }
        blocked.insert(client, now + wait.max(Duration::from_secs(1)));
        tracing::warn!(%client, "too many failed authentications; refusing its credentials for a while");
    }

    /// The client of a request: the peer, or what trusted proxies say.
    fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        client_address(peer, headers, &self.trusted_proxies)
    }

    #[cfg(test)]
    fn is_trusted(&self, address: IpAddr) -> bool {
        is_trusted(&self.trusted_proxies, address)
    }
}

/// The client of a request from `peer`: the peer itself, or, when the peer
/// is one of `trusted_proxies`, the right-most `X-Forwarded-For` address
/// that is not itself a trusted proxy. The rate limits and the per-client
/// cap of slot holds ([`super::client`]) both key on it.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    if !is_trusted(trusted_proxies, peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|item| item.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded
        .iter()
        .rev()
        .find(|address| !is_trusted(trusted_proxies, **address))
        .copied()
        .unwrap_or(peer)
}

fn is_trusted(trusted_proxies: &[IpNet], address: IpAddr) -> bool {
    let address = canonical(address);
    trusted_proxies.iter().any(|net| net.contains(&address))
}

/// An IPv4 address that arrived as IPv6 (`::ffff:a.b.c.d`) as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

/// Whether a request presents a credential that the service will check.
fn presents_credential(request: &Request) -> bool {
    if request.headers().contains_key(header::AUTHORIZATION) {
        return true;
    }
    let query_has_token = request.uri().query().is_some_and(|query| {
        query
            .split('&')
            .filter_map(|pair| pair.split('=').next())
            .any(|name| name.to_ascii_lowercase().contains("token"))
    });
    let path = request.uri().path();
    query_has_token
        || request.headers().contains_key("hold-token")
        || (request.method() == Method::POST
            && (path.ends_with("/cancel")
                || path.ends_with("/reschedule")
                || path == "/dashboard/login"))
        || (request.method() == Method::DELETE && path.starts_with("/api/holds/"))
}

/// 429 `rate_limited` with `Retry-After` (whole seconds, at least 1).
fn too_many(wait: Duration, what: &str) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many {what} from this address; retry in {seconds} s"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// The middleware: spends the request's budget, refuses when it is spent,
/// and counts failed authentications.
pub async fn limit(State(limiter): State<Arc<Limiter>>, request: Request, next: Next) -> Response {
    let Some(ConnectInfo(peer)) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .copied()
    else {
        return next.run(request).await;
    };
    let client = limiter.client(canonical(peer.ip()), request.headers());
    let credential = presents_credential(&request);
    if credential && let Some(wait) = limiter.blocked_for(client) {
        super::metrics::rate_limited("auth_failures");
        return too_many(wait, "failed authentications");
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    if let Some(class) = route.and_then(|route| class_of(request.method(), &route))
        && let Err(wait) = limiter.spend(class, client)
    {
        super::metrics::rate_limited(class.label());
        return too_many(wait, class.label());
    }
    let response = next.run(request).await;
    if credential
        && matches!(
            response.status(),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        )
    {
        limiter.failed(client);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_in_the_documented_units() {
        assert_eq!(Rate::parse("10/min").unwrap(), per(10, 60));
        assert_eq!(Rate::parse(" 5 / h ").unwrap(), per(5, 3600));
        assert_eq!(Rate::parse("2/s").unwrap(), per(2, 1));
        assert_eq!(Rate::parse("120/min").unwrap().to_string(), "120/min");
        for bad in ["", "10", "0/min", "-1/min", "10/day", "x/min"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_read_from_trusted_proxies_only() {
        let limits = RateLimits {
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            ..RateLimits::default()
        };
        let limiter = Limiter::new(&limits).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, 203.0.113.9, 10.0.0.7"),
        );
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(
            limiter.client(proxy, &headers),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(limiter.client(stranger, &headers), stranger);
        assert_eq!(limiter.client(proxy, &HeaderMap::new()), proxy);
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert!(limiter.is_trusted(mapped));
    }

    #[test]
    fn only_listed_routes_are_classed() {
        assert_eq!(
            class_of(&Method::POST, "/api/bookings"),
            Some(Class::Bookings)
        );
        assert_eq!(class_of(&Method::GET, "/api/bookings"), None);
        assert_eq!(class_of(&Method::GET, "/healthz"), None);
        assert_eq!(class_of(&Method::GET, "/{username}"), Some(Class::Reads));
        assert_eq!(
            class_of(&Method::GET, "/{username}/{slug}"),
            Some(Class::Reads)
        );
        assert_eq!(
            class_of(&Method::POST, "/{username}/{slug}"),
            Some(Class::Bookings)
        );
        assert_eq!(
            class_of(&Method::GET, "/api/organizers/{username}/event-types"),
            Some(Class::Reads)
        );
        assert_eq!(
            class_of(&Method::POST, "/dashboard/signup"),
            Some(Class::Registrations)
        );
        assert_eq!(class_of(&Method::POST, "/api/event-types"), None);
        assert_eq!(
            class_of(&Method::GET, "/api/organizers/{username}/calendar.ics"),
            Some(Class::Reads)
        );
    }
}
