//! The CalDAV side of reading busy time (RFC 4791): a `calendar-query`
//! `REPORT` for the events of a time range (§7.8), and reading the
//! `calendar-data` of its `207 Multi-Status` answer with `quick-xml`.
//!
//! The server filters by time range but does not expand recurrences (no
//! `<C:expand>`): each matching resource comes whole, with its `RRULE`s
//! and overrides, and [`BusyCalendar`](crate::parse::BusyCalendar)
//! expands it the same way as an ICS feed.

use booking_core::TimeRange;
use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};

/// The CalDAV XML namespace.
const CALDAV_NS: &[u8] = b"urn:ietf:params:xml:ns:caldav";

/// An answer that is not a readable multistatus document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the CalDAV answer cannot be read: {0}")]
pub struct MultistatusError(String);

/// The body of a `calendar-query` `REPORT` asking for the `VEVENT`s that
/// overlap `range` (RFC 4791 §7.8, §9.9).
pub fn calendar_query(range: TimeRange) -> String {
    let format = "%Y%m%dT%H%M%SZ";
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="utf-8"?>"#,
            r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">"#,
            r#"<D:prop><D:getetag/><C:calendar-data/></D:prop>"#,
            r#"<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">"#,
            r#"<C:time-range start="{start}" end="{end}"/>"#,
            r#"</C:comp-filter></C:comp-filter></C:filter>"#,
            r#"</C:calendar-query>"#
        ),
        start = range.start().format(format),
        end = range.end().format(format),
    )
}

/// The text of every `C:calendar-data` element of a multistatus answer:
/// one iCalendar document per matching resource.
pub fn calendar_data(multistatus: &str) -> Result<Vec<String>, MultistatusError> {
    let mut reader = quick_xml::NsReader::from_str(multistatus);
    let mut documents = Vec::new();
    let mut current: Option<String> = None;
    let mut saw_multistatus = false;
    loop {
        let (namespace, event) = reader
            .read_resolved_event()
            .map_err(|e| MultistatusError(e.to_string()))?;
        let is_caldav = matches!(namespace, ResolveResult::Bound(Namespace(ns)) if ns == CALDAV_NS);
        match event {
            Event::Start(start) => {
                let name = start.local_name();
                if name.as_ref() == b"multistatus" {
                    saw_multistatus = true;
                }
                if is_caldav && name.as_ref() == b"calendar-data" {
                    current = Some(String::new());
                }
            }
            Event::End(end) => {
                if is_caldav
                    && end.local_name().as_ref() == b"calendar-data"
                    && let Some(text) = current.take()
                    && !text.trim().is_empty()
                {
                    documents.push(text);
                }
            }
            Event::Text(text) => {
                if let Some(current) = current.as_mut() {
                    let text = text.decode().map_err(|e| MultistatusError(e.to_string()))?;
                    current.push_str(&text);
                }
            }
            Event::CData(data) => {
                if let Some(current) = current.as_mut() {
                    let text = data.decode().map_err(|e| MultistatusError(e.to_string()))?;
                    current.push_str(&text);
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(current) = current.as_mut() {
                    let resolved = match reference
                        .resolve_char_ref()
                        .map_err(|e| MultistatusError(e.to_string()))?
                    {
                        Some(c) => c.to_string(),
                        None => {
                            let name = reference
                                .decode()
                                .map_err(|e| MultistatusError(e.to_string()))?;
                            quick_xml::escape::unescape(&format!("&{name};"))
                                .map_err(|e| MultistatusError(e.to_string()))?
                                .into_owned()
                        }
                    };
                    current.push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_multistatus {
        return Err(MultistatusError("no multistatus element".to_owned()));
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use booking_core::chrono::{Duration, TimeZone, Utc};

    #[test]
    fn the_query_names_the_range_in_utc() {
        let start = Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap();
        let body = calendar_query(TimeRange::starting_at(start, Duration::days(2)).unwrap());
        assert!(
            body.contains(r#"<C:time-range start="20270301T000000Z" end="20270303T000000Z"/>"#)
        );
    }

    #[test]
    fn calendar_data_is_read_with_entities_and_any_prefix() {
        let answer = concat!(
            r#"<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:cal="urn:ietf:params:xml:ns:caldav">"#,
            r#"<d:response><d:href>/a.ics</d:href><d:propstat><d:prop>"#,
            r#"<cal:calendar-data>BEGIN:VCALENDAR&#13;&#10;SUMMARY:R&amp;D&#13;&#10;END:VCALENDAR</cal:calendar-data>"#,
            r#"</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"#,
            r#"<d:response><d:href>/b.ics</d:href><d:propstat><d:prop>"#,
            r#"<cal:calendar-data><![CDATA[BEGIN:VCALENDAR]]></cal:calendar-data>"#,
            r#"</d:prop></d:propstat></d:response>"#,
            r#"<d:response><d:href>/c.ics</d:href><d:propstat><d:prop><cal:calendar-data/></d:prop>"#,
            r#"<d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>"#,
            r#"</d:multistatus>"#
        );
        assert_eq!(
            calendar_data(answer).unwrap(),
            [
                "BEGIN:VCALENDAR\r\nSUMMARY:R&D\r\nEND:VCALENDAR",
                "BEGIN:VCALENDAR"
            ]
        );
        assert!(calendar_data("<html><body>login</body></html>").is_err());
        assert!(calendar_data("not xml <<<").is_err());
    }
}
