//! The errors this crate puts inside
//! [`LockError::Backend`](booking_core::lock::LockError::Backend), besides
//! the Redis client's own [`redis::RedisError`] and [`BreakerOpen`](crate::BreakerOpen).

use std::time::Duration;

/// A Redis call did not complete within the configured
/// [`command_timeout`](crate::RedisLockConfig::command_timeout). Carried as
/// the source of [`LockError::Backend`](booking_core::lock::LockError::Backend).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("redis did not answer within {0:?}")]
pub struct CommandTimeout(pub Duration);

/// The Redis reply to a lock command was not what the protocol promises
/// (for example a release script answering something other than 0 or 1):
/// most likely another program uses the same keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unexpected reply from redis: {0}")]
pub struct UnexpectedReply(pub(crate) String);
