//! The client's address as handlers see it: the TCP peer, or what a
//! trusted proxy says ([`rate_limit::client_address`](super::rate_limit::client_address),
//! the rule the rate limits use). Slot holds count against it: one client
//! keeps at most
//! [`MAX_HOLDS_PER_CLIENT`](booking_core::hold::MAX_HOLDS_PER_CLIENT) (3)
//! unexpired holds per organizer.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

/// The client's address, when the request came over a connection whose
/// peer is known (the service's own server always knows it; a router
/// driven without connection information does not, and then nothing is
/// counted per client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

/// Middleware: finds the client's address once per request, for the
/// [`ClientAddress`] extractor.
pub async fn record(
    State(trusted_proxies): State<Arc<Vec<IpNet>>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let address = peer
        .map(|peer| super::rate_limit::client_address(peer, request.headers(), &trusted_proxies));
    request.extensions_mut().insert(ClientAddress(address));
    next.run(request).await
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientAddress>()
            .copied()
            .unwrap_or(ClientAddress(None)))
    }
}
