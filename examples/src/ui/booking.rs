//! The attendee's pages: the booking page of an organizer, the confirmation
//! and the cancel page.

use std::collections::BTreeMap;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use booking_core::availability::SlotRefusal;
use booking_core::booking::{Booking, BookingId, BookingRequest};
use booking_core::organizer::{Organizer, OrganizerSettings, validate_username};
use booking_core::service::{Credential, ServiceError};
use booking_core::time::{TimeRange, WallTime, local_date, local_days_range, resolve_local};
use booking_core::validation::ValidationErrors;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde::Deserialize;

use super::Ui;
use super::calendar::{
    clamp_month, first_of_month, last_of_month, next_month, parse_date, parse_month,
    previous_month, weeks,
};
use super::format::{self, clock, moment, month_name, range, rfc3339, url_with, zone_label};
use super::layout::{
    Shell, described_by, document, field_error, internal_error, message_page, respond, text_field,
};
use super::zones;

/// An organizer whose page can be shown: they have published settings.
struct Host {
    organizer: Organizer,
    settings: OrganizerSettings,
}

impl Host {
    /// The zone the organizer's hours are written in.
    fn zone(&self) -> Tz {
        self.settings.time_zone()
    }
}

/// The organizer named `username` with their settings, or the page to show
/// instead (unknown organizer, not set up yet, failure).
async fn load_host(ui: &Ui, username: &str) -> Result<Host, Response> {
    if validate_username(username).is_err() {
        return Err(organizer_not_found());
    }
    let organizer = match ui.service.store().organizer_by_username(username).await {
        Ok(Some(organizer)) => organizer,
        Ok(None) => return Err(organizer_not_found()),
        Err(error) => return Err(internal_error(&error)),
    };
    match ui.service.settings(organizer.id).await {
        Ok(settings) => Ok(Host {
            organizer,
            settings,
        }),
        Err(ServiceError::SettingsNotFound) => Err(not_bookable_yet(&organizer)),
        Err(error) => Err(internal_error(&error)),
    }
}

fn organizer_not_found() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no booking page at this address. Check the link you were given.",
    )
}

fn not_bookable_yet(organizer: &Organizer) -> Response {
    message_page(
        StatusCode::OK,
        "Not bookable yet",
        &format!(
            "{} has not published their available hours yet. Please try again later.",
            organizer.display_name
        ),
    )
}

/// The zone to show times in: the visitor's choice when it is a known IANA
/// name, else the organizer's, with a note saying so.
fn visitor_zone(asked: Option<&str>, fallback: Tz) -> (Tz, Option<String>) {
    match asked.map(str::trim).filter(|name| !name.is_empty()) {
        None => (fallback, None),
        Some(name) => match zones::parse(name) {
            Some(zone) => (zone, None),
            None => (
                fallback,
                Some(format!(
                    "The time zone “{name}” is not known here; times are shown in {} instead.",
                    fallback.name()
                )),
            ),
        },
    }
}

/// `GET /{username}` parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PageQuery {
    tz: Option<String>,
    date: Option<String>,
    month: Option<String>,
}

/// The booking form's fields, as sent.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct BookForm {
    tz: String,
    date: String,
    slot: String,
    name: String,
    email: String,
    title: String,
    notes: String,
}

/// What the booking form shows besides the slots: the values typed and what
/// was wrong with them.
#[derive(Debug, Default)]
struct FormState {
    values: BookForm,
    errors: ValidationErrors,
    /// Shown at the top of the slot list (slot taken, none picked, ...).
    slot_error: Option<String>,
    /// Shown above the form (a problem with no field of its own).
    form_error: Option<String>,
}

/// Which month and day to show, and in which zone.
struct View {
    zone: Tz,
    zone_note: Option<String>,
    month: Option<NaiveDate>,
    date: Option<NaiveDate>,
    detect_time_zone: bool,
}

/// `GET /{username}`: the calendar, the chosen day's free slots and the form.
pub(super) async fn page(
    State(ui): State<Ui>,
    Path(username): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let host = match load_host(&ui, &username).await {
        Ok(host) => host,
        Err(page) => return page,
    };
    let (zone, zone_note) = visitor_zone(query.tz.as_deref(), host.zone());
    let view = View {
        zone,
        zone_note,
        month: query.month.as_deref().and_then(parse_month),
        date: query.date.as_deref().and_then(|text| parse_date(text).ok()),
        detect_time_zone: query.tz.is_none(),
    };
    booking_page(&ui, &host, view, FormState::default(), StatusCode::OK).await
}

/// `POST /{username}`: books the chosen slot (a form from this site only:
/// it carries no form token, because it acts with no sign-in anybody could
/// borrow; anyone may book through the API). Success redirects to the
/// confirmation; any refusal shows the page again, for the same day with
/// freshly computed slots, the typed values kept and each error next to its
/// field or the slot list.
pub(super) async fn book(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(username): Path<String>,
    form: Result<Form<BookForm>, FormRejection>,
) -> Response {
    if let Err(refused) = ui.check_origin(&headers) {
        return refused.into_response();
    }
    let Ok(Form(form)) = form else {
        return message_page(
            StatusCode::BAD_REQUEST,
            "Could not read the form",
            "The form could not be read. Please go back and try again.",
        );
    };
    let host = match load_host(&ui, &username).await {
        Ok(host) => host,
        Err(page) => return page,
    };
    let (zone, zone_note) = visitor_zone(Some(&form.tz), host.zone());
    let (start_time, end_time) = form.slot.split_once('/').unwrap_or(("", ""));
    let notes = form.notes.trim();
    let request = BookingRequest {
        organizer_username: host.organizer.username.clone(),
        attendant_name: form.name.clone(),
        attendant_email: form.email.trim().to_owned(),
        title: form.title.clone(),
        description: (!notes.is_empty()).then(|| form.notes.clone()),
        start_time: start_time.to_owned(),
        end_time: end_time.to_owned(),
        metadata: None,
    };
    let error = match ui.service.create_booking(request).await {
        Ok(created) => {
            let to = url_with(
                &format!("/bookings/{}", created.booking.id),
                &[
                    ("token", created.cancel_token.expose()),
                    ("tz", zone.name()),
                ],
            );
            return Redirect::to(&to).into_response();
        }
        Err(error) => error,
    };
    let slot_chosen = !form.slot.is_empty();
    let (status, state) = match refusal_to_form(error, form.clone(), slot_chosen) {
        Ok(refused) => refused,
        Err(ServiceError::OrganizerNotFound) => return organizer_not_found(),
        Err(ServiceError::SettingsNotFound) => return not_bookable_yet(&host.organizer),
        Err(error) => return internal_error(&error),
    };
    let date = parse_date(&form.date).ok();
    let view = View {
        zone,
        zone_note,
        month: None,
        date,
        detect_time_zone: false,
    };
    booking_page(&ui, &host, view, state, status).await
}

/// Turns a refused booking into messages next to the fields, or gives the
/// error back when it is not about the form.
fn refusal_to_form(
    error: ServiceError,
    mut values: BookForm,
    slot_chosen: bool,
) -> Result<(StatusCode, FormState), ServiceError> {
    let unreadable = "That time could not be read. Please pick one of the times shown.";
    let mut state = FormState::default();
    let status = match error {
        ServiceError::Validation(errors) => {
            for error in errors.errors() {
                match error.field.as_str() {
                    "attendantName" => state.errors.add("name", error.message.clone()),
                    "attendantEmail" => state.errors.add("email", error.message.clone()),
                    "title" => state.errors.add("title", error.message.clone()),
                    "description" => state.errors.add("notes", error.message.clone()),
                    "startTime" | "endTime" => {
                        state.slot_error = Some(if slot_chosen {
                            unreadable.to_owned()
                        } else {
                            "Please pick a time.".to_owned()
                        });
                    }
                    _ => state.form_error = Some(error.message.clone()),
                }
            }
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ServiceError::InvalidTimeRange(_) => {
            state.slot_error = Some(unreadable.to_owned());
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ServiceError::SlotUnavailable(refusal) => {
            values.slot.clear();
            state.slot_error = Some(slot_refusal_message(&refusal).to_owned());
            StatusCode::CONFLICT
        }
        ServiceError::SlotBeingBooked => {
            values.slot.clear();
            state.slot_error = Some(
                "Someone else is booking that time right now. Please pick another time, \
                 or try this one again in a moment."
                    .to_owned(),
            );
            StatusCode::CONFLICT
        }
        other => return Err(other),
    };
    state.values = values;
    Ok((status, state))
}

fn slot_refusal_message(refusal: &SlotRefusal) -> &'static str {
    match refusal {
        SlotRefusal::Busy => {
            "Sorry, that time was just booked by someone else. \
             The times below are up to date; please pick another one."
        }
        SlotRefusal::TooSoon { .. } => {
            "That time is now too close to book. Please pick a later time."
        }
        SlotRefusal::TooFarAhead { .. } => {
            "That time is too far ahead to book. Please pick an earlier time."
        }
        _ => {
            "That time is no longer offered. \
             The times below are up to date; please pick another one."
        }
    }
}

/// Slots as the form sends them: `start/end`, RFC 3339 in UTC.
fn slot_value(slot: &TimeRange) -> String {
    format!("{}/{}", rfc3339(slot.start()), rfc3339(slot.end()))
}

/// The booking page for `view`, with fresh slots.
async fn booking_page(
    ui: &Ui,
    host: &Host,
    view: View,
    form: FormState,
    status: StatusCode,
) -> Response {
    let zone = view.zone;
    let now = ui.service.now();
    // `None` only within a day of chrono's limits; the UTC date is as good there.
    let today = local_date(zone, now).unwrap_or_else(|| now.date_naive());
    let latest_start = now + host.settings.max_advance();
    // A month typed into the address bar is moved into the months that can
    // have free times: from this month to the one the advance limit ends in.
    let this_month = first_of_month(today);
    let last_month = local_date(zone, latest_start).map_or(this_month, first_of_month);
    let month = clamp_month(
        view.month
            .or(view.date.map(first_of_month))
            .unwrap_or(this_month),
        this_month,
        last_month,
    );
    let username = host.organizer.username.as_str();
    let slots = match local_days_range(zone, month, last_of_month(month)) {
        Some(window) => match ui.service.available_slots(username, window).await {
            Ok(slots) => slots,
            Err(ServiceError::SettingsNotFound) => return not_bookable_yet(&host.organizer),
            Err(error) => return internal_error(&error),
        },
        None => Vec::new(),
    };
    let mut by_day: BTreeMap<NaiveDate, Vec<TimeRange>> = BTreeMap::new();
    for slot in slots {
        if let Some(date) = local_date(zone, slot.start()) {
            by_day.entry(date).or_default().push(slot);
        }
    }
    let selected = view
        .date
        .filter(|date| first_of_month(*date) == month)
        .or_else(|| by_day.keys().next().copied());

    let page_url = format!("/{username}");
    let month_link = |first: NaiveDate| {
        url_with(
            &page_url,
            &[
                ("tz", zone.name()),
                ("month", &first.format("%Y-%m").to_string()),
            ],
        )
    };
    let previous = previous_month(month).filter(|_| month > this_month);
    let next = next_month(month).filter(|first| {
        WallTime::MIDNIGHT
            .on(*first)
            .and_then(|midnight| resolve_local(zone, midnight))
            .is_some_and(|start| start < latest_start)
    });
    let minutes = host.settings.slot_duration().num_minutes();
    let name = host.organizer.display_name.as_str();
    let day_slots: &[TimeRange] = selected
        .and_then(|date| by_day.get(&date))
        .map(Vec::as_slice)
        .unwrap_or(&[]);

    let body = html! {
        section.booking-intro {
            h1 { "Book a meeting with " (name) }
            p.lead { (minutes) "-minute meetings. Times are shown in your time zone; pick a day, then a time." }
            form.zone-picker method="get" action=(page_url) {
                label for="tz" { "Your time zone" }
                select #tz name="tz" data-autosubmit {
                    @for option in zones::options_with(zone) {
                        option value=(option.name()) selected[option == zone] { (option.name()) }
                    }
                }
                @if let Some(date) = selected {
                    input type="hidden" name="date" value=(date.format("%Y-%m-%d").to_string());
                }
                button.secondary.js-hide type="submit" { "Show times" }
            }
            p.zone-now { "It is now " (clock(now, zone)) " in " (zone_label(zone, now)) "." }
            @if let Some(note) = &view.zone_note {
                p.notice.warning role="status" { (note) }
            }
        }
        div.booking-grid {
            section.card.calendar-panel aria-label="Calendar" {
                div.month-nav {
                    @if let Some(first) = previous {
                        a.month-link #previous-month href=(month_link(first)) aria-label="Previous month" { "‹" }
                    } @else {
                        span.month-link.disabled aria-hidden="true" { "‹" }
                    }
                    h2 #month-name { (month_name(month)) }
                    @if let Some(first) = next {
                        a.month-link #next-month href=(month_link(first)) aria-label="Next month" { "›" }
                    } @else {
                        span.month-link.disabled aria-hidden="true" { "›" }
                    }
                }
                table.calendar {
                    thead { tr { @for day in ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] { th scope="col" { (day) } } } }
                    tbody {
                        @for week in weeks(month) {
                            tr {
                                @for day in week {
                                    td {
                                        @if let Some(date) = day {
                                            (calendar_day(date, &page_url, zone, selected, today, by_day.get(&date).map_or(0, Vec::len)))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if by_day.is_empty() {
                    p.muted #no-slots-month { "No free times in " (month_name(month)) "." @if next.is_some() { " Try the next month." } }
                }
            }
            section.card.day-panel #day-panel aria-labelledby="day-heading" {
                @if let Some(date) = selected {
                    h2 #day-heading { (format::date(date)) }
                } @else {
                    h2 #day-heading { "Pick a day" }
                }
                @if let Some(message) = &form.form_error {
                    p.notice.error role="alert" { (message) }
                }
                form #booking-form method="post" action=(page_url) novalidate {
                    input type="hidden" name="tz" value=(zone.name());
                    @if let Some(date) = selected {
                        input type="hidden" name="date" value=(date.format("%Y-%m-%d").to_string());
                    }
                    fieldset.slots aria-describedby=[form.slot_error.as_ref().map(|_| "slot-error")] {
                        legend { "Free times (" (zone.name()) ")" }
                        @if let Some(message) = &form.slot_error {
                            p.field-error #slot-error role="alert" { (message) }
                        }
                        @if day_slots.is_empty() {
                            p.muted #no-slots-day {
                                @if selected.is_some() { "No free times on this day." } @else { "Pick a day with free times in the calendar." }
                            }
                        } @else {
                            div.slot-list {
                                @for slot in day_slots {
                                    @let value = slot_value(slot);
                                    label.slot {
                                        input type="radio" name="slot" value=(value) checked[value == form.values.slot] required;
                                        span { (clock(slot.start(), zone)) }
                                    }
                                }
                            }
                        }
                    }
                    @if !day_slots.is_empty() {
                        div.fields {
                            (text_field("name", "Your name", "text", &form.values.name, &form.errors, "name", None))
                            (text_field("email", "Email", "email", &form.values.email, &form.errors, "email", None))
                            (text_field("title", "Meeting title", "text", &form.values.title, &form.errors, "off", None))
                            div.field {
                                label for="notes" { "Notes " span.muted { "(optional)" } }
                                textarea #notes name="notes" rows="3"
                                    aria-invalid=[form.errors.message_for("notes").map(|_| "true")]
                                    aria-describedby=[described_by(&form.errors, "notes")] { (form.values.notes) }
                                (field_error(&form.errors, "notes"))
                            }
                            button.primary #book-button type="submit" { "Book this time" }
                        }
                    }
                }
            }
        }
    };
    respond(
        status,
        document(
            &format!("Book {name}"),
            Shell {
                detect_time_zone: view.detect_time_zone,
                organizer_nav: None,
            },
            body,
        ),
    )
}

/// One day of the calendar: a link when it has free slots.
fn calendar_day(
    date: NaiveDate,
    page_url: &str,
    zone: Tz,
    selected: Option<NaiveDate>,
    today: NaiveDate,
    free: usize,
) -> Markup {
    let iso = date.format("%Y-%m-%d").to_string();
    let day = date.format("%-d").to_string();
    let is_selected = selected == Some(date);
    let label = format!(
        "{}: {}",
        format::date(date),
        match free {
            0 => "no free times".to_owned(),
            1 => "1 free time".to_owned(),
            n => format!("{n} free times"),
        }
    );
    html! {
        @if free > 0 {
            a.day.available.selected[is_selected].today[date == today]
                href=(format!("{}#day-panel", url_with(page_url, &[("tz", zone.name()), ("date", &iso)])))
                data-date=(iso) aria-label=(label)
                aria-current=[is_selected.then_some("date")] { (day) }
        } @else {
            span.day.selected[is_selected].today[date == today] data-date=(iso) aria-label=(label) { (day) }
        }
    }
}

/// `?token=..&tz=..` of the confirmation and cancel pages.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct TokenQuery {
    token: String,
    tz: String,
}

/// The cancel page's form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CancelForm {
    token: String,
}

fn booking_not_found() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Booking not found",
        "We could not find this booking. It may have been cancelled, or the link may be incomplete: \
         use the whole link you were given.",
    )
}

/// The booking `id` for the holder of `token`, with its organizer and their zone.
async fn booking_for_token(
    ui: &Ui,
    id: &str,
    token: &str,
) -> Result<(Booking, Organizer, Tz), Response> {
    let Ok(id) = id.parse::<BookingId>() else {
        return Err(booking_not_found());
    };
    if token.is_empty() {
        return Err(booking_not_found());
    }
    let credential = Credential::CancelToken(token.to_owned());
    let booking = match ui.service.get_booking(id, &credential).await {
        Ok(booking) => booking,
        Err(ServiceError::NotFound | ServiceError::PermissionDenied) => {
            return Err(booking_not_found());
        }
        Err(error) => return Err(internal_error(&error)),
    };
    let (organizer, zone) = organizer_of(ui, &booking).await?;
    Ok((booking, organizer, zone))
}

/// A booking's organizer and the zone their hours are written in.
async fn organizer_of(ui: &Ui, booking: &Booking) -> Result<(Organizer, Tz), Response> {
    let organizer = match ui
        .service
        .store()
        .organizer_by_id(booking.organizer_id)
        .await
    {
        Ok(Some(organizer)) => organizer,
        Ok(None) => return Err(booking_not_found()),
        Err(error) => return Err(internal_error(&error)),
    };
    let zone = match ui.service.settings(organizer.id).await {
        Ok(settings) => settings.time_zone(),
        Err(ServiceError::SettingsNotFound) => organizer.time_zone,
        Err(error) => return Err(internal_error(&error)),
    };
    Ok((organizer, zone))
}

/// `GET /bookings/{id}?token=..&tz=..`: the confirmation, with the time in
/// the visitor's zone and the organizer's, and the cancel link.
pub(super) async fn confirmation(
    State(ui): State<Ui>,
    Path(id): Path<String>,
    query: Result<Query<TokenQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let (booking, organizer, organizer_zone) = match booking_for_token(&ui, &id, &query.token).await
    {
        Ok(found) => found,
        Err(page) => return page,
    };
    let (visitor, _) = visitor_zone(Some(&query.tz), organizer_zone);
    let cancel_url = url_with(
        &format!("/bookings/{}/cancel", booking.id),
        &[("token", &query.token)],
    );
    let start = booking.start_time();
    let body = html! {
        section.card.confirmation {
            p.eyebrow { "Booking confirmed" }
            h1 #booking-title { (booking.title) }
            p.lead { "With " span #organizer-name { (organizer.display_name) } }
            dl.times {
                div {
                    dt { "Your time" br; span.muted #visitor-zone { (zone_label(visitor, start)) } }
                    dd #visitor-time { (range(&booking.time, visitor)) }
                }
                div {
                    dt { (organizer.display_name) "’s time" br; span.muted #organizer-zone { (zone_label(organizer_zone, start)) } }
                    dd #organizer-time { (range(&booking.time, organizer_zone)) }
                }
            }
            (booking_details(&booking))
            div.notice {
                p { strong { "Keep this link to cancel." } " It is the only way to cancel without contacting " (organizer.display_name) "." }
                p { a.button.secondary #cancel-link href=(cancel_url) { "Cancel this booking" } }
            }
            p { a href=(url_with(&format!("/{}", organizer.username), &[("tz", visitor.name())])) { "Book another time" } }
        }
    };
    respond(
        StatusCode::OK,
        document("Booking confirmed", Shell::default(), body),
    )
}

/// Name, email and notes of a booking.
fn booking_details(booking: &Booking) -> Markup {
    html! {
        dl.details {
            div { dt { "Name" } dd #attendee-name { (booking.attendant_name) } }
            div { dt { "Email" } dd #attendee-email { (booking.attendant_email) } }
            @if let Some(notes) = &booking.description {
                div { dt { "Notes" } dd #booking-notes.pre { (notes) } }
            }
        }
    }
}

/// The meeting's time in the organizer's zone, and in the browser's zone
/// once the script has run.
fn times_for_cancel(booking: &Booking, zone: Tz) -> Markup {
    html! {
        dl.times {
            div {
                dt { "Time" br; span.muted { (zone_label(zone, booking.start_time())) } }
                dd #organizer-time { (range(&booking.time, zone)) }
            }
            div.js-only {
                dt { "In your time zone" }
                dd { time #local-time data-local-range=(rfc3339(booking.end_time())) datetime=(rfc3339(booking.start_time())) { (rfc3339(booking.start_time())) } }
            }
        }
    }
}

/// `GET /bookings/{id}/cancel?token=..`: the booking and a Cancel button.
pub(super) async fn cancel_page(
    State(ui): State<Ui>,
    Path(id): Path<String>,
    query: Result<Query<TokenQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let (booking, organizer, zone) = match booking_for_token(&ui, &id, &query.token).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let body = html! {
        section.card.cancel {
            p.eyebrow { "Cancel a booking" }
            h1 #booking-title { (booking.title) }
            p.lead { "With " (organizer.display_name) }
            (times_for_cancel(&booking, zone))
            (booking_details(&booking))
            form method="post" action=(format!("/bookings/{}/cancel", booking.id)) {
                input type="hidden" name="token" value=(query.token);
                button.danger #cancel-button type="submit" { "Cancel booking" }
            }
        }
    };
    respond(
        StatusCode::OK,
        document("Cancel booking", Shell::default(), body),
    )
}

/// `POST /bookings/{id}/cancel`: cancels with the cancel token from the form
/// (itself the proof a forged form lacks), from this site only.
pub(super) async fn cancel(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<CancelForm>, FormRejection>,
) -> Response {
    if let Err(refused) = ui.check_origin(&headers) {
        return refused.into_response();
    }
    let token = form.map(|Form(f)| f.token).unwrap_or_default();
    let Ok(booking_id) = id.parse::<BookingId>() else {
        return booking_not_found();
    };
    if token.is_empty() {
        return booking_not_found();
    }
    let credential = Credential::CancelToken(token);
    match ui.service.cancel_booking(booking_id, &credential).await {
        Ok(cancelled) => {
            let (organizer, zone) = match organizer_of(&ui, &cancelled.booking).await {
                Ok(found) => found,
                Err(page) => return page,
            };
            let booking = &cancelled.booking;
            let body = html! {
                section.card.cancelled #cancelled {
                    p.eyebrow { "Booking cancelled" }
                    h1 { "Your booking is cancelled" }
                    p {
                        "“" (booking.title) "” with " (organizer.display_name) " on "
                        (range(&booking.time, zone)) " is cancelled. The time is free again."
                    }
                    p { a href=(format!("/{}", organizer.username)) { "Book another time" } }
                }
            };
            respond(
                StatusCode::OK,
                document("Booking cancelled", Shell::default(), body),
            )
        }
        Err(ServiceError::AlreadyCancelled { cancelled_at }) => {
            already_cancelled(cancelled_at, Tz::UTC)
        }
        Err(ServiceError::NotFound | ServiceError::PermissionDenied) => booking_not_found(),
        Err(error) => internal_error(&error),
    }
}

fn already_cancelled(at: DateTime<Utc>, zone: Tz) -> Response {
    message_page(
        StatusCode::CONFLICT,
        "Already cancelled",
        &format!(
            "This booking was already cancelled on {}.",
            moment(at, zone)
        ),
    )
}
