//! `/{username}` of an organizer with several event types: what they offer,
//! each linking to its booking page.

use axum::http::StatusCode;
use axum::response::Response;
use booking_core::{EventType, Organizer};
use maud::html;

use super::booking::lengths_text;
use super::format::url_with;
use super::layout::{Shell, document, respond};
use super::{location, zones};

/// The list page; a known `tz` the visitor chose is kept in the links.
pub(super) fn page(organizer: &Organizer, event_types: &[EventType], tz: Option<&str>) -> Response {
    let tz = tz
        .and_then(zones::parse)
        .map(|zone| zone.name())
        .unwrap_or("");
    let name = organizer.display_name.as_str();
    let body = html! {
        section.booking-intro {
            h1 { "Book a meeting with " (name) }
            p.lead { "Pick what you would like to book." }
        }
        ul.event-types #event-types {
            @for event_type in event_types {
                li.card.event-type data-slug=(event_type.slug.as_str()) {
                    h2 {
                        a href=(url_with(&format!("/{}/{}", organizer.username, event_type.slug), &[("tz", tz)])) {
                            (event_type.title)
                        }
                    }
                    p.muted.event-lengths { (lengths_text(event_type)) " minutes" }
                    @if let Some(description) = &event_type.description {
                        p.pre.event-description { (description) }
                    }
                    @if let Some(place) = &event_type.location {
                        p.event-location { (location::summary(place)) }
                    }
                }
            }
        }
    };
    respond(
        StatusCode::OK,
        document(&format!("Book {name}"), Shell::default(), body),
    )
}
