//! Reading busy time out of iCalendar data (RFC 5545): the events of a
//! feed or of a CalDAV answer, parsed once with `icalendar`'s parser into
//! [`BusyCalendar`], then expanded for any range with the `rrule` crate.
//!
//! What counts as busy, and how:
//!
//! * every `VEVENT` is busy for `[DTSTART, DTEND)` (or `DTSTART + DURATION`);
//!   one without either lasts no time (RFC 5545 §3.6.1) and blocks nothing,
//!   except an all-day one, which lasts its day;
//! * `STATUS:CANCELLED` and `TRANSP:TRANSPARENT` events block nothing;
//! * recurring events are expanded: `RRULE` (with `rrule`, in the event's own
//!   zone, so a weekly 10:00 meeting stays at 10:00 across a daylight-saving
//!   change), plus `RDATE`s (date, date-time or period), minus `EXDATE`s;
//!   an instance with its own `VEVENT` (`RECURRENCE-ID`) is replaced by it,
//!   so a moved or cancelled instance counts as moved or cancelled;
//! * times with a `TZID` are read in that zone: an IANA name, or a name
//!   that ends with one (`/mozilla.org/20070129_1/Europe/Berlin`), or a
//!   common Windows zone name (`W. Europe Standard Time`), or else the
//!   zone its `VTIMEZONE` names (`X-LIC-LOCATION`) or defines (its offsets
//!   and daylight-saving rules, matched to an IANA zone: see
//!   [`crate::vtimezone`]). A `TZID` none of these resolve is read in the
//!   organizer's zone, and named in [`BusyCalendar::unknown_zones`] so the
//!   caller can log it;
//! * floating times (no zone, no `Z`) are the organizer's local time, and
//!   all-day events are whole local days in the organizer's zone;
//! * `RECURRENCE-ID;RANGE=THISANDFUTURE`, `EXRULE` and attendees' own
//!   participation status are not interpreted.
//!
//! An event whose `DTSTART` or `RRULE` cannot be read makes the whole
//! calendar unreadable ([`ParseError`]): skipping it could hide a meeting,
//! and the failure policy (see the crate docs) handles an unreadable
//! calendar safely.

use std::collections::{BTreeSet, HashMap};

use booking_core::chrono::{
    DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Utc,
};
use booking_core::time::{local_days_range, resolve_local};
use booking_core::{TimeRange, Tz};
use icalendar::parser::{Component, Property, read_calendar, unfold};

/// The most instances one recurring event may produce before the end of a
/// range asked for: a guard against rules like `FREQ=SECONDLY` from 1970.
/// An event that needs more makes the calendar unreadable.
pub const MAX_INSTANCES: usize = 200_000;

/// Calendar data that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Not iCalendar at all.
    #[error("the calendar data is not iCalendar: {0}")]
    Syntax(String),
    /// One event cannot be read.
    #[error("the event {uid:?} cannot be read: {problem}")]
    Event {
        /// The event's `UID` (empty if it has none).
        uid: String,
        /// What is wrong.
        problem: String,
    },
}

/// A point in time as a calendar wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// A whole day (`VALUE=DATE`).
    Date(NaiveDate),
    /// An instant (`...Z`).
    Utc(DateTime<Utc>),
    /// A wall-clock time in a zone; `None` for floating time (the
    /// organizer's zone).
    Local(NaiveDateTime, Option<Tz>),
}

impl When {
    fn zone(self, home: Tz) -> Tz {
        match self {
            When::Local(_, Some(zone)) => zone,
            When::Utc(_) => Tz::UTC,
            _ => home,
        }
    }

    /// The instant it names (a date: its local midnight).
    fn instant(self, home: Tz) -> Option<DateTime<Utc>> {
        match self {
            When::Utc(at) => Some(at),
            When::Local(local, zone) => resolve_local(zone.unwrap_or(home), local),
            When::Date(day) => resolve_local(home, day.and_time(NaiveTime::MIN)),
        }
    }

    /// The local date it falls on, in `zone`.
    fn date_in(self, zone: Tz, home: Tz) -> Option<NaiveDate> {
        match self {
            When::Date(day) => Some(day),
            other => other
                .instant(home)
                .map(|at| at.with_timezone(&zone).date_naive()),
        }
    }
}

/// How long each instance of an event lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Length {
    /// Whole days (all-day events).
    Days(i64),
    /// Exact time.
    Exact(Duration),
}

/// One `VEVENT`, as far as busy time is concerned.
#[derive(Debug, Clone)]
struct EventSpec {
    uid: String,
    start: When,
    length: Length,
    /// Whether it blocks time (not cancelled, not transparent).
    blocks: bool,
    rrules: Vec<String>,
    rdates: Vec<(When, Option<Length>)>,
    exdates: Vec<When>,
}

/// An instance replaced by its own `VEVENT`.
#[derive(Debug, Clone)]
struct Override {
    recurrence_id: When,
    event: EventSpec,
}

/// All `VEVENT`s of one `UID`: the recurring master (if any) and its
/// replaced instances.
#[derive(Debug, Clone, Default)]
struct Series {
    master: Option<EventSpec>,
    overrides: Vec<Override>,
}

/// Parsed calendar data, ready to say when its owner is busy in any range.
/// Cheap to keep: it holds the events, not their expansions.
#[derive(Debug, Clone, Default)]
pub struct BusyCalendar {
    series: Vec<Series>,
    unknown_zones: BTreeSet<String>,
}

impl BusyCalendar {
    /// Parses one iCalendar document (a feed, or one CalDAV resource).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut calendar = BusyCalendar::default();
        calendar.add(text)?;
        Ok(calendar)
    }

    /// Parses several documents (the resources of a CalDAV answer) into one
    /// calendar; instances of one `UID` may come from different documents.
    pub fn parse_all<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<Self, ParseError> {
        let mut calendar = BusyCalendar::default();
        for text in texts {
            calendar.add(text)?;
        }
        Ok(calendar)
    }

    /// `TZID`s that named no known zone and were read in the organizer's
    /// zone instead.
    pub fn unknown_zones(&self) -> impl Iterator<Item = &str> {
        self.unknown_zones.iter().map(String::as_str)
    }

    /// How many distinct events (`UID`s) it holds.
    pub fn event_count(&self) -> usize {
        self.series.len()
    }

    fn add(&mut self, text: &str) -> Result<(), ParseError> {
        let unfolded = unfold(text);
        let parsed = read_calendar(&unfolded)
            .map_err(|e| ParseError::Syntax(e.lines().next().unwrap_or("unreadable").to_owned()))?;
        if !parsed.components.iter().any(|c| c.name == "VEVENT")
            && !unfolded.trim_start().starts_with("BEGIN:VCALENDAR")
        {
            return Err(ParseError::Syntax("no VCALENDAR".to_owned()));
        }
        let zones = Zones::from_components(&parsed.components);
        let mut by_uid: HashMap<String, usize> = HashMap::new();
        for (index, series) in self.series.iter().enumerate() {
            if let Some(uid) = series_uid(series) {
                by_uid.insert(uid.to_owned(), index);
            }
        }
        for component in parsed.components.iter().filter(|c| c.name == "VEVENT") {
            let mut reader = EventReader {
                component,
                zones: &zones,
                unknown: &mut self.unknown_zones,
            };
            let event = reader.event()?;
            let recurrence_id = reader.when_of("RECURRENCE-ID")?;
            let index = match by_uid.get(&event.uid) {
                Some(index) if !event.uid.is_empty() => *index,
                _ => {
                    self.series.push(Series::default());
                    let index = self.series.len() - 1;
                    if !event.uid.is_empty() {
                        by_uid.insert(event.uid.clone(), index);
                    }
                    index
                }
            };
            let series = &mut self.series[index];
            match recurrence_id {
                Some(recurrence_id) => series.overrides.push(Override {
                    recurrence_id,
                    event,
                }),
                None => series.master = Some(event),
            }
        }
        Ok(())
    }

    /// The busy intervals overlapping `range`, with floating times and
    /// all-day events in `home` (the organizer's zone). Intervals are not
    /// clipped to the range nor merged.
    pub fn busy(&self, range: TimeRange, home: Tz) -> Result<Vec<TimeRange>, ParseError> {
        let mut busy = Vec::new();
        for series in &self.series {
            series.busy(range, home, &mut busy)?;
        }
        Ok(busy)
    }
}

fn series_uid(series: &Series) -> Option<&str> {
    series
        .master
        .as_ref()
        .or_else(|| series.overrides.first().map(|o| &o.event))
        .map(|e| e.uid.as_str())
        .filter(|uid| !uid.is_empty())
}

impl Series {
    fn busy(&self, range: TimeRange, home: Tz, out: &mut Vec<TimeRange>) -> Result<(), ParseError> {
        if let Some(master) = &self.master {
            let replaced = Replaced::of(master, &self.overrides, home);
            for instance in master.instances(range, home)? {
                if master.blocks && !replaced.contains(&instance, master, home) {
                    push_overlapping(out, instance.range, range);
                }
            }
        }
        for replaced in &self.overrides {
            let fallback = self.master.as_ref().map(|m| m.length);
            let event = &replaced.event;
            if event.blocks {
                let length = if event.length == Length::Exact(Duration::zero()) {
                    fallback.unwrap_or(event.length)
                } else {
                    event.length
                };
                if let Some(instance) = instance_at(event.start, length, home) {
                    push_overlapping(out, instance, range);
                }
            }
        }
        Ok(())
    }
}

fn push_overlapping(out: &mut Vec<TimeRange>, busy: TimeRange, range: TimeRange) {
    if busy.overlaps(&range) {
        out.push(busy);
    }
}

/// One occurrence of a series: its start as written (to match exclusions)
/// and the time it blocks.
struct Instance {
    start: When,
    range: TimeRange,
}

/// The instances a master's `EXDATE`s and overrides remove.
struct Replaced {
    instants: BTreeSet<DateTime<Utc>>,
    dates: BTreeSet<NaiveDate>,
}

impl Replaced {
    fn of(master: &EventSpec, overrides: &[Override], home: Tz) -> Self {
        let zone = master.start.zone(home);
        let mut replaced = Replaced {
            instants: BTreeSet::new(),
            dates: BTreeSet::new(),
        };
        let all = master
            .exdates
            .iter()
            .chain(overrides.iter().map(|o| &o.recurrence_id));
        for when in all {
            if matches!(master.start, When::Date(_)) || matches!(when, When::Date(_)) {
                if let Some(day) = when.date_in(zone, home) {
                    replaced.dates.insert(day);
                }
            } else if let Some(at) = when.instant(home) {
                replaced.instants.insert(at);
            }
        }
        replaced
    }

    fn contains(&self, instance: &Instance, master: &EventSpec, home: Tz) -> bool {
        let zone = master.start.zone(home);
        match instance.start {
            When::Date(day) => self.dates.contains(&day),
            start => {
                start
                    .instant(home)
                    .is_some_and(|at| self.instants.contains(&at))
                    || start
                        .date_in(zone, home)
                        .is_some_and(|day| self.dates.contains(&day))
            }
        }
    }
}

/// The time an instance starting at `start` and lasting `length` blocks.
fn instance_at(start: When, length: Length, home: Tz) -> Option<TimeRange> {
    match (start, length) {
        (When::Date(day), Length::Days(days)) => {
            let last = day.checked_add_signed(Duration::days(days.max(1) - 1))?;
            local_days_range(home, day, last)
        }
        (start, Length::Days(days)) => {
            let from = start.instant(home)?;
            TimeRange::new(from, from + Duration::days(days)).ok()
        }
        (start, Length::Exact(length)) => {
            let from = start.instant(home)?;
            TimeRange::new(from, from + length).ok()
        }
    }
}

impl EventSpec {
    fn problem(&self, problem: impl Into<String>) -> ParseError {
        ParseError::Event {
            uid: self.uid.clone(),
            problem: problem.into(),
        }
    }

    /// The instances whose time overlaps `range`, excluded ones included.
    fn instances(&self, range: TimeRange, home: Tz) -> Result<Vec<Instance>, ParseError> {
        // The longest an instance can last, to find those that started
        // before the range but still run into it.
        let reach = match self.length {
            Length::Days(days) => Duration::days(days.max(1) + 1),
            Length::Exact(length) => length,
        };
        let mut starts: Vec<(When, Length)> = vec![(self.start, self.length)];
        if !self.rrules.is_empty() {
            starts.extend(
                self.expand_rules(range.end(), range.start() - reach, home)?
                    .into_iter()
                    .map(|when| (when, self.length)),
            );
        }
        starts.extend(
            self.rdates
                .iter()
                .map(|(when, length)| (*when, length.unwrap_or(self.length))),
        );
        let mut seen = BTreeSet::new();
        let mut instances = Vec::new();
        for (start, length) in starts {
            let Some(blocked) = instance_at(start, length, home) else {
                continue;
            };
            if blocked.overlaps(&range) && seen.insert(blocked.start()) {
                instances.push(Instance {
                    start,
                    range: blocked,
                });
            }
        }
        Ok(instances)
    }

    /// Where to start expanding: `DTSTART`, or for a series of one `DAILY`
    /// or `WEEKLY` rule without `COUNT` (whose instances repeat exactly
    /// every `INTERVAL` days or weeks, at the same wall-clock time) the
    /// instance a whole number of periods later that lies at least one
    /// period before `not_before`, so that years of earlier instances are
    /// not generated only to be dropped. The instances from `not_before` on
    /// are the same either way; `COUNT` counts from `DTSTART`, so it
    /// prevents the shortcut.
    fn fast_forward(
        &self,
        rules: &[(&String, rrule::RRule<rrule::Unvalidated>)],
        not_before: DateTime<Utc>,
        home: Tz,
    ) -> When {
        let [(_, rule)] = rules else {
            return self.start;
        };
        let interval = i64::from(rule.get_interval().max(1));
        let period_days = match rule.get_freq() {
            rrule::Frequency::Daily => interval,
            rrule::Frequency::Weekly => 7 * interval,
            _ => return self.start,
        };
        let zone = self.start.zone(home);
        let Some(first_day) = self.start.date_in(zone, home) else {
            return self.start;
        };
        if rule.get_count().is_some() {
            return self.start;
        }
        let target = not_before.with_timezone(&zone).date_naive();
        let periods = (target - first_day).num_days() / period_days - 1;
        if periods <= 0 {
            return self.start;
        }
        let shift = Duration::days(periods * period_days);
        match self.start {
            When::Date(day) => When::Date(day + shift),
            When::Local(local, zone) => When::Local(local + shift, zone),
            When::Utc(at) => When::Utc(at + shift),
        }
    }

    /// The starts the `RRULE`s generate from `not_before` up to `before`.
    fn expand_rules(
        &self,
        before: DateTime<Utc>,
        not_before: DateTime<Utc>,
        home: Tz,
    ) -> Result<Vec<When>, ParseError> {
        let mut parsed = Vec::new();
        for text in &self.rrules {
            let rule: rrule::RRule<rrule::Unvalidated> = text
                .parse()
                .map_err(|e| self.problem(format!("RRULE {text:?}: {e}")))?;
            parsed.push((text, rule));
        }
        // A rule that ended before the range adds nothing to it.
        parsed.retain(|(_, rule)| {
            rule.get_until()
                .is_none_or(|until| until.with_timezone(&Utc) >= not_before)
        });
        if parsed.is_empty() {
            return Ok(Vec::new());
        }
        // All-day series recur over plain dates: expanded at midnight UTC
        // and read back as dates, then placed in the organizer's zone.
        let first = self.fast_forward(&parsed, not_before, home);
        let (zone, start) = match first {
            When::Date(day) => (Tz::UTC, day.and_time(NaiveTime::MIN).and_utc()),
            other => {
                let zone = other.zone(home);
                let at = other
                    .instant(home)
                    .ok_or_else(|| self.problem("DTSTART names no real time"))?;
                (zone, at)
            }
        };
        let rrule_zone = rrule::Tz::Tz(zone);
        let dt_start = start.with_timezone(&rrule_zone);
        let mut rules = Vec::new();
        for (text, unvalidated) in parsed {
            let rule = unvalidated
                .validate(dt_start)
                .map_err(|e| self.problem(format!("RRULE {text:?}: {e}")))?;
            rules.push(rule);
        }
        let set = rrule::RRuleSet::new(dt_start).set_rrules(rules);
        let mut starts = Vec::new();
        for (count, occurrence) in set.into_iter().enumerate() {
            if count >= MAX_INSTANCES {
                return Err(self.problem(format!(
                    "it recurs more than {MAX_INSTANCES} times before the time asked for"
                )));
            }
            let at = occurrence.with_timezone(&Utc);
            let when = match self.start {
                When::Date(_) => When::Date(occurrence.date_naive()),
                _ => When::Utc(at),
            };
            let instant = when.instant(home).unwrap_or(at);
            if instant >= before {
                break;
            }
            if instant >= not_before {
                starts.push(when);
            }
        }
        Ok(starts)
    }
}

/// The zones a document's `VTIMEZONE`s point to.
struct Zones {
    /// `TZID` → the zone its `VTIMEZONE` names (`X-LIC-LOCATION`) or
    /// defines (see [`crate::vtimezone`]), for `TZID`s that are not zone
    /// names themselves.
    defined: HashMap<String, Tz>,
}

impl Zones {
    fn from_components(components: &[Component<'_>]) -> Self {
        let mut defined = HashMap::new();
        for zone in components.iter().filter(|c| c.name == "VTIMEZONE") {
            let Some(tzid) = zone
                .find_prop("TZID")
                .map(|p| p.val.clone().unescape_text().as_str().trim().to_owned())
            else {
                continue;
            };
            if by_name(&tzid).is_some() {
                continue;
            }
            let location = zone
                .find_prop("X-LIC-LOCATION")
                .and_then(|p| p.val.as_str().trim().parse::<Tz>().ok())
                .or_else(|| crate::vtimezone::equivalent_zone(zone, Utc::now()));
            if let Some(location) = location {
                defined.insert(tzid, location);
            }
        }
        Zones { defined }
    }

    fn resolve(&self, tzid: &str) -> Option<Tz> {
        by_name(tzid).or_else(|| self.defined.get(tzid.trim_matches('"')).copied())
    }
}

/// The zone a `TZID` names by itself: an IANA name, a vendor prefix
/// before one (`/mozilla.org/20070129_1/Europe/Berlin`), or a common
/// Windows name.
fn by_name(tzid: &str) -> Option<Tz> {
    let tzid = tzid.trim_matches('"');
    if let Ok(zone) = tzid.parse::<Tz>() {
        return Some(zone);
    }
    tzid.match_indices('/')
        .find_map(|(at, _)| tzid[at + 1..].parse::<Tz>().ok())
        .or_else(|| windows_zone(tzid))
}

/// The IANA zone of a common Windows zone name (as Outlook writes them),
/// from CLDR's `windowsZones.xml` (territory 001).
fn windows_zone(name: &str) -> Option<Tz> {
    use booking_core::chrono_tz::{America, Asia, Australia, Europe, Pacific};
    Some(match name {
        "UTC" | "Coordinated Universal Time" => Tz::UTC,
        "GMT Standard Time" => Europe::London,
        "W. Europe Standard Time" => Europe::Berlin,
        "Romance Standard Time" => Europe::Paris,
        "Central Europe Standard Time" => Europe::Budapest,
        "Central European Standard Time" => Europe::Warsaw,
        "E. Europe Standard Time" => Europe::Chisinau,
        "FLE Standard Time" => Europe::Kiev,
        "GTB Standard Time" => Europe::Bucharest,
        "Russian Standard Time" => Europe::Moscow,
        "Eastern Standard Time" => America::New_York,
        "Central Standard Time" => America::Chicago,
        "Mountain Standard Time" => America::Denver,
        "US Mountain Standard Time" => America::Phoenix,
        "Pacific Standard Time" => America::Los_Angeles,
        "Alaskan Standard Time" => America::Anchorage,
        "Hawaiian Standard Time" => Pacific::Honolulu,
        "Atlantic Standard Time" => America::Halifax,
        "E. South America Standard Time" => America::Sao_Paulo,
        "India Standard Time" => Asia::Kolkata,
        "China Standard Time" => Asia::Shanghai,
        "Tokyo Standard Time" => Asia::Tokyo,
        "Singapore Standard Time" => Asia::Singapore,
        "AUS Eastern Standard Time" => Australia::Sydney,
        "New Zealand Standard Time" => Pacific::Auckland,
        _ => return None,
    })
}

/// Every property `name` of `component`.
fn all<'a, 'c>(component: &'a Component<'c>, name: &str) -> Vec<&'a Property<'c>> {
    component
        .properties
        .iter()
        .filter(|p| p.name.as_str().eq_ignore_ascii_case(name))
        .collect()
}

/// Reads one `VEVENT`'s properties.
struct EventReader<'a, 'c> {
    component: &'a Component<'c>,
    zones: &'a Zones,
    unknown: &'a mut BTreeSet<String>,
}

impl EventReader<'_, '_> {
    fn uid(&self) -> String {
        self.component
            .find_prop("UID")
            .map(|p| p.val.as_str().trim().to_owned())
            .unwrap_or_default()
    }

    fn problem(&self, problem: impl Into<String>) -> ParseError {
        ParseError::Event {
            uid: self.uid(),
            problem: problem.into(),
        }
    }

    fn text(&self, name: &str) -> Option<String> {
        self.component
            .find_prop(name)
            .map(|p| p.val.as_str().trim().to_ascii_uppercase())
    }

    fn event(&mut self) -> Result<EventSpec, ParseError> {
        let uid = self.uid();
        let start = self
            .when_of("DTSTART")?
            .ok_or_else(|| self.problem("it has no DTSTART"))?;
        let length = self.length(start)?;
        let blocks = self.text("STATUS").as_deref() != Some("CANCELLED")
            && self.text("TRANSP").as_deref() != Some("TRANSPARENT");
        let rrules = all(self.component, "RRULE")
            .into_iter()
            .map(|p| p.val.as_str().trim().to_owned())
            .collect();
        let mut rdates = Vec::new();
        for property in all(self.component, "RDATE") {
            for value in property.val.as_str().split(',') {
                rdates.push(self.rdate(property, value.trim())?);
            }
        }
        let mut exdates = Vec::new();
        for property in all(self.component, "EXDATE") {
            for value in property.val.as_str().split(',') {
                exdates.push(self.when(property, value.trim())?);
            }
        }
        Ok(EventSpec {
            uid,
            start,
            length,
            blocks,
            rrules,
            rdates,
            exdates,
        })
    }

    fn length(&mut self, start: When) -> Result<Length, ParseError> {
        if let Some(end) = self.when_of("DTEND")? {
            return match (start, end) {
                (When::Date(from), When::Date(to)) => Ok(Length::Days((to - from).num_days())),
                (from, to) => {
                    let (Some(from), Some(to)) = (from.instant(Tz::UTC), to.instant(Tz::UTC))
                    else {
                        return Err(self.problem("DTEND names no real time"));
                    };
                    // Floating and zoned times were read in UTC here only
                    // to measure the length; a wall-clock length is what
                    // the calendar meant.
                    let length = match (start, end) {
                        (When::Local(a, None), When::Local(b, None)) => b - a,
                        _ => to - from,
                    };
                    Ok(Length::Exact(length.max(Duration::zero())))
                }
            };
        }
        if let Some(duration) = self.component.find_prop("DURATION") {
            let length = parse_duration(duration.val.as_str())
                .ok_or_else(|| self.problem(format!("DURATION {:?}", duration.val.as_str())))?;
            return Ok(match start {
                When::Date(_) if length.num_seconds() % 86_400 == 0 => {
                    Length::Days(length.num_days())
                }
                _ => Length::Exact(length.max(Duration::zero())),
            });
        }
        Ok(match start {
            When::Date(_) => Length::Days(1),
            _ => Length::Exact(Duration::zero()),
        })
    }

    /// The value of the first property `name`, if there is one.
    fn when_of(&mut self, name: &str) -> Result<Option<When>, ParseError> {
        let Some(property) = self.component.find_prop(name).cloned() else {
            return Ok(None);
        };
        self.when(&property, property.val.as_str().trim()).map(Some)
    }

    fn rdate(
        &mut self,
        property: &Property<'_>,
        value: &str,
    ) -> Result<(When, Option<Length>), ParseError> {
        match value.split_once('/') {
            None => Ok((self.when(property, value)?, None)),
            Some((from, to)) => {
                let start = self.when(property, from)?;
                let length = match parse_duration(to) {
                    Some(length) => length,
                    None => {
                        let end = self.when(property, to)?;
                        match (start.instant(Tz::UTC), end.instant(Tz::UTC)) {
                            (Some(a), Some(b)) => b - a,
                            _ => return Err(self.problem(format!("RDATE period {value:?}"))),
                        }
                    }
                };
                Ok((start, Some(Length::Exact(length.max(Duration::zero())))))
            }
        }
    }

    fn when(&mut self, property: &Property<'_>, value: &str) -> Result<When, ParseError> {
        let param = |key: &str| {
            property
                .params
                .iter()
                .find(|p| p.key.as_str().eq_ignore_ascii_case(key))
                .and_then(|p| p.val.as_ref())
                .map(|v| v.as_str().to_owned())
        };
        let is_date = param("VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"))
            || (value.len() == 8 && !value.contains('T'));
        let bad = |reader: &Self| {
            reader.problem(format!(
                "{} {value:?} is not a date or time",
                property.name.as_str()
            ))
        };
        if is_date {
            return NaiveDate::parse_from_str(value, "%Y%m%d")
                .map(When::Date)
                .map_err(|_| bad(self));
        }
        if let Some(utc) = value.strip_suffix('Z').or_else(|| value.strip_suffix('z')) {
            return NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
                .map(|at| When::Utc(Utc.from_utc_datetime(&at)))
                .map_err(|_| bad(self));
        }
        let local = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").map_err(|_| bad(self))?;
        let zone = match param("TZID") {
            None => None,
            Some(tzid) => match self.zones.resolve(&tzid) {
                Some(zone) => Some(zone),
                None => {
                    self.unknown.insert(tzid);
                    None
                }
            },
        };
        Ok(When::Local(local, zone))
    }
}

/// An RFC 5545 duration (`P1D`, `PT1H30M`, `-PT15M`, `P2W`), days and weeks
/// as 24-hour days.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let rest = rest.strip_prefix(['P', 'p'])?;
    let mut total = Duration::zero();
    let mut number = String::new();
    let mut in_time = false;
    let mut any = false;
    for c in rest.chars() {
        match c.to_ascii_uppercase() {
            'T' if number.is_empty() => in_time = true,
            digit if digit.is_ascii_digit() => number.push(digit),
            unit => {
                let n: i64 = number.parse().ok()?;
                number.clear();
                any = true;
                total += match (unit, in_time) {
                    ('W', false) => Duration::weeks(n),
                    ('D', false) => Duration::days(n),
                    ('H', true) => Duration::hours(n),
                    ('M', true) => Duration::minutes(n),
                    ('S', true) => Duration::seconds(n),
                    _ => return None,
                };
            }
        }
    }
    if !number.is_empty() || !any {
        return None;
    }
    Some(if negative { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;
    use booking_core::chrono_tz::Europe;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn range(from: DateTime<Utc>, to: DateTime<Utc>) -> TimeRange {
        TimeRange::new(from, to).unwrap()
    }

    fn calendar(events: &str) -> String {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{events}END:VCALENDAR\r\n")
    }

    /// The busy time `text` gives an organizer in London between `from`
    /// and `to`, in order.
    fn busy_between(text: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<TimeRange> {
        let mut busy = BusyCalendar::parse(text)
            .unwrap()
            .busy(range(from, to), Europe::London)
            .unwrap();
        busy.sort_by_key(TimeRange::start);
        busy
    }

    #[test]
    fn long_running_series_expand_the_same_with_the_shortcut() {
        // The same weekly rule since 2015, once open-ended (fast-forwarded)
        // and once with a COUNT far beyond the range (expanded from 2015).
        let series = |uid: &str, limit: &str| {
            format!(
                "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART;TZID=Europe/Berlin:20150107T093000\r\nDURATION:PT45M\r\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE{limit}\r\nEXDATE;TZID=Europe/Berlin:20270331T093000\r\nEND:VEVENT\r\n"
            )
        };
        let daily = |uid: &str, limit: &str| {
            format!(
                "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART;VALUE=DATE:20150101\r\nRRULE:FREQ=DAILY;INTERVAL=3{limit}\r\nEND:VEVENT\r\n"
            )
        };
        let from = utc(2027, 3, 1, 0, 0);
        let to = utc(2027, 5, 1, 0, 0);
        let open = busy_between(&calendar(&(series("a", "") + &daily("b", ""))), from, to);
        let counted = busy_between(
            &calendar(&(series("a", ";COUNT=5000") + &daily("b", ";COUNT=5000"))),
            from,
            to,
        );
        assert_eq!(open, counted);
        // Mondays and Wednesdays every other week, less the excluded one,
        // and every third day.
        assert_eq!(open.len(), 10 - 1 + 21, "{open:?}");
        assert!(open.contains(&range(utc(2027, 3, 29, 7, 30), utc(2027, 3, 29, 8, 15))));
        let ended = calendar(&series("c", ";UNTIL=20200101T000000Z"));
        assert!(busy_between(&ended, from, to).is_empty());
    }

    #[test]
    fn a_custom_vtimezone_places_and_repeats_events_by_its_own_rules() {
        let text = calendar(concat!(
            "BEGIN:VTIMEZONE\r\nTZID:(UTC+01:00) Amsterdam\\, Berlin\r\n",
            "BEGIN:STANDARD\r\nDTSTART:16011028T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n",
            "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n",
            "BEGIN:DAYLIGHT\r\nDTSTART:16010325T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n",
            "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n",
            "BEGIN:VEVENT\r\nUID:c\r\nDTSTART;TZID=\"(UTC+01:00) Amsterdam, Berlin\":20270322T100000\r\n",
            "DURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=2\r\nEND:VEVENT\r\n",
        ));
        let parsed = BusyCalendar::parse(&text).unwrap();
        assert_eq!(parsed.unknown_zones().count(), 0);
        let busy = busy_between(&text, utc(2027, 3, 1, 0, 0), utc(2027, 4, 1, 0, 0));
        assert_eq!(
            busy,
            vec![
                range(utc(2027, 3, 22, 9, 0), utc(2027, 3, 22, 10, 0)),
                range(utc(2027, 3, 29, 8, 0), utc(2027, 3, 29, 9, 0)),
            ]
        );
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("PT1H30M"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("P1D"), Some(Duration::days(1)));
        assert_eq!(parse_duration("P2W"), Some(Duration::weeks(2)));
        assert_eq!(parse_duration("-PT15M"), Some(Duration::minutes(-15)));
        assert_eq!(parse_duration("P1DT2H"), Some(Duration::hours(26)));
        assert_eq!(parse_duration("PT"), None);
        assert_eq!(parse_duration("1H"), None);
        assert_eq!(parse_duration("P1H"), None);
    }

    #[test]
    fn weekly_meeting_keeps_its_wall_clock_time_across_dst_with_exdate_and_overrides() {
        let text = calendar(concat!(
            "BEGIN:VEVENT\r\nUID:w\r\nDTSTAMP:20270101T000000Z\r\n",
            "DTSTART;TZID=Europe/Berlin:20270315T100000\r\n",
            "DTEND;TZID=Europe/Berlin:20270315T110000\r\n",
            "RRULE:FREQ=WEEKLY;COUNT=5\r\n",
            "EXDATE;TZID=Europe/Berlin:20270412T100000\r\n",
            "END:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:w\r\nDTSTAMP:20270101T000000Z\r\n",
            "RECURRENCE-ID;TZID=Europe/Berlin:20270322T100000\r\n",
            "DTSTART;TZID=Europe/Berlin:20270322T100000\r\n",
            "DTEND;TZID=Europe/Berlin:20270322T110000\r\n",
            "STATUS:CANCELLED\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:w\r\nDTSTAMP:20270101T000000Z\r\n",
            "RECURRENCE-ID:20270405T080000Z\r\n",
            "DTSTART;TZID=Europe/Berlin:20270405T140000\r\n",
            "DTEND;TZID=Europe/Berlin:20270405T150000\r\n",
            "END:VEVENT\r\n",
        ));
        let busy = busy_between(&text, utc(2027, 3, 1, 0, 0), utc(2027, 5, 1, 0, 0));
        assert_eq!(
            busy,
            vec![
                range(utc(2027, 3, 15, 9, 0), utc(2027, 3, 15, 10, 0)),
                range(utc(2027, 3, 29, 8, 0), utc(2027, 3, 29, 9, 0)),
                range(utc(2027, 4, 5, 12, 0), utc(2027, 4, 5, 13, 0)),
            ]
        );
    }

    #[test]
    fn all_day_events_are_local_days_and_ignored_events_block_nothing() {
        let text = calendar(concat!(
            "BEGIN:VEVENT\r\nUID:a\r\nDTSTART;VALUE=DATE:20270331\r\nDTEND;VALUE=DATE:20270402\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:t\r\nDTSTART:20270330T120000Z\r\nDTEND:20270330T130000Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:c\r\nDTSTART:20270330T150000Z\r\nDURATION:PT1H\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:z\r\nDTSTART;TZID=/mozilla.org/20070129_1/America/New_York:20270330T090000\r\nDURATION:PT45M\r\nEND:VEVENT\r\n",
        ));
        let busy = busy_between(&text, utc(2027, 3, 29, 0, 0), utc(2027, 4, 5, 0, 0));
        assert_eq!(
            busy,
            vec![
                range(utc(2027, 3, 30, 13, 0), utc(2027, 3, 30, 13, 45)),
                range(utc(2027, 3, 30, 23, 0), utc(2027, 4, 1, 23, 0)),
            ]
        );
    }

    #[test]
    fn unknown_zones_are_named_and_read_in_the_home_zone() {
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:u\r\nDTSTART;TZID=Mars/Olympus:20270601T100000\r\nDURATION:PT1H\r\nEND:VEVENT\r\n",
        );
        let calendar = BusyCalendar::parse(&text).unwrap();
        assert_eq!(
            calendar.unknown_zones().collect::<Vec<_>>(),
            ["Mars/Olympus"]
        );
        let busy = busy_between(&text, utc(2027, 6, 1, 0, 0), utc(2027, 6, 2, 0, 0));
        assert_eq!(
            busy,
            vec![range(utc(2027, 6, 1, 9, 0), utc(2027, 6, 1, 10, 0))]
        );
    }

    #[test]
    fn windows_and_x_lic_location_zones_resolve() {
        let text = calendar(concat!(
            "BEGIN:VTIMEZONE\r\nTZID:Custom Berlin\r\nX-LIC-LOCATION:Europe/Berlin\r\nEND:VTIMEZONE\r\n",
            "BEGIN:VEVENT\r\nUID:x\r\nDTSTART;TZID=Custom Berlin:20270601T100000\r\nDURATION:PT1H\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:y\r\nDTSTART;TZID=Eastern Standard Time:20270601T100000\r\nDURATION:PT1H\r\nEND:VEVENT\r\n",
        ));
        let busy = busy_between(&text, utc(2027, 6, 1, 0, 0), utc(2027, 6, 2, 0, 0));
        assert_eq!(
            busy,
            vec![
                range(utc(2027, 6, 1, 8, 0), utc(2027, 6, 1, 9, 0)),
                range(utc(2027, 6, 1, 14, 0), utc(2027, 6, 1, 15, 0)),
            ]
        );
        let parsed = BusyCalendar::parse(&text).unwrap();
        assert_eq!(parsed.unknown_zones().count(), 0);
    }

    #[test]
    fn rdates_and_all_day_recurrence_expand() {
        let text = calendar(concat!(
            "BEGIN:VEVENT\r\nUID:r\r\nDTSTART:20270601T100000Z\r\nDTEND:20270601T110000Z\r\n",
            "RDATE:20270603T100000Z,20270604T120000Z\r\nRDATE;VALUE=PERIOD:20270605T080000Z/PT30M\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:d\r\nDTSTART;VALUE=DATE:20270607\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEXDATE;VALUE=DATE:20270608\r\nEND:VEVENT\r\n",
        ));
        let busy = busy_between(&text, utc(2027, 6, 1, 0, 0), utc(2027, 6, 30, 0, 0));
        assert_eq!(
            busy,
            vec![
                range(utc(2027, 6, 1, 10, 0), utc(2027, 6, 1, 11, 0)),
                range(utc(2027, 6, 3, 10, 0), utc(2027, 6, 3, 11, 0)),
                range(utc(2027, 6, 4, 12, 0), utc(2027, 6, 4, 13, 0)),
                range(utc(2027, 6, 5, 8, 0), utc(2027, 6, 5, 8, 30)),
                range(utc(2027, 6, 6, 23, 0), utc(2027, 6, 7, 23, 0)),
                range(utc(2027, 6, 8, 23, 0), utc(2027, 6, 9, 23, 0)),
            ]
        );
    }

    #[test]
    fn unreadable_events_make_the_calendar_unreadable() {
        let no_start = calendar("BEGIN:VEVENT\r\nUID:n\r\nSUMMARY:x\r\nEND:VEVENT\r\n");
        assert!(matches!(
            BusyCalendar::parse(&no_start),
            Err(ParseError::Event { uid, .. }) if uid == "n"
        ));
        let bad_rule = calendar(
            "BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20270601T100000Z\r\nRRULE:FREQ=SOMETIMES\r\nEND:VEVENT\r\n",
        );
        let parsed = BusyCalendar::parse(&bad_rule).unwrap();
        assert!(
            parsed
                .busy(
                    range(utc(2027, 6, 1, 0, 0), utc(2027, 7, 1, 0, 0)),
                    Europe::London
                )
                .is_err()
        );
        assert!(matches!(
            BusyCalendar::parse("<html>not a calendar</html>"),
            Err(ParseError::Syntax(_))
        ));
    }
}
