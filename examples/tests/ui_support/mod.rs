//! What the UI tests share: a booking service over the in-memory store with
//! a fixed clock, one organizer with published hours, and helpers to book.
#![allow(dead_code)] // each test binary uses its own part of this module

pub mod browser;
pub mod pages;

use std::sync::Arc;

use booking_core::{
    Attendee, BookingRequest, BookingService, CreatedBooking, LocalInterval, ManualClock,
    MemoryStore, NewOrganizer, Organizer, SettingsDraft, TimeRange, WeeklyHours,
};
use chrono::{DateTime, Duration, TimeZone, Utc};

/// "Now" in every UI test: Tuesday 1 December 2026, 08:00 UTC (03:00 in
/// New York, 17:00 in Tokyo).
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()
}

/// A UTC instant on `day` December 2026.
pub fn dec(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, hour, minute, 0)
        .unwrap()
}

/// A service with one organizer, `ada` (Ada Lovelace), working 09:00-12:00
/// New York time on weekdays, in one-hour meetings.
pub struct Fixture {
    pub service: BookingService,
    pub clock: Arc<ManualClock>,
    pub organizer: Organizer,
    pub api_token: String,
}

pub async fn fixture() -> Fixture {
    let clock = Arc::new(ManualClock::new(now()));
    let service = BookingService::new(MemoryStore::new()).with_clock(clock.clone());
    let (organizer, token) = service
        .register_organizer(NewOrganizer::new(
            "ada",
            "ada@example.com",
            "Ada Lovelace",
            chrono_tz::America::New_York,
        ))
        .await
        .unwrap();
    service
        .put_settings(
            organizer.id,
            SettingsDraft {
                time_zone: Some(chrono_tz::America::New_York),
                weekly_hours: WeeklyHours::weekdays(vec![
                    LocalInterval::parse("09:00", "12:00").unwrap(),
                ]),
                slot_duration: Duration::minutes(60),
                ..SettingsDraft::default()
            },
        )
        .await
        .unwrap();
    Fixture {
        service,
        clock,
        organizer,
        api_token: token.expose().to_owned(),
    }
}

impl Fixture {
    /// Books the one-hour slot starting at `start` for "Grace Hopper".
    pub async fn book(&self, start: DateTime<Utc>, title: &str) -> CreatedBooking {
        let slot = TimeRange::starting_at(start, Duration::hours(1)).unwrap();
        self.service
            .create_booking(
                BookingRequest::new(
                    "ada",
                    slot,
                    Attendee::new("Grace Hopper", "grace@example.com"),
                )
                .title(title),
            )
            .await
            .unwrap()
    }
}

/// Percent-encodes a form or query value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `a=1&b=2`, each value encoded.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The form value of the one-hour slot starting at `start`.
pub fn slot_value(start: DateTime<Utc>) -> String {
    let end = start + Duration::hours(1);
    format!(
        "{}/{}",
        start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}
