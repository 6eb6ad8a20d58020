//! `VTIMEZONE` definitions whose `TZID` is not an IANA name (Outlook's and
//! Exchange's custom names, hand-made feeds): the definition's own offsets
//! and daylight-saving rules, matched to an IANA zone that keeps the same
//! offsets around the time of reading.
//!
//! The definition is read as RFC 5545 §3.6.5 says: each `STANDARD` or
//! `DAYLIGHT` observance starts at its `DTSTART` (local time, in
//! `TZOFFSETFROM`) and repeats by its `RRULE` (expanded with `rrule`) and
//! `RDATE`s; from each onset, `TZOFFSETTO` is in force. The zone chosen is
//! the first IANA zone whose offset agrees just before and just after every
//! transition of the definition from last year to two years ahead, and in
//! the middle of every season; so events are placed, and recur across
//! daylight-saving changes, exactly as the definition says for those
//! years. A definition no IANA zone matches is not used (the `TZID` counts
//! as unknown).

use booking_core::Tz;
use booking_core::chrono::{
    DateTime, Datelike as _, Duration, NaiveDate, NaiveDateTime, Offset as _, TimeZone as _, Utc,
};
use icalendar::parser::Component;

/// One `STANDARD` or `DAYLIGHT` block.
struct Observance {
    /// `DTSTART`, local time before the change.
    onset: NaiveDateTime,
    /// `TZOFFSETFROM`, in seconds east of UTC.
    from: i32,
    /// `TZOFFSETTO`, in seconds east of UTC.
    to: i32,
    rules: Vec<String>,
    rdates: Vec<NaiveDateTime>,
}

/// A change of offset: when (UTC), and the offsets before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Transition {
    at: DateTime<Utc>,
    before: i32,
    after: i32,
}

/// The IANA zone equivalent to the `VTIMEZONE` `definition` in the years
/// around `now`, if there is one.
pub(crate) fn equivalent_zone(definition: &Component<'_>, now: DateTime<Utc>) -> Option<Tz> {
    let observances: Vec<Observance> = definition
        .components
        .iter()
        .filter(|c| c.name == "STANDARD" || c.name == "DAYLIGHT")
        .filter_map(observance)
        .collect();
    if observances.is_empty() {
        return None;
    }
    let first = NaiveDate::from_ymd_opt(now.year() - 1, 1, 1)?
        .and_hms_opt(0, 0, 0)?
        .and_utc();
    let last = NaiveDate::from_ymd_opt(now.year() + 3, 1, 1)?
        .and_hms_opt(0, 0, 0)?
        .and_utc();
    let mut transitions = transitions(&observances, last);
    transitions.sort_by_key(|t| t.at);
    // The offset in force at any instant: the last transition's, or before
    // the first one the first observance's TZOFFSETFROM.
    let offset_at = |at: DateTime<Utc>| {
        transitions
            .iter()
            .rev()
            .find(|t| t.at <= at)
            .map_or(observances[0].from, |t| t.after)
    };
    let mut samples: Vec<(DateTime<Utc>, i32)> = Vec::new();
    for transition in transitions.iter().filter(|t| t.at >= first && t.at < last) {
        samples.push((transition.at - Duration::seconds(1), transition.before));
        samples.push((transition.at, transition.after));
    }
    let mut month = first;
    while month < last {
        samples.push((month, offset_at(month)));
        month += Duration::days(45);
    }
    booking_core::chrono_tz::TZ_VARIANTS
        .iter()
        .copied()
        .find(|zone| {
            samples.iter().all(|(at, offset)| {
                zone.offset_from_utc_datetime(&at.naive_utc())
                    .fix()
                    .local_minus_utc()
                    == *offset
            })
        })
}

/// Every onset of every observance up to `until`, as transitions.
fn transitions(observances: &[Observance], until: DateTime<Utc>) -> Vec<Transition> {
    let mut found = Vec::new();
    for observance in observances {
        let mut onsets = vec![observance.onset];
        onsets.extend(observance.rdates.iter().copied());
        onsets.extend(expand(observance, until));
        for onset in onsets {
            let at = onset.and_utc() - Duration::seconds(i64::from(observance.from));
            if at < until {
                found.push(Transition {
                    at,
                    before: observance.from,
                    after: observance.to,
                });
            }
        }
    }
    found
}

/// The onsets an observance's `RRULE`s generate up to `until`, in local
/// time (expanded as if local time were UTC: the rules speak of wall-clock
/// dates and times).
fn expand(observance: &Observance, until: DateTime<Utc>) -> Vec<NaiveDateTime> {
    let start = observance.onset.and_utc().with_timezone(&rrule::Tz::UTC);
    let rules: Vec<rrule::RRule> = observance
        .rules
        .iter()
        .filter_map(|text| text.parse::<rrule::RRule<rrule::Unvalidated>>().ok())
        .filter_map(|rule| rule.validate(start).ok())
        .collect();
    if rules.is_empty() {
        return Vec::new();
    }
    let limit = until + Duration::days(1);
    rrule::RRuleSet::new(start)
        .set_rrules(rules)
        .into_iter()
        .take(10_000)
        .map(|at| at.naive_utc())
        .take_while(|at| at.and_utc() < limit)
        .collect()
}

fn observance(component: &Component<'_>) -> Option<Observance> {
    let text = |name: &str| component.find_prop(name).map(|p| p.val.as_str().trim());
    let onset = local_time(text("DTSTART")?)?;
    let from = utc_offset(text("TZOFFSETFROM")?)?;
    let to = utc_offset(text("TZOFFSETTO")?)?;
    let rules = component
        .properties
        .iter()
        .filter(|p| p.name.as_str() == "RRULE")
        .map(|p| p.val.as_str().trim().to_owned())
        .collect();
    let rdates = component
        .properties
        .iter()
        .filter(|p| p.name.as_str() == "RDATE")
        .flat_map(|p| {
            p.val
                .as_str()
                .split(',')
                .filter_map(|v| local_time(v.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    Some(Observance {
        onset,
        from,
        to,
        rules,
        rdates,
    })
}

fn local_time(value: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(value.trim_end_matches('Z'), "%Y%m%dT%H%M%S").ok()
}

/// `+0100`, `-0500`, `+053000` → seconds east of UTC.
fn utc_offset(value: &str) -> Option<i32> {
    let (sign, digits) = match value.as_bytes().first()? {
        b'+' => (1, &value[1..]),
        b'-' => (-1, &value[1..]),
        _ => return None,
    };
    if !(digits.len() == 4 || digits.len() == 6) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[0..2].parse().ok()?;
    let minutes: i32 = digits[2..4].parse().ok()?;
    let seconds: i32 = if digits.len() == 6 {
        digits[4..6].parse().ok()?
    } else {
        0
    };
    Some(sign * (hours * 3600 + minutes * 60 + seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use icalendar::parser::read_calendar;

    fn zone_of(definition: &str) -> Option<Tz> {
        let text = format!("BEGIN:VCALENDAR\r\n{definition}END:VCALENDAR\r\n");
        let calendar = read_calendar(&text).unwrap();
        let now = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        equivalent_zone(&calendar.components[0], now)
    }

    fn offset(zone: Tz, y: i32, m: u32, d: u32) -> i32 {
        let at = Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap();
        zone.offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc()
    }

    #[test]
    fn offsets_parse() {
        assert_eq!(utc_offset("+0100"), Some(3600));
        assert_eq!(utc_offset("-0430"), Some(-16_200));
        assert_eq!(utc_offset("+053000"), Some(19_800));
        assert_eq!(utc_offset("0100"), None);
        assert_eq!(utc_offset("+01"), None);
    }

    #[test]
    fn european_rules_match_a_zone_that_changes_on_the_same_days() {
        let zone = zone_of(concat!(
            "BEGIN:VTIMEZONE\r\nTZID:Company Time\r\n",
            "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n",
            "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n",
            "BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n",
            "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\n",
            "END:VTIMEZONE\r\n",
        ))
        .expect("an equivalent zone");
        // Europe changes on the last Sundays of March and October 2027.
        assert_eq!(offset(zone, 2027, 3, 27), 3600);
        assert_eq!(offset(zone, 2027, 3, 28), 7200);
        assert_eq!(offset(zone, 2027, 10, 30), 7200);
        assert_eq!(offset(zone, 2027, 10, 31), 3600);
    }

    #[test]
    fn american_rules_and_fixed_offsets_match_and_nonsense_does_not() {
        let us = zone_of(concat!(
            "BEGIN:VTIMEZONE\r\nTZID:Eastern\r\n",
            "BEGIN:STANDARD\r\nDTSTART:20071104T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n",
            "TZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nEND:STANDARD\r\n",
            "BEGIN:DAYLIGHT\r\nDTSTART:20070311T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\n",
            "TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nEND:DAYLIGHT\r\n",
            "END:VTIMEZONE\r\n",
        ))
        .expect("an equivalent zone");
        assert_eq!(offset(us, 2027, 3, 13), -18_000);
        assert_eq!(offset(us, 2027, 3, 15), -14_400);
        let india = zone_of(concat!(
            "BEGIN:VTIMEZONE\r\nTZID:India\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n",
            "TZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
        ))
        .expect("an equivalent zone");
        assert_eq!(offset(india, 2027, 6, 1), 19_800);
        let nowhere = zone_of(concat!(
            "BEGIN:VTIMEZONE\r\nTZID:Odd\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n",
            "TZOFFSETFROM:+0117\r\nTZOFFSETTO:+0117\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
        ));
        assert_eq!(nowhere, None);
    }
}
