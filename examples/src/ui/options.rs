//! The pages' own settings: how the session cookie is marked, the key form
//! tokens are signed with, and the origin the pages are served at. Read from
//! the environment by [`UiOptions::from_env`]; every one has a safe default.

use std::fmt;

/// `BOOKING_COOKIE_SECURE`: `auto` (default), `true` or `false`.
pub const COOKIE_SECURE_VAR: &str = "BOOKING_COOKIE_SECURE";
/// `BOOKING_CSRF_KEY`: the secret form tokens are signed with (at least
/// [`MIN_CSRF_KEY_LEN`] characters); a random one per process when unset.
pub const CSRF_KEY_VAR: &str = "BOOKING_CSRF_KEY";
/// `BOOKING_PUBLIC_ORIGIN`: the origin people reach the pages at, e.g.
/// `https://booking.example.com`.
pub const PUBLIC_ORIGIN_VAR: &str = "BOOKING_PUBLIC_ORIGIN";
/// The shortest `BOOKING_CSRF_KEY` accepted: 32 characters.
pub const MIN_CSRF_KEY_LEN: usize = 32;

/// Whether the session cookies are `Secure` and carry the `__Host-` prefix.
///
/// Browsers keep a `__Host-` cookie only when it is `Secure`, host-only and
/// for `Path=/`; such a cookie cannot be set or replaced by a sibling
/// subdomain (cookie tossing). But a `Secure` cookie is never sent over
/// plain HTTP, so a service reached at `http://` needs plain names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CookieSecurity {
    /// Decide per request: `Secure` and `__Host-` when a proxy in front says
    /// the request came over HTTPS (`X-Forwarded-Proto: https` or
    /// `Forwarded: proto=https`), plain otherwise. The default.
    #[default]
    Auto,
    /// Always `Secure` and `__Host-`: for a service reached only over HTTPS.
    Always,
    /// Never: for plain-HTTP use on a local machine or network.
    Never,
}

/// The pages' settings.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UiOptions {
    /// How the session cookies are marked.
    pub cookie_security: CookieSecurity,
    /// The secret form tokens are signed with; `None` draws a random one when
    /// the pages start, so tokens do not survive a restart and several
    /// processes behind one address need the same configured key.
    pub csrf_key: Option<String>,
    /// The origin (`scheme://host[:port]`) the pages are served at. When
    /// unset, a form post's `Origin` must name the host the request was sent
    /// to (its `Host` header), which fails behind a proxy that rewrites
    /// `Host`: set this there.
    pub public_origin: Option<String>,
}

impl fmt::Debug for UiOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UiOptions")
            .field("cookie_security", &self.cookie_security)
            .field("csrf_key", &self.csrf_key.as_ref().map(|_| "<set>"))
            .field("public_origin", &self.public_origin)
            .finish()
    }
}

/// A setting of the pages that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UiOptionsError {
    /// `BOOKING_COOKIE_SECURE` is not `auto`, `true` or `false`.
    #[error("{COOKIE_SECURE_VAR}={0:?} is not one of auto, true, false")]
    CookieSecure(String),
    /// `BOOKING_CSRF_KEY` is too short to be a secret.
    #[error("{CSRF_KEY_VAR} has {0} characters; use at least {MIN_CSRF_KEY_LEN} random ones")]
    CsrfKeyTooShort(usize),
    /// `BOOKING_PUBLIC_ORIGIN` is not `http(s)://host[:port]`.
    #[error(
        "{PUBLIC_ORIGIN_VAR}={0:?} is not an origin such as https://booking.example.com \
         (scheme and host, an optional port, no path)"
    )]
    PublicOrigin(String),
}

impl UiOptions {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, UiOptionsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (a variable's value, or `None`
    /// when unset); empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, UiOptionsError> {
        let read = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        Ok(UiOptions {
            cookie_security: cookie_security(read(COOKIE_SECURE_VAR))?,
            csrf_key: csrf_key(read(CSRF_KEY_VAR))?,
            public_origin: public_origin(read(PUBLIC_ORIGIN_VAR))?,
        })
    }

    /// The settings from the environment; a setting that cannot be used is
    /// logged and replaced by the strictest choice (cookies always `Secure`,
    /// a random key, the `Host` check), so a typo never weakens the
    /// protection.
    pub(super) fn from_env_or_strict() -> Self {
        fn or_strict<T>(read: Result<T, UiOptionsError>, strict: T) -> T {
            read.unwrap_or_else(|error| {
                tracing::error!(%error, "web pages: unusable setting; using the strictest choice");
                strict
            })
        }
        let read = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.trim().is_empty())
        };
        UiOptions {
            cookie_security: or_strict(
                cookie_security(read(COOKIE_SECURE_VAR)),
                CookieSecurity::Always,
            ),
            csrf_key: or_strict(csrf_key(read(CSRF_KEY_VAR)), None),
            public_origin: or_strict(public_origin(read(PUBLIC_ORIGIN_VAR)), None),
        }
    }
}

fn cookie_security(value: Option<String>) -> Result<CookieSecurity, UiOptionsError> {
    let Some(value) = value else {
        return Ok(CookieSecurity::Auto);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "auto" => Ok(CookieSecurity::Auto),
        "true" | "1" | "yes" => Ok(CookieSecurity::Always),
        "false" | "0" | "no" => Ok(CookieSecurity::Never),
        _ => Err(UiOptionsError::CookieSecure(value)),
    }
}

fn csrf_key(value: Option<String>) -> Result<Option<String>, UiOptionsError> {
    match value {
        Some(key) if key.chars().count() < MIN_CSRF_KEY_LEN => {
            Err(UiOptionsError::CsrfKeyTooShort(key.chars().count()))
        }
        key => Ok(key),
    }
}

fn public_origin(value: Option<String>) -> Result<Option<String>, UiOptionsError> {
    value
        .map(|text| normalized_origin(&text).ok_or(UiOptionsError::PublicOrigin(text)))
        .transpose()
}

/// `https://Example.com:443/` becomes `https://example.com`: lowercase,
/// no default port, no trailing slash. `None` unless it is an `http` or
/// `https` origin without path, query or credentials.
pub(super) fn normalized_origin(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('/');
    let (scheme, authority) = text.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let valid = !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !valid {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<UiOptions, UiOptionsError> {
        UiOptions::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn defaults_are_auto_random_key_and_host_check() {
        assert_eq!(read(&[]).unwrap(), UiOptions::default());
        assert_eq!(
            read(&[(COOKIE_SECURE_VAR, " ")]).unwrap(),
            UiOptions::default()
        );
    }

    #[test]
    fn each_setting_is_read_or_refused_by_name() {
        let options = read(&[
            (COOKIE_SECURE_VAR, "TRUE"),
            (CSRF_KEY_VAR, "0123456789abcdef0123456789abcdef"),
            (PUBLIC_ORIGIN_VAR, "HTTPS://Booking.Example.com:443/"),
        ])
        .unwrap();
        assert_eq!(options.cookie_security, CookieSecurity::Always);
        assert_eq!(
            options.public_origin.as_deref(),
            Some("https://booking.example.com")
        );
        assert!(
            !format!("{options:?}").contains("0123"),
            "the key is not logged"
        );
        assert_eq!(
            read(&[(COOKIE_SECURE_VAR, "false")])
                .unwrap()
                .cookie_security,
            CookieSecurity::Never
        );
        let error = read(&[(COOKIE_SECURE_VAR, "sometimes")]).unwrap_err();
        assert!(
            error.to_string().contains("BOOKING_COOKIE_SECURE"),
            "{error}"
        );
        assert_eq!(
            read(&[(CSRF_KEY_VAR, "short")]).unwrap_err(),
            UiOptionsError::CsrfKeyTooShort(5)
        );
        for bad in [
            "booking.example.com",
            "ftp://x",
            "https://x/path",
            "https://u@x",
        ] {
            assert!(
                read(&[(PUBLIC_ORIGIN_VAR, bad)]).is_err(),
                "{bad} is not an origin"
            );
        }
        assert_eq!(
            normalized_origin("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
    }
}
