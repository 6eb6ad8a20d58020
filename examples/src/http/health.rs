//! Readiness: `GET /readyz` asks the store and the lock backend whether they
//! answer now ([`BookingService::readiness`]), each within a short timeout.
//!
//! | store | lock | reply |
//! |---|---|---|
//! | answers | answers | 200 `{"status": "ok", "store": "ok", "lock": "ok"}` |
//! | answers | down | 200 `{"status": "degraded", "store": "ok", "lock": "down", "message": ...}`: bookings go on without the lock, the store alone still refuses every overlap |
//! | down | either | 503 `{"status": "unavailable", "store": "down", "lock": ..., "message": ...}` |
//!
//! The two are checked together ([`BookingService::readiness`]); when that
//! does not finish within the timeout the reply is 503 with the lock
//! `"unknown"`. The Redis lock bounds each of its calls (2 s by default), so
//! with the default timeout of 3 s a Redis server that hangs shows as the
//! lock being down, and only a store that does not answer times the probe
//! out.
//!
//! `/healthz` stays the liveness probe: 200 whenever the process serves
//! HTTP, so a supervisor restarts the process only when restarting can help,
//! while a load balancer takes a replica whose database is unreachable out
//! of rotation through `/readyz`. Replies never carry the backends' error
//! text (it names hosts and users); it goes to the log.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use booking_core::service::BookingService;
use serde_json::{Value, json};

use super::error::error_chain;
use super::metrics;

/// The default time `/readyz` gives the backends to answer: longer than the
/// Redis lock's own 2 s bound on a call, so a hanging Redis is reported as
/// such instead of timing the whole probe out.
pub const DEFAULT_READINESS_TIMEOUT: Duration = Duration::from_secs(3);

/// What a readiness check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// The store answered in time.
    pub store: bool,
    /// The lock backend answered in time; `None` when the check timed out,
    /// so its answer is not known.
    pub lock: Option<bool>,
}

impl Health {
    /// 503 when the store is down, otherwise 200 (degraded when only the
    /// lock is down), with the documented body.
    pub fn reply(self) -> (StatusCode, Json<Value>) {
        let (status, overall, message) = match (self.store, self.lock) {
            (true, Some(true)) => (StatusCode::OK, "ok", None),
            (true, _) => (
                StatusCode::OK,
                "degraded",
                Some(
                    "the slot lock backend does not answer; bookings go on without it \
                     and the store still refuses every overlap",
                ),
            ),
            (false, _) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                Some("the store does not answer; see the service's log"),
            ),
        };
        let mut body = json!({
            "status": overall,
            "store": if self.store { "ok" } else { "down" },
            "lock": match self.lock {
                Some(true) => "ok",
                Some(false) => "down",
                None => "unknown",
            },
        });
        if let (Some(message), Some(map)) = (message, body.as_object_mut()) {
            map.insert("message".to_owned(), json!(message));
        }
        (status, Json(body))
    }
}

/// Checks the store and the lock, bounded by `timeout`, logs what
/// failed and records the result in the `booking_*_up` gauges.
pub async fn check(service: &BookingService, timeout: Duration) -> Health {
    let health = match tokio::time::timeout(timeout, service.readiness()).await {
        Ok(readiness) => {
            if let Err(error) = &readiness.store {
                tracing::warn!(error = %error_chain(error), "readiness: the store does not answer");
            }
            if let Err(error) = &readiness.lock {
                tracing::warn!(error = %error_chain(error), "readiness: the lock backend does not answer");
            }
            Health {
                store: readiness.store.is_ok(),
                lock: Some(readiness.lock.is_ok()),
            }
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = timeout.as_millis(),
                "readiness: the store and lock did not answer in time"
            );
            Health {
                store: false,
                lock: None,
            }
        }
    };
    metrics::backends_up(health.store, health.lock);
    health
}

/// The `/readyz` route.
pub fn router<S>(service: BookingService, timeout: Duration) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/readyz", get(readyz))
        .with_state((service, timeout))
}

async fn readyz(
    State((service, timeout)): State<(BookingService, Duration)>,
) -> (StatusCode, Json<Value>) {
    check(&service, timeout).await.reply()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_store_decides_readiness() {
        let (status, Json(body)) = Health {
            store: true,
            lock: Some(true),
        }
        .reply();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({"status": "ok", "store": "ok", "lock": "ok"}));

        for (lock, word) in [(Some(false), "down"), (None, "unknown")] {
            let (status, Json(body)) = Health { store: true, lock }.reply();
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body["status"], "degraded");
            assert_eq!(body["lock"], word);
            assert!(body["message"].as_str().unwrap().contains("without it"));
        }

        for lock in [Some(true), Some(false), None] {
            let (status, Json(body)) = Health { store: false, lock }.reply();
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(body["status"], "unavailable");
            assert_eq!(body["store"], "down");
        }
    }
}
