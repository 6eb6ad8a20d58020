//! Invitations: the iCalendar (RFC 5545) text of a booking, as an iTIP
//! (RFC 5546) message for its attendee and organizer, written with the
//! `icalendar` crate.
//!
//! One booking is one `VEVENT` whose `UID` never changes
//! (`{booking id}@{host}`), so calendar programs update the same entry:
//!
//! | booking | `METHOD` | `STATUS` | `SEQUENCE` |
//! |---|---|---|---|
//! | active (booked, or moved) | `REQUEST` | `CONFIRMED` | the booking's sequence: 0, one more per reschedule |
//! | cancelled | `CANCEL` | `CANCELLED` | the booking's sequence (one more than before the cancellation) |
//!
//! `DTSTAMP` is the booking's `updated_at`, so rendering one version of a
//! booking twice gives the same bytes. Times are written in UTC (`...Z`),
//! which needs no `VTIMEZONE`. Text is escaped for its place: TEXT values
//! (`SUMMARY`, `DESCRIPTION`, `LOCATION`) by `icalendar`; the `CN` names
//! with RFC 6868 (`^'` for a double quote, `^n` for a newline, `^^` for a
//! caret) and quoted when they hold `:`, `;` or `,`; email addresses are
//! percent-encoded into their `mailto:` URI. Carriage returns become
//! newlines and other control characters are dropped, since RFC 5545 allows
//! none.

use booking_core::chrono::{DateTime, Utc};
use booking_core::{Booking, BookingId, Location, Organizer};
use icalendar::{Calendar, Component as _, EventLike as _, Property};
use serde::{Deserialize, Serialize};

/// The `PRODID` written in every calendar.
pub const PRODUCT_ID: &str = "-//booking//booking-calendar//EN";

/// The stable calendar `UID` of a booking: `{booking id}@{host}`, where
/// `host` is the service's host name (for example `booking.example.com`),
/// so UIDs of different services never collide.
pub fn calendar_uid(booking: BookingId, host: &str) -> String {
    format!("{booking}@{host}")
}

/// An iTIP method: what a calendar message asks its receiver to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ItipMethod {
    /// Add or update the event (`METHOD:REQUEST`).
    Request,
    /// Remove the event (`METHOD:CANCEL`).
    Cancel,
    /// A published calendar, not addressed to anyone (`METHOD:PUBLISH`):
    /// feeds.
    Publish,
}

impl ItipMethod {
    /// The method for a booking's invitation: `REQUEST` while it is active,
    /// `CANCEL` once cancelled.
    pub fn for_booking(booking: &Booking) -> Self {
        if booking.is_active() {
            ItipMethod::Request
        } else {
            ItipMethod::Cancel
        }
    }

    /// The method's name, as in `METHOD:` and in a MIME type's `method=`.
    pub fn name(self) -> &'static str {
        match self {
            ItipMethod::Request => "REQUEST",
            ItipMethod::Cancel => "CANCEL",
            ItipMethod::Publish => "PUBLISH",
        }
    }
}

/// A person on an invitation: a name for people and an email address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The name shown (`CN`).
    pub name: String,
    /// The address (`mailto:`).
    pub email: String,
}

impl Contact {
    /// A contact called `name` at `email`.
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Self {
        Contact {
            name: name.into(),
            email: email.into(),
        }
    }
}

impl From<&Organizer> for Contact {
    fn from(organizer: &Organizer) -> Self {
        Contact::new(&organizer.display_name, &organizer.email)
    }
}

/// Links the invitation's description offers. The application makes them,
/// since only it knows its URLs, and only it can say how an attendee
/// proves who they are (the cancel token is stored only as a hash).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingLinks {
    /// Where the meeting can be moved.
    pub reschedule: Option<String>,
    /// Where the meeting can be cancelled.
    pub cancel: Option<String>,
}

/// The calendar entry of one booking; render it with
/// [`to_ics`](Self::to_ics).
///
/// ```
/// use booking_calendar::ics::{BookingLinks, Contact, Invitation};
/// # use booking_core::{Attendee, Booking, BookingId, OrganizerId, TimeRange, secret::TokenHash};
/// # use booking_core::chrono::{Duration, TimeZone, Utc};
/// # let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
/// # let booking = Booking {
/// #     id: BookingId::generate(), organizer_id: OrganizerId::generate(), event_type_id: None,
/// #     event_type_slug: "intro".parse().unwrap(), attendee: Attendee::new("Grace", "grace@example.com"),
/// #     metadata: None, title: "Intro".into(), description: None,
/// #     time: TimeRange::starting_at(at, Duration::minutes(30)).unwrap(),
/// #     buffer_before: Duration::zero(), buffer_after: Duration::zero(),
/// #     cancel_token_hash: TokenHash::of("x"), created_at: at, updated_at: at, deleted_at: None,
/// #     sequence: 0, rescheduled_from: None,
/// # };
/// let ada = Contact::new("Ada Lovelace", "ada@example.com");
/// let ics = Invitation::new(&booking, &ada, "booking.example.com")
///     .links(BookingLinks {
///         reschedule: Some("https://booking.example.com/r/1".into()),
///         cancel: Some("https://booking.example.com/c/1".into()),
///     })
///     .to_ics();
/// assert!(ics.contains("METHOD:REQUEST"));
/// assert!(ics.contains(&format!("UID:{}@booking.example.com", booking.id)));
/// ```
#[derive(Debug, Clone)]
pub struct Invitation<'a> {
    booking: &'a Booking,
    organizer: &'a Contact,
    host: &'a str,
    location: Option<&'a Location>,
    links: BookingLinks,
}

impl<'a> Invitation<'a> {
    /// The entry of `booking`, organized by `organizer`, with UIDs under
    /// `host`.
    pub fn new(booking: &'a Booking, organizer: &'a Contact, host: &'a str) -> Self {
        Invitation {
            booking,
            organizer,
            host,
            location: None,
            links: BookingLinks::default(),
        }
    }

    /// Where the meeting takes place (the event type's location).
    pub fn location(mut self, location: Option<&'a Location>) -> Self {
        self.location = location;
        self
    }

    /// The links the description offers.
    pub fn links(mut self, links: BookingLinks) -> Self {
        self.links = links;
        self
    }

    /// `REQUEST` for an active booking, `CANCEL` for a cancelled one.
    pub fn method(&self) -> ItipMethod {
        ItipMethod::for_booking(self.booking)
    }

    /// The booking's `UID`.
    pub fn uid(&self) -> String {
        calendar_uid(self.booking.id, self.host)
    }

    /// The whole `.ics`: a `VCALENDAR` with the [`method`](Self::method)
    /// and this one `VEVENT`.
    pub fn to_ics(&self) -> String {
        let mut calendar = new_calendar(self.method());
        calendar.push(self.event());
        calendar.to_string()
    }

    /// The `VEVENT`.
    pub(crate) fn event(&self) -> icalendar::Event {
        let booking = self.booking;
        let mut event = icalendar::Event::new();
        event
            .uid(&self.uid())
            .append_property(utc_property("DTSTAMP", booking.updated_at))
            .append_property(utc_property("DTSTART", booking.start_time()))
            .append_property(utc_property("DTEND", booking.end_time()))
            .append_property(utc_property("CREATED", booking.created_at))
            .append_property(utc_property("LAST-MODIFIED", booking.updated_at))
            .add_property("SEQUENCE", booking.sequence.to_string())
            .add_property(
                "STATUS",
                if booking.is_active() {
                    "CONFIRMED"
                } else {
                    "CANCELLED"
                },
            )
            .summary(&clean_text(&booking.title))
            .description(&self.description())
            .append_property(person("ORGANIZER", self.organizer, &[]))
            .append_property(person(
                "ATTENDEE",
                &Contact::new(&booking.attendee.name, &booking.attendee.email),
                &[
                    ("ROLE", "REQ-PARTICIPANT"),
                    ("PARTSTAT", "ACCEPTED"),
                    ("RSVP", "FALSE"),
                ],
            ));
        if let Some(location) = self.location {
            event.location(&clean_text(location.detail()));
        }
        event.done()
    }

    fn description(&self) -> String {
        let mut parts = Vec::new();
        if let Some(description) = &self.booking.description {
            parts.push(description.clone());
        }
        if let Some(location) = self.location {
            parts.push(format!("Where: {}", location.detail()));
        }
        let mut links = Vec::new();
        if self.booking.is_active() {
            if let Some(url) = &self.links.reschedule {
                links.push(format!("Reschedule: {url}"));
            }
            if let Some(url) = &self.links.cancel {
                links.push(format!("Cancel: {url}"));
            }
        } else {
            links.push("This meeting was cancelled.".to_owned());
        }
        if !links.is_empty() {
            parts.push(links.join("\n"));
        }
        clean_text(&parts.join("\n\n"))
    }
}

/// An empty calendar with this crate's `PRODID` and `METHOD`.
pub(crate) fn new_calendar(method: ItipMethod) -> Calendar {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", PRODUCT_ID))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", method.name()));
    calendar
}

/// `NAME:yyyymmddThhmmssZ`.
fn utc_property(name: &str, at: DateTime<Utc>) -> Property {
    Property::new(name, at.format("%Y%m%dT%H%M%SZ").to_string())
}

/// `NAME;CN=...;...:mailto:...`.
fn person(name: &str, contact: &Contact, params: &[(&str, &str)]) -> Property {
    let mut property = Property::new(name, mailto(&contact.email));
    property.add_parameter("CN", &param_value(&contact.name));
    for (key, value) in params {
        property.add_parameter(key, value);
    }
    property.done()
}

/// Text a TEXT value may hold: line breaks as `\n`, no other control
/// characters (RFC 5545 §3.3.11 excludes them).
pub(crate) fn clean_text(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect()
}

/// A parameter value with RFC 6868 caret encoding: a double quote cannot
/// appear in a parameter value at all, a newline cannot appear raw.
/// (`icalendar` adds the surrounding quotes when `:`, `;` or `,` need them.)
pub fn param_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in clean_text(text).chars() {
        match c {
            '^' => out.push_str("^^"),
            '"' => out.push_str("^'"),
            '\n' => out.push_str("^n"),
            c => out.push(c),
        }
    }
    out
}

/// Reverses [`param_value`]: RFC 6868 decoding of a parameter value as
/// read (without its quotes).
pub fn decode_param_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '^' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('^') => out.push('^'),
            Some('\'') => out.push('"'),
            Some('n') => out.push('\n'),
            Some(other) => {
                out.push('^');
                out.push(other);
            }
            None => out.push('^'),
        }
    }
    out
}

/// `mailto:` and the address, percent-encoding whatever a URI cannot hold
/// raw (spaces, quotes, non-ASCII, control characters, `,` and `;`).
pub fn mailto(email: &str) -> String {
    let mut out = String::from("mailto:");
    for byte in email.trim().bytes() {
        if byte.is_ascii_alphanumeric() || b"@.-_+!$&'*=~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_values_round_trip_through_rfc_6868() {
        for text in ["plain", "O\"Brien ^ \"the\" boss", "two\nlines", "a^n b"] {
            assert_eq!(decode_param_value(&param_value(text)), text);
        }
        assert_eq!(param_value("cr\r\nlf\u{7}"), "cr^nlf");
    }

    #[test]
    fn addresses_become_valid_mailto_uris() {
        assert_eq!(mailto("ada@example.com"), "mailto:ada@example.com");
        assert_eq!(
            mailto("a,b;c \"d\"@ex.com"),
            "mailto:a%2Cb%3Bc%20%22d%22@ex.com"
        );
        assert_eq!(mailto("zoë@example.com"), "mailto:zo%C3%AB@example.com");
    }
}
