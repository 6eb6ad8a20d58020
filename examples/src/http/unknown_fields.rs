//! What the service does with JSON fields an endpoint does not know: the
//! one policy for every request body.
//!
//! **A field the endpoint does not know is never dropped silently.**
//!
//! * Bodies that *replace an organizer's configuration* (`PUT
//!   /api/settings`, `POST`/`PUT /api/event-types`, `POST`/`PUT
//!   /api/schedules`) refuse them: 400 `validation_error` naming each one
//!   (`"fields": {"slotMinute": "..."}`). There every optional field has a
//!   default, so a misspelt one (`slotStepMinute`) would otherwise store a
//!   default nobody asked for, and nothing would show it until attendees
//!   book the wrong slots.
//! * Every other body (registering, booking, cancelling) is accepted with
//!   them, as it always was, and the reply names them in the
//!   `Ignored-Fields` response header (`Ignored-Fields: attendeeName,
//!   metadata2`), so a client can find its typo without its requests
//!   failing. Existing clients that send extra fields keep working.
//!
//! Fields are named by their JSON path (`weeklyHours.monday[0].from`);
//! everything inside `metadata` is the client's own and never counts as
//! unknown. The header lists at most [`MAX_LISTED`] names; a name's bytes
//! other than ASCII letters, digits and `_ - . [ ]` are percent-encoded.

use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use super::fields::FieldErrors;

/// The response header naming the body's fields the endpoint ignored.
pub const HEADER: &str = "ignored-fields";

/// The most field names the header lists.
pub const MAX_LISTED: usize = 20;

/// How a body treats fields its endpoint does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownFields {
    /// 400 naming them: for bodies that replace stored configuration.
    Refuse,
    /// Accepted and named in the [`HEADER`]: for every other body.
    Report,
}

/// Where the body extractor leaves the names of ignored fields for
/// [`report`] to put in the reply.
#[derive(Debug, Clone, Default)]
pub struct IgnoredFields(Arc<Mutex<Vec<String>>>);

impl IgnoredFields {
    /// Records `names` as ignored by this request.
    pub fn add(&self, names: Vec<String>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(names);
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Middleware: gives each request a place for its ignored fields, and names
/// them in the reply's [`HEADER`].
pub async fn report(mut request: Request, next: Next) -> Response {
    let ignored = IgnoredFields::default();
    request.extensions_mut().insert(ignored.clone());
    let mut response = next.run(request).await;
    let names = ignored.take();
    if !names.is_empty()
        && let Ok(value) = HeaderValue::from_str(&header_value(&names))
    {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

/// `a, b[0].c`, each name encoded, at most [`MAX_LISTED`].
fn header_value(names: &[String]) -> String {
    names
        .iter()
        .take(MAX_LISTED)
        .map(|name| encode(name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.' | b'[' | b']') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The 400 of a [`Refuse`](UnknownFields::Refuse) body.
pub fn refusal(names: &[String]) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for name in names {
        errors.add(
            name.clone(),
            format!("{name} is not a field of this request; check its spelling"),
        );
    }
    errors
}

/// A JSON path as the API writes it: `weeklyHours.monday[0].from`.
pub fn path_text(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", path_text(parent)),
        Path::Map { parent, key } => {
            let parent = path_text(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => path_text(parent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_listed_encoded_and_bounded() {
        let names: Vec<String> = vec!["attendeeName".into(), "a b,c".into(), "é".into()];
        assert_eq!(header_value(&names), "attendeeName, a%20b%2Cc, %C3%A9");
        let many: Vec<String> = (0..50).map(|i| format!("f{i}")).collect();
        assert_eq!(header_value(&many).split(", ").count(), MAX_LISTED);
    }
}
