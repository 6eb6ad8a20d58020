//! Offering slots: resolving an event type on its schedule, and listing
//! what is free.

use chrono::{DateTime, Duration, Utc};

use crate::availability::{SlotRules, Taken, available_slots, busy_range_for, counted_range_for};
use crate::event_type::{EventType, Slug};
use crate::organizer::{Organizer, OrganizerRef};
use crate::provider::BusyPurpose;
use crate::schedule::Schedule;
use crate::store::{BookingContext, ContextQuery};
use crate::time::TimeRange;
use crate::validation::{Field, ValidationErrors};

use super::decisions::Decision;
use super::{BookingService, ServiceError, WIDEST_REACH};

/// Which slots to list: an organizer's event type (the default one unless
/// named), one of its lengths (the default unless chosen), and the window
/// slot starts must lie in.
///
/// ```
/// use booking_core::{SlotQuery, TimeRange};
/// use chrono::{Duration, Utc};
///
/// let week = TimeRange::starting_at(Utc::now(), Duration::days(7))?;
/// let query = SlotQuery::new("ada", week).event_type("consult").duration(Duration::minutes(60));
/// # Ok::<(), booking_core::time::InvalidTimeRange>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotQuery {
    /// Whose slots.
    pub organizer: OrganizerRef,
    /// The event type's slug; `None` for the default event type.
    pub event_type: Option<String>,
    /// The meeting length; `None` for the event type's default.
    pub duration: Option<Duration>,
    /// Slots starting in this range are listed.
    pub window: TimeRange,
}

impl SlotQuery {
    /// The default event type's slots of `organizer` starting in `window`.
    pub fn new(organizer: impl Into<OrganizerRef>, window: TimeRange) -> Self {
        SlotQuery {
            organizer: organizer.into(),
            event_type: None,
            duration: None,
            window,
        }
    }

    /// Lists the event type with this slug.
    pub fn event_type(mut self, slug: impl Into<String>) -> Self {
        self.event_type = Some(slug.into());
        self
    }

    /// Lists slots of this length (one the event type offers).
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }
}

/// Offered slots, and the external calendars whose last copy was used
/// because they could not be refreshed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlotList {
    /// The slots, ascending.
    pub slots: Vec<TimeRange>,
    /// Names of calendars read from an older copy.
    pub stale_calendars: Vec<String>,
}

/// A booking context whose event type exists, is active and has a schedule.
pub(super) struct Resolved {
    pub(super) organizer: Organizer,
    /// The configuration version the event type and schedule were read at.
    pub(super) config_version: u64,
    pub(super) event_type: EventType,
    pub(super) schedule: Schedule,
    pub(super) occupied: Vec<TimeRange>,
    pub(super) booked: Vec<DateTime<Utc>>,
}

impl Resolved {
    /// A decision on a kept configuration: no occupied time or counted
    /// starts (the store checks both atomically).
    pub(super) fn kept(decision: &Decision) -> Self {
        Resolved {
            organizer: decision.organizer.clone(),
            config_version: decision.config_version,
            event_type: decision.event_type.clone(),
            schedule: decision.schedule.clone(),
            occupied: Vec::new(),
            booked: Vec::new(),
        }
    }

    /// The rules for `duration` (the default length when `None`).
    pub(super) fn rules(
        &self,
        duration: Option<Duration>,
    ) -> Result<SlotRules<'_>, crate::availability::SlotRefusal> {
        SlotRules::new(&self.schedule, &self.event_type, duration)
    }
}

/// The slug asked for, or the default one; a malformed slug is a field error.
pub(super) fn slug_or_default(slug: Option<&str>) -> Result<(Slug, bool), ServiceError> {
    match slug {
        None => Ok((Slug::default_slug(), true)),
        Some(text) => text
            .parse::<Slug>()
            .map(|slug| (slug, false))
            .map_err(|e| ValidationErrors::single(Field::EventType, e.to_string()).into()),
    }
}

impl BookingService {
    /// The slots an event type offers with a start in the query's window
    /// (see [`available_slots`] for the exact rules). Windows longer than
    /// [`ServiceConfig::max_slots_window`](super::ServiceConfig::max_slots_window)
    /// are refused; a window reaching into the past is fine, past slots are
    /// simply not offered. A length the event type does not offer is a
    /// [`Field::Duration`] error.
    pub async fn available_slots(&self, query: SlotQuery) -> Result<Vec<TimeRange>, ServiceError> {
        Ok(self.slots(query).await?.slots)
    }

    /// [`available_slots`](Self::available_slots), and which external
    /// calendars could not be refreshed (their last copy was used).
    pub async fn slots(&self, query: SlotQuery) -> Result<SlotList, ServiceError> {
        let window = query.window;
        if window.duration() > self.config.max_slots_window {
            return Err(ServiceError::WindowTooLong {
                max_days: self.config.max_slots_window.num_days(),
            });
        }
        let now = self.now();
        let resolved = self
            .resolve(
                &query.organizer,
                query.event_type.as_deref(),
                window.widened(WIDEST_REACH, WIDEST_REACH),
                counted_range_for(window),
                now,
            )
            .await?;
        let rules = resolved
            .rules(query.duration)
            .map_err(|refusal| ValidationErrors::single(Field::Duration, refusal.to_string()))?;
        let Some(busy_range) = busy_range_for(&rules, window, now) else {
            return Ok(SlotList::default());
        };
        let mut busy = resolved.occupied.clone();
        let external = self
            .external_busy(&resolved.organizer, busy_range, BusyPurpose::Listing)
            .await?;
        busy.extend(external.intervals);
        let taken = Taken {
            busy: &busy,
            booked: &resolved.booked,
        };
        Ok(SlotList {
            slots: available_slots(&rules, taken, window, now),
            stale_calendars: external.stale,
        })
    }

    /// The range slot starts of an event type (the default one when `None`)
    /// may lie in right now, from its notice and booking window; `None` when
    /// nothing can be booked. Front ends use it to bound a calendar.
    pub async fn bookable_range(
        &self,
        organizer: impl Into<OrganizerRef>,
        event_type: Option<&str>,
    ) -> Result<Option<TimeRange>, ServiceError> {
        let now = self.now();
        let nowhere = TimeRange::starting_at(now, Duration::milliseconds(1))
            .map_err(ServiceError::InvalidTimeRange)?;
        let resolved = self
            .resolve(&organizer.into(), event_type, nowhere, nowhere, now)
            .await?;
        let rules = resolved.rules(None)?;
        Ok(rules.bookable_starts(now))
    }

    /// One store read for a booking decision or slot list, checked: the
    /// organizer exists, the event type exists and is active, it has a
    /// schedule. An organizer without a default event type (one who never
    /// saved settings) is [`ServiceError::SettingsNotFound`].
    pub(super) async fn resolve(
        &self,
        organizer: &OrganizerRef,
        slug: Option<&str>,
        occupied_within: TimeRange,
        counted_within: TimeRange,
        now: DateTime<Utc>,
    ) -> Result<Resolved, ServiceError> {
        let (slug, defaulted) = slug_or_default(slug)?;
        // By id, so a distributed store routes the read to one shard.
        let organizer_id = self.organizer_id(organizer).await?;
        let context = self
            .store
            .booking_context(&ContextQuery {
                organizer: OrganizerRef::Id(organizer_id),
                event_type: slug,
                occupied_within,
                counted_within,
                now,
            })
            .await?
            .ok_or(ServiceError::OrganizerNotFound)?;
        let BookingContext {
            organizer,
            config_version,
            event_type,
            schedule,
            occupied,
            booked,
        } = context;
        let missing = if defaulted {
            ServiceError::SettingsNotFound
        } else {
            ServiceError::EventTypeNotFound
        };
        let event_type = event_type.filter(|e| e.active).ok_or(missing)?;
        let schedule = schedule.ok_or(ServiceError::SettingsNotFound)?;
        self.decisions.remember(
            event_type.slug.clone(),
            Decision {
                organizer: organizer.clone(),
                config_version,
                event_type: event_type.clone(),
                schedule: schedule.clone(),
            },
        );
        Ok(Resolved {
            organizer,
            config_version,
            event_type,
            schedule,
            occupied,
            booked,
        })
    }
}
