//! The attendee's booking pages: `/{username}` (the organizer's one event
//! type, or the list of them when there are several) and
//! `/{username}/{slug}` (one event type): the organizer, the event's title,
//! description, lengths (with a chooser when there are several) and
//! location, a month calendar, the chosen day's free slots in the visitor's
//! zone, and the booking form.

use std::collections::BTreeMap;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use booking_core::availability::SlotRefusal;
use booking_core::booking::parse_instant;
use booking_core::organizer::validate_username;
use booking_core::time::{WallTime, local_date, local_days_range, resolve_local};
use booking_core::{
    Attendee, BookingRequest, EventType, Field, Organizer, ServiceError, SlotQuery, TimeRange,
};
use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde::Deserialize;

use super::Ui;
use super::calendar::{
    clamp_month, first_of_month, last_of_month, next_month, parse_date, parse_month,
    previous_month, weeks,
};
use super::format::{self, clock, month_name, rfc3339, url_with, zone_label};
use super::layout::{
    Shell, described_by, document, field_error, internal_error, message_page, respond, text_field,
};
use super::{location, zones};
use crate::http::fields::FieldErrors;

/// The event type a booking page offers, and whose it is.
pub(super) struct Host {
    pub(super) organizer: Organizer,
    pub(super) event_type: EventType,
    /// The zone the organizer's dates are shown in (booking-core's display
    /// zone), also the visitor's until they say otherwise.
    pub(super) zone: Tz,
    /// The page's address: `/{username}` when this is the organizer's only
    /// event type and was reached there, else `/{username}/{slug}`.
    pub(super) url: String,
}

/// What `/{username}` shows.
pub(super) enum Landing {
    /// The organizer's only active event type: its booking page.
    One(Box<Host>),
    /// Several: the list to choose from.
    Several {
        organizer: Organizer,
        event_types: Vec<EventType>,
    },
}

/// The organizer named `username`, or the page to show instead.
async fn load_organizer(ui: &Ui, username: &str) -> Result<Organizer, Response> {
    if validate_username(username).is_err() {
        return Err(organizer_not_found());
    }
    match ui.service.organizer(username).await {
        Ok(organizer) => Ok(organizer),
        Err(ServiceError::OrganizerNotFound) => Err(organizer_not_found()),
        Err(error) => Err(internal_error(&error)),
    }
}

async fn host(
    ui: &Ui,
    organizer: Organizer,
    event_type: EventType,
    url: String,
) -> Result<Host, Response> {
    let zone = ui
        .service
        .display_zone(organizer.id)
        .await
        .map_err(|error| internal_error(&error))?;
    Ok(Host {
        organizer,
        event_type,
        zone,
        url,
    })
}

/// What `/{username}` shows for `username`, or the page to show instead
/// (unknown organizer, nothing to book yet, failure).
pub(super) async fn landing(ui: &Ui, username: &str) -> Result<Landing, Response> {
    let organizer = load_organizer(ui, username).await?;
    let mut event_types = ui
        .service
        .active_event_types(organizer.id)
        .await
        .map_err(|error| internal_error(&error))?;
    match event_types.len() {
        0 => Err(not_bookable_yet(&organizer)),
        1 => {
            let url = format!("/{}", organizer.username);
            let event_type = event_types.remove(0);
            host(ui, organizer, event_type, url)
                .await
                .map(|host| Landing::One(Box::new(host)))
        }
        _ => Ok(Landing::Several {
            organizer,
            event_types,
        }),
    }
}

/// The booking page of the active event type `slug` of `username`.
async fn event_type_host(ui: &Ui, username: &str, slug: &str) -> Result<Host, Response> {
    let organizer = load_organizer(ui, username).await?;
    let event_type = match ui.service.event_type(organizer.id, slug).await {
        Ok(found) if found.active => found,
        Ok(_) | Err(ServiceError::EventTypeNotFound) => {
            return Err(event_type_not_found(&organizer));
        }
        Err(error) => return Err(internal_error(&error)),
    };
    let url = format!("/{}/{}", organizer.username, event_type.slug);
    host(ui, organizer, event_type, url).await
}

fn organizer_not_found() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no booking page at this address. Check the link you were given.",
    )
}

fn event_type_not_found(organizer: &Organizer) -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        &format!(
            "{} offers nothing to book at this address. Check the link you were given, or see \
             what they offer at /{}.",
            organizer.display_name, organizer.username
        ),
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
pub(super) fn visitor_zone(asked: Option<&str>, fallback: Tz) -> (Tz, Option<String>) {
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

/// `GET /{username}` and `GET /{username}/{slug}` parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PageQuery {
    tz: Option<String>,
    date: Option<String>,
    month: Option<String>,
    duration: Option<String>,
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
    /// The event type's slug, so a form posted to `/{username}` books the
    /// event type it was shown for.
    #[serde(rename = "eventType")]
    event_type: String,
    /// The length chosen, in minutes.
    duration: String,
    /// The token of the hold the page's script took when the visitor picked
    /// the slot (empty without JavaScript, with holds off, or when the hold
    /// was refused): booking with it turns the hold into the booking.
    #[serde(rename = "holdToken")]
    hold_token: String,
    /// That hold's id (so the script can release it when another time is
    /// picked).
    #[serde(rename = "holdId")]
    hold_id: String,
    /// When that hold ends (RFC 3339), for the countdown.
    #[serde(rename = "holdExpires")]
    hold_expires: String,
}

impl BookForm {
    /// The slot the visitor holds and until when, when the form carries a
    /// hold that has not yet ended. Only for showing: whether the hold
    /// really exists is for booking-core to say when the form is booked.
    fn held_slot(&self, now: chrono::DateTime<chrono::Utc>) -> Option<(TimeRange, String)> {
        if self.hold_token.trim().is_empty() {
            return None;
        }
        let expires = parse_instant(self.hold_expires.trim()).ok()?;
        if expires <= now {
            return None;
        }
        let (start, end) = self.slot.split_once('/')?;
        let slot = TimeRange::new(parse_instant(start).ok()?, parse_instant(end).ok()?).ok()?;
        Some((slot, rfc3339(expires)))
    }

    /// Forgets the hold (its slot was refused, so the hold is of no use).
    fn forget_hold(&mut self) {
        self.hold_token.clear();
        self.hold_id.clear();
        self.hold_expires.clear();
    }
}

/// What the booking form shows besides the slots: the values typed and what
/// was wrong with them.
#[derive(Debug, Default)]
struct FormState {
    values: BookForm,
    errors: FieldErrors,
    /// Shown at the top of the slot list (slot taken, none picked, ...).
    slot_error: Option<String>,
    /// Shown above the form (a problem with no field of its own).
    form_error: Option<String>,
}

/// Which month and day to show, in which zone, for which length.
struct View {
    zone: Tz,
    zone_note: Option<String>,
    month: Option<NaiveDate>,
    date: Option<NaiveDate>,
    detect_time_zone: bool,
    duration: Duration,
}

/// The length `text` names (minutes) when the event type offers it, else
/// its default length.
fn chosen_length(event_type: &EventType, text: Option<&str>) -> Duration {
    text.and_then(|text| text.trim().parse::<i64>().ok())
        .and_then(Duration::try_minutes)
        .filter(|length| event_type.offers_duration(*length))
        .unwrap_or(event_type.duration)
}

impl View {
    fn of(query: &PageQuery, host: &Host) -> View {
        let (zone, zone_note) = visitor_zone(query.tz.as_deref(), host.zone);
        View {
            zone,
            zone_note,
            month: query.month.as_deref().and_then(parse_month),
            date: query.date.as_deref().and_then(|text| parse_date(text).ok()),
            detect_time_zone: query.tz.is_none(),
            duration: chosen_length(&host.event_type, query.duration.as_deref()),
        }
    }
}

/// `GET /{username}`: the booking page of the organizer's only event type,
/// or the list of their event types.
pub(super) async fn page(
    State(ui): State<Ui>,
    Path(username): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    match landing(&ui, &username).await {
        Ok(Landing::One(host)) => {
            let view = View::of(&query, &host);
            booking_page(&ui, &host, view, FormState::default(), StatusCode::OK).await
        }
        Ok(Landing::Several {
            organizer,
            event_types,
        }) => super::event_type_list::page(&organizer, &event_types, query.tz.as_deref()),
        Err(page) => page,
    }
}

/// `GET /{username}/{slug}`: the booking page of one event type.
pub(super) async fn event_type_page(
    State(ui): State<Ui>,
    Path((username, slug)): Path<(String, String)>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let host = match event_type_host(&ui, &username, &slug).await {
        Ok(host) => host,
        Err(page) => return page,
    };
    let view = View::of(&query, &host);
    booking_page(&ui, &host, view, FormState::default(), StatusCode::OK).await
}

/// `POST /{username}`: books from the page of the organizer's only event
/// type (or the event type the form names).
pub(super) async fn book(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(username): Path<String>,
    form: Result<Form<BookForm>, FormRejection>,
) -> Response {
    let form = match posted(&ui, &headers, form) {
        Ok(form) => form,
        Err(refused) => return refused.into_response(),
    };
    let host = match landing(&ui, &username).await {
        Ok(Landing::One(host))
            if form.event_type.is_empty() || host.event_type.slug == *form.event_type.as_str() =>
        {
            *host
        }
        Ok(_) => match event_type_host(&ui, &username, &form.event_type).await {
            Ok(host) => host,
            Err(page) => return page,
        },
        Err(page) => return page,
    };
    book_on(&ui, host, form).await
}

/// `POST /{username}/{slug}`: books from the page of one event type.
pub(super) async fn book_event_type(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path((username, slug)): Path<(String, String)>,
    form: Result<Form<BookForm>, FormRejection>,
) -> Response {
    let form = match posted(&ui, &headers, form) {
        Ok(form) => form,
        Err(refused) => return refused.into_response(),
    };
    let host = match event_type_host(&ui, &username, &slug).await {
        Ok(host) => host,
        Err(page) => return page,
    };
    book_on(&ui, host, form).await
}

/// Why a booking form is not read.
enum NotPosted {
    /// It came from another site.
    Foreign(super::session::Refused),
    /// It could not be read.
    Unreadable,
}

impl IntoResponse for NotPosted {
    fn into_response(self) -> Response {
        match self {
            NotPosted::Foreign(refused) => refused.into_response(),
            NotPosted::Unreadable => message_page(
                StatusCode::BAD_REQUEST,
                "Could not read the form",
                "The form could not be read. Please go back and try again.",
            ),
        }
    }
}

/// The booking form, when it comes from this site's own pages (it carries
/// no form token: it acts with no sign-in anybody could borrow).
fn posted(
    ui: &Ui,
    headers: &HeaderMap,
    form: Result<Form<BookForm>, FormRejection>,
) -> Result<BookForm, NotPosted> {
    ui.check_origin(headers).map_err(NotPosted::Foreign)?;
    form.map(|Form(form)| form)
        .map_err(|_| NotPosted::Unreadable)
}

/// Books the chosen slot of `host`'s event type (a form from this site
/// only: it carries no form token, because it acts with no sign-in anybody
/// could borrow; anyone may book through the API). Success redirects to the
/// confirmation; any refusal shows the page again, for the same day with
/// freshly computed slots, the typed values kept and each error next to its
/// field or the slot list.
async fn book_on(ui: &Ui, host: Host, form: BookForm) -> Response {
    let (zone, zone_note) = visitor_zone(Some(&form.tz), host.zone);
    let duration = chosen_length(&host.event_type, Some(&form.duration));
    let slot_chosen = !form.slot.is_empty();
    let error = match request_of(&host, &form, ui.service.now()) {
        Err(error) => error,
        Ok(request) => match ui.service.create_booking(request).await {
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
        },
    };
    let (status, state) = match refusal_to_form(error, form.clone(), slot_chosen) {
        Ok(refused) => refused,
        Err(ServiceError::OrganizerNotFound) => return organizer_not_found(),
        Err(ServiceError::EventTypeNotFound) => return event_type_not_found(&host.organizer),
        Err(ServiceError::SettingsNotFound) => return not_bookable_yet(&host.organizer),
        Err(error) => return internal_error(&error),
    };
    let view = View {
        zone,
        zone_note,
        month: None,
        date: parse_date(&form.date).ok(),
        detect_time_zone: false,
        duration,
    };
    booking_page(ui, &host, view, state, status).await
}

/// The booking the form asks for. A slot that cannot be read is refused
/// together with every other field booking-core refuses, so the page shows
/// all of them at once.
fn request_of(
    host: &Host,
    form: &BookForm,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<BookingRequest, ServiceError> {
    let (start, end) = form.slot.split_once('/').unwrap_or(("", ""));
    let time = parse_instant(start)
        .ok()
        .zip(parse_instant(end).ok())
        .and_then(|(start, end)| TimeRange::new(start, end).ok());
    // Stands in for a slot that could not be read while the rest is checked.
    let placeholder = TimeRange::starting_at(now, host.event_type.duration)
        .map_err(ServiceError::InvalidTimeRange)?;
    let notes = form.notes.trim();
    let mut request = BookingRequest::new(
        host.organizer.username.as_str(),
        time.unwrap_or(placeholder),
        Attendee::new(form.name.clone(), form.email.trim()),
    )
    .event_type(host.event_type.slug.as_str())
    .title(form.title.clone());
    if !notes.is_empty() {
        request = request.description(form.notes.clone());
    }
    let hold_token = form.hold_token.trim();
    if !hold_token.is_empty() {
        request = request.hold_token(hold_token);
    }
    if time.is_none() {
        let mut errors = request.validate().err().unwrap_or_default();
        errors.add(Field::StartTime, "That time could not be read.");
        return Err(ServiceError::Validation(errors));
    }
    Ok(request)
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
                match error.field {
                    Field::AttendeeName => state.errors.add("name", error.message.clone()),
                    Field::AttendeeEmail => state.errors.add("email", error.message.clone()),
                    Field::Title => state.errors.add("title", error.message.clone()),
                    Field::Description => state.errors.add("notes", error.message.clone()),
                    Field::StartTime | Field::EndTime | Field::Duration => {
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
        ServiceError::BookingLimitReached(period) => {
            values.slot.clear();
            state.slot_error = Some(format!(
                "No more bookings are taken that {period}. Please pick a time on another {period}."
            ));
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
        ServiceError::CalendarUnavailable { .. } => {
            state.form_error = Some(
                "The organizer's calendar cannot be checked right now, so nothing was booked. \
                 Please try again in a few minutes."
                    .to_owned(),
            );
            StatusCode::SERVICE_UNAVAILABLE
        }
        other => return Err(other),
    };
    if values.slot.is_empty() {
        values.forget_hold();
    }
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

/// `30`, `30 or 60`, `15, 30 or 60` (minutes).
pub(super) fn lengths_text(event_type: &EventType) -> String {
    let minutes: Vec<String> = event_type
        .durations()
        .iter()
        .map(|d| d.num_minutes().to_string())
        .collect();
    match minutes.as_slice() {
        [] => String::new(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
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
    let event_type = &host.event_type;
    let slug = event_type.slug.as_str();
    let username = host.organizer.username.as_str();
    // `None` only within a day of chrono's limits; the UTC date is as good there.
    let today = local_date(zone, now).unwrap_or_else(|| now.date_naive());
    let bookable = match ui.service.bookable_range(username, Some(slug)).await {
        Ok(range) => range,
        Err(ServiceError::EventTypeNotFound) => return event_type_not_found(&host.organizer),
        Err(ServiceError::SettingsNotFound) => return not_bookable_yet(&host.organizer),
        Err(error) => return internal_error(&error),
    };
    // A month typed into the address bar is moved into the months that can
    // have free times: from this month to the one the booking window ends in.
    let this_month = first_of_month(today);
    let latest_start = bookable.map(|range| range.end());
    let last_month = latest_start
        .and_then(|latest| local_date(zone, latest))
        .map_or(this_month, first_of_month)
        .max(this_month);
    let month = clamp_month(
        view.month
            .or(view.date.map(first_of_month))
            .unwrap_or(this_month),
        this_month,
        last_month,
    );
    let slots = match local_days_range(zone, month, last_of_month(month)) {
        Some(window) if bookable.is_some() => {
            let query = SlotQuery::new(username, window)
                .event_type(slug)
                .duration(view.duration);
            match ui.service.available_slots(query).await {
                Ok(slots) => slots,
                Err(ServiceError::SettingsNotFound) => return not_bookable_yet(&host.organizer),
                Err(ServiceError::EventTypeNotFound) => {
                    return event_type_not_found(&host.organizer);
                }
                Err(error) => return internal_error(&error),
            }
        }
        _ => Vec::new(),
    };
    let mut by_day: BTreeMap<NaiveDate, Vec<TimeRange>> = BTreeMap::new();
    for slot in slots {
        if let Some(date) = local_date(zone, slot.start()) {
            by_day.entry(date).or_default().push(slot);
        }
    }
    // The visitor's own hold keeps its slot from being offered, to them
    // too: it is shown again so the form they are filling in keeps it.
    let held = form.values.held_slot(now);
    if let Some((slot, _)) = &held
        && let Some(date) = local_date(zone, slot.start())
        && first_of_month(date) == month
    {
        let day = by_day.entry(date).or_default();
        if !day.contains(slot) {
            day.push(*slot);
            day.sort_by_key(TimeRange::start);
        }
    }
    let hold_url = (event_type.hold_duration > Duration::zero())
        .then(|| format!("/api/organizers/{username}/holds"));
    let selected = view
        .date
        .filter(|date| first_of_month(*date) == month)
        .or_else(|| by_day.keys().next().copied());

    let page_url = host.url.as_str();
    let length = view.duration.num_minutes().to_string();
    let several_lengths = event_type.durations().len() > 1;
    let length_param = if several_lengths { length.as_str() } else { "" };
    let month_link = |first: NaiveDate| {
        url_with(
            page_url,
            &[
                ("tz", zone.name()),
                ("month", &first.format("%Y-%m").to_string()),
                ("duration", length_param),
            ],
        )
    };
    let previous = previous_month(month).filter(|_| month > this_month);
    let next = next_month(month).filter(|first| {
        WallTime::MIDNIGHT
            .on(*first)
            .and_then(|midnight| resolve_local(zone, midnight))
            .zip(latest_start)
            .is_some_and(|(start, latest)| start < latest)
    });
    let name = host.organizer.display_name.as_str();
    let day_slots: &[TimeRange] = selected
        .and_then(|date| by_day.get(&date))
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let title_value =
        if form.values.title.is_empty() && form.errors.is_empty() && status == StatusCode::OK {
            event_type.title.as_str()
        } else {
            form.values.title.as_str()
        };
    let selected_iso = selected.map(|date| date.format("%Y-%m-%d").to_string());

    let body = html! {
        section.booking-intro {
            h1 { "Book a meeting with " (name) }
            div.event-summary #event-summary {
                p.event-title #event-title { (event_type.title) }
                @if let Some(description) = &event_type.description {
                    p.event-description.pre #event-description { (description) }
                }
                @if let Some(place) = &event_type.location {
                    p.event-location #event-location { (location::summary(place)) }
                }
            }
            p.lead {
                @if several_lengths {
                    "Meetings of " (lengths_text(event_type)) " minutes."
                } @else {
                    (view.duration.num_minutes()) "-minute meetings."
                }
                " Times are shown in your time zone; pick a day, then a time."
            }
            @if several_lengths {
                nav.lengths #lengths aria-label="Meeting length" {
                    span.muted { "Length:" }
                    @for option in event_type.durations() {
                        @let minutes = option.num_minutes().to_string();
                        @let chosen = option == view.duration;
                        a.length.selected[chosen] id=(format!("length-{minutes}"))
                            href=(url_with(page_url, &[("tz", zone.name()), ("date", selected_iso.as_deref().unwrap_or("")), ("duration", &minutes)]))
                            aria-current=[chosen.then_some("true")] { (minutes) " min" }
                    }
                }
            }
            form.zone-picker method="get" action=(page_url) {
                label for="tz" { "Your time zone" }
                select #tz name="tz" data-autosubmit {
                    @for option in zones::options_with(zone) {
                        option value=(option.name()) selected[option == zone] { (option.name()) }
                    }
                }
                @if let Some(date) = &selected_iso {
                    input type="hidden" name="date" value=(date);
                }
                @if several_lengths {
                    input type="hidden" name="duration" value=(length);
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
                                            (calendar_day(date, page_url, zone, length_param, selected, today, by_day.get(&date).map_or(0, Vec::len)))
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
                    input type="hidden" name="eventType" value=(slug);
                    input type="hidden" name="duration" value=(length);
                    @if let Some(date) = &selected_iso {
                        input type="hidden" name="date" value=(date);
                    }
                    @if hold_url.is_some() {
                        input #hold-token type="hidden" name="holdToken" value=[held.as_ref().map(|_| form.values.hold_token.as_str())];
                        input #hold-id type="hidden" name="holdId" value=[held.as_ref().map(|_| form.values.hold_id.as_str())];
                        input #hold-expires type="hidden" name="holdExpires" value=[held.as_ref().map(|(_, expires)| expires.as_str())];
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
                            @if let Some(url) = &hold_url {
                                (hold_status(url, now, held.as_ref(), zone))
                            }
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
                            (text_field("title", "Meeting title", "text", title_value, &form.errors, "off", None))
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

/// Where the page's script says whether the picked time is held for the
/// visitor and for how long (`data-expires`, counted down by the script,
/// which takes holds at `data-hold-url` and counts from the server's
/// `data-now`, not the visitor's clock);
/// after a refused booking the server says it again for a hold the form
/// still carries.
fn hold_status(
    url: &str,
    now: chrono::DateTime<chrono::Utc>,
    held: Option<&(TimeRange, String)>,
    zone: Tz,
) -> Markup {
    html! {
        p.hold-status #hold-status role="status" aria-live="polite"
            data-hold-url=(url) data-now=(rfc3339(now))
            data-expires=[held.map(|(_, expires)| expires.as_str())] {
            @if let Some((slot, expires)) = held {
                @let until = parse_instant(expires).ok();
                "The " (clock(slot.start(), zone)) " slot is held for you"
                @if let Some(until) = until { " until " (clock(until, zone)) }
                "."
            }
        }
    }
}

/// One day of the calendar: a link when it has free slots.
fn calendar_day(
    date: NaiveDate,
    page_url: &str,
    zone: Tz,
    length: &str,
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
                href=(format!("{}#day-panel", url_with(page_url, &[("tz", zone.name()), ("date", &iso), ("duration", length)])))
                data-date=(iso) aria-label=(label)
                aria-current=[is_selected.then_some("date")] { (day) }
        } @else {
            span.day.selected[is_selected].today[date == today] data-date=(iso) aria-label=(label) { (day) }
        }
    }
}
