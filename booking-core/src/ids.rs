//! Identifiers: ULIDs, so ids sort by creation time and can be made anywhere
//! without a round trip to the database.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ulid::Ulid;

/// Text that is not a ULID (26 Crockford base-32 characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a valid id (expected a 26-character ULID)")]
pub struct InvalidId {
    /// The text that was refused.
    pub input: String,
}

macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Ulid);

        impl $name {
            /// The smallest id (all zero bits), for range bounds.
            pub const MIN: Self = Self(Ulid(0));
            /// The largest id (all one bits), for range bounds.
            pub const MAX: Self = Self(Ulid(u128::MAX));

            /// A new id, later ids sorting after earlier ones.
            pub fn generate() -> Self {
                Self(Ulid::generate())
            }

            /// The underlying ULID.
            pub fn as_ulid(&self) -> Ulid {
                self.0
            }
        }

        impl From<Ulid> for $name {
            fn from(value: Ulid) -> Self {
                Self(value)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(input: &str) -> Result<Self, Self::Err> {
                Ulid::from_string(input).map(Self).map_err(|_| InvalidId {
                    input: input.to_owned(),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

ulid_id!(
    /// Identifies an organizer (the seed's `users.id`).
    OrganizerId
);
ulid_id!(
    /// Identifies a booking (the seed's `bookings.id`).
    BookingId
);
ulid_id!(
    /// Identifies a schedule (a named set of working hours).
    ScheduleId
);
ulid_id!(
    /// Identifies an event type (a kind of meeting an attendee can book).
    EventTypeId
);
ulid_id!(
    /// Identifies a slot hold (a slot kept for a visitor for a few minutes).
    HoldId
);
ulid_id!(
    /// Identifies a booking event (stable across every delivery of it).
    EventId
);
ulid_id!(
    /// Identifies a job of the durable queue (one delivery of one event).
    JobId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_sort_by_creation() {
        let a = BookingId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = BookingId::generate();
        assert!(a < b);
        assert_eq!(a.to_string().parse::<BookingId>().unwrap(), a);
        assert!("not-a-ulid".parse::<OrganizerId>().is_err());
    }
}
