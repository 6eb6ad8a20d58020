//! The IANA zones offered in the pickers.

use std::sync::OnceLock;

use chrono_tz::{TZ_VARIANTS, Tz};

/// Region prefixes of the canonical, human-facing zone names; legacy aliases
/// such as `US/Eastern` or `Etc/GMT+5` are left out of the list (they are
/// still accepted, and shown when they are the zone in use).
const REGIONS: [&str; 9] = [
    "Africa/",
    "America/",
    "Antarctica/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
];

/// The zones offered, sorted by name, with `UTC` first.
pub(super) fn offered() -> &'static [Tz] {
    static ZONES: OnceLock<Vec<Tz>> = OnceLock::new();
    ZONES.get_or_init(|| {
        let mut zones: Vec<Tz> = TZ_VARIANTS
            .iter()
            .copied()
            .filter(|zone| REGIONS.iter().any(|region| zone.name().starts_with(region)))
            .collect();
        zones.sort_by_key(|zone| zone.name());
        zones.insert(0, Tz::UTC);
        zones
    })
}

/// The offered zones, plus `current` if it is not among them, so a picker
/// always shows the zone in use as selected.
pub(super) fn options_with(current: Tz) -> Vec<Tz> {
    let mut zones = offered().to_vec();
    if !zones.contains(&current) {
        zones.insert(0, current);
    }
    zones
}

/// Parses a zone name sent by a browser or a form; `None` if unknown.
pub(super) fn parse(name: &str) -> Option<Tz> {
    booking_core::time::parse_time_zone(name.trim()).ok()
}

/// The zone a form's `timeZone` picker sent; an unknown one is an error
/// against `timeZone`.
pub(super) fn read(name: &str, errors: &mut crate::http::fields::FieldErrors) -> Option<Tz> {
    let zone = parse(name);
    if zone.is_none() {
        errors.add("timeZone", "Pick a time zone from the list.");
    }
    zone
}

/// The `timeZone` picker of a form, `label` above it, `value` selected.
pub(super) fn field(
    label: &str,
    value: &str,
    errors: &crate::http::fields::FieldErrors,
) -> maud::Markup {
    use super::layout::{described_by, field_error};
    let zone = parse(value).unwrap_or(Tz::UTC);
    maud::html! {
        div.field {
            label for="timeZone" { (label) }
            select #timeZone name="timeZone"
                aria-invalid=[errors.message_for("timeZone").map(|_| "true")]
                aria-describedby=[described_by(errors, "timeZone")] {
                @for option in options_with(zone) {
                    option value=(option.name()) selected[option.name() == value] { (option.name()) }
                }
            }
            (field_error(errors, "timeZone"))
        }
    }
}
