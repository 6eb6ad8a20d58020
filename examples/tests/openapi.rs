//! The OpenAPI 3.1 description at `/api/openapi.json`:
//!
//! * it parses as OpenAPI 3.1 (with `oas3`, a parser independent of the
//!   `utoipa` that writes it) and every `$ref` in it resolves;
//! * every route of the router is in it with exactly its methods: the
//!   routes are read from the router's source (every `.route(...)` under
//!   `src/http/`), and each documented path is asked over HTTP for every
//!   method (a documented one must reach its handler, any other must be 405
//!   `method_not_allowed`);
//! * every error reply of the API is described as it really is,
//!   `{"error": message, "code": code, "fields"?: {...}}`;
//! * a walk through every operation gets replies whose status is described
//!   for that operation and whose body matches the described schema (an
//!   operation added later is only named on stderr until the walk calls
//!   it, so adding a route stays a matter of describing it).
//!
//! The fuzzing of the same description by an independent tool is
//! `examples/scripts/fuzz-api.sh` (schemathesis).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono_tz::Europe::Berlin;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::{Reply, Server, iso, local, memory_server, tomorrow, unique};

/// Routes of the router that are not operations of the API: the JSON 404
/// for every unknown `/api/` path.
const NOT_OPERATIONS: &[&str] = &["/api/{*rest}"];

/// The methods a route can be asked with in this test.
const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH"];

async fn description(server: &Server) -> Value {
    let response = server
        .client
        .get(server.url("/api/openapi.json"))
        .send()
        .await
        .expect("the service answers");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let text = response.text().await.expect("a body");
    let spec = oas3::from_json(&text).expect("the description parses as OpenAPI 3.1");
    let version = spec
        .validate_version()
        .expect("a supported OpenAPI version");
    assert_eq!((version.major, version.minor), (3, 1), "{}", spec.openapi);
    assert!(spec.operations().count() > 20, "the operations are listed");
    serde_json::from_str(&text).expect("JSON")
}

/// `(METHOD, path template)` of every operation described.
fn described(doc: &Value) -> BTreeSet<(String, String)> {
    let mut all = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method.to_ascii_lowercase()).is_some() {
                all.insert(((*method).to_owned(), path.clone()));
            }
        }
    }
    all
}

// ---------------------------------------------------------------------------
// The routes as the router's source declares them.

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The text of the call's arguments starting at `open` (just after its
/// `(`), up to the matching `)`.
fn arguments(text: &str, open: usize) -> &str {
    let mut depth = 1;
    for (at, c) in text[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[open..open + at];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses after {}", &text[open..]);
}

/// The methods an axum method router expression names: `get(h).put(h)`.
fn methods_of(expression: &str) -> BTreeSet<String> {
    let mut methods = BTreeSet::new();
    let bytes = expression.as_bytes();
    for name in ["get", "post", "put", "delete", "patch", "any"] {
        let mut from = 0;
        while let Some(at) = expression[from..].find(&format!("{name}(")) {
            let at = from + at;
            let before = at.checked_sub(1).map(|i| bytes[i]);
            let standalone = !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
            if standalone {
                if name == "any" {
                    methods.extend(METHODS.iter().map(|m| (*m).to_owned()));
                } else {
                    methods.insert(name.to_ascii_uppercase());
                }
            }
            from = at + name.len();
        }
    }
    methods
}

/// Every `.route("PATH", METHODS)` under `src/http/`, by path.
fn routes_in_source() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http"),
        &mut files,
    );
    let mut routes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable source");
        // Routers built by unit tests are not the service's.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let mut from = 0;
        while let Some(at) = text[from..].find(".route(") {
            let open = from + at + ".route(".len();
            let line_start = text[..from + at].rfind('\n').map_or(0, |i| i + 1);
            if text[line_start..].trim_start().starts_with("//") {
                from = open;
                continue;
            }
            let args = arguments(text, open);
            let args = args.trim_start();
            let (path, rest) = args
                .strip_prefix('"')
                .and_then(|rest| rest.split_once('"'))
                .unwrap_or_else(|| {
                    panic!(
                        "{}: a route whose path is not a string literal: .route({args}); \
                         this test reads the paths from the source",
                        file.display()
                    )
                });
            let methods = methods_of(rest);
            assert!(
                !methods.is_empty(),
                "{}: no method in .route({args})",
                file.display()
            );
            routes.entry(path.to_owned()).or_default().extend(methods);
            from = open;
        }
    }
    routes
}

#[test]
fn the_route_reader_reads_method_chains() {
    assert_eq!(
        methods_of(" get(event_types::read)\n .put(event_types::replace)\n .delete(x::delete)"),
        BTreeSet::from(["DELETE".to_owned(), "GET".to_owned(), "PUT".to_owned()])
    );
    assert_eq!(
        methods_of(" post(handlers::create_booking).get(handlers::get_settings)"),
        BTreeSet::from(["GET".to_owned(), "POST".to_owned()])
    );
    assert!(methods_of(" handlers::get_settings").is_empty());
}

#[tokio::test]
async fn every_route_of_the_router_is_described_with_its_methods() {
    let server = memory_server(&[]).await;
    let doc = description(&server).await;
    let described = described(&doc);
    let source = routes_in_source();
    assert!(source.contains_key("/api/bookings"), "{source:?}");
    assert!(source.contains_key("/readyz"), "{source:?}");

    let mut missing = Vec::new();
    for (path, methods) in &source {
        if NOT_OPERATIONS.contains(&path.as_str()) {
            continue;
        }
        for method in methods {
            if !described.contains(&(method.clone(), path.clone())) {
                missing.push(format!("{method} {path}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes the API description lacks (add each to src/http/openapi): {missing:?}"
    );
    let mut extra = Vec::new();
    for (method, path) in &described {
        if !source
            .get(path)
            .is_some_and(|methods| methods.contains(method))
        {
            extra.push(format!("{method} {path}"));
        }
    }
    assert!(
        extra.is_empty(),
        "operations described that no route declares: {extra:?}"
    );
}

/// `template` with sample values for its parameters.
fn sample_path(template: &str) -> String {
    template
        .replace("{username}", "nobody_here")
        .replace("{slug}", "intro")
        .replace("{id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
}

#[tokio::test]
async fn the_router_serves_exactly_the_described_methods() {
    let server = memory_server(&[]).await;
    let doc = description(&server).await;
    let described = described(&doc);
    let paths: BTreeSet<&String> = described.iter().map(|(_, path)| path).collect();
    for template in paths {
        let path = sample_path(template);
        for method in METHODS {
            let reply = server
                .raw(
                    Method::from_bytes(method.as_bytes()).expect("a method"),
                    &path,
                    None,
                    None,
                )
                .await;
            let is_described = described.contains(&((*method).to_owned(), template.clone()));
            if is_described {
                assert_ne!(
                    reply.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path}: {reply:?}"
                );
                assert!(
                    !reply.text.contains("no such endpoint"),
                    "{method} {path} is described but not served: {reply:?}"
                );
                assert!(
                    !reply.status.is_server_error() || template == "/readyz",
                    "{method} {path}: {reply:?}"
                );
            } else {
                assert_eq!(
                    (reply.status, reply.code()),
                    (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
                    "{method} {path} is served but not described"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The document's own consistency and the error shape.

/// Every `$ref` in `value`.
fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.push(target.clone());
            }
            map.values().for_each(|v| refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("{reference} is not local"));
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("{reference} does not resolve"))
}

#[tokio::test]
async fn every_reference_resolves_and_errors_have_their_real_shape() {
    let server = memory_server(&[]).await;
    let doc = description(&server).await;
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for reference in &found {
        resolve(&doc, reference);
    }

    let error = &doc["components"]["schemas"]["Error"];
    assert_eq!(error["type"], "object");
    assert_eq!(error["required"], json!(["error", "code"]));
    assert_eq!(error["properties"]["error"]["type"], "string");
    assert_eq!(error["properties"]["code"]["type"], "string");
    assert_eq!(
        error["properties"]["fields"]["additionalProperties"]["type"],
        "string"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"],
        json!({"type": "http", "scheme": "bearer", "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"]})
    );

    // Every 4xx of every operation is the error reply; so is every 5xx but
    // the readiness probe's.
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let replies = operation["responses"].as_object().expect("responses");
            assert!(!replies.is_empty(), "{method} {path}");
            for (status, reply) in replies {
                let is_error = status.starts_with('4') || status.starts_with('5');
                if !is_error || path == "/readyz" {
                    continue;
                }
                assert_eq!(
                    reply["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/Error",
                    "{method} {path} {status}"
                );
            }
            if path.starts_with("/api/") && path != "/api/openapi.json" {
                assert!(replies.contains_key("429"), "{method} {path}: rate limits");
            }
            // The handlers read `?name=` like no `name` at all.
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "query" && parameter["required"] != true {
                    assert_eq!(
                        parameter["allowEmptyValue"], true,
                        "{method} {path} {parameter}"
                    );
                }
            }
            if operation.get("requestBody").is_some() {
                for status in ["400", "408", "413"] {
                    assert!(replies.contains_key(status), "{method} {path} {status}");
                }
            }
        }
    }

    // A real error reply has that shape.
    let reply = server
        .post("/api/organizers", None, json!({"username": 5}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    conforms(&doc, "post", "/api/organizers", &reply);
    assert_eq!(reply.json["code"], "validation_error");
    assert!(reply.json["fields"]["username"].is_string(), "{reply:?}");
}

// ---------------------------------------------------------------------------
// Real replies against the described ones.

/// Why `value` does not match `schema` (empty when it does). Covers the
/// keywords the description uses: `$ref`, `type`, `required`,
/// `properties`, `additionalProperties`, `items`, `oneOf`, `enum`.
fn mismatches(doc: &Value, schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    if let Some(Value::String(reference)) = schema.get("$ref") {
        return mismatches(doc, resolve(doc, reference), value, at, found);
    }
    if let Some(Value::Array(choices)) = schema.get("oneOf") {
        let matching = choices
            .iter()
            .filter(|choice| {
                let mut inner = Vec::new();
                mismatches(doc, choice, value, at, &mut inner);
                inner.is_empty()
            })
            .count();
        if matching != 1 {
            found.push(format!("{at}: matches {matching} of oneOf, not 1: {value}"));
        }
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.contains(value)
    {
        found.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(kind) = schema.get("type") {
        let kinds: Vec<&str> = match kind {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = kinds.iter().any(|kind| match *kind {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        });
        if !fits {
            found.push(format!("{at}: {value} is not of type {kinds:?}"));
            return;
        }
    }
    if let Value::Object(map) = value {
        if let Some(Value::Array(required)) = schema.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    found.push(format!("{at}: {name} is required"));
                }
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, inner) in map {
            let path = format!("{at}.{name}");
            match (
                properties.and_then(|p| p.get(name)),
                schema.get("additionalProperties"),
            ) {
                (Some(property), _) => mismatches(doc, property, inner, &path, found),
                (None, Some(Value::Bool(false))) => {
                    found.push(format!("{path} is not described"));
                }
                (None, Some(extra @ Value::Object(_))) => {
                    mismatches(doc, extra, inner, &path, found);
                }
                (None, _) if properties.is_some() => {
                    found.push(format!("{path} is not described"));
                }
                (None, _) => {}
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            mismatches(doc, item_schema, item, &format!("{at}[{i}]"), found);
        }
    }
}

/// Asserts that `reply` is described for `method path` (a template) and
/// matches its schema.
fn conforms(doc: &Value, method: &str, path: &str, reply: &Reply) {
    let operation = &doc["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is not described");
    let status = reply.status.as_str();
    let described = &operation["responses"][status];
    assert!(
        described.is_object(),
        "{method} {path}: {status} is not described: {reply:?}"
    );
    let Some(content) = described.get("content").and_then(Value::as_object) else {
        assert!(reply.text.is_empty(), "{method} {path}: {reply:?}");
        return;
    };
    let (media, media_type) = content.iter().next().expect("a media type");
    if media == "application/json" {
        let mut found = Vec::new();
        mismatches(doc, &media_type["schema"], &reply.json, "$", &mut found);
        assert!(
            found.is_empty(),
            "{method} {path} {status}: {found:?}\n{reply:?}"
        );
    } else {
        assert!(!reply.text.is_empty(), "{method} {path}: {reply:?}");
    }
}

#[test]
fn the_schema_checker_finds_mismatches() {
    let doc = json!({"components": {"schemas": {"A": {
        "type": "object", "required": ["a"],
        "properties": {"a": {"type": "string"}, "b": {"type": ["integer", "null"]},
                       "k": {"oneOf": [{"type": "object", "properties": {"kind": {"enum": ["x"]}}}, {"type": "null"}]}}
    }}}});
    let schema = json!({"$ref": "#/components/schemas/A"});
    let check = |value: Value| {
        let mut found = Vec::new();
        mismatches(&doc, &schema, &value, "$", &mut found);
        found
    };
    assert!(check(json!({"a": "x", "b": null, "k": {"kind": "x"}})).is_empty());
    assert_eq!(check(json!({"b": 1})).len(), 1);
    assert_eq!(check(json!({"a": 1})).len(), 1);
    assert_eq!(check(json!({"a": "x", "c": 1})).len(), 1);
    assert_eq!(check(json!({"a": "x", "k": {"kind": "y"}})).len(), 1);
}

/// `POST path` with `body` and `Idempotency-Key: key`; the reply, and
/// whether it says `Idempotent-Replayed: true`.
async fn keyed(server: &Server, path: &str, key: &str, body: Value) -> (Reply, bool) {
    let response = server
        .client
        .post(server.url(path))
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect("the service answers");
    let status = response.status();
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|value| value == "true");
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (Reply { status, json, text }, replayed)
}

#[tokio::test]
async fn every_operation_replies_as_described() {
    let server = memory_server(&[]).await;
    let doc = description(&server).await;
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let mut check = |method: &str, template: &str, reply: &Reply| {
        conforms(&doc, method, template, reply);
        seen.insert((method.to_ascii_uppercase(), template.to_owned()));
    };

    check("get", "/healthz", &server.get("/healthz", None).await);
    check("get", "/readyz", &server.get("/readyz", None).await);
    check("get", "/metrics", &server.get("/metrics", None).await);
    check(
        "get",
        "/api/openapi.json",
        &server.get("/api/openapi.json", None).await,
    );

    let ada = unique("ada");
    let registered = server
        .post(
            "/api/organizers",
            None,
            json!({"username": ada, "email": "ada@example.com", "name": "Ada", "timeZone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(registered.status, StatusCode::CREATED, "{registered:?}");
    check("post", "/api/organizers", &registered);
    let api_token = registered.json["apiToken"]
        .as_str()
        .expect("apiToken")
        .to_owned();
    let token = Some(api_token.as_str());
    let taken = server
        .post(
            "/api/organizers",
            None,
            json!({"username": ada, "email": "ada@example.com", "name": "Ada", "timeZone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    check("post", "/api/organizers", &taken);

    let no_settings = server.get("/api/settings", token).await;
    check("get", "/api/settings", &no_settings);
    let settings = server.open_all_week(&api_token, "Europe/Berlin").await;
    check("put", "/api/settings", &settings);
    check(
        "get",
        "/api/settings",
        &server.get("/api/settings", token).await,
    );
    check(
        "get",
        "/api/settings",
        &server.get("/api/settings", Some("wrong")).await,
    );

    let event_type = json!({
        "slug": "intro", "title": "Intro", "durationMinutes": 30, "durationOptions": [30, 60],
        "bookingWindow": {"kind": "range", "start": "2026-01-01", "end": "2034-12-31"},
        "limits": {"perDay": 5, "weekStartsOn": "sunday"},
        "location": {"kind": "video", "url": "https://meet.example.com/ada"},
        "holdMinutes": 5
    });
    let created = server
        .call(
            Method::POST,
            "/api/event-types",
            token,
            Some(event_type.clone()),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    check("post", "/api/event-types", &created);
    check(
        "get",
        "/api/event-types",
        &server.get("/api/event-types", token).await,
    );
    check(
        "get",
        "/api/event-types/{slug}",
        &server.get("/api/event-types/intro", token).await,
    );
    check(
        "get",
        "/api/event-types/{slug}",
        &server.get("/api/event-types/nope", token).await,
    );
    let mut replaced = event_type.clone();
    replaced["bookingWindow"] = json!({"kind": "rollingBusinessDays", "days": 20});
    replaced["location"] = json!({"kind": "phone", "number": "+49 30 123"});
    let replaced = server
        .call(Method::PUT, "/api/event-types/intro", token, Some(replaced))
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{replaced:?}");
    check("put", "/api/event-types/{slug}", &replaced);
    let refused = server
        .call(
            Method::POST,
            "/api/event-types",
            token,
            Some(json!({"slug": "x", "title": "X", "durationMinutes": 30, "colour": "red"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{refused:?}");
    check("post", "/api/event-types", &refused);

    let schedules = server.get("/api/schedules", token).await;
    check("get", "/api/schedules", &schedules);
    let schedule = server
        .call(
            Method::POST,
            "/api/schedules",
            token,
            Some(json!({"name": "Evenings", "timeZone": "Europe/Lisbon",
                        "weeklyHours": {"monday": [{"start": "18:00", "end": "21:00"}]},
                        "dateOverrides": [{"date": "2030-01-07", "hours": []}]})),
        )
        .await;
    assert_eq!(schedule.status, StatusCode::CREATED, "{schedule:?}");
    check("post", "/api/schedules", &schedule);
    let id = schedule.json["id"].as_str().expect("id").to_owned();
    let path = format!("/api/schedules/{id}");
    check(
        "get",
        "/api/schedules/{id}",
        &server.get(&path, token).await,
    );
    let renamed = server
        .call(
            Method::PUT,
            &path,
            token,
            Some(json!({"name": "Late", "weeklyHours": {"tuesday": [{"start": "18:00", "end": "24:00"}]}})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{renamed:?}");
    check("put", "/api/schedules/{id}", &renamed);
    let deleted = server.call(Method::DELETE, &path, token, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    check("delete", "/api/schedules/{id}", &deleted);
    check(
        "delete",
        "/api/schedules/{id}",
        &server.call(Method::DELETE, &path, token, None).await,
    );

    check(
        "get",
        "/api/organizers/{username}/event-types",
        &server
            .get(&format!("/api/organizers/{ada}/event-types"), None)
            .await,
    );
    check(
        "get",
        "/api/organizers/{username}/event-types",
        &server
            .get("/api/organizers/nobody_here/event-types", None)
            .await,
    );
    let day = tomorrow(Berlin);
    let (start, end) = (local(Berlin, day, 9), local(Berlin, day, 12));
    let slots_path = format!(
        "/api/organizers/{ada}/slots?start={}&end={}",
        iso(start),
        iso(end)
    );
    let slots = server.get(&slots_path, None).await;
    assert_eq!(slots.status, StatusCode::OK, "{slots:?}");
    check("get", "/api/organizers/{username}/slots", &slots);
    check(
        "get",
        "/api/organizers/{username}/slots",
        &server
            .get(&format!("/api/organizers/{ada}/slots?start=soon"), None)
            .await,
    );

    let booked = server
        .post(
            "/api/bookings",
            None,
            json!({"organizerUsername": ada, "attendantName": "Grace", "attendantEmail": "grace@example.com",
                   "startTime": iso(start), "endTime": iso(start + chrono::Duration::hours(1)),
                   "metadata": {"source": "test"}}),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{booked:?}");
    check("post", "/api/bookings", &booked);
    let again = server
        .post(
            "/api/bookings",
            None,
            json!({"organizerUsername": ada, "attendantName": "Alan", "attendantEmail": "alan@example.com",
                   "startTime": iso(start), "endTime": iso(start + chrono::Duration::hours(1))}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{again:?}");
    check("post", "/api/bookings", &again);
    let booking = booked.json["booking"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let cancel_token = booked.json["cancelToken"]
        .as_str()
        .expect("cancelToken")
        .to_owned();

    check(
        "get",
        "/api/bookings",
        &server.get("/api/bookings?page=1&limit=5", token).await,
    );
    check(
        "get",
        "/api/bookings",
        &server.get("/api/bookings?page=0", token).await,
    );
    check(
        "get",
        "/api/bookings/{id}",
        &server
            .get(
                &format!("/api/bookings/{booking}?cancelToken={cancel_token}"),
                None,
            )
            .await,
    );
    check(
        "get",
        "/api/bookings/{id}",
        &server
            .get(&format!("/api/bookings/{booking}?cancelToken=wrong"), None)
            .await,
    );
    check(
        "get",
        "/api/bookings/{id}",
        &server.get(&format!("/api/bookings/{booking}"), None).await,
    );
    let cancel = format!("/api/bookings/{booking}/cancel");
    let cancelled = server
        .post(&cancel, None, json!({"cancelToken": cancel_token}))
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{cancelled:?}");
    check("post", "/api/bookings/{id}/cancel", &cancelled);
    let twice = server.call(Method::POST, &cancel, token, None).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{twice:?}");
    check("post", "/api/bookings/{id}/cancel", &twice);

    // Holds, booking with a hold, idempotency keys, rescheduling.
    let at = |hour: u32| local(Berlin, day, hour);
    let holds = format!("/api/organizers/{ada}/holds");
    let slot = json!({"startTime": iso(at(10)), "durationMinutes": 30, "eventType": "intro"});
    let held = server.post(&holds, None, slot.clone()).await;
    assert_eq!(held.status, StatusCode::CREATED, "{held:?}");
    check("post", "/api/organizers/{username}/holds", &held);
    let release = format!(
        "/api/holds/{}",
        held.json["holdId"].as_str().expect("holdId")
    );
    let token_body = json!({"holdToken": held.json["holdToken"]});
    let released = server
        .call(Method::DELETE, &release, None, Some(token_body.clone()))
        .await;
    assert_eq!(released.status, StatusCode::NO_CONTENT, "{released:?}");
    check("delete", "/api/holds/{id}", &released);
    let unknown = server
        .call(Method::DELETE, &release, None, Some(token_body))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{unknown:?}");
    check("delete", "/api/holds/{id}", &unknown);
    check(
        "post",
        "/api/organizers/{username}/holds",
        &server
            .post(&holds, None, json!({"durationMinutes": 30}))
            .await,
    );
    let held = server.post(&holds, None, slot).await;
    assert_eq!(held.status, StatusCode::CREATED, "{held:?}");
    let with_hold = json!({"organizerUsername": ada, "attendantName": "Grace",
        "attendantEmail": "grace@example.com", "startTime": iso(at(10)), "durationMinutes": 30,
        "eventType": "intro", "holdToken": held.json["holdToken"]});
    let (first, replayed) = keyed(&server, "/api/bookings", "create-1", with_hold.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert!(!replayed);
    check("post", "/api/bookings", &first);
    let (again, replayed) = keyed(&server, "/api/bookings", "create-1", with_hold).await;
    assert_eq!(
        (again.status, replayed),
        (StatusCode::CREATED, true),
        "{again:?}"
    );
    check("post", "/api/bookings", &again);
    let id = first.json["booking"]["id"].as_str().expect("id").to_owned();
    let its_token = first.json["cancelToken"]
        .as_str()
        .expect("cancelToken")
        .to_owned();
    let reschedule = format!("/api/bookings/{id}/reschedule");
    let moved_to = json!({"startTime": iso(at(11)), "cancelToken": its_token});
    let (moved, _) = keyed(&server, &reschedule, "move-1", moved_to.clone()).await;
    assert_eq!(moved.status, StatusCode::OK, "{moved:?}");
    assert!(
        moved.json["booking"]["rescheduledFrom"].is_object(),
        "{moved:?}"
    );
    check("post", "/api/bookings/{id}/reschedule", &moved);
    let (replay, replayed) = keyed(&server, &reschedule, "move-1", moved_to).await;
    assert_eq!(
        (replay.status, replayed),
        (StatusCode::OK, true),
        "{replay:?}"
    );
    check("post", "/api/bookings/{id}/reschedule", &replay);
    let (reused, _) = keyed(
        &server,
        &reschedule,
        "move-1",
        json!({"startTime": iso(at(12)), "cancelToken": its_token}),
    )
    .await;
    assert_eq!(
        reused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{reused:?}"
    );
    check("post", "/api/bookings/{id}/reschedule", &reused);
    check(
        "post",
        "/api/bookings/{id}/reschedule",
        &server
            .post(&reschedule, None, json!({"startTime": iso(at(12))}))
            .await,
    );

    // Calendars: the invitation, the feed and its token, connected ones.
    let ics = format!("/api/bookings/{id}/ics");
    let invitation = server
        .get(&format!("{ics}?cancelToken={its_token}"), None)
        .await;
    assert_eq!(invitation.status, StatusCode::OK, "{invitation:?}");
    check("get", "/api/bookings/{id}/ics", &invitation);
    check(
        "get",
        "/api/bookings/{id}/ics",
        &server.get(&ics, None).await,
    );
    check(
        "get",
        "/api/bookings/{id}/ics",
        &server.get(&ics, token).await,
    );
    let cancel = format!("/api/bookings/{id}/cancel");
    let (cancelled, _) = keyed(
        &server,
        &cancel,
        "cancel-1",
        json!({"cancelToken": its_token}),
    )
    .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{cancelled:?}");
    check("post", "/api/bookings/{id}/cancel", &cancelled);
    let (replay, replayed) = keyed(
        &server,
        &cancel,
        "cancel-1",
        json!({"cancelToken": its_token}),
    )
    .await;
    assert_eq!(
        (replay.status, replayed),
        (StatusCode::OK, true),
        "{replay:?}"
    );
    check("post", "/api/bookings/{id}/cancel", &replay);
    // This server has no BOOKING_SECRET_KEY: no feed tokens.
    let no_key = server.get("/api/feed-token", token).await;
    assert_eq!(no_key.status, StatusCode::CONFLICT, "{no_key:?}");
    check("get", "/api/feed-token", &no_key);
    check(
        "post",
        "/api/feed-token",
        &server
            .call(Method::POST, "/api/feed-token", token, None)
            .await,
    );
    check(
        "get",
        "/api/organizers/{username}/calendar.ics",
        &server
            .get(
                &format!("/api/organizers/{ada}/calendar.ics?token=nope"),
                None,
            )
            .await,
    );

    // Webhooks (the URL is public but never resolves).
    let hook = server
        .post(
            "/api/webhooks",
            token,
            json!({"url": "https://hooks.example.invalid/booking", "events": ["booking.created"]}),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{hook:?}");
    check("post", "/api/webhooks", &hook);
    check(
        "post",
        "/api/webhooks",
        &server
            .post(
                "/api/webhooks",
                token,
                json!({"url": "http://127.0.0.1/", "events": ["nope"]}),
            )
            .await,
    );
    check(
        "get",
        "/api/webhooks",
        &server.get("/api/webhooks", token).await,
    );
    let hook = format!("/api/webhooks/{}", hook.json["id"].as_str().expect("id"));
    let rotated = server
        .call(Method::POST, &format!("{hook}/rotate-secret"), token, None)
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{rotated:?}");
    check("post", "/api/webhooks/{id}/rotate-secret", &rotated);
    check(
        "get",
        "/api/webhooks",
        &server.get("/api/webhooks", token).await,
    );
    let deliveries = server.get(&format!("{hook}/deliveries"), token).await;
    assert_eq!(deliveries.status, StatusCode::OK, "{deliveries:?}");
    check("get", "/api/webhooks/{id}/deliveries", &deliveries);
    check(
        "get",
        "/api/webhooks/{id}/deliveries",
        &server
            .get(&format!("{hook}/deliveries?limit=0"), token)
            .await,
    );
    let deleted = server.call(Method::DELETE, &hook, token, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    check("delete", "/api/webhooks/{id}", &deleted);
    check(
        "delete",
        "/api/webhooks/{id}",
        &server.call(Method::DELETE, &hook, token, None).await,
    );

    // Connected calendars, last: an unreadable one blocks this organizer's
    // slots.
    check(
        "get",
        "/api/calendars",
        &server.get("/api/calendars", token).await,
    );
    let connected = server
        .post(
            "/api/calendars",
            token,
            json!({"kind": "ics", "url": "https://calendar.example.invalid/busy.ics"}),
        )
        .await;
    assert_eq!(connected.status, StatusCode::CREATED, "{connected:?}");
    check("post", "/api/calendars", &connected);
    check(
        "post",
        "/api/calendars",
        &server
            .post(
                "/api/calendars",
                token,
                json!({"kind": "caldav", "url": "https://calendar.example.invalid/dav/"}),
            )
            .await,
    );
    check(
        "get",
        "/api/calendars",
        &server.get("/api/calendars", token).await,
    );
    let calendar = format!(
        "/api/calendars/{}",
        connected.json["id"].as_str().expect("id")
    );
    let disconnected = server.call(Method::DELETE, &calendar, token, None).await;
    assert_eq!(
        disconnected.status,
        StatusCode::NO_CONTENT,
        "{disconnected:?}"
    );
    check("delete", "/api/calendars/{id}", &disconnected);
    check(
        "delete",
        "/api/calendars/{id}",
        &server.call(Method::DELETE, &calendar, token, None).await,
    );

    let gone = server
        .call(Method::DELETE, "/api/event-types/intro", token, None)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{gone:?}");
    check("delete", "/api/event-types/{slug}", &gone);

    let rotated = server
        .call(Method::POST, "/api/token/rotate", token, None)
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{rotated:?}");
    check("post", "/api/token/rotate", &rotated);
    check(
        "post",
        "/api/token/rotate",
        &server
            .call(Method::POST, "/api/token/rotate", token, None)
            .await,
    );

    // Operations added after this walk was written are checked by the
    // fuzzing (examples/scripts/fuzz-api.sh) until the walk calls them.
    let all = described(&doc);
    let unvisited: Vec<_> = all.difference(&seen).collect();
    if !unvisited.is_empty() {
        eprintln!("operations this walk does not call yet: {unvisited:?}");
    }
    assert!(seen.len() >= 38, "the walk calls every operation described");
}
