//! The `Idempotency-Key` request header (the IETF httpapi draft, Stripe's
//! practice) on `POST /api/bookings`, `POST /api/bookings/{id}/reschedule`
//! and `POST /api/bookings/{id}/cancel`.
//!
//! * The key is 1 to 255 visible ASCII characters (`!` to `~`); anything
//!   else, or the header sent twice, is 400 `validation_error` naming
//!   `Idempotency-Key`. Without the header a request runs as it always did.
//! * The first request with a key runs; its outcome (status and body, a
//!   refusal included) is kept by the store for 24 hours, scoped to the
//!   organizer and the operation (creating, or moving or cancelling one
//!   booking).
//! * The same key with the same request again gets that outcome again,
//!   status and body identical, plus the response header
//!   `Idempotent-Replayed: true` (absent from the first reply). A booking's
//!   cancel token comes back too: it is derived from the key, never stored
//!   (see `booking_core::idempotency`).
//! * The same key with another request: 422 `idempotency_key_reused`.
//! * The same key while the first request still runs: the second waits for
//!   it (up to 10 s) and replays it; after that, 409
//!   `idempotency_in_progress`.
//!
//! Requests refused before they reach the service (malformed JSON, missing
//! fields, a wrong credential) are not remembered: fixing them and retrying
//! with the same key runs the fixed request.

use axum::extract::FromRequestParts;
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use booking_core::{IdempotencyKey, ServiceError};

use super::error::ApiError;

/// The request header carrying the key.
pub const KEY_HEADER: &str = "idempotency-key";

/// The response header of a replayed outcome: `Idempotent-Replayed: true`.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// The `Idempotency-Key` of a request, if it sent one; a malformed one is
/// 400 `validation_error` naming `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct IdempotencyHeader(pub Option<IdempotencyKey>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let mut values = parts.headers.get_all(KEY_HEADER).iter();
        let Some(value) = values.next() else {
            return Ok(IdempotencyHeader(None));
        };
        if values.next().is_some() {
            return Err(ApiError::field(
                "Idempotency-Key",
                "send one Idempotency-Key header, not several",
            ));
        }
        let text = std::str::from_utf8(value.as_bytes()).unwrap_or("\u{0}");
        text.parse::<IdempotencyKey>()
            .map(|key| IdempotencyHeader(Some(key)))
            .map_err(|error| ApiError::field("Idempotency-Key", error.to_string()))
    }
}

/// Marks `response` as a replayed outcome.
pub fn mark_replayed(response: &mut Response) {
    response
        .headers_mut()
        .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
}

/// A failed request of an idempotent endpoint: the error reply, marked as a
/// replay when the service replayed a recorded refusal.
#[derive(Debug)]
pub struct Failure(Box<Response>);

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure(Box::new(error.into_response()))
    }
}

impl From<ServiceError> for Failure {
    fn from(error: ServiceError) -> Self {
        let replayed = matches!(error, ServiceError::Replayed { .. });
        let mut response = ApiError::from(error).into_response();
        if replayed {
            mark_replayed(&mut response);
        }
        Failure(Box::new(response))
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// What an idempotent endpoint answers.
pub type Answer = Result<Response, Failure>;

/// `status` with `body`, marked as a replay when `replayed`.
pub fn answer(status: axum::http::StatusCode, body: serde_json::Value, replayed: bool) -> Answer {
    let mut response = (status, axum::Json(body)).into_response();
    if replayed {
        mark_replayed(&mut response);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    async fn key_of(values: &[&[u8]]) -> Result<Option<String>, ApiError> {
        let mut request = Request::builder().uri("/");
        for value in values {
            request = request.header(KEY_HEADER, HeaderValue::from_bytes(value).unwrap());
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        IdempotencyHeader::from_request_parts(&mut parts, &())
            .await
            .map(|IdempotencyHeader(key)| key.map(|k| k.as_str().to_owned()))
    }

    #[tokio::test]
    async fn keys_are_visible_ascii_once() {
        assert_eq!(key_of(&[]).await.unwrap(), None);
        assert_eq!(
            key_of(&[b"abc-123_~!"]).await.unwrap().as_deref(),
            Some("abc-123_~!")
        );
        let longest = "k".repeat(255);
        assert_eq!(
            key_of(&[longest.as_bytes()]).await.unwrap(),
            Some(longest.clone())
        );
        let too_long = "k".repeat(256);
        for bad in [
            too_long.as_bytes(),
            b"with space".as_slice(),
            b"tab\there".as_slice(),
            "caf\u{e9}".as_bytes(),
            b"\xff\xfe".as_slice(),
        ] {
            let error = key_of(&[bad]).await.unwrap_err();
            assert_eq!(error.status, axum::http::StatusCode::BAD_REQUEST);
            assert!(error.fields.contains_key("Idempotency-Key"), "{error:?}");
        }
        let twice = key_of(&[b"a", b"b"]).await.unwrap_err();
        assert!(twice.fields.contains_key("Idempotency-Key"));
    }
}
