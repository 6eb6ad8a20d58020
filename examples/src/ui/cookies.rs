//! The pages' two cookies, their names and attributes, and reading them
//! back so that a planted duplicate is noticed.
//!
//! * the **session** cookie says who is signed in ([`super::session`] knows
//!   what its value means);
//! * the **pre-session** cookie is a random value given to a visitor who is
//!   not signed in, so the sign-in and sign-up forms can carry a token bound
//!   to it (login CSRF).
//!
//! Over HTTPS both are `__Host-` cookies with `Secure`, which a sibling
//! subdomain cannot set or overwrite; over plain HTTP browsers refuse
//! `__Host-` (it requires `Secure`), so they have plain names there (see
//! [`CookieSecurity`]). Either way a request carrying the same cookie name
//! twice, which is what a cookie planted for a parent domain looks like, is
//! refused rather than guessed at.

use axum::http::{HeaderMap, HeaderValue, header};

use super::options::CookieSecurity;

/// Which of the two cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cookie {
    /// Who is signed in.
    Session,
    /// A visitor's random value before signing in.
    PreSession,
}

/// Whether one request is treated as arriving over HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transport {
    /// `Secure` cookies with the `__Host-` prefix.
    Https,
    /// Plain names, no `Secure`.
    PlainHttp,
}

impl Transport {
    /// How `request` arrived, as far as the setting lets it say: with
    /// [`CookieSecurity::Auto`], a proxy's `X-Forwarded-Proto: https` or
    /// `Forwarded: proto=https` means HTTPS. A client that sends such a
    /// header over plain HTTP only gets a cookie its browser will not send
    /// back.
    pub(super) fn of(request: &HeaderMap, setting: CookieSecurity) -> Transport {
        let forwarded_https = || {
            let header_says = |name: &str, test: &dyn Fn(&str) -> bool| {
                request
                    .get_all(name)
                    .iter()
                    .filter_map(|value| value.to_str().ok())
                    .any(test)
            };
            header_says("x-forwarded-proto", &|value| {
                value
                    .split(',')
                    .next()
                    .is_some_and(|first| first.trim().eq_ignore_ascii_case("https"))
            }) || header_says("forwarded", &|value| {
                value
                    .split([';', ','])
                    .filter_map(|pair| pair.trim().split_once('='))
                    .any(|(key, value)| {
                        key.eq_ignore_ascii_case("proto")
                            && value.trim_matches('"').eq_ignore_ascii_case("https")
                    })
            })
        };
        match setting {
            CookieSecurity::Always => Transport::Https,
            CookieSecurity::Never => Transport::PlainHttp,
            CookieSecurity::Auto if forwarded_https() => Transport::Https,
            CookieSecurity::Auto => Transport::PlainHttp,
        }
    }

    /// The cookie's name over this transport.
    pub(super) fn name(self, cookie: Cookie) -> &'static str {
        match (self, cookie) {
            (Transport::Https, Cookie::Session) => "__Host-booking_session",
            (Transport::Https, Cookie::PreSession) => "__Host-booking_presession",
            (Transport::PlainHttp, Cookie::Session) => "booking_session",
            (Transport::PlainHttp, Cookie::PreSession) => "booking_presession",
        }
    }

    /// `Set-Cookie` for `cookie` holding `value`: `HttpOnly` (scripts cannot
    /// read it), `Path=/`, no `Domain` (host-only), `Secure` over HTTPS. The
    /// session cookie is `SameSite=Strict`; the pre-session one is `Lax`, so
    /// a visitor arriving from a link elsewhere keeps the value a form in
    /// another tab was given. `None` if `value` cannot be a cookie value.
    pub(super) fn set(self, cookie: Cookie, value: &str) -> Option<HeaderValue> {
        let valid = !value.is_empty()
            && value
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b';' | b'\\'));
        if !valid {
            return None;
        }
        HeaderValue::from_str(&format!(
            "{}={value}; {}",
            self.name(cookie),
            self.attributes(cookie)
        ))
        .ok()
    }

    /// `Set-Cookie` removing `cookie`.
    pub(super) fn clear(self, cookie: Cookie) -> HeaderValue {
        let text = format!(
            "{}=; {}; Max-Age=0",
            self.name(cookie),
            self.attributes(cookie)
        );
        // Names and attributes are fixed ASCII.
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("x=; Max-Age=0"))
    }

    fn attributes(self, cookie: Cookie) -> &'static str {
        match (self, cookie) {
            (Transport::Https, Cookie::Session) => "HttpOnly; SameSite=Strict; Path=/; Secure",
            (Transport::Https, Cookie::PreSession) => "HttpOnly; SameSite=Lax; Path=/; Secure",
            (Transport::PlainHttp, Cookie::Session) => "HttpOnly; SameSite=Strict; Path=/",
            (Transport::PlainHttp, Cookie::PreSession) => "HttpOnly; SameSite=Lax; Path=/",
        }
    }

    /// What the request's `Cookie` headers hold for `cookie`.
    pub(super) fn read(self, request: &HeaderMap, cookie: Cookie) -> CookieValue {
        read_named(request, self.name(cookie))
    }
}

/// A cookie as the request carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CookieValue {
    /// Not sent, or sent empty.
    Absent,
    /// Sent once.
    One(String),
    /// Sent more than once: someone planted a second one.
    Duplicate,
}

fn read_named(request: &HeaderMap, name: &str) -> CookieValue {
    let mut found = request
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim().trim_matches('"'));
    match (found.next(), found.next()) {
        (None, _) => CookieValue::Absent,
        (Some(_), Some(_)) => CookieValue::Duplicate,
        (Some(""), None) => CookieValue::Absent,
        (Some(value), None) => CookieValue::One(value.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::COOKIE, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn one_value_is_read_and_a_second_one_anywhere_is_a_duplicate() {
        let plain = Transport::PlainHttp;
        assert_eq!(
            plain.read(&cookies(&["a=1; booking_session=abc"]), Cookie::Session),
            CookieValue::One("abc".into())
        );
        assert_eq!(
            plain.read(
                &cookies(&["booking_session=abc; booking_session=xyz"]),
                Cookie::Session
            ),
            CookieValue::Duplicate
        );
        assert_eq!(
            plain.read(
                &cookies(&["booking_session=abc", "booking_session=abc"]),
                Cookie::Session
            ),
            CookieValue::Duplicate
        );
        assert_eq!(
            plain.read(&cookies(&["booking_session="]), Cookie::Session),
            CookieValue::Absent
        );
        // The plain name is not the __Host- one.
        assert_eq!(
            Transport::Https.read(&cookies(&["booking_session=abc"]), Cookie::Session),
            CookieValue::Absent
        );
    }

    #[test]
    fn https_cookies_are_host_only_and_secure() {
        let set = Transport::Https.set(Cookie::Session, "abc").unwrap();
        assert_eq!(
            set,
            "__Host-booking_session=abc; HttpOnly; SameSite=Strict; Path=/; Secure"
        );
        assert!(!set.to_str().unwrap().contains("Domain"));
        assert_eq!(
            Transport::PlainHttp.clear(Cookie::PreSession),
            "booking_presession=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"
        );
        assert!(Transport::PlainHttp.set(Cookie::Session, "a;b").is_none());
    }

    #[test]
    fn auto_trusts_a_forwarded_https_only() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            Transport::of(&headers, CookieSecurity::Auto),
            Transport::PlainHttp
        );
        assert_eq!(
            Transport::of(&headers, CookieSecurity::Always),
            Transport::Https
        );
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(
            Transport::of(&headers, CookieSecurity::Auto),
            Transport::Https
        );
        assert_eq!(
            Transport::of(&headers, CookieSecurity::Never),
            Transport::PlainHttp
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            "forwarded",
            HeaderValue::from_static("for=192.0.2.60;proto=https;by=203.0.113.43"),
        );
        assert_eq!(
            Transport::of(&headers, CookieSecurity::Auto),
            Transport::Https
        );
    }
}
