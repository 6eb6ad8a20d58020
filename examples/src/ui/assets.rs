//! The style sheet and script, compiled into the binary so the pages need no
//! network at run time.

use axum::http::header;
use axum::response::IntoResponse;

/// `examples/assets/app.css`.
const APP_CSS: &str = include_str!("../../assets/app.css");
/// `examples/assets/app.js`.
const APP_JS: &str = include_str!("../../assets/app.js");

/// Short caching: the files change only with the binary.
const CACHE: &str = "public, max-age=300";

/// `GET /assets/app.css`.
pub(super) async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        APP_CSS,
    )
}

/// `GET /assets/app.js`.
pub(super) async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        APP_JS,
    )
}
