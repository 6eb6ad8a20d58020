//! Refusing a request body by its announced size, before reading any of it.
//!
//! A client that announces `Content-Length: 1000000000` (with or without
//! `Expect: 100-continue`) is answered 413 `payload_too_large` at once: the
//! body is never polled, so hyper never sends `100 Continue`, and the reply
//! says `Connection: close` (as every 413 and 408 does, see
//! [`ApiError`](super::ApiError)) because the unread body makes the
//! connection unusable. Bodies without a length (chunked) are cut at
//! [`MAX_BODY_BYTES`] while they are read, by the extractors.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::extract::{MAX_BODY_BYTES, too_large};

/// The middleware.
pub async fn refuse_announced_oversize(request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok());
    let limit = u64::try_from(MAX_BODY_BYTES).unwrap_or(u64::MAX);
    match announced {
        Some(length) if length > limit => too_large().into_response(),
        _ => next.run(request).await,
    }
}
