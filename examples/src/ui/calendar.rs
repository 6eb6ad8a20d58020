//! Month arithmetic for the booking page's calendar.

use chrono::{Datelike as _, Months, NaiveDate};

/// The first day of `date`'s month.
pub(super) fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// The last day of the month starting at `first`.
pub(super) fn last_of_month(first: NaiveDate) -> NaiveDate {
    next_month(first)
        .and_then(|next| next.pred_opt())
        .unwrap_or(first)
}

/// The first day of the month after `first`'s.
pub(super) fn next_month(first: NaiveDate) -> Option<NaiveDate> {
    first.checked_add_months(Months::new(1))
}

/// The first day of the month before `first`'s.
pub(super) fn previous_month(first: NaiveDate) -> Option<NaiveDate> {
    first.checked_sub_months(Months::new(1))
}

/// Parses `2026-12` into the first day of that month.
pub(super) fn parse_month(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d").ok()
}

/// Parses `2026-12-03`.
pub(super) fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// The month as weeks from Monday to Sunday; days of neighbouring months are
/// `None`.
pub(super) fn weeks(first: NaiveDate) -> Vec<[Option<NaiveDate>; 7]> {
    let last = last_of_month(first);
    let mut weeks = Vec::new();
    let mut week = [None; 7];
    let mut day = first;
    loop {
        let column = day.weekday().num_days_from_monday() as usize;
        week[column] = Some(day);
        if column == 6 {
            weeks.push(week);
            week = [None; 7];
        }
        if day >= last {
            break;
        }
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    if week.iter().any(Option::is_some) {
        weeks.push(week);
    }
    weeks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn december_2026_starts_on_a_tuesday() {
        let first = parse_month("2026-12").unwrap();
        let weeks = weeks(first);
        assert_eq!(weeks.len(), 5);
        assert_eq!(weeks[0][0], None);
        assert_eq!(weeks[0][1], NaiveDate::from_ymd_opt(2026, 12, 1));
        assert_eq!(weeks[4][3], NaiveDate::from_ymd_opt(2026, 12, 31));
        assert_eq!(weeks[4][4], None);
        assert_eq!(
            last_of_month(first),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
        assert_eq!(next_month(first), NaiveDate::from_ymd_opt(2027, 1, 1));
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_date(" 2026-02-29 "), None);
    }

    #[test]
    fn a_month_starting_on_monday_has_no_leading_gap() {
        let weeks = weeks(parse_month("2027-02").unwrap());
        assert_eq!(weeks.len(), 4);
        assert_eq!(weeks[0][0], NaiveDate::from_ymd_opt(2027, 2, 1));
    }
}
