//! Event types: what an attendee books. Each organizer offers one or more,
//! each named by a [`Slug`] unique to the organizer (`intro`, `consult-60`),
//! with its own lengths, buffers, notice, booking window, limits and
//! schedule.
//!
//! Busy time is the organizer's, not the event type's: a booking of any
//! event type blocks every other event type of the same organizer, each
//! booking with its own buffers. Limits, on the other hand, count the
//! bookings of one event type.

use std::fmt;
use std::str::FromStr;

use chrono::{Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

pub use crate::ids::{EventTypeId, OrganizerId, ScheduleId};
use crate::validation::{self, Field, ValidationErrors};

/// The slug of the event type that requests naming none use; the one
/// [`put_settings`](crate::BookingService::put_settings) maintains, and the
/// one every organizer's settings became when their database was upgraded.
pub const DEFAULT_SLUG: &str = "default";
/// The shortest meeting and the smallest slot step accepted: 5 minutes, so a
/// 62-day slot list holds at most 17,856 slots.
pub const MIN_SLOT_LENGTH: Duration = Duration::minutes(5);
/// The longest meeting, step and buffer accepted: one day.
pub const MAX_SLOT_LENGTH: Duration = Duration::hours(24);
/// The furthest notice or booking horizon accepted: ten years and a few days.
pub const MAX_HORIZON: Duration = Duration::days(3660);
/// The most business days a rolling business-day window may span.
pub const MAX_BUSINESS_DAYS: u32 = 1000;
/// The most lengths one event type may offer.
pub const MAX_DURATION_OPTIONS: usize = 12;
/// The largest per-day limit accepted.
pub const MAX_LIMIT_PER_DAY: u32 = 1_000;
/// The largest per-week limit accepted.
pub const MAX_LIMIT_PER_WEEK: u32 = 5_000;
/// Longest event type title accepted.
pub const MAX_EVENT_TITLE_LEN: usize = 200;
/// Longest event type description accepted.
pub const MAX_EVENT_DESCRIPTION_LEN: usize = 5_000;
/// Longest location text (address, phone number or link) accepted.
pub const MAX_LOCATION_LEN: usize = 500;
/// The most event types one organizer may keep.
pub const MAX_EVENT_TYPES: usize = 100;
/// How long a hold lasts unless the event type says otherwise.
pub const DEFAULT_HOLD_DURATION: Duration = Duration::minutes(5);
/// The longest hold an event type may grant.
pub const MAX_HOLD_DURATION: Duration = Duration::minutes(15);

/// An event type's public name within its organizer: 1 to 64 lowercase
/// ASCII letters, digits and `-`, as it appears in booking links
/// (`/ada/intro`).
///
/// ```
/// use booking_core::Slug;
///
/// let slug: Slug = "consult-60".parse()?;
/// assert_eq!(slug.as_str(), "consult-60");
/// assert!("Consult 60".parse::<Slug>().is_err());
/// # Ok::<(), booking_core::event_type::InvalidSlug>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// Text that is not a valid [`Slug`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a valid slug: use 1 to 64 lowercase letters, digits and '-'")]
pub struct InvalidSlug {
    /// The text that was refused.
    pub input: String,
}

impl Slug {
    /// The longest slug accepted.
    pub const MAX_LEN: usize = 64;

    /// The slug of the default event type, [`DEFAULT_SLUG`].
    pub fn default_slug() -> Slug {
        Slug(DEFAULT_SLUG.to_owned())
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Slug {
    type Err = InvalidSlug;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let valid = !input.is_empty()
            && input.len() <= Slug::MAX_LEN
            && input
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(Slug(input.to_owned()))
        } else {
            Err(InvalidSlug {
                input: input.to_owned(),
            })
        }
    }
}

impl TryFrom<String> for Slug {
    type Error = InvalidSlug;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Slug> for String {
    fn from(value: Slug) -> Self {
        value.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Slug {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// How far ahead an event type can be booked. Dates are the organizer's
/// local dates, in the zone of the event type's schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BookingWindow {
    /// Slots starting before `now + horizon`: a rolling window of calendar
    /// time (`BookingWindow::rolling_days(60)` is sixty 24-hour days).
    Rolling {
        /// How far ahead of now slots start at the latest.
        #[serde(with = "crate::time::serde_seconds")]
        horizon: Duration,
    },
    /// Slots on the next `days` business days (local dates with working
    /// hours in the schedule, date overrides included), today counting as
    /// the first when it is one; the window ends at the local midnight after
    /// the last of them.
    RollingBusinessDays {
        /// How many business days.
        days: u32,
    },
    /// Slots on local dates `first..=last` only.
    Range {
        /// The first bookable local date.
        first: NaiveDate,
        /// The last bookable local date (inclusive).
        last: NaiveDate,
    },
}

impl BookingWindow {
    /// A rolling window of `days` 24-hour days.
    pub fn rolling_days(days: i64) -> Self {
        BookingWindow::Rolling {
            horizon: Duration::days(days),
        }
    }

    fn check(&self) -> Result<(), String> {
        match *self {
            BookingWindow::Rolling { horizon } => check_length(
                horizon,
                Duration::minutes(1),
                MAX_HORIZON,
                "The booking window",
            ),
            BookingWindow::RollingBusinessDays { days } => {
                if (1..=MAX_BUSINESS_DAYS).contains(&days) {
                    Ok(())
                } else {
                    Err(format!(
                        "The number of business days must be between 1 and {MAX_BUSINESS_DAYS}"
                    ))
                }
            }
            BookingWindow::Range { first, last } => {
                if last < first {
                    Err("The last date must not be before the first".to_owned())
                } else if (last - first) > MAX_HORIZON {
                    Err(format!(
                        "The date range may span at most {} days",
                        MAX_HORIZON.num_days()
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }
}

impl Default for BookingWindow {
    /// Sixty days ahead.
    fn default() -> Self {
        BookingWindow::rolling_days(60)
    }
}

/// The most bookings of one event type per local day and per local week,
/// counted in the zone of its schedule; cancelled bookings do not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingLimits {
    /// At most this many per local day.
    pub per_day: Option<u32>,
    /// At most this many per local week.
    pub per_week: Option<u32>,
    /// The first day of a week for `per_week` (Monday unless configured).
    pub week_starts_on: Weekday,
}

impl Default for BookingLimits {
    /// No limits; weeks start on Monday.
    fn default() -> Self {
        BookingLimits {
            per_day: None,
            per_week: None,
            week_starts_on: Weekday::Mon,
        }
    }
}

impl BookingLimits {
    /// Whether any limit is set.
    pub fn any(&self) -> bool {
        self.per_day.is_some() || self.per_week.is_some()
    }
}

/// Which limit a booking reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LimitPeriod {
    /// [`BookingLimits::per_day`].
    Day,
    /// [`BookingLimits::per_week`].
    Week,
}

impl fmt::Display for LimitPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitPeriod::Day => "day",
            LimitPeriod::Week => "week",
        })
    }
}

/// Where a meeting takes place, shown to the attendee before and after
/// booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Location {
    /// In person, at an address.
    InPerson {
        /// The address.
        address: String,
    },
    /// By phone.
    Phone {
        /// The number to call.
        number: String,
    },
    /// A video call.
    Video {
        /// The link to join (http or https).
        url: String,
    },
}

impl Location {
    /// The address, number or link.
    pub fn detail(&self) -> &str {
        match self {
            Location::InPerson { address } => address,
            Location::Phone { number } => number,
            Location::Video { url } => url,
        }
    }

    fn check(&self) -> Result<(), String> {
        validation::required_text(self.detail(), 1, MAX_LOCATION_LEN, "The location")?;
        if let Location::Video { url } = self {
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://"))
                || url.chars().any(char::is_whitespace)
            {
                return Err("A video link must be an http or https URL".to_owned());
            }
        }
        Ok(())
    }
}

/// A stored event type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventType {
    /// Stable id.
    pub id: EventTypeId,
    /// Whose event type it is.
    pub organizer_id: OrganizerId,
    /// Its name in booking links, unique per organizer.
    pub slug: Slug,
    /// Title shown to attendees.
    pub title: String,
    /// Optional description shown to attendees.
    pub description: Option<String>,
    /// The default meeting length.
    #[serde(with = "crate::time::serde_seconds")]
    pub duration: Duration,
    /// Every length the attendee may choose, ascending, `duration`
    /// included; empty when `duration` is the only one.
    #[serde(with = "crate::time::serde_seconds_list")]
    pub duration_options: Vec<Duration>,
    /// Distance between slot starts; `None` means the chosen length.
    #[serde(with = "crate::time::serde_optional_seconds")]
    pub slot_step: Option<Duration>,
    /// Free time kept before each meeting.
    #[serde(with = "crate::time::serde_seconds")]
    pub buffer_before: Duration,
    /// Free time kept after each meeting.
    #[serde(with = "crate::time::serde_seconds")]
    pub buffer_after: Duration,
    /// How long before its start a slot can still be booked.
    #[serde(with = "crate::time::serde_seconds")]
    pub min_notice: Duration,
    /// How far ahead it can be booked.
    pub booking_window: BookingWindow,
    /// Per-day and per-week limits.
    pub limits: BookingLimits,
    /// The schedule whose hours it offers; `None` for the organizer's
    /// default schedule.
    pub schedule_id: Option<ScheduleId>,
    /// Where the meeting takes place.
    pub location: Option<Location>,
    /// Whether attendees can see and book it.
    pub active: bool,
    /// How long a visitor may hold one of its slots while filling in the
    /// form (at most 15 minutes); zero disables holds.
    #[serde(with = "crate::time::serde_seconds", default = "default_hold_duration")]
    pub hold_duration: Duration,
}

fn default_hold_duration() -> Duration {
    DEFAULT_HOLD_DURATION
}

impl EventType {
    /// Every length an attendee may choose, ascending.
    pub fn durations(&self) -> Vec<Duration> {
        if self.duration_options.is_empty() {
            vec![self.duration]
        } else {
            self.duration_options.clone()
        }
    }

    /// Whether `length` is one of [`durations`](Self::durations).
    pub fn offers_duration(&self, length: Duration) -> bool {
        length == self.duration || self.duration_options.contains(&length)
    }

    /// The event type as an editable draft.
    pub fn to_draft(&self) -> EventTypeDraft {
        EventTypeDraft {
            slug: self.slug.to_string(),
            title: self.title.clone(),
            description: self.description.clone(),
            duration: self.duration,
            duration_options: self.duration_options.clone(),
            slot_step: self.slot_step,
            buffer_before: self.buffer_before,
            buffer_after: self.buffer_after,
            min_notice: self.min_notice,
            booking_window: self.booking_window,
            limits: self.limits,
            schedule_id: self.schedule_id,
            location: self.location.clone(),
            active: self.active,
            hold_duration: self.hold_duration,
        }
    }
}

/// What an organizer writes to create or replace an event type. Start from
/// [`EventTypeDraft::new`] and change what differs:
///
/// ```
/// use booking_core::{BookingLimits, EventTypeDraft};
/// use chrono::Duration;
///
/// let draft = EventTypeDraft {
///     buffer_after: Duration::minutes(10),
///     limits: BookingLimits { per_day: Some(3), ..BookingLimits::default() },
///     ..EventTypeDraft::new("intro", "Introduction call", Duration::minutes(30))
/// };
/// assert!(draft.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTypeDraft {
    /// Its name in booking links ([`Slug`] rules).
    pub slug: String,
    /// Title shown to attendees (required).
    pub title: String,
    /// Optional description.
    pub description: Option<String>,
    /// The default length (5 minutes to 24 hours, whole minutes).
    #[serde(with = "crate::time::serde_seconds")]
    pub duration: Duration,
    /// Every length the attendee may choose, `duration` included; empty
    /// when `duration` is the only one.
    #[serde(with = "crate::time::serde_seconds_list")]
    pub duration_options: Vec<Duration>,
    /// Distance between slot starts; `None` means the chosen length.
    #[serde(with = "crate::time::serde_optional_seconds")]
    pub slot_step: Option<Duration>,
    /// Free time kept before each meeting (0 to 24 hours).
    #[serde(with = "crate::time::serde_seconds")]
    pub buffer_before: Duration,
    /// Free time kept after each meeting (0 to 24 hours).
    #[serde(with = "crate::time::serde_seconds")]
    pub buffer_after: Duration,
    /// Minimum notice (0 to ten years).
    #[serde(with = "crate::time::serde_seconds")]
    pub min_notice: Duration,
    /// How far ahead it can be booked.
    pub booking_window: BookingWindow,
    /// Per-day and per-week limits.
    pub limits: BookingLimits,
    /// The schedule to use; `None` for the organizer's default schedule.
    pub schedule_id: Option<ScheduleId>,
    /// Where the meeting takes place.
    pub location: Option<Location>,
    /// Whether attendees can see and book it.
    pub active: bool,
    /// How long a visitor may hold a slot (0 to 15 minutes; 0 disables
    /// holds).
    #[serde(with = "crate::time::serde_seconds", default = "default_hold_duration")]
    pub hold_duration: Duration,
}

impl EventTypeDraft {
    /// An active event type of one `duration`, slots every `duration`, no
    /// buffers, no notice, 60 days ahead, no limits, on the default schedule.
    pub fn new(slug: impl Into<String>, title: impl Into<String>, duration: Duration) -> Self {
        EventTypeDraft {
            slug: slug.into(),
            title: title.into(),
            description: None,
            duration,
            duration_options: Vec::new(),
            slot_step: None,
            buffer_before: Duration::zero(),
            buffer_after: Duration::zero(),
            min_notice: Duration::zero(),
            booking_window: BookingWindow::default(),
            limits: BookingLimits::default(),
            schedule_id: None,
            location: None,
            active: true,
            hold_duration: DEFAULT_HOLD_DURATION,
        }
    }

    /// Checks every field; all problems are reported together, each naming
    /// its [`Field`]. Whether the schedule exists is checked by the service.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.check(Field::Slug, self.slug.parse::<Slug>());
        errors.check(
            Field::Title,
            validation::required_text(&self.title, 1, MAX_EVENT_TITLE_LEN, "Title"),
        );
        errors.check(
            Field::Description,
            validation::optional_text(
                self.description.as_deref(),
                MAX_EVENT_DESCRIPTION_LEN,
                "Description",
            ),
        );
        errors.check(
            Field::DefaultDuration,
            check_length(
                self.duration,
                MIN_SLOT_LENGTH,
                MAX_SLOT_LENGTH,
                "The length",
            ),
        );
        errors.check(Field::DurationOptions, self.check_options());
        if let Some(step) = self.slot_step {
            errors.check(
                Field::SlotStep,
                check_length(step, MIN_SLOT_LENGTH, MAX_SLOT_LENGTH, "The slot step"),
            );
        }
        let buffers = [
            (Field::BufferBefore, self.buffer_before, "The buffer before"),
            (Field::BufferAfter, self.buffer_after, "The buffer after"),
        ];
        for (field, value, what) in buffers {
            errors.check(
                field,
                check_length(value, Duration::zero(), MAX_SLOT_LENGTH, what),
            );
        }
        errors.check(
            Field::MinNotice,
            check_length(
                self.min_notice,
                Duration::zero(),
                MAX_HORIZON,
                "The minimum notice",
            ),
        );
        errors.check(Field::BookingWindow, self.booking_window.check());
        if let Some(per_day) = self.limits.per_day {
            errors.check(Field::LimitPerDay, check_limit(per_day, MAX_LIMIT_PER_DAY));
        }
        if let Some(per_week) = self.limits.per_week {
            errors.check(
                Field::LimitPerWeek,
                check_limit(per_week, MAX_LIMIT_PER_WEEK),
            );
        }
        if let Some(location) = &self.location {
            errors.check(Field::Location, location.check());
        }
        errors.check(
            Field::HoldDuration,
            check_length(
                self.hold_duration,
                Duration::zero(),
                MAX_HOLD_DURATION,
                "The hold duration",
            ),
        );
        errors.into_result(())
    }

    fn check_options(&self) -> Result<(), String> {
        if self.duration_options.is_empty() {
            return Ok(());
        }
        if self.duration_options.len() > MAX_DURATION_OPTIONS {
            return Err(format!(
                "At most {MAX_DURATION_OPTIONS} lengths may be offered"
            ));
        }
        for option in &self.duration_options {
            check_length(*option, MIN_SLOT_LENGTH, MAX_SLOT_LENGTH, "Each length")?;
        }
        if !self.duration_options.contains(&self.duration) {
            return Err("The lengths offered must include the default length".to_owned());
        }
        let mut sorted = self.duration_options.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != self.duration_options.len() {
            return Err("Each length may be offered only once".to_owned());
        }
        Ok(())
    }

    /// The event type this draft describes, with `id` and `organizer_id`,
    /// after [`validate`](Self::validate) passed. Lengths offered are kept
    /// ascending, and a list holding only the default length is kept empty.
    pub fn build(
        self,
        id: EventTypeId,
        organizer_id: OrganizerId,
    ) -> Result<EventType, ValidationErrors> {
        self.validate()?;
        let slug = self
            .slug
            .parse()
            .map_err(|e: InvalidSlug| ValidationErrors::single(Field::Slug, e.to_string()))?;
        let mut duration_options = self.duration_options;
        duration_options.sort();
        duration_options.dedup();
        if duration_options == [self.duration] {
            duration_options.clear();
        }
        Ok(EventType {
            id,
            organizer_id,
            slug,
            title: self.title,
            description: self.description,
            duration: self.duration,
            duration_options,
            slot_step: self.slot_step,
            buffer_before: self.buffer_before,
            buffer_after: self.buffer_after,
            min_notice: self.min_notice,
            booking_window: self.booking_window,
            limits: self.limits,
            schedule_id: self.schedule_id,
            location: self.location,
            active: self.active,
            hold_duration: self.hold_duration,
        })
    }
}

/// A duration in `[min, max]` and a whole number of minutes.
pub(crate) fn check_length(
    value: Duration,
    min: Duration,
    max: Duration,
    what: &str,
) -> Result<(), String> {
    if value < min {
        Err(format!(
            "{what} must be at least {} minutes",
            min.num_minutes()
        ))
    } else if value > max {
        Err(format!(
            "{what} must be at most {} minutes",
            max.num_minutes()
        ))
    } else if value.subsec_nanos() != 0 || value.num_seconds() % 60 != 0 {
        Err(format!("{what} must be a whole number of minutes"))
    } else {
        Ok(())
    }
}

fn check_limit(value: u32, max: u32) -> Result<(), String> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(format!("A limit must be between 1 and {max}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_url_safe_and_bounded() {
        for good in ["a", "intro", "consult-60", &"x".repeat(64)] {
            assert!(good.parse::<Slug>().is_ok(), "{good}");
        }
        for bad in [
            "",
            "Intro",
            "with space",
            "ü",
            "a_b",
            &"x".repeat(65),
            "a/b",
        ] {
            assert!(bad.parse::<Slug>().is_err(), "{bad}");
        }
    }

    #[test]
    fn drafts_name_every_bad_field() {
        let draft = EventTypeDraft {
            duration_options: vec![Duration::minutes(15), Duration::minutes(45)],
            slot_step: Some(Duration::minutes(1)),
            buffer_before: Duration::minutes(-1),
            buffer_after: Duration::hours(25),
            min_notice: Duration::seconds(30),
            booking_window: BookingWindow::Range {
                first: NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
                last: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            },
            limits: BookingLimits {
                per_day: Some(0),
                per_week: Some(MAX_LIMIT_PER_WEEK + 1),
                ..BookingLimits::default()
            },
            location: Some(Location::Video {
                url: "javascript:alert(1)".into(),
            }),
            ..EventTypeDraft::new("Bad Slug", "", Duration::minutes(4))
        };
        let errors = draft.validate().unwrap_err();
        let fields: Vec<Field> = errors.errors().iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                Field::Slug,
                Field::Title,
                Field::DefaultDuration,
                Field::DurationOptions,
                Field::SlotStep,
                Field::BufferBefore,
                Field::BufferAfter,
                Field::MinNotice,
                Field::BookingWindow,
                Field::LimitPerDay,
                Field::LimitPerWeek,
                Field::Location,
            ]
        );
    }

    #[test]
    fn options_are_stored_sorted_and_a_lone_default_is_no_option() {
        let id = EventTypeId::generate();
        let organizer = OrganizerId::generate();
        let draft = EventTypeDraft {
            duration_options: vec![Duration::minutes(60), Duration::minutes(30)],
            ..EventTypeDraft::new("a", "A", Duration::minutes(30))
        };
        let stored = draft.build(id, organizer).unwrap();
        assert_eq!(
            stored.duration_options,
            [Duration::minutes(30), Duration::minutes(60)]
        );
        assert!(stored.offers_duration(Duration::minutes(60)));
        assert!(!stored.offers_duration(Duration::minutes(45)));
        let lone = EventTypeDraft {
            duration_options: vec![Duration::minutes(30)],
            ..EventTypeDraft::new("a", "A", Duration::minutes(30))
        };
        assert!(
            lone.build(id, organizer)
                .unwrap()
                .duration_options
                .is_empty()
        );
    }
}
