//! `GET /`: what the service is and where to go from here.

use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use super::layout::{Shell, document, respond};
use super::signup;

/// The machine-readable description of the JSON API.
const API_DESCRIPTION: &str = "/api/openapi.json";

/// `GET /`: links to the sign-up page, the dashboard and the API description.
pub(super) async fn page() -> Response {
    let body = html! {
        section.landing-intro {
            h1 { "Book meetings without the back-and-forth" }
            p.lead {
                "Organizers publish their hours; the people they meet pick a free time in their own time zone. "
                "A time is never given to two people."
            }
        }
        div.landing-grid {
            section.card #landing-signup {
                h2 { "New organizer" }
                p { "Create your account, set your hours and share your booking page." }
                a.button.primary href=(signup::URL) { "Sign up" }
            }
            section.card #landing-dashboard {
                h2 { "Organizers" }
                p { "See and cancel your bookings, and change your hours." }
                a.button.secondary href="/dashboard" { "Open the dashboard" }
            }
            section.card #landing-api {
                h2 { "Developers" }
                p { "Everything the pages do is also a JSON API." }
                p { a href=(API_DESCRIPTION) { "API description (OpenAPI)" } }
            }
        }
        p.muted { "Booking a meeting? Use the link your organizer gave you; it looks like " code { "/their-username" } "." }
    };
    respond(StatusCode::OK, document("Welcome", Shell::default(), body))
}
