//! Reading one connected calendar from its server, through the
//! SSRF-safe [`SafeClient`] (public addresses only unless the policy allows
//! private ones, redirects re-checked, size cap, timeout):
//!
//! * an ICS feed with `GET`, sending the last copy's `ETag` as
//!   `If-None-Match` so an unchanged feed costs a `304` and no parsing;
//! * a CalDAV collection with a `calendar-query` `REPORT` for a time
//!   range, with HTTP basic authentication.

use base64::Engine as _;
use booking_core::TimeRange;
use booking_core::secret::SecretBoxError;
use booking_net::{FetchError, SafeClient};
use reqwest::header::{
    AUTHORIZATION, CONTENT_TYPE, ETAG, HeaderMap, HeaderName, HeaderValue, IF_NONE_MATCH,
};
use reqwest::{Method, StatusCode};

use crate::caldav::{MultistatusError, calendar_data, calendar_query};
use crate::parse::{BusyCalendar, ParseError};

/// Why a calendar could not be read: the `cause` of
/// [`ProviderError::Unavailable`](booking_core::ProviderError::Unavailable).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The request failed or was refused (address policy, timeout, size).
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The server answered with an error status.
    #[error("the calendar server answered {0}")]
    Status(StatusCode),
    /// The calendar data cannot be read.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The CalDAV answer cannot be read.
    #[error(transparent)]
    Multistatus(#[from] MultistatusError),
    /// The stored CalDAV password cannot be opened with the server key.
    #[error("the stored calendar password cannot be decrypted: {0}")]
    Password(#[source] SecretBoxError),
    /// A `304 Not Modified` came without an earlier copy to keep.
    #[error("the server said the calendar was not modified, but no copy exists")]
    NothingCached,
}

/// What a feed fetch brought.
pub(crate) enum FeedAnswer {
    /// The copy sent with `If-None-Match` is still current.
    NotModified,
    /// A new copy, and its `ETag`.
    Changed {
        calendar: BusyCalendar,
        etag: Option<String>,
    },
}

/// `GET url`, conditional on `etag`.
pub(crate) async fn fetch_feed(
    client: &SafeClient,
    url: &str,
    etag: Option<&str>,
) -> Result<FeedAnswer, ReadError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static("text/calendar, */*;q=0.5"),
    );
    if let Some(value) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
        headers.insert(IF_NONE_MATCH, value);
    }
    let answer = client.get(url, headers).await?;
    if answer.status == StatusCode::NOT_MODIFIED {
        return Ok(FeedAnswer::NotModified);
    }
    if !answer.status.is_success() {
        return Err(ReadError::Status(answer.status));
    }
    let etag = answer
        .headers
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = String::from_utf8_lossy(&answer.body);
    Ok(FeedAnswer::Changed {
        calendar: BusyCalendar::parse(&text)?,
        etag,
    })
}

/// A `calendar-query` `REPORT` on the collection at `url` for `range`.
pub(crate) async fn query_caldav(
    client: &SafeClient,
    url: &str,
    username: &str,
    password: &str,
    range: TimeRange,
) -> Result<BusyCalendar, ReadError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static("depth"),
        HeaderValue::from_static("1"),
    );
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    // Base64 text is always a valid header value.
    let mut authorization = HeaderValue::from_str(&format!("Basic {credentials}"))
        .expect("base64 is a valid header value");
    authorization.set_sensitive(true);
    headers.insert(AUTHORIZATION, authorization);
    let report = Method::from_bytes(b"REPORT").expect("REPORT is a valid method token");
    let answer = client
        .send(report, url, headers, Some(calendar_query(range).into()))
        .await?;
    if answer.status != StatusCode::MULTI_STATUS {
        return Err(ReadError::Status(answer.status));
    }
    let text = String::from_utf8_lossy(&answer.body);
    let documents = calendar_data(&text)?;
    Ok(BusyCalendar::parse_all(
        documents.iter().map(String::as_str),
    )?)
}
