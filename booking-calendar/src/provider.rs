//! [`CalendarProvider`]: the organizer's connected calendars as an
//! [`AvailabilityProvider`], with a cache and the failure policy.
//!
//! # Freshness
//!
//! Every calendar's last good copy is kept in memory (per process) with the
//! time it was read. A copy is used as it is while it is younger than
//! [`Freshness`] allows for the purpose (by default 5 minutes for slot
//! lists, 1 minute for a booking decision); otherwise the calendar is read
//! again first (an ICS feed with `If-None-Match`, so an unchanged feed
//! costs a `304`; a CalDAV collection with a `REPORT` for the range asked
//! for, widened by a day on each side so the booking checks that follow a
//! slot list are served from the same copy).
//!
//! # Failure policy
//!
//! When a calendar cannot be read (server down, timeout, error status,
//! unreadable data, refused address, wrong password):
//!
//! * **booking** ([`BusyPurpose::Booking`]): if no copy younger than the
//!   booking freshness exists, the answer is
//!   [`ProviderError::Unavailable`] naming the calendar, and the service
//!   refuses the booking (`CalendarUnavailable`, a 503): a meeting is never
//!   booked over one nobody could see;
//! * **listing** ([`BusyPurpose::Listing`]): the last copy is used, however
//!   old (none: no busy time from that calendar), and the calendar's name
//!   is listed in [`BusyTime::stale`], so the page can say so. The booking
//!   itself is checked again with the strict rule above.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use booking_core::chrono::{DateTime, Duration, Utc};
use booking_core::{
    AvailabilityProvider, BusyPurpose, BusyTime, Clock, Organizer, OrganizerId, ProviderError,
    SystemClock, TimeRange,
};
use booking_net::SafeClient;

use crate::connections::{ConnectionKind, Connections, Source};
use crate::fetch::{FeedAnswer, ReadError, fetch_feed, query_caldav};
use crate::parse::BusyCalendar;

/// How old a calendar copy may be and still be used without reading the
/// calendar again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// For slot lists (default 5 minutes).
    pub listing: Duration,
    /// For booking decisions (default 1 minute).
    pub booking: Duration,
}

impl Default for Freshness {
    fn default() -> Self {
        Freshness {
            listing: Duration::minutes(5),
            booking: Duration::minutes(1),
        }
    }
}

impl Freshness {
    fn for_purpose(&self, purpose: BusyPurpose) -> Duration {
        match purpose {
            BusyPurpose::Listing => self.listing,
            _ => self.booking,
        }
    }
}

/// How far a CalDAV query reaches beyond the range asked for.
const CALDAV_MARGIN: Duration = Duration::days(1);

/// The last good copy of one calendar.
struct Copy {
    read_at: DateTime<Utc>,
    etag: Option<String>,
    /// The range a CalDAV copy answers for; `None` for a whole feed.
    covers: Option<TimeRange>,
    calendar: Arc<BusyCalendar>,
}

impl Copy {
    fn covers(&self, range: &TimeRange) -> bool {
        self.covers.is_none_or(|covered| covered.encloses(range))
    }
}

/// One calendar's cached copy, locked while it is being read.
type Entry = Arc<tokio::sync::Mutex<Option<Copy>>>;

/// Connection id → (organizer, entry).
type Cache = Mutex<HashMap<String, (OrganizerId, Entry)>>;

/// What one calendar contributed.
struct Reading {
    intervals: Vec<TimeRange>,
    stale: bool,
}

/// Busy time from the organizer's connected calendars (see the
/// [module docs](self) for freshness and the failure policy). Cheap to
/// clone; clones share the cache.
///
/// ```no_run
/// use std::sync::Arc;
/// use booking_calendar::connections::Connections;
/// use booking_calendar::provider::CalendarProvider;
/// use booking_core::secret::SecretBox;
/// use booking_core::{BookingService, BookingStore, MemoryStore};
/// use booking_net::{SafeClient, SafeClientOptions, UrlPolicy};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
/// let policy = UrlPolicy::public_only();
/// let connections = Connections::new(store.clone(), policy, Some(SecretBox::new(b"server key")));
/// let client = SafeClient::new(policy, SafeClientOptions::default())?;
/// let provider = CalendarProvider::new(connections, client);
/// let service = BookingService::new(store).with_provider(provider);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CalendarProvider {
    connections: Connections,
    client: SafeClient,
    clock: Arc<dyn Clock>,
    freshness: Freshness,
    cache: Arc<Cache>,
}

impl std::fmt::Debug for CalendarProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CalendarProvider")
            .field("freshness", &self.freshness)
            .finish_non_exhaustive()
    }
}

impl CalendarProvider {
    /// Reads the calendars `connections` lists with `client`, with the
    /// system clock and the default [`Freshness`].
    pub fn new(connections: Connections, client: SafeClient) -> Self {
        CalendarProvider {
            connections,
            client,
            clock: Arc::new(SystemClock),
            freshness: Freshness::default(),
            cache: Arc::default(),
        }
    }

    /// Uses `clock` to age copies (share the service's clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `freshness`.
    pub fn with_freshness(mut self, freshness: Freshness) -> Self {
        self.freshness = freshness;
        self
    }

    /// The connections it reads.
    pub fn connections(&self) -> &Connections {
        &self.connections
    }

    /// The cache entry of each source, made on first use; entries of the
    /// organizer's connections that no longer exist are dropped.
    fn entries(&self, organizer: OrganizerId, sources: &[Source]) -> Vec<Entry> {
        let mut cache = match self.cache.lock() {
            Ok(cache) => cache,
            Err(poisoned) => poisoned.into_inner(),
        };
        cache.retain(|id, (owner, _)| {
            *owner != organizer || sources.iter().any(|s| &s.connection.id == id)
        });
        sources
            .iter()
            .map(|source| {
                cache
                    .entry(source.connection.id.clone())
                    .or_insert_with(|| (organizer, Entry::default()))
                    .1
                    .clone()
            })
            .collect()
    }

    /// One calendar's busy time, by the freshness and failure rules.
    async fn read(
        &self,
        source: &Source,
        entry: &Entry,
        organizer: &Organizer,
        range: TimeRange,
        purpose: BusyPurpose,
    ) -> Result<Reading, ProviderError> {
        // One read per calendar at a time: concurrent requests wait for it
        // and then use its copy.
        let mut copy = entry.lock().await;
        let now = self.clock.now();
        let max_age = self.freshness.for_purpose(purpose);
        let usable = copy
            .as_ref()
            .is_some_and(|copy| now - copy.read_at <= max_age && copy.covers(&range));
        if !usable {
            match self.refresh(source, copy.as_ref(), range, now).await {
                Ok(fresh) => *copy = Some(fresh),
                Err(error) => {
                    // The last copy, however old, serves a slot list only.
                    let fallback = copy
                        .as_ref()
                        .filter(|_| purpose == BusyPurpose::Listing)
                        .and_then(|copy| copy.calendar.busy(range, organizer.time_zone).ok())
                        .unwrap_or_default();
                    return unreadable(source, purpose, error, fallback);
                }
            }
        }
        let Some(current) = copy.as_ref() else {
            return unreadable(source, purpose, ReadError::NothingCached, Vec::new());
        };
        match current.calendar.busy(range, organizer.time_zone) {
            Ok(intervals) => Ok(Reading {
                intervals,
                stale: false,
            }),
            Err(error) => unreadable(source, purpose, error.into(), Vec::new()),
        }
    }

    /// Reads the calendar again; the new copy, or why it failed.
    async fn refresh(
        &self,
        source: &Source,
        previous: Option<&Copy>,
        range: TimeRange,
        now: DateTime<Utc>,
    ) -> Result<Copy, ReadError> {
        let url = &source.connection.url;
        let copy = match (source.connection.kind, &source.credentials) {
            (ConnectionKind::Caldav, Some((username, password))) => {
                let password = password.clone().map_err(ReadError::Password)?;
                let covers = range.widened(CALDAV_MARGIN, CALDAV_MARGIN);
                let calendar = query_caldav(&self.client, url, username, &password, covers).await?;
                Copy {
                    read_at: now,
                    etag: None,
                    covers: Some(covers),
                    calendar: Arc::new(calendar),
                }
            }
            _ => {
                let etag = previous.and_then(|copy| copy.etag.as_deref());
                match fetch_feed(&self.client, url, etag).await? {
                    FeedAnswer::NotModified => {
                        let previous = previous.ok_or(ReadError::NothingCached)?;
                        Copy {
                            read_at: now,
                            etag: previous.etag.clone(),
                            covers: None,
                            calendar: previous.calendar.clone(),
                        }
                    }
                    FeedAnswer::Changed { calendar, etag } => Copy {
                        read_at: now,
                        etag,
                        covers: None,
                        calendar: Arc::new(calendar),
                    },
                }
            }
        };
        for zone in copy.calendar.unknown_zones() {
            tracing::warn!(calendar = %source.connection.name, tzid = zone,
                "a calendar names a time zone that is not known; its times are read in the organizer's zone");
        }
        Ok(copy)
    }
}

/// The failure policy for a calendar that could not be read: a slot list
/// goes on with `fallback` (the last copy's busy time, if any) and names the
/// calendar as stale; a booking decision is refused.
fn unreadable(
    source: &Source,
    purpose: BusyPurpose,
    error: ReadError,
    fallback: Vec<TimeRange>,
) -> Result<Reading, ProviderError> {
    let name = &source.connection.name;
    if purpose == BusyPurpose::Listing {
        tracing::warn!(calendar = %name, connection = %source.connection.id, %error,
            "a calendar cannot be read; the slot list uses its last copy, if any");
        return Ok(Reading {
            intervals: fallback,
            stale: true,
        });
    }
    Err(ProviderError::Unavailable {
        calendar: name.clone(),
        cause: Box::new(error),
    })
}

#[async_trait]
impl AvailabilityProvider for CalendarProvider {
    async fn busy_time(
        &self,
        organizer: &Organizer,
        range: TimeRange,
        purpose: BusyPurpose,
    ) -> Result<BusyTime, ProviderError> {
        let sources = self
            .connections
            .sources(organizer.id)
            .await
            .map_err(|e| ProviderError::Failed(Box::new(e)))?;
        if sources.is_empty() {
            return Ok(BusyTime::default());
        }
        let entries = self.entries(organizer.id, &sources);
        let readings = futures_util::future::join_all(
            sources
                .iter()
                .zip(&entries)
                .map(|(source, entry)| self.read(source, entry, organizer, range, purpose)),
        )
        .await;
        let mut busy = BusyTime::default();
        for (source, reading) in sources.iter().zip(readings) {
            let reading = reading?;
            busy.intervals.extend(reading.intervals);
            if reading.stale {
                busy.stale.push(source.connection.name.clone());
            }
        }
        Ok(busy)
    }
}
