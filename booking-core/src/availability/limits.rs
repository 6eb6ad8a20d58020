//! Counting an event type's bookings per local day and week, so full days
//! and weeks offer no slots.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::SlotRules;
use crate::event_type::LimitPeriod;

/// How many bookings of the event type start on each local day and week.
pub(super) struct LimitCounts {
    per_day: HashMap<NaiveDate, u32>,
    per_week: HashMap<NaiveDate, u32>,
}

impl LimitCounts {
    /// Counts `booked` (starts of the event type's active bookings) by the
    /// local day and week they start in.
    pub(super) fn new(rules: &SlotRules<'_>, booked: &[DateTime<Utc>]) -> Self {
        let mut counts = LimitCounts {
            per_day: HashMap::new(),
            per_week: HashMap::new(),
        };
        for start in booked {
            if let Some(date) = rules.local_date(*start) {
                *counts.per_day.entry(date).or_default() += 1;
                *counts.per_week.entry(rules.week_start(date)).or_default() += 1;
            }
        }
        counts
    }

    /// The limit a new booking starting at `start` would exceed, if any.
    pub(super) fn reached(
        &self,
        rules: &SlotRules<'_>,
        start: DateTime<Utc>,
    ) -> Option<LimitPeriod> {
        let limits = rules.limits();
        let date = rules.local_date(start)?;
        if let Some(max) = limits.per_day
            && self.per_day.get(&date).copied().unwrap_or(0) >= max
        {
            return Some(LimitPeriod::Day);
        }
        if let Some(max) = limits.per_week
            && self
                .per_week
                .get(&rules.week_start(date))
                .copied()
                .unwrap_or(0)
                >= max
        {
            return Some(LimitPeriod::Week);
        }
        None
    }
}
