//! Cross-site request forgery: every state-changing form carries a token,
//! and every form post must come from the service's own origin.
//!
//! The token is an HMAC-SHA256, under a server key, of the value of the
//! cookie the form acts through: the session cookie for a signed-in
//! organizer's forms, the pre-session cookie for the sign-in and sign-up
//! forms (so an attacker cannot sign a victim into the attacker's account
//! either). Another site can make a browser send the cookie but can neither
//! read it nor compute the token, and the server stores nothing. This module
//! only sees cookie values as opaque text, so the session cookie can hold a
//! server-side session id instead of today's API token without a change
//! here.
//!
//! The `Origin` check refuses a post that a browser says comes from
//! elsewhere: `Origin` naming another origin (or `null`), or
//! `Sec-Fetch-Site` other than `same-origin`/`none`, which catches a sibling
//! subdomain that `SameSite` cookies let through. When a browser sends
//! neither, the token alone decides.

use axum::http::{HeaderMap, header};
use hmac::{Hmac, Mac as _};
use sha2::{Digest as _, Sha256};

use super::options::normalized_origin;

/// The form field that carries the token.
pub(super) const FIELD: &str = "csrf";

/// What a token is bound to, so a token of one kind is never accepted as the
/// other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    /// A signed-in organizer's forms, bound to the session cookie.
    SignedIn,
    /// The sign-in and sign-up forms, bound to the pre-session cookie.
    SignIn,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::SignedIn => b"booking-ui csrf v1 session\0",
            Purpose::SignIn => b"booking-ui csrf v1 pre-session\0",
        }
    }
}

/// The server's secret for form tokens.
#[derive(Clone)]
pub(super) struct CsrfKey([u8; 32]);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(<secret>)")
    }
}

impl CsrfKey {
    /// A random key for this process.
    pub(super) fn generate() -> Result<Self, getrandom::Error> {
        let mut key = [0; 32];
        getrandom::fill(&mut key)?;
        Ok(CsrfKey(key))
    }

    /// The key derived from a configured secret, so every process given the
    /// same secret accepts the same tokens.
    pub(super) fn from_secret(secret: &str) -> Self {
        CsrfKey(Sha256::digest(secret.as_bytes()).into())
    }

    fn mac(&self, purpose: Purpose, binding: &str) -> Hmac<Sha256> {
        // Any key length is valid for HMAC, so this cannot fail.
        let mut mac = <Hmac<Sha256> as hmac::Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(purpose.label());
        mac.update(binding.as_bytes());
        mac
    }

    /// The token for forms acting through the cookie whose value is
    /// `binding`.
    pub(super) fn token(&self, purpose: Purpose, binding: &str) -> String {
        hex::encode(self.mac(purpose, binding).finalize().into_bytes())
    }

    /// Whether `presented` is the token for `binding`, compared in constant
    /// time.
    pub(super) fn verify(&self, purpose: Purpose, binding: &str, presented: &str) -> bool {
        let Ok(tag) = hex::decode(presented.trim()) else {
            return false;
        };
        self.mac(purpose, binding).verify_slice(&tag).is_ok()
    }
}

/// Why a form post was refused before its token was looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum ForeignPost {
    /// `Origin` names another origin.
    #[error("Origin {origin:?} is not this service's ({expected})")]
    Origin {
        /// What the browser sent.
        origin: String,
        /// What was expected.
        expected: String,
    },
    /// `Sec-Fetch-Site` says the form came from another origin.
    #[error("Sec-Fetch-Site is {0:?}")]
    FetchSite(String),
}

/// Checks that a form post comes from the service's own pages: `Origin`, if
/// sent, is `public_origin` when configured, else names the host the request
/// was sent to; `Sec-Fetch-Site`, if sent, is `same-origin` or `none`.
pub(super) fn check_origin(
    request: &HeaderMap,
    public_origin: Option<&str>,
) -> Result<(), ForeignPost> {
    if let Some(site) = request
        .get("sec-fetch-site")
        .map(|value| value.to_str().unwrap_or("?").to_ascii_lowercase())
        && site != "same-origin"
        && site != "none"
    {
        return Err(ForeignPost::FetchSite(site));
    }
    let Some(origin) = request.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("?").to_owned();
    let normalized = normalized_origin(&origin);
    let (matches, expected) = match public_origin {
        Some(expected) => (normalized.as_deref() == Some(expected), expected.to_owned()),
        None => {
            let host = request
                .get(header::HOST)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            let matches = normalized.as_deref().is_some_and(|origin| {
                let Some((scheme, authority)) = origin.split_once("://") else {
                    return false;
                };
                // The origin lost its default port in normalizing; the Host
                // header may still carry it.
                let default_port = if scheme == "https" { ":443" } else { ":80" };
                !host.is_empty()
                    && (authority == host || host.strip_suffix(default_port) == Some(authority))
            });
            (matches, format!("the request's host {host:?}"))
        }
    };
    if matches {
        Ok(())
    } else {
        Err(ForeignPost::Origin { origin, expected })
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn tokens_are_bound_to_the_cookie_the_purpose_and_the_key() {
        let key = CsrfKey::from_secret("a configured secret of some length");
        let token = key.token(Purpose::SignedIn, "cookie-value");
        assert_eq!(token.len(), 64);
        assert!(key.verify(Purpose::SignedIn, "cookie-value", &token));
        assert!(!key.verify(Purpose::SignedIn, "other-value", &token));
        assert!(!key.verify(Purpose::SignIn, "cookie-value", &token));
        assert!(!key.verify(Purpose::SignedIn, "cookie-value", ""));
        assert!(!key.verify(Purpose::SignedIn, "cookie-value", "zz"));
        assert!(!key.verify(Purpose::SignedIn, "cookie-value", &token[..62]));
        let other = CsrfKey::generate().unwrap();
        assert!(!other.verify(Purpose::SignedIn, "cookie-value", &token));
        // The same secret gives the same key in another process.
        let again = CsrfKey::from_secret("a configured secret of some length");
        assert!(again.verify(Purpose::SignedIn, "cookie-value", &token));
    }

    #[test]
    fn only_the_services_own_origin_may_post() {
        let host = ("host", "booking.example.com");
        assert!(check_origin(&headers(&[host]), None).is_ok(), "no Origin");
        for own in [
            "http://booking.example.com",
            "https://booking.example.com",
            "https://Booking.Example.com:443",
        ] {
            let request = headers(&[host, ("origin", own)]);
            assert!(check_origin(&request, None).is_ok(), "{own}");
        }
        for foreign in [
            "https://evil.example.com",
            "https://booking.example.com.evil.net",
            "http://booking.example.com:8080",
            "null",
            "",
        ] {
            let request = headers(&[host, ("origin", foreign)]);
            assert!(check_origin(&request, None).is_err(), "{foreign}");
        }
        let with_port = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
        ]);
        assert!(check_origin(&with_port, None).is_ok());
        let default_port = headers(&[
            ("host", "example.com:443"),
            ("origin", "https://example.com"),
        ]);
        assert!(check_origin(&default_port, None).is_ok());

        // A configured origin wins over the Host a proxy rewrote.
        let proxied = headers(&[
            ("host", "10.0.0.5:3000"),
            ("origin", "https://booking.example.com"),
        ]);
        assert!(check_origin(&proxied, None).is_err());
        assert!(check_origin(&proxied, Some("https://booking.example.com")).is_ok());
        assert!(check_origin(&proxied, Some("http://booking.example.com")).is_err());

        for site in ["same-site", "cross-site"] {
            let request = headers(&[host, ("sec-fetch-site", site)]);
            assert_eq!(
                check_origin(&request, None),
                Err(ForeignPost::FetchSite(site.into()))
            );
        }
        let own = headers(&[
            host,
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://booking.example.com"),
        ]);
        assert!(check_origin(&own, None).is_ok());
    }
}
