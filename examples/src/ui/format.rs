//! How times, dates and URLs are written on the pages.
//!
//! Every page writes a date one way, `Mon 7 Dec 2026`, and a moment with its
//! zone named, `Mon 7 Dec 2026, 09:00 (Europe/London)`; a meeting is
//! `Mon 7 Dec 2026, 09:00 – 10:00 (Europe/London)`. The script writes the
//! browser-zone times on the cancel page the same way (`examples/assets/app.js`).

use std::fmt::Write as _;

use booking_core::time::TimeRange;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// `Thu 3 Dec 2026`: the one way pages write a date.
pub(super) fn date(date: NaiveDate) -> String {
    date.format("%a %-d %b %Y").to_string()
}

/// `December 2026`.
pub(super) fn month_name(first_of_month: NaiveDate) -> String {
    first_of_month.format("%B %Y").to_string()
}

/// `09:30`, the wall-clock time of `instant` in `zone`.
pub(super) fn clock(instant: DateTime<Utc>, zone: Tz) -> String {
    instant.with_timezone(&zone).format("%H:%M").to_string()
}

/// `Thu 3 Dec 2026, 09:30 (Asia/Tokyo)`: a moment in `zone`.
pub(super) fn moment(instant: DateTime<Utc>, zone: Tz) -> String {
    let local = instant.with_timezone(&zone);
    format!(
        "{}, {} ({})",
        date(local.date_naive()),
        local.format("%H:%M"),
        zone.name()
    )
}

/// `Thu 3 Dec 2026, 00:00 – 01:00 (Asia/Tokyo)`: a meeting in `zone`; the
/// end's date is written too when it ends on a later day (other than at
/// midnight).
pub(super) fn range(range: &TimeRange, zone: Tz) -> String {
    let start = range.start().with_timezone(&zone);
    let end = range.end().with_timezone(&zone);
    let ends_same_day = end.date_naive() == start.date_naive()
        || (end.format("%H:%M").to_string() == "00:00"
            && start.date_naive().succ_opt() == Some(end.date_naive()));
    let end_text = if ends_same_day {
        end.format("%H:%M").to_string()
    } else {
        format!("{}, {}", date(end.date_naive()), end.format("%H:%M"))
    };
    format!(
        "{}, {} – {} ({})",
        date(start.date_naive()),
        start.format("%H:%M"),
        end_text,
        zone.name()
    )
}

/// `Asia/Tokyo (UTC+09:00)`: the zone's name and its offset at `at`.
pub(super) fn zone_label(zone: Tz, at: DateTime<Utc>) -> String {
    format!(
        "{} (UTC{})",
        zone.name(),
        at.with_timezone(&zone).format("%:z")
    )
}

/// A UTC instant as RFC 3339 with a `Z`, for machine-readable attributes.
pub(super) fn rfc3339(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Percent-encodes one query-string component (everything but RFC 3986's
/// unreserved characters), so zone names such as `Etc/GMT+5` survive.
pub(super) fn query_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// `path?k=v&...` with each value encoded; pairs with an empty value are left out.
pub(super) fn url_with(path: &str, pairs: &[(&str, &str)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}={}", query_component(value)))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    #[test]
    fn ranges_read_naturally_in_each_zone() {
        let range = TimeRange::new(
            Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 2, 16, 0, 0).unwrap(),
        )
        .unwrap();
        assert_eq!(
            super::range(&range, chrono_tz::Asia::Tokyo),
            "Thu 3 Dec 2026, 00:00 – 01:00 (Asia/Tokyo)"
        );
        assert_eq!(
            super::range(&range, chrono_tz::America::New_York),
            "Wed 2 Dec 2026, 10:00 – 11:00 (America/New_York)"
        );
        assert_eq!(
            super::range(&range, chrono_tz::Asia::Kolkata),
            "Wed 2 Dec 2026, 20:30 – 21:30 (Asia/Kolkata)"
        );
        let late = TimeRange::new(
            Utc.with_ymd_and_hms(2026, 12, 2, 14, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap(),
        )
        .unwrap();
        assert_eq!(
            super::range(&late, chrono_tz::Asia::Tokyo),
            "Wed 2 Dec 2026, 23:00 – 00:00 (Asia/Tokyo)"
        );
        let across = TimeRange::new(
            Utc.with_ymd_and_hms(2026, 12, 2, 14, 30, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 2, 15, 30, 0).unwrap(),
        )
        .unwrap();
        assert_eq!(
            super::range(&across, chrono_tz::Asia::Tokyo),
            "Wed 2 Dec 2026, 23:30 – Thu 3 Dec 2026, 00:30 (Asia/Tokyo)"
        );
        assert_eq!(
            moment(range.start(), chrono_tz::Europe::London),
            "Wed 2 Dec 2026, 15:00 (Europe/London)"
        );
        assert_eq!(
            zone_label(chrono_tz::America::New_York, range.start()),
            "America/New_York (UTC-05:00)"
        );
    }

    #[test]
    fn urls_encode_their_values() {
        assert_eq!(
            url_with("/ada", &[("tz", "Etc/GMT+5"), ("date", ""), ("x", "a b&c")]),
            "/ada?tz=Etc%2FGMT%2B5&x=a%20b%26c"
        );
        assert_eq!(url_with("/ada", &[("date", "")]), "/ada");
    }
}
