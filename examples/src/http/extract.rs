//! Extractors that turn every malformed request into an [`ApiError`] with
//! the documented shape: bodies, query strings, path ids and bearer tokens.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use booking_core::{BookingId, Organizer};
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::ApiError;
use super::unknown_fields::{self, IgnoredFields, UnknownFields};

/// The largest request body accepted: 64 KiB. Larger ones get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON request body of the API, with how it treats fields it does not
/// know ([`super::unknown_fields`]).
pub trait RequestBody: DeserializeOwned {
    /// [`Report`](UnknownFields::Report) unless the body replaces stored
    /// configuration.
    const UNKNOWN_FIELDS: UnknownFields = UnknownFields::Report;
}

/// A JSON body of type `T`. Unlike `axum::Json` it accepts any content type
/// (so a bare `curl -d` works) and reports problems in the API's shape: 413
/// for a body over [`MAX_BODY_BYTES`], 400 `validation_error` for bad JSON,
/// naming the field (`weeklyHours.monday[0].start`) when a value has the
/// wrong type or a required one is missing; fields it does not know are
/// refused or reported as `T` says.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: RequestBody> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ignored = req.extensions().get::<IgnoredFields>().cloned();
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        read_body(&bytes, ignored.as_ref()).map(JsonBody)
    }
}

/// An optional JSON body: an empty (or all-whitespace) body is `None`.
#[derive(Debug, Clone)]
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<S: Send + Sync, T: RequestBody> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ignored = req.extensions().get::<IgnoredFields>().cloned();
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(None));
        }
        read_body(&bytes, ignored.as_ref()).map(|value| OptionalJsonBody(Some(value)))
    }
}

/// Parses a body and applies `T`'s policy to the fields it ignored.
fn read_body<T: RequestBody>(bytes: &[u8], ignored: Option<&IgnoredFields>) -> Result<T, ApiError> {
    let (value, unknown) = parse_json_reporting::<T>(bytes)?;
    if unknown.is_empty() {
        return Ok(value);
    }
    match T::UNKNOWN_FIELDS {
        UnknownFields::Refuse => Err(ApiError::validation(&unknown_fields::refusal(&unknown))),
        UnknownFields::Report => {
            if let Some(slot) = ignored {
                slot.add(unknown);
            }
            Ok(value)
        }
    }
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else if is_body_timeout(&rejection) {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request body did not arrive in time",
        )
    } else {
        ApiError::bad_request(format!("could not read the request body: {rejection}"))
    }
}

/// 413 `payload_too_large`.
pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!(
            "the request body is larger than {} KiB",
            MAX_BODY_BYTES / 1024
        ),
    )
}

/// Whether reading the body failed because the body timeout passed
/// (`tower_http::timeout::RequestBodyTimeoutLayer`).
fn is_body_timeout(rejection: &BytesRejection) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(error) = source {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// Parses `bytes` as a `T`, with the field path of a type error; fields
/// `T` does not know are ignored.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    parse_json_reporting(bytes).map(|(value, _)| value)
}

/// [`parse_json`], and the JSON paths of the fields `T` ignored.
pub fn parse_json_reporting<T: DeserializeOwned>(
    bytes: &[u8],
) -> Result<(T, Vec<String>), ApiError> {
    let mut unknown = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let mut note = |path: serde_ignored::Path<'_>| unknown.push(unknown_fields::path_text(&path));
    let value = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(
        &mut deserializer,
        &mut note,
    ))
    .map_err(json_error)?;
    deserializer.end().map_err(|error| {
        ApiError::bad_request(format!(
            "malformed JSON: {}",
            plain_words(&error.to_string())
        ))
    })?;
    Ok((value, unknown))
}

fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    use serde_json::error::Category;

    let path = error.path().to_string();
    let inner = error.inner();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::bad_request(format!(
            "malformed JSON: {}",
            plain_words(&inner.to_string())
        )),
        Category::Data => {
            let message = inner.to_string();
            let bare = strip_position(&message);
            // serde names missing and unknown fields only in its message.
            let named = ["missing field `", "unknown field `"]
                .iter()
                .find_map(|prefix| bare.strip_prefix(prefix))
                .and_then(|rest| rest.split('`').next());
            let field = match (named, path.as_str()) {
                (Some(name), ".") => name.to_owned(),
                // An unknown key is already the last segment of the path.
                (Some(name), full) if full == name || full.ends_with(&format!(".{name}")) => {
                    full.to_owned()
                }
                (Some(name), parent) => format!("{parent}.{name}"),
                (None, ".") => {
                    return ApiError::bad_request(format!(
                        "the request body must be a JSON object: {}",
                        plain_words(bare)
                    ));
                }
                (None, path) => path.to_owned(),
            };
            let text = if bare.starts_with("missing field") {
                format!("{field} is required")
            } else if bare.starts_with("unknown field") {
                format!("{field} is not a field of this request; check its spelling")
            } else {
                plain_words(bare)
            };
            ApiError::field(field, text)
        }
    }
}

/// serde's messages in words for people: no Rust type names (`expected
/// struct RegisterBody`, `expected i64`), no positions.
pub fn plain_words(message: &str) -> String {
    let message = strip_position(message);
    let Some((what, expected)) = message.rsplit_once(", expected ") else {
        return message.to_owned();
    };
    let expected = expected_in_words(expected);
    if let Some(found) = what.strip_prefix("invalid type: ") {
        format!("expected {expected}, found {}", found_in_words(found))
    } else if let Some(found) = what.strip_prefix("invalid value: ") {
        format!("expected {expected}, found {}", found_in_words(found))
    } else {
        format!("{what}, expected {expected}")
    }
}

fn expected_in_words(expected: &str) -> String {
    let rust_integer = [
        "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
    ];
    if rust_integer.contains(&expected) {
        "a whole number".to_owned()
    } else if matches!(expected, "f32" | "f64") {
        "a number".to_owned()
    } else if expected.starts_with("struct ")
        || expected.starts_with("tuple struct ")
        || expected.starts_with("unit struct ")
        || expected == "a map"
    {
        "a JSON object".to_owned()
    } else if expected.starts_with("enum ") {
        "one of the documented values".to_owned()
    } else if expected == "a sequence" {
        "a list".to_owned()
    } else if expected == "a boolean" {
        "true or false".to_owned()
    } else if expected == "option" {
        "a value or null".to_owned()
    } else {
        expected.to_owned()
    }
}

fn found_in_words(found: &str) -> String {
    match found {
        "sequence" => "a list".to_owned(),
        "map" => "an object".to_owned(),
        "unit value" | "null" => "null".to_owned(),
        other => other.to_owned(),
    }
}

/// serde_json's message without its ` at line 1 column 5` suffix.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(at) => &message[..at],
        None => message,
    }
}

/// The query string as name-value pairs; each handler parses the values it
/// needs, naming the parameter when one is malformed. Unknown parameters are
/// ignored.
#[derive(Debug, Clone, Default)]
pub struct QueryMap(pub HashMap<String, String>);

impl QueryMap {
    /// The value of `name`, if given and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(map)| QueryMap(map))
            .map_err(|rejection| {
                ApiError::bad_request(format!("malformed query string: {}", rejection.body_text()))
            })
    }
}

/// A booking id from the path; text that is not a ULID is 404 `not_found`
/// (no booking can have that id).
pub fn booking_id(text: &str) -> Result<BookingId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::not_found("booking not found"))
}

/// The bearer token of the `Authorization` header: `Ok(None)` when there is
/// no such header, 401 when it is there but is not `Bearer <token>`.
pub fn bearer_token(parts: &Parts) -> Result<Option<String>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || ApiError::unauthorized("the Authorization header must be `Bearer <token>`");
    let text = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = text.trim().split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(malformed());
    }
    Ok(Some(token.to_owned()))
}

/// The organizer authenticated by `Authorization: Bearer <API token>`;
/// 401 `unauthorized` when the header is missing, malformed or unknown.
#[derive(Debug, Clone)]
pub struct AuthOrganizer(pub Organizer);

impl FromRequestParts<AppState> for AuthOrganizer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match bearer_token(parts)? {
            Some(token) => Ok(AuthOrganizer(state.service.authenticate(&token).await?)),
            None => Err(ApiError::unauthorized(
                "this endpoint needs `Authorization: Bearer <API token>`",
            )),
        }
    }
}

/// The bearer token if one was sent (checked later against the booking).
#[derive(Debug, Clone)]
pub struct MaybeBearer(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeBearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        bearer_token(parts).map(MaybeBearer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        weekly_hours: HashMap<String, Vec<Inner>>,
        slot_minutes: i64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        start: String,
        end: String,
    }

    fn error_of(json: &str) -> ApiError {
        parse_json::<Outer>(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn type_errors_name_the_json_path() {
        let error = error_of(
            r#"{"weeklyHours": {"monday": [{"start": 9, "end": "10:00"}]}, "slotMinutes": 30}"#,
        );
        assert_eq!(error.code, "validation_error");
        assert!(
            error.fields.contains_key("weeklyHours.monday[0].start"),
            "{error:?}"
        );
        let error =
            error_of(r#"{"weeklyHours": {"monday": [{"start": "09:00"}]}, "slotMinutes": 30}"#);
        assert!(
            error.fields.contains_key("weeklyHours.monday[0].end"),
            "{error:?}"
        );
        let error = error_of(r#"{"weeklyHours": {}}"#);
        assert_eq!(
            error.fields.get("slotMinutes").map(String::as_str),
            Some("slotMinutes is required")
        );
        let error = error_of(r#"{"weeklyHours": {}, "slotMinutes": 30, "slotMinute": 1}"#);
        assert!(error.fields.contains_key("slotMinute"), "{error:?}");
    }

    #[test]
    fn messages_name_no_rust_types() {
        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct RegisterBody {
            username: Option<String>,
            count: Option<u32>,
            flag: Option<bool>,
            list: Option<Vec<i64>>,
            inner: Option<Inner>,
        }
        let cases = [
            r#"[1, 2]"#,
            "null",
            r#""text""#,
            r#"{"count": "30"}"#,
            r#"{"count": -5}"#,
            r#"{"count": 1.5}"#,
            r#"{"flag": "yes"}"#,
            r#"{"list": {"a": 1}}"#,
            r#"{"list": ["x"]}"#,
            r#"{"inner": [1]}"#,
            r#"{"username": 7}"#,
        ];
        for body in cases {
            let error = parse_json::<RegisterBody>(body.as_bytes()).unwrap_err();
            let text = format!("{} {:?}", error.message, error.fields);
            for rust in [
                "struct",
                "RegisterBody",
                "Inner",
                "i64",
                "u32",
                "bool",
                "sequence",
                "::",
            ] {
                assert!(!text.contains(rust), "{body}: {text}");
            }
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{body}");
        }
        let error = parse_json::<RegisterBody>(br#"{"count": "30"}"#).unwrap_err();
        assert_eq!(
            error.fields["count"],
            "expected a whole number, found string \"30\""
        );
    }

    #[test]
    fn unknown_fields_are_named_by_path() {
        let (_, unknown) =
            parse_json_reporting::<Outer>(br#"{"weeklyHours": {}, "slotMinutes": 30}"#).unwrap();
        assert!(unknown.is_empty());
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Loose {
            a: Option<Vec<LooseInner>>,
        }
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct LooseInner {
            b: Option<i64>,
        }
        let (_, unknown) =
            parse_json_reporting::<Loose>(br#"{"a": [{"b": 1, "c": 2}], "d": {"e": 1}}"#).unwrap();
        assert_eq!(unknown, ["a[0].c", "d"]);
    }

    #[test]
    fn syntax_errors_and_trailing_garbage_are_400s() {
        for body in [
            "{",
            "",
            "nope",
            r#"{"weeklyHours": {}, "slotMinutes": 30} x"#,
            "[]",
            "null",
        ] {
            let error = error_of(body);
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(error.code, "validation_error", "{body}");
        }
    }
}
