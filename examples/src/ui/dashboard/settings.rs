//! The settings page: version 1's one set of hours and one kind of meeting
//! (booking-core keeps them as the default schedule and the default event
//! type).

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use booking_core::{Organizer, ServiceError};
use maud::html;
use serde::Deserialize;

use super::super::Ui;
use super::super::form::FormFields;
use super::super::hours_editor::{ACTION_FIELD, Edit};
use super::super::layout::{Shell, document, internal_error, respond};
use super::super::settings_form::{self, SettingsForm};
use crate::http::fields::{FieldErrors, Surface, renamed};

/// `GET /dashboard/settings` parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(in crate::ui) struct SettingsParams {
    notice: String,
}

/// `GET /dashboard/settings`: the current settings (or defaults) in a form.
pub(in crate::ui) async fn settings_page(
    State(ui): State<Ui>,
    headers: HeaderMap,
    params: Result<Query<SettingsParams>, QueryRejection>,
) -> Response {
    let (organizer, key) = match ui.require_organizer(&headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let saved = params.is_ok_and(|Query(p)| p.notice == "saved");
    let (values, has_settings) = match ui.service.settings(organizer.id).await {
        Ok(settings) => (SettingsForm::from_draft(&settings.to_draft()), true),
        Err(ServiceError::SettingsNotFound) => {
            (SettingsForm::starting_point(organizer.time_zone), false)
        }
        Err(error) => return internal_error(&error),
    };
    let notice = if saved {
        Some("Settings saved.")
    } else if !has_settings {
        Some(
            "You have not saved settings yet: these are suggestions. Save them to open your booking page.",
        )
    } else {
        None
    };
    let page = SettingsPage {
        organizer: &organizer,
        form_token: &ui.form_token(&key),
        notice,
        unsaved: false,
    };
    page.respond(&values, &FieldErrors::new(), StatusCode::OK)
}

/// `POST /dashboard/settings`: an Add or Remove button of the hours editor
/// shows the form again with the change and nothing saved; Save validates
/// and saves, errors coming back next to their fields with everything typed
/// kept.
pub(in crate::ui) async fn save_settings(
    State(ui): State<Ui>,
    headers: HeaderMap,
    form: Result<Form<FormFields>, FormRejection>,
) -> Response {
    let (organizer, key, fields) = match ui.signed_in_post(&headers, form).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let mut values = SettingsForm::from_form(&fields);
    let form_token = ui.form_token(&key);
    let mut page = SettingsPage {
        organizer: &organizer,
        form_token: &form_token,
        notice: None,
        unsaved: false,
    };
    let action = fields.first(ACTION_FIELD);
    if !action.is_empty() && action != "save" {
        // An editor button, or an action this page does not know: nothing
        // is saved either way.
        if let Some(edit) = Edit::parse(action) {
            values.apply(edit);
        }
        page.notice = Some("Not saved yet: press Save settings when you are done.");
        page.unsaved = true;
        return page.respond(&values, &FieldErrors::new(), StatusCode::OK);
    }
    let draft = match values.to_draft() {
        Ok(draft) => draft,
        Err(errors) => return page.respond(&values, &errors, StatusCode::UNPROCESSABLE_ENTITY),
    };
    match ui.service.put_settings(organizer.id, draft).await {
        Ok(_) => Redirect::to("/dashboard/settings?notice=saved").into_response(),
        Err(ServiceError::InvalidSettings(error)) => page.respond(
            &values,
            &values.errors_for(&error),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // Rules of the default event type the settings became.
        Err(ServiceError::Validation(refused)) => page.respond(
            &values,
            &settings_form::event_type_errors(renamed(refused, Surface::Body)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(error) => internal_error(&error),
    }
}

/// The settings page around its form.
struct SettingsPage<'a> {
    organizer: &'a Organizer,
    form_token: &'a str,
    notice: Option<&'a str>,
    /// The form shows changes not saved yet.
    unsaved: bool,
}

impl SettingsPage<'_> {
    fn respond(&self, values: &SettingsForm, errors: &FieldErrors, status: StatusCode) -> Response {
        let body = html! {
            section.dashboard-head {
                h1 { "Settings" }
                p.muted { "When people can book " (self.organizer.display_name) ", and for how long." }
                @if let Some(notice) = self.notice {
                    p.notice.warning[self.unsaved] #notice role="status" { (notice) }
                }
                @if !errors.is_empty() {
                    p.notice.error #settings-errors role="alert" { "Nothing was saved: please correct the fields marked below." }
                }
            }
            (settings_form::render(values, errors, self.form_token))
        };
        respond(
            status,
            document("Settings", Shell::organizer(self.form_token), body),
        )
    }
}
