//! The slots reply, `{"slots":[{"endTime":…,"startTime":…},…]}` (plus
//! `"staleCalendars":[…]` when a connected calendar was read from its last
//! copy), written straight into one buffer.
//!
//! The bytes are exactly those the handler wrote when it built a
//! `serde_json::Value` (whose object keys are sorted: `endTime` before
//! `startTime`, `slots` before `staleCalendars`) and serialized it: no
//! whitespace, instants as [`super::instant`] writes them. A day of
//! fifteen-minute slots is 96 of them, and building a `Value` for each (two
//! `String`s, a map, its keys) then walking it again cost more than the rest
//! of the reply; this writes each instant's digits directly.

use booking_core::TimeRange;
use chrono::{DateTime, Datelike, Timelike, Utc};

/// `"endTime":"` … `"` is 41 bytes and `"startTime":"` … `"` 43, plus the
/// braces and comma.
const BYTES_PER_SLOT: usize = 88;

/// The JSON body of a slots reply for `slots` (in the order given) and the
/// names of the calendars read from an older copy (the field is absent when
/// there are none).
pub fn slots_body(slots: &[TimeRange], stale_calendars: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + slots.len() * BYTES_PER_SLOT);
    out.extend_from_slice(b"{\"slots\":[");
    for (index, slot) in slots.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"endTime\":\"");
        write_instant(&mut out, slot.end());
        out.extend_from_slice(b"\",\"startTime\":\"");
        write_instant(&mut out, slot.start());
        out.extend_from_slice(b"\"}");
    }
    out.push(b']');
    if !stale_calendars.is_empty() {
        out.extend_from_slice(b",\"staleCalendars\":");
        // Names are any text: serde_json escapes them as it always did.
        // Writing a slice of strings into a Vec cannot fail.
        if serde_json::to_writer(&mut out, stale_calendars).is_err() {
            out.extend_from_slice(b"[]");
        }
    }
    out.push(b'}');
    out
}

/// Appends `value` as [`super::instant`] writes it
/// (`2026-12-01T09:00:00.000Z`): four-digit years and ordinary seconds are
/// written digit by digit, anything else (a year outside 0–9999, a leap
/// second) by chrono itself.
pub fn write_instant(out: &mut Vec<u8>, value: DateTime<Utc>) {
    // The fields of the UTC wall time, read once: each accessor of a
    // `DateTime` would add the (zero) offset to its instant again.
    let naive = value.naive_utc();
    let year = naive.year();
    let nanos = naive.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        out.extend_from_slice(super::instant(value).as_bytes());
        return;
    }
    // In range: every cast below is of a value under 10,000.
    let year = year.unsigned_abs();
    let millis = nanos / 1_000_000;
    let mut text = *b"0000-00-00T00:00:00.000Z";
    digits(&mut text[0..4], year);
    digits(&mut text[5..7], naive.month());
    digits(&mut text[8..10], naive.day());
    digits(&mut text[11..13], naive.hour());
    digits(&mut text[14..16], naive.minute());
    digits(&mut text[17..19], naive.second());
    digits(&mut text[20..23], millis);
    out.extend_from_slice(&text);
}

/// Writes `value`'s last `place.len()` decimal digits into `place`,
/// zero-padded.
fn digits(place: &mut [u8], mut value: u32) {
    for byte in place.iter_mut().rev() {
        // `value % 10` is a digit: the cast cannot truncate.
        *byte = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use serde_json::json;

    use super::*;

    /// What the handler wrote before: a `Value` built from `String`s.
    fn through_value(slots: &[TimeRange], stale: &[String]) -> Vec<u8> {
        let items: Vec<_> = slots
            .iter()
            .map(|slot| {
                json!({
                    "startTime": super::super::instant(slot.start()),
                    "endTime": super::super::instant(slot.end()),
                })
            })
            .collect();
        let value = if stale.is_empty() {
            json!({ "slots": items })
        } else {
            json!({ "slots": items, "staleCalendars": stale })
        };
        serde_json::to_vec(&value).unwrap_or_default()
    }

    fn instants() -> Vec<DateTime<Utc>> {
        let mut all = vec![
            Utc.timestamp_opt(0, 0).single(),
            Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).single(),
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).single(),
            Utc.with_ymd_and_hms(-1, 6, 1, 0, 0, 0).single(),
            Utc.with_ymd_and_hms(2024, 2, 29, 12, 34, 56).single(),
            Utc.timestamp_opt(1_700_000_000, 999_999_999).single(),
            Utc.timestamp_opt(1_700_000_000, 1_234_567).single(),
            // A leap second (chrono writes it as second 60).
            Utc.timestamp_opt(1_483_228_799, 1_500_000_000).single(),
        ];
        let mut at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single();
        for step in 0..2_000 {
            all.push(at);
            at = at.map(|t| t + Duration::milliseconds(7_919_993 + step * 31));
        }
        all.into_iter().flatten().collect()
    }

    #[test]
    fn instants_are_written_as_chrono_writes_them() {
        for at in instants() {
            let mut out = Vec::new();
            write_instant(&mut out, at);
            assert_eq!(
                String::from_utf8_lossy(&out),
                super::super::instant(at),
                "{at:?}"
            );
        }
    }

    #[test]
    fn bodies_are_the_bytes_of_the_value_they_replace() {
        let times = instants();
        let slots: Vec<TimeRange> = times
            .windows(2)
            .filter_map(|pair| TimeRange::new(pair[0].min(pair[1]), pair[0].max(pair[1])).ok())
            .take(300)
            .collect();
        let stale = vec![
            "Work".to_owned(),
            "Ünïcode \"quoted\" \\ back\nslash\u{1}".to_owned(),
        ];
        for count in [0, 1, 2, 96, slots.len()] {
            let part = &slots[..count.min(slots.len())];
            assert_eq!(slots_body(part, &[]), through_value(part, &[]));
            assert_eq!(slots_body(part, &stale), through_value(part, &stale));
        }
        assert_eq!(slots_body(&[], &[]), b"{\"slots\":[]}");
    }
}
