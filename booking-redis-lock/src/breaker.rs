//! The circuit breaker: after Redis failed to answer, skip it for a while
//! instead of making every booking wait for the same failure.
//!
//! Closed (normal) → a call finds Redis unreachable, timing out or refusing
//! to serve → **open**: one warning is logged, every call fails at once with
//! [`BreakerOpen`] (no network attempt), and a background prober pings Redis
//! every interval. At the first answer the breaker **closes** (one info
//! line) and calls go to Redis again. A reply about the key or command
//! itself (say `WRONGTYPE`) shows Redis is up, so it does not open the
//! breaker.
//!
//! Only probes close it (the prober's `PING`, `check_health`, or a call made
//! as a probe when no prober can run): a late success of a call sent before
//! the outage proves nothing about now, and would make the breaker flap.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use redis::{ErrorKind, RedisError, ServerErrorKind};
use tokio::time::Instant;

/// Redis failed recently, so the lock did not try it: the breaker is open
/// until a background probe sees Redis answer. Carried as the source of
/// [`LockError::Backend`](booking_core::lock::LockError::Backend); bookings
/// go on without the lock meanwhile (the store refuses overlaps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "redis failed {down_for:?} ago; slot locks skip it until a background probe sees it answer (checked every {interval:?})"
)]
pub struct BreakerOpen {
    /// How long ago the breaker opened.
    pub down_for: Duration,
    /// How often the background probe pings Redis.
    pub interval: Duration,
}

/// What a call may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Closed: go to Redis.
    Go,
    /// Open, and no prober runs (it ended with its runtime): the caller
    /// should start one and fail at once; if it cannot start one, its call
    /// goes to Redis as the probe.
    StartProber(BreakerOpen),
    /// Open: fail at once.
    Skip(BreakerOpen),
}

/// The outcome of a call that went to Redis, for the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    /// Nothing changed.
    None,
    /// The breaker just opened: the caller starts the prober.
    Opened,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed,
    Open { since: Instant, prober: bool },
}

/// The breaker's state, shared by every clone of one lock.
#[derive(Debug)]
pub(crate) struct Breaker {
    interval: Duration,
    state: Mutex<State>,
}

impl Breaker {
    /// A closed breaker; `interval` zero means never open.
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            state: Mutex::new(State::Closed),
        }
    }

    /// How often the prober pings Redis while the breaker is open.
    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }

    /// Whether calls skip Redis right now.
    pub(crate) fn is_open(&self) -> bool {
        matches!(*self.state(), State::Open { .. })
    }

    /// May a call go to Redis now?
    pub(crate) fn admit(&self) -> Admission {
        let mut state = self.state();
        match *state {
            State::Closed => Admission::Go,
            State::Open { since, prober } => {
                let open = BreakerOpen {
                    down_for: since.elapsed(),
                    interval: self.interval,
                };
                if prober {
                    return Admission::Skip(open);
                }
                *state = State::Open {
                    since,
                    prober: true,
                };
                Admission::StartProber(open)
            }
        }
    }

    /// Records that a call to Redis failed with `error`. Opens the breaker
    /// (and logs the one warning of this outage) when the failure means
    /// Redis cannot serve locks now.
    pub(crate) fn failed(&self, error: &(dyn std::error::Error + 'static)) -> Transition {
        if self.interval.is_zero() || !means_unavailable(error) {
            return Transition::None;
        }
        let mut state = self.state();
        if let State::Open { .. } = *state {
            return Transition::None;
        }
        *state = State::Open {
            since: Instant::now(),
            prober: true,
        };
        drop(state);
        tracing::warn!(
            %error,
            probe_every = ?self.interval,
            "redis unavailable: slot locks are skipped until it answers again (bookings stay safe: the store refuses overlaps)"
        );
        Transition::Opened
    }

    /// Records that a probe got an answer: closes the breaker (one info
    /// line) if it was open.
    pub(crate) fn answered(&self) {
        let mut state = self.state();
        if let State::Open { since, .. } = *state {
            *state = State::Closed;
            drop(state);
            tracing::info!(
                outage = ?since.elapsed(),
                "redis answers again: slot locks are back"
            );
        }
    }

    /// The prober stopped without seeing Redis answer (its runtime shut
    /// down): the next call starts another one.
    pub(crate) fn prober_gone(&self) {
        let mut state = self.state();
        if let State::Open { since, .. } = *state {
            *state = State::Open {
                since,
                prober: false,
            };
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is a plain value, always consistent: a panic elsewhere
        // while the mutex was held cannot have left it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether `error` means Redis cannot serve locks now (no answer, or an
/// answer saying it cannot serve), as opposed to an answer about this key
/// or command.
pub(crate) fn means_unavailable(error: &(dyn std::error::Error + 'static)) -> bool {
    if error.is::<crate::CommandTimeout>() {
        return true;
    }
    let Some(error) = error.downcast_ref::<RedisError>() else {
        return false;
    };
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || matches!(
            error.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(
                    ServerErrorKind::BusyLoading
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::ClusterDown
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::ReadOnly
                )
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CommandTimeout;

    fn timeout() -> CommandTimeout {
        CommandTimeout(Duration::from_millis(1))
    }

    #[test]
    fn a_failure_opens_it_once_and_a_probe_closes_it() {
        let breaker = Breaker::new(Duration::from_secs(5));
        assert_eq!(breaker.admit(), Admission::Go);
        assert_eq!(breaker.failed(&timeout()), Transition::Opened);
        assert_eq!(breaker.failed(&timeout()), Transition::None, "one outage");
        assert!(matches!(breaker.admit(), Admission::Skip(_)));
        breaker.answered();
        assert_eq!(breaker.admit(), Admission::Go);
    }

    #[test]
    fn a_lost_prober_is_replaced_by_the_next_call() {
        let breaker = Breaker::new(Duration::from_secs(5));
        breaker.failed(&timeout());
        breaker.prober_gone();
        assert!(matches!(breaker.admit(), Admission::StartProber(_)));
        assert!(matches!(breaker.admit(), Admission::Skip(_)));
    }

    #[test]
    fn an_answer_about_the_key_does_not_open_it() {
        let breaker = Breaker::new(Duration::from_secs(5));
        let wrong_type = RedisError::from((
            ErrorKind::Server(ServerErrorKind::ResponseError),
            "WRONGTYPE",
        ));
        assert_eq!(breaker.failed(&wrong_type), Transition::None);
        let unexpected = crate::UnexpectedReply("2".into());
        assert_eq!(breaker.failed(&unexpected), Transition::None);
        assert_eq!(breaker.admit(), Admission::Go);
    }

    #[test]
    fn interval_zero_never_opens() {
        let breaker = Breaker::new(Duration::ZERO);
        assert_eq!(breaker.failed(&timeout()), Transition::None);
        assert_eq!(breaker.admit(), Admission::Go);
    }
}
