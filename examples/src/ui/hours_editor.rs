//! The hours editor: weekly hours (a switch per weekday, time pickers, rows
//! of hours added and removed) and date overrides (a date picker, then a
//! day off or the day's own hours), as a part of any form.
//!
//! It takes and gives back what a schedule holds, [`WeeklyHours`] and the
//! date overrides, so the settings page uses it today and a schedule page
//! can tomorrow. It works without JavaScript: the Add and Remove buttons
//! submit the whole form with `action=...`, the page applies the [`Edit`]
//! and shows the form again unsaved; the switches hide and show rows with
//! CSS alone. With JavaScript (`examples/assets/app.js`) the same buttons
//! add and remove rows in place from the `<template>`s rendered here.
//!
//! Field names: `{day}-open` (`on` when the day has hours), `{group}-start`
//! and `{group}-end` once per row of hours, in order, where a group is a
//! weekday (`monday`) or an override (`override-{key}`); and per override
//! `override-{key}-date` and `override-{key}-hours` (`off` or `custom`).
//! Errors are reported under the group's name.

use std::collections::BTreeMap;

use booking_core::WeeklyHours;
use booking_core::schedule::{
    ALL_WEEKDAYS, MAX_DATE_OVERRIDES, MAX_INTERVALS_PER_DAY, weekday_name,
};
use booking_core::time::{LocalInterval, LocalIntervalError, WallTime};

use crate::http::fields::FieldErrors;
use chrono::{NaiveDate, Weekday};
use maud::{Markup, html};

use super::calendar::{EARLIEST, LATEST, parse_date};
use super::form::FormFields;
use super::format;
use super::layout::{described_by, field_error};

/// The name of the form field whose value says which edit button was
/// pressed.
pub(super) const ACTION_FIELD: &str = "action";

/// The hours a new row suggests when there is nothing to continue from.
const SUGGESTED: (&str, &str) = ("09:00", "17:00");

/// One row of hours as typed: `<input type=time>` values.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    start: String,
    end: String,
}

impl Row {
    fn suggested() -> Self {
        Row {
            start: SUGGESTED.0.to_owned(),
            end: SUGGESTED.1.to_owned(),
        }
    }

    /// The row as the time pickers show it: `24:00` is written `00:00`,
    /// which the end picker reads back as the end of the day.
    fn of(interval: &LocalInterval) -> Self {
        Row {
            start: interval.start().to_string(),
            end: Row::end_text(interval.end()),
        }
    }

    /// An hour after the last row, when that still fits in the day; else
    /// the suggested hours.
    fn after(last: Option<&Row>) -> Self {
        let next = last
            .and_then(|row| wall_time(&row.end).ok())
            // An end of 00:00 is the end of the day: nothing comes after.
            .filter(|end| *end != WallTime::MIDNIGHT)
            .and_then(|end| {
                let until = end.minutes_since_midnight() + 60;
                LocalInterval::new(end, WallTime::from_hm(until / 60, until % 60).ok()?).ok()
            });
        next.map_or_else(Row::suggested, |interval| Row::of(&interval))
    }

    /// An end time as the picker writes it.
    fn end_text(end: WallTime) -> String {
        if end == WallTime::END_OF_DAY {
            "00:00".to_owned()
        } else {
            end.to_string()
        }
    }
}

/// A weekday's switch and rows.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Day {
    day: Weekday,
    open: bool,
    rows: Vec<Row>,
}

/// One date override.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Override {
    /// Names this override's fields; stable while the form is edited.
    key: u32,
    date: String,
    /// Its own hours (the rows); otherwise a day off.
    custom: bool,
    rows: Vec<Row>,
}

/// Whose rows an edit is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Group {
    /// A weekday's hours.
    Day(Weekday),
    /// An override's hours, by key.
    Override(u32),
}

impl Group {
    fn name(self) -> String {
        match self {
            Group::Day(day) => weekday_name(day).to_owned(),
            Group::Override(key) => format!("override-{key}"),
        }
    }

    fn parse(name: &str) -> Option<Group> {
        if let Some(key) = name.strip_prefix("override-") {
            return key.parse().ok().map(Group::Override);
        }
        ALL_WEEKDAYS
            .into_iter()
            .find(|day| weekday_name(*day) == name)
            .map(Group::Day)
    }
}

/// What an edit button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Edit {
    /// `add:{group}`: one more row of hours.
    Add(Group),
    /// `remove:{group}:{row}`: drop a row.
    Remove(Group, usize),
    /// `add-override`: one more date.
    AddOverride,
    /// `remove-override:{key}`: drop a date.
    RemoveOverride(u32),
}

impl Edit {
    /// The edit an `action` value names; `None` for anything else.
    pub(super) fn parse(action: &str) -> Option<Edit> {
        if action == "add-override" {
            return Some(Edit::AddOverride);
        }
        if let Some(key) = action.strip_prefix("remove-override:") {
            return key.parse().ok().map(Edit::RemoveOverride);
        }
        if let Some(group) = action.strip_prefix("add:") {
            return Group::parse(group).map(Edit::Add);
        }
        let (group, row) = action.strip_prefix("remove:")?.rsplit_once(':')?;
        Some(Edit::Remove(Group::parse(group)?, row.parse().ok()?))
    }
}

/// The editor's state: what the form shows, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HoursEditor {
    days: Vec<Day>,
    overrides: Vec<Override>,
}

/// What the editor produces: a schedule's hours.
pub(super) type Hours = (WeeklyHours, BTreeMap<NaiveDate, Vec<LocalInterval>>);

impl HoursEditor {
    /// The editor showing `weekly` hours and `overrides`. A day off shows the
    /// suggested hours behind its switch, ready to be switched on.
    pub(super) fn new(
        weekly: &WeeklyHours,
        overrides: &BTreeMap<NaiveDate, Vec<LocalInterval>>,
    ) -> Self {
        let rows_of = |hours: &[LocalInterval]| -> Vec<Row> {
            if hours.is_empty() {
                vec![Row::suggested()]
            } else {
                hours.iter().map(Row::of).collect()
            }
        };
        HoursEditor {
            days: ALL_WEEKDAYS
                .into_iter()
                .map(|day| Day {
                    day,
                    open: !weekly.day(day).is_empty(),
                    rows: rows_of(weekly.day(day)),
                })
                .collect(),
            overrides: overrides
                .iter()
                .zip(1..)
                .map(|((date, hours), key)| Override {
                    key,
                    date: date.format("%Y-%m-%d").to_string(),
                    custom: !hours.is_empty(),
                    rows: rows_of(hours),
                })
                .collect(),
        }
    }

    /// The editor as the form was sent, typed values kept.
    pub(super) fn from_form(fields: &FormFields) -> Self {
        let rows = |group: &str| -> Vec<Row> {
            fields
                .all(&format!("{group}-start"))
                .iter()
                .zip(fields.all(&format!("{group}-end")))
                .take(MAX_INTERVALS_PER_DAY + 1)
                .map(|(start, end)| Row {
                    start: start.trim().to_owned(),
                    end: end.trim().to_owned(),
                })
                .collect()
        };
        let days = ALL_WEEKDAYS
            .into_iter()
            .map(|day| {
                let name = weekday_name(day);
                let open = fields.first(&format!("{name}-open")) == "on";
                let mut rows = rows(name);
                if !open && rows.is_empty() {
                    // Ready behind the switch, as on a fresh page.
                    rows.push(Row::suggested());
                }
                Day { day, open, rows }
            })
            .collect();
        let mut overrides: Vec<Override> = Vec::new();
        for name in fields.names() {
            let Some(key) = name
                .strip_prefix("override-")
                .and_then(|rest| rest.strip_suffix("-date"))
                .and_then(|key| key.parse::<u32>().ok())
            else {
                continue;
            };
            if overrides.len() > MAX_DATE_OVERRIDES || overrides.iter().any(|o| o.key == key) {
                continue;
            }
            let group = Group::Override(key).name();
            overrides.push(Override {
                key,
                date: fields.first(name).trim().to_owned(),
                custom: fields.first(&format!("{group}-hours")) == "custom",
                rows: rows(&group),
            });
        }
        HoursEditor { days, overrides }
    }

    /// Applies what an edit button asked for. Rows and dates beyond the
    /// settings' limits are not added.
    pub(super) fn apply(&mut self, edit: Edit) {
        match edit {
            Edit::Add(group) => {
                if let Some((open, rows)) = self.group_mut(group) {
                    // Adding hours to a day switches it on; to a date, gives
                    // it its own hours.
                    *open = true;
                    if rows.len() < MAX_INTERVALS_PER_DAY {
                        let row = Row::after(rows.last());
                        rows.push(row);
                    }
                }
            }
            Edit::Remove(group, index) => {
                if let Some((_, rows)) = self.group_mut(group)
                    && index < rows.len()
                {
                    rows.remove(index);
                }
            }
            Edit::AddOverride => {
                if self.overrides.len() < MAX_DATE_OVERRIDES {
                    let key = self.overrides.iter().map(|o| o.key).max().unwrap_or(0) + 1;
                    self.overrides.push(Override {
                        key,
                        date: String::new(),
                        custom: false,
                        rows: vec![Row::suggested()],
                    });
                }
            }
            Edit::RemoveOverride(key) => self.overrides.retain(|o| o.key != key),
        }
    }

    /// Whether `group` has hours (a weekday switched on, a date with its own
    /// hours), and its rows.
    fn group_mut(&mut self, group: Group) -> Option<(&mut bool, &mut Vec<Row>)> {
        match group {
            Group::Day(day) => self
                .days
                .iter_mut()
                .find(|d| d.day == day)
                .map(|d| (&mut d.open, &mut d.rows)),
            Group::Override(key) => self
                .overrides
                .iter_mut()
                .find(|o| o.key == key)
                .map(|o| (&mut o.custom, &mut o.rows)),
        }
    }

    /// The hours the form describes, or every mistake named by group.
    pub(super) fn read(&self) -> Result<Hours, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut weekly = WeeklyHours::default();
        for day in &self.days {
            if !day.open {
                continue;
            }
            let name = weekday_name(day.day);
            if let Some(hours) = errors.check(
                name,
                read_rows(
                    &day.rows,
                    &format!("Add hours for {}, or switch it off.", capitalized(name)),
                ),
            ) {
                *weekly.day_mut(day.day) = hours;
            }
        }
        let mut overrides = BTreeMap::new();
        for item in &self.overrides {
            let field = Group::Override(item.key).name();
            let date = match item.date.as_str() {
                "" => Err("Pick a date.".to_owned()),
                text => parse_date(text).map_err(|error| error.to_string()),
            };
            let Some(date) = errors.check(&field, date) else {
                continue;
            };
            if overrides.contains_key(&date) {
                errors.add(
                    field,
                    format!("{} is already listed above.", format::date(date)),
                );
                continue;
            }
            let hours = if item.custom {
                read_rows(&item.rows, "Add hours, or mark the day off.")
            } else {
                Ok(Vec::new())
            };
            if let Some(hours) = errors.check(&field, hours) {
                overrides.insert(date, hours);
            }
        }
        errors.into_result((weekly, overrides))
    }

    /// The field an error about the override on `date` belongs to.
    pub(super) fn override_field(&self, date: NaiveDate) -> Option<String> {
        self.overrides
            .iter()
            .find(|item| parse_date(&item.date) == Ok(date))
            .map(|item| Group::Override(item.key).name())
    }

    /// The editor's fieldsets, to place inside a `<form method="post">`
    /// whose page handles `action` edits; `form_url` is where that form posts.
    pub(super) fn render(&self, errors: &FieldErrors, form_url: &str) -> Markup {
        let next_key = self.overrides.iter().map(|o| o.key).max().unwrap_or(0) + 1;
        let blank = Override {
            key: 0,
            date: String::new(),
            custom: false,
            rows: vec![Row::suggested()],
        };
        html! {
            fieldset.hours-editor #weekly-hours {
                legend { "Weekly hours" }
                p.help { "Switch on the days you take meetings and set their hours. A day can have several rows, such as a morning and an afternoon. An end of 00:00 is midnight." }
                div.week {
                    @for day in &self.days {
                        (day_row(day, errors, form_url))
                    }
                }
            }
            fieldset.hours-editor #date-overrides {
                legend { "Date overrides" }
                p.help { "Dates whose hours differ from the usual week: a day off, or other hours." }
                (field_error(errors, "overrides"))
                div.overrides data-overrides data-next-key=(next_key) {
                    @for item in &self.overrides {
                        (override_row(&item.key.to_string(), item, errors, form_url))
                    }
                }
                @if self.overrides.len() < MAX_DATE_OVERRIDES {
                    button.secondary.small #add-override type="submit" name=(ACTION_FIELD)
                        value="add-override" formaction=(format!("{form_url}#date-overrides"))
                        data-edit="add-override" { "+ Add a date" }
                }
                // What the script clones to add a row of hours or a date.
                template #hours-row-template {
                    (row_markup("__GROUP__", "__INDEX__", "__LABEL__", &Row::suggested(), form_url))
                }
                template #override-template {
                    (override_row("__KEY__", &blank, &FieldErrors::new(), form_url))
                }
            }
        }
    }
}

/// Reads rows of hours; `empty` is the message when there are none.
fn read_rows(rows: &[Row], empty: &str) -> Result<Vec<LocalInterval>, String> {
    if rows.is_empty() {
        return Err(empty.to_owned());
    }
    rows.iter()
        .map(|row| {
            let start = match row.start.as_str() {
                "" => return Err("Enter a start time.".to_owned()),
                text => {
                    wall_time(text).map_err(|_| format!("“{text}” is not a time such as 09:00."))?
                }
            };
            let end = match row.end.as_str() {
                "" => return Err("Enter an end time.".to_owned()),
                // An end of 00:00 is midnight at the end of the day.
                "00:00" | "24:00" => WallTime::END_OF_DAY,
                text => {
                    wall_time(text).map_err(|_| format!("“{text}” is not a time such as 17:00."))?
                }
            };
            LocalInterval::new(start, end).map_err(|error| match error {
                LocalIntervalError::EndNotAfterStart { start, end } => {
                    format!(
                        "{start} – {}: the end must be after the start.",
                        Row::end_text(end)
                    )
                }
                other => format!("{}.", capitalized(&other.to_string())),
            })
        })
        .collect()
}

/// `09:00`, also as `9:00` or a picker's `09:00:00`.
fn wall_time(text: &str) -> Result<WallTime, booking_core::time::WallTimeError> {
    let text = text.trim();
    let text = text
        .strip_suffix(":00")
        .filter(|t| t.len() >= 4 && t.matches(':').count() == 1)
        .unwrap_or(text);
    match text.split_once(':') {
        Some((hour, minute)) if hour.len() == 1 => format!("0{hour}:{minute}").parse(),
        _ => text.parse(),
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn day_row(day: &Day, errors: &FieldErrors, form_url: &str) -> Markup {
    let name = weekday_name(day.day);
    let label = capitalized(name);
    let switch = format!("{name}-open");
    html! {
        div.day-row id=(name) {
            label.switch for=(switch) {
                input.switch-input type="checkbox" id=(switch) name=(switch) value="on" checked[day.open]
                    aria-describedby=[described_by(errors, name)];
                span.switch-label { (label) }
            }
            div.day-hours {
                (rows_markup(name, &label, &day.rows, form_url))
                p.day-off.muted { "Unavailable" }
                (field_error(errors, name))
            }
        }
    }
}

/// One date override; `key` is a number, or a placeholder in the template.
fn override_row(key: &str, item: &Override, errors: &FieldErrors, form_url: &str) -> Markup {
    let group = format!("override-{key}");
    let date = format!("{group}-date");
    let kind = format!("{group}-hours");
    html! {
        div.override id=(group) {
            div.override-head {
                div.field {
                    label for=(date) { "Date" }
                    input type="date" id=(date) name=(date) value=(item.date)
                        min=(EARLIEST.format("%Y-%m-%d").to_string())
                        max=(LATEST.format("%Y-%m-%d").to_string())
                        aria-invalid=[errors.message_for(&group).map(|_| "true")]
                        aria-describedby=[described_by(errors, &group)];
                }
                div.override-kind role="radiogroup" aria-label="Hours on this date" {
                    label { input type="radio" name=(kind) value="off" checked[!item.custom]; " Day off" }
                    label { input type="radio" name=(kind) value="custom" checked[item.custom]; " Other hours" }
                }
                button.link.remove-override type="submit" name=(ACTION_FIELD)
                    value=(format!("remove-override:{key}")) formaction=(format!("{form_url}#date-overrides"))
                    data-edit="remove-override" { "Remove date" }
            }
            div.override-hours {
                (rows_markup(&group, "Date override", &item.rows, form_url))
            }
            (field_error(errors, &group))
        }
    }
}

/// The rows of the group named `group`, and its Add button.
fn rows_markup(group: &str, label: &str, rows: &[Row], form_url: &str) -> Markup {
    html! {
        div.intervals data-intervals=(group) {
            div.interval-list {
                @for (index, row) in rows.iter().enumerate() {
                    (row_markup(group, &index.to_string(), label, row, form_url))
                }
            }
            @if rows.len() < MAX_INTERVALS_PER_DAY {
                button.link.add-hours type="submit" name=(ACTION_FIELD) value=(format!("add:{group}"))
                    formaction=(format!("{form_url}#{group}"))
                    data-edit="add" data-group=(group) data-label=(label) { "+ Add hours" }
            }
        }
    }
}

/// One row: from, until, and its Remove button.
fn row_markup(group: &str, index: &str, label: &str, row: &Row, form_url: &str) -> Markup {
    html! {
        div.interval {
            input type="time" id=(format!("{group}-start-{index}")) name=(format!("{group}-start")) value=(row.start)
                aria-label=(format!("{label}: from"));
            span.until aria-hidden="true" { "–" }
            input type="time" id=(format!("{group}-end-{index}")) name=(format!("{group}-end")) value=(row.end)
                aria-label=(format!("{label}: until"));
            button.icon.remove-hours type="submit" name=(ACTION_FIELD) value=(format!("remove:{group}:{index}"))
                formaction=(format!("{form_url}#{group}"))
                data-edit="remove" aria-label=(format!("{label}: remove these hours")) title="Remove" { "×" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(start: &str, end: &str) -> LocalInterval {
        LocalInterval::parse(start, end).unwrap()
    }

    #[test]
    fn hours_round_trip_through_the_form() {
        let mut weekly =
            WeeklyHours::weekdays(vec![hours("09:00", "12:00"), hours("13:00", "24:00")]);
        weekly.saturday = vec![hours("10:00", "11:30")];
        let mut overrides = BTreeMap::new();
        overrides.insert(NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(), vec![]);
        overrides.insert(
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
            vec![hours("09:00", "12:00")],
        );
        let editor = HoursEditor::new(&weekly, &overrides);
        // What a browser would send back for this form.
        let mut pairs: Vec<(String, String)> = Vec::new();
        for day in &editor.days {
            let name = weekday_name(day.day);
            if day.open {
                pairs.push((format!("{name}-open"), "on".into()));
            }
            for row in &day.rows {
                pairs.push((format!("{name}-start"), row.start.clone()));
                pairs.push((format!("{name}-end"), row.end.clone()));
            }
        }
        for item in &editor.overrides {
            let group = format!("override-{}", item.key);
            pairs.push((format!("{group}-date"), item.date.clone()));
            pairs.push((
                format!("{group}-hours"),
                if item.custom { "custom" } else { "off" }.into(),
            ));
            for row in &item.rows {
                pairs.push((format!("{group}-start"), row.start.clone()));
                pairs.push((format!("{group}-end"), row.end.clone()));
            }
        }
        let read_back = HoursEditor::from_form(&FormFields::from_pairs(pairs));
        assert_eq!(read_back, editor);
        assert_eq!(read_back.read().unwrap(), (weekly, overrides));
    }

    #[test]
    fn mistakes_are_named_by_day_and_date() {
        let editor = HoursEditor::from_form(&FormFields::from_pairs([
            ("monday-open", "on"),
            ("monday-start", "17:00"),
            ("monday-end", "09:00"),
            ("tuesday-open", "on"),
            ("wednesday-open", "on"),
            ("wednesday-start", "9:00"),
            ("wednesday-end", ""),
            ("thursday-start", "garbage"),
            ("thursday-end", "garbage"),
            ("override-4-date", "-5000-01-01"),
            ("override-7-date", "2026-12-24"),
            ("override-7-hours", "custom"),
            ("override-8-date", "2026-12-24"),
            ("override-9-date", ""),
        ]));
        let errors = editor.read().unwrap_err();
        let message = |field: &str| errors.message_for(field).unwrap_or_default().to_owned();
        assert_eq!(
            message("monday"),
            "17:00 – 09:00: the end must be after the start."
        );
        assert_eq!(
            message("tuesday"),
            "Add hours for Tuesday, or switch it off."
        );
        assert_eq!(message("wednesday"), "Enter an end time.");
        assert_eq!(message("thursday"), "", "a day switched off is not read");
        assert_eq!(
            message("override-4"),
            "Enter a date between Mon 1 Jan 1900 and Fri 31 Dec 9999."
        );
        assert_eq!(message("override-7"), "Add hours, or mark the day off.");
        assert_eq!(message("override-8"), "");
        assert_eq!(message("override-9"), "Pick a date.");

        let twice = HoursEditor::from_form(&FormFields::from_pairs([
            ("override-1-date", "2026-12-24"),
            ("override-2-date", "2026-12-24"),
        ]));
        assert_eq!(
            twice.read().unwrap_err().message_for("override-2"),
            Some("Thu 24 Dec 2026 is already listed above.")
        );
    }

    #[test]
    fn edits_add_and_remove_rows_and_dates() {
        let mut editor = HoursEditor::new(&WeeklyHours::default(), &BTreeMap::new());
        assert!(
            editor
                .days
                .iter()
                .all(|day| !day.open && day.rows == [Row::suggested()])
        );
        for action in [
            "add:monday",
            "add:monday",
            "remove:monday:0",
            "add-override",
            "add-override",
            "remove-override:1",
            "add:override-2",
        ] {
            editor.apply(Edit::parse(action).unwrap_or_else(|| panic!("{action}")));
        }
        let monday = &editor.days[0];
        assert!(monday.open, "adding hours switches the day on");
        let rows: Vec<(&str, &str)> = monday
            .rows
            .iter()
            .map(|r| (r.start.as_str(), r.end.as_str()))
            .collect();
        assert_eq!(rows, [("17:00", "18:00"), ("18:00", "19:00")]);
        assert_eq!(editor.overrides.len(), 1);
        assert_eq!(editor.overrides[0].key, 2);
        assert!(
            editor.overrides[0].custom,
            "adding hours to a date gives it its own hours"
        );
        assert_eq!(editor.overrides[0].rows.len(), 2);
        for nonsense in [
            "",
            "save",
            "add:funday",
            "remove:monday:x",
            "remove-override:",
            "add:override-x",
        ] {
            assert_eq!(Edit::parse(nonsense), None, "{nonsense}");
        }
        // Removing what is not there changes nothing.
        let before = editor.clone();
        editor.apply(Edit::Remove(Group::Day(Weekday::Fri), 5));
        editor.apply(Edit::RemoveOverride(99));
        assert_eq!(editor, before);
    }

    #[test]
    fn times_are_read_leniently() {
        assert_eq!(wall_time("9:30").unwrap().to_string(), "09:30");
        assert_eq!(wall_time("09:30:00").unwrap().to_string(), "09:30");
        assert!(wall_time("25:00").is_err());
        assert!(wall_time("09:30:15").is_err());
        let rows = [Row {
            start: "22:00".into(),
            end: "00:00".into(),
        }];
        assert_eq!(read_rows(&rows, "").unwrap(), [hours("22:00", "24:00")]);
    }
}
