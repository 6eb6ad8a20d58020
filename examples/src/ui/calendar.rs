//! Dates typed or linked by people: month arithmetic for the booking page's
//! calendar, and reading `2026-12` and `2026-12-03` within the range the
//! pages accept.

use chrono::{Datelike as _, Months, NaiveDate};

use super::format;

/// The earliest date a page accepts from a person.
pub(super) const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(date) => date,
    None => panic!("1 January 1900 is a date"),
};

/// The latest date a page accepts from a person: the last a date picker
/// offers, and far inside what every store keeps. (PostgreSQL's timestamps
/// begin in 4713 BC and chrono's dates span about ±262,000 years, so dates
/// read without bounds reached the store as `timestamp out of range`.)
pub(super) const LATEST: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(date) => date,
    None => panic!("31 December 9999 is a date"),
};

/// Why a typed date was refused, in words for the page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum DateInputError {
    /// Not `YYYY-MM-DD`, or no such day.
    #[error("Enter a date such as 2026-12-24.")]
    Unreadable,
    /// Before [`EARLIEST`] or after [`LATEST`].
    #[error(
        "Enter a date between {} and {}.",
        format::date(EARLIEST),
        format::date(LATEST)
    )]
    OutOfRange,
}

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

/// Parses `2026-12` into the first day of that month, within the accepted
/// range.
pub(super) fn parse_month(text: &str) -> Option<NaiveDate> {
    parse_date(&format!("{}-01", text.trim())).ok()
}

/// Parses `2026-12-03`, a date between [`EARLIEST`] and [`LATEST`].
pub(super) fn parse_date(text: &str) -> Result<NaiveDate, DateInputError> {
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| DateInputError::Unreadable)?;
    if (EARLIEST..=LATEST).contains(&date) {
        Ok(date)
    } else {
        Err(DateInputError::OutOfRange)
    }
}

/// `month` moved into `[earliest, latest]` (both first days of months).
pub(super) fn clamp_month(month: NaiveDate, earliest: NaiveDate, latest: NaiveDate) -> NaiveDate {
    month.min(latest.max(earliest)).max(earliest)
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
        assert_eq!(parse_date(" 2026-02-29 "), Err(DateInputError::Unreadable));
    }

    #[test]
    fn a_month_starting_on_monday_has_no_leading_gap() {
        let weeks = weeks(parse_month("2027-02").unwrap());
        assert_eq!(weeks.len(), 4);
        assert_eq!(weeks[0][0], NaiveDate::from_ymd_opt(2027, 2, 1));
    }

    #[test]
    fn dates_outside_the_accepted_range_are_refused_and_months_clamped() {
        for far in ["-5000-01-01", "0000-01-01", "1899-12-31", "+10000-01-01"] {
            assert_eq!(parse_date(far), Err(DateInputError::OutOfRange), "{far}");
        }
        assert!(parse_date("+262143-12-31").is_err());
        assert!(parse_date("262143-12-31").is_err());
        assert_eq!(parse_date("1900-01-01"), Ok(EARLIEST));
        assert_eq!(parse_date("9999-12-31"), Ok(LATEST));
        assert_eq!(parse_month("-5000-01"), None);
        assert_eq!(
            DateInputError::OutOfRange.to_string(),
            "Enter a date between Mon 1 Jan 1900 and Fri 31 Dec 9999."
        );
        let december = parse_month("2026-12").unwrap();
        let march = parse_month("2027-03").unwrap();
        assert_eq!(clamp_month(EARLIEST, december, march), december);
        assert_eq!(clamp_month(LATEST, december, march), march);
        assert_eq!(
            clamp_month(parse_month("2027-01").unwrap(), december, march),
            parse_month("2027-01").unwrap()
        );
        // A window that ends before it starts keeps the earliest month.
        assert_eq!(clamp_month(march, march, december), march);
    }
}
