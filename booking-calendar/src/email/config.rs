//! Where invitation emails go: the SMTP server (`SMTP_URL`) and the sender.

use std::time::Duration;

use booking_net::Url;
use lettre::message::Mailbox;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, Tokio1Executor};

/// How long one SMTP conversation may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// An SMTP setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmailConfigError {
    /// Not a URL.
    #[error("SMTP_URL is not a URL: {0}")]
    Url(String),
    /// Neither `smtp` nor `smtps`.
    #[error("SMTP_URL must start with smtp:// or smtps://, not {0}://")]
    Scheme(String),
    /// An unknown `tls=` value.
    #[error("SMTP_URL's tls= must be required or opportunistic, not {0:?}")]
    TlsMode(String),
    /// No host.
    #[error("SMTP_URL must name a host")]
    NoHost,
    /// The sender is not an address.
    #[error("the sender {0:?} is not an email address (e.g. \"Bookings <bookings@example.com>\")")]
    From(String),
    /// A root certificate is not PEM.
    #[error("the SMTP root certificate cannot be read: {0}")]
    Certificate(String),
    /// `lettre` refused the setting.
    #[error("the SMTP transport cannot be set up: {0}")]
    Transport(String),
}

/// How TLS is used, from the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    None,
    Opportunistic,
    Required,
    Wrapper,
}

/// The SMTP server and sender of invitation emails; see the
/// [module docs](super) for the URL forms.
///
/// ```
/// use booking_calendar::email::EmailConfig;
///
/// let config = EmailConfig::from_url("smtp://127.0.0.1:2525", "Bookings <bookings@example.com>")?;
/// assert_eq!(config.server(), "127.0.0.1:2525");
/// assert!(EmailConfig::from_url("http://mail.example.com", "a@example.com").is_err());
/// # Ok::<(), booking_calendar::email::EmailConfigError>(())
/// ```
#[derive(Clone)]
pub struct EmailConfig {
    url: Url,
    tls: TlsMode,
    from: Mailbox,
    roots: Vec<Certificate>,
}

impl std::fmt::Debug for EmailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailConfig")
            .field("server", &self.server())
            .field("tls", &self.tls)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl EmailConfig {
    /// Sends through the server of `smtp_url`, from `from` (an address, with
    /// an optional name: `Bookings <bookings@example.com>`).
    pub fn from_url(smtp_url: &str, from: &str) -> Result<Self, EmailConfigError> {
        let url = Url::parse(smtp_url.trim()).map_err(|e| EmailConfigError::Url(e.to_string()))?;
        let tls_query = url
            .query_pairs()
            .find(|(key, _)| key == "tls")
            .map(|(_, value)| value.into_owned());
        let tls = match (url.scheme(), tls_query.as_deref()) {
            ("smtps", _) => TlsMode::Wrapper,
            ("smtp", None) => TlsMode::None,
            ("smtp", Some("required")) => TlsMode::Required,
            ("smtp", Some("opportunistic")) => TlsMode::Opportunistic,
            ("smtp", Some(other)) => return Err(EmailConfigError::TlsMode(other.to_owned())),
            (other, _) => return Err(EmailConfigError::Scheme(other.to_owned())),
        };
        if url.host_str().is_none_or(str::is_empty) {
            return Err(EmailConfigError::NoHost);
        }
        let from = from
            .trim()
            .parse::<Mailbox>()
            .map_err(|_| EmailConfigError::From(from.to_owned()))?;
        Ok(EmailConfig {
            url,
            tls,
            from,
            roots: Vec::new(),
        })
    }

    /// Also trusts the CA certificate `pem` for the server's TLS
    /// certificate (a private relay's own CA).
    pub fn with_root_certificate(mut self, pem: &[u8]) -> Result<Self, EmailConfigError> {
        let certificate =
            Certificate::from_pem(pem).map_err(|e| EmailConfigError::Certificate(e.to_string()))?;
        self.roots.push(certificate);
        Ok(self)
    }

    /// `host:port` (for logs; never the credentials).
    pub fn server(&self) -> String {
        let host = self.url.host_str().unwrap_or_default();
        match self.url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }

    /// The sender.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// The TLS settings with the extra roots, when there are any (else
    /// `lettre`'s from the URL). Checks them without starting anything.
    pub(crate) fn tls(&self) -> Result<Option<Tls>, EmailConfigError> {
        if self.roots.is_empty() || self.tls == TlsMode::None {
            return Ok(None);
        }
        let host = self.url.host_str().unwrap_or_default().to_owned();
        let mut parameters = TlsParameters::builder(host);
        for root in &self.roots {
            parameters = parameters.add_root_certificate(root.clone());
        }
        let parameters = parameters
            .build_rustls()
            .map_err(|e| EmailConfigError::Transport(e.to_string()))?;
        Ok(Some(match self.tls {
            TlsMode::Wrapper => Tls::Wrapper(parameters),
            TlsMode::Required => Tls::Required(parameters),
            _ => Tls::Opportunistic(parameters),
        }))
    }

    /// The `lettre` transport for this configuration. Its connection pool
    /// runs a task, so this needs a Tokio runtime.
    pub(crate) fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, EmailConfigError> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(self.url.as_str())
            .map_err(|e| EmailConfigError::Transport(e.to_string()))?
            .timeout(Some(SMTP_TIMEOUT));
        if let Some(tls) = self.tls()? {
            builder = builder.tls(tls);
        }
        Ok(builder.build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_documented_form_is_accepted_and_others_are_named() {
        for (url, tls) in [
            ("smtp://127.0.0.1:2525", TlsMode::None),
            (
                "smtp://mail.example.com:587?tls=required",
                TlsMode::Required,
            ),
            (
                "smtp://mail.example.com:587?tls=opportunistic",
                TlsMode::Opportunistic,
            ),
            ("smtps://user:p%40ss@mail.example.com", TlsMode::Wrapper),
        ] {
            let config = EmailConfig::from_url(url, "Bookings <b@example.com>").unwrap();
            assert_eq!(config.tls, tls, "{url}");
            assert!(config.transport().is_ok(), "{url}");
            assert!(!format!("{config:?}").contains("p%40ss"));
        }
        assert!(matches!(
            EmailConfig::from_url("http://x", "b@example.com"),
            Err(EmailConfigError::Scheme(_))
        ));
        assert!(matches!(
            EmailConfig::from_url("smtp://x?tls=maybe", "b@example.com"),
            Err(EmailConfigError::TlsMode(_))
        ));
        assert!(matches!(
            EmailConfig::from_url("smtp://x", "not an address"),
            Err(EmailConfigError::From(_))
        ));
        assert!(matches!(
            EmailConfig::from_url("not a url", "b@example.com"),
            Err(EmailConfigError::Url(_))
        ));
    }
}
