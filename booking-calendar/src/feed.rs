//! The organizer's feed: a subscribable calendar (`METHOD:PUBLISH`) of
//! every active booking and every booking cancelled recently, so calendar
//! apps that subscribe to it (Google Calendar, Apple Calendar, Thunderbird)
//! add new meetings, move rescheduled ones and drop cancelled ones.
//!
//! Each booking is the same `VEVENT` its [invitation](crate::ics) carries
//! (same `UID`, `SEQUENCE`, `DTSTAMP`), cancelled ones with
//! `STATUS:CANCELLED`. The feed asks subscribers to refresh every
//! [`REFRESH_INTERVAL`] (`REFRESH-INTERVAL`, RFC 7986, and
//! `X-PUBLISHED-TTL`); it is read through the store's booking list with
//! `cancelled_since`, page by page. Who may read it is decided by a
//! [feed token](crate::tokens).

use std::collections::HashMap;
use std::sync::Arc;

use booking_core::chrono::Duration;
use booking_core::store::BookingQuery;
use booking_core::{
    BookingStore, Clock, EventTypeId, Location, Organizer, StoreError, SystemClock,
};
use icalendar::Property;

use crate::ics::{Contact, Invitation, ItipMethod, clean_text, new_calendar};

/// How often subscribers are asked to refresh the feed.
pub const REFRESH_INTERVAL: &str = "PT15M";
/// How long a cancelled booking stays in the feed by default, so
/// subscribers that refresh only now and then still see it go.
pub const DEFAULT_CANCELLED_WITHIN: Duration = Duration::days(30);
/// Bookings read per store call.
const PAGE: u32 = 500;

/// Renders organizers' feeds. Cheap to clone.
///
/// ```
/// use std::sync::Arc;
/// use booking_calendar::feed::OrganizerFeed;
/// use booking_core::{BookingService, BookingStore, MemoryStore, NewOrganizer, Tz};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
/// let service = BookingService::new(store.clone());
/// let (ada, _) = service
///     .register_organizer(NewOrganizer::new("ada", "ada@example.com", "Ada", Tz::Europe__London))
///     .await?;
/// let feed = OrganizerFeed::new(store, "booking.example.com").render(&ada).await?;
/// assert!(feed.starts_with("BEGIN:VCALENDAR"));
/// assert!(feed.contains("METHOD:PUBLISH"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct OrganizerFeed {
    store: Arc<dyn BookingStore>,
    host: String,
    cancelled_within: Duration,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for OrganizerFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrganizerFeed")
            .field("host", &self.host)
            .field("cancelled_within", &self.cancelled_within)
            .finish_non_exhaustive()
    }
}

impl OrganizerFeed {
    /// Feeds read from `store`, with UIDs under `host` (the same host the
    /// invitations use, so entries match).
    pub fn new(store: Arc<dyn BookingStore>, host: impl Into<String>) -> Self {
        OrganizerFeed {
            store,
            host: host.into(),
            cancelled_within: DEFAULT_CANCELLED_WITHIN,
            clock: Arc::new(SystemClock),
        }
    }

    /// Uses `clock` for "now" (share the service's clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Keeps cancelled bookings in the feed for `within` after their
    /// cancellation (default [`DEFAULT_CANCELLED_WITHIN`]).
    pub fn cancelled_within(mut self, within: Duration) -> Self {
        self.cancelled_within = within;
        self
    }

    /// The organizer's feed as iCalendar text.
    pub async fn render(&self, organizer: &Organizer) -> Result<String, StoreError> {
        let locations = self.locations(organizer).await?;
        let contact = Contact::from(organizer);
        let since = self.clock.now() - self.cancelled_within;
        let mut calendar = new_calendar(ItipMethod::Publish);
        calendar
            .append_property(Property::new(
                "X-WR-CALNAME",
                clean_text(&format!("{} – bookings", organizer.display_name)),
            ))
            .append_property(
                Property::new("REFRESH-INTERVAL", REFRESH_INTERVAL)
                    .add_parameter("VALUE", "DURATION")
                    .done(),
            )
            .append_property(Property::new("X-PUBLISHED-TTL", REFRESH_INTERVAL));
        let mut offset = 0u64;
        loop {
            let page = self
                .store
                .list_bookings(
                    organizer.id,
                    BookingQuery {
                        starts_within: None,
                        cancelled_since: Some(since),
                        limit: PAGE,
                        offset,
                    },
                )
                .await?;
            let count = page.bookings.len();
            for booking in &page.bookings {
                let location = booking
                    .event_type_id
                    .and_then(|id| locations.get(&id))
                    .and_then(Option::as_ref);
                calendar.push(
                    Invitation::new(booking, &contact, &self.host)
                        .location(location)
                        .event(),
                );
            }
            if count < PAGE as usize {
                break;
            }
            offset += count as u64;
        }
        Ok(calendar.done().to_string())
    }

    async fn locations(
        &self,
        organizer: &Organizer,
    ) -> Result<HashMap<EventTypeId, Option<Location>>, StoreError> {
        Ok(self
            .store
            .organizer_config(organizer.id)
            .await?
            .map(|config| {
                config
                    .event_types
                    .into_iter()
                    .map(|event_type| (event_type.id, event_type.location))
                    .collect()
            })
            .unwrap_or_default())
    }
}
