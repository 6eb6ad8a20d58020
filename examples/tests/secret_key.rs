//! `BOOKING_SECRET_KEY` and idempotent bookings, with the `booking-service`
//! binary restarted: a retry with the same `Idempotency-Key` gets a cancel
//! token that still cancels, after a restart with the key and after the key
//! was set where there was none; and with the key, the idempotency key
//! alone does not give the cancel token.

use std::net::SocketAddr;

use hmac::{Hmac, Mac as _};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod common;
mod integrations_support;

use integrations_support::{Program, SECRET_KEY, free_port, tomorrow_at};

/// Registers an organizer open all week in UTC; their username.
async fn organizer(client: &reqwest::Client, base: &str) -> String {
    let username = common::unique("key");
    let registered = client
        .post(format!("{base}/api/organizers"))
        .json(
            &json!({"username": username, "email": format!("{username}@example.com"),
                      "name": "Key", "timeZone": "UTC"}),
        )
        .send()
        .await
        .expect("answers");
    assert_eq!(registered.status(), StatusCode::CREATED);
    let registered: Value = registered.json().await.expect("json");
    let token = registered["apiToken"].as_str().expect("token").to_owned();
    let day = json!([{"start": "00:00", "end": "24:00"}]);
    let status = client
        .put(format!("{base}/api/settings"))
        .bearer_auth(&token)
        .json(&json!({
            "timeZone": "UTC",
            "weeklyHours": {"monday": day, "tuesday": day, "wednesday": day, "thursday": day,
                            "friday": day, "saturday": day, "sunday": day},
            "dateOverrides": [], "slotMinutes": 60, "bufferBeforeMinutes": 0,
            "bufferAfterMinutes": 0, "minNoticeMinutes": 0, "maxAdvanceDays": 30
        }))
        .send()
        .await
        .expect("answers")
        .status();
    assert_eq!(status, StatusCode::OK);
    username
}

/// `POST /api/bookings` at tomorrow `hour`:00 with `key`: (booking id,
/// cancel token, replayed).
async fn book(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    hour: u32,
    key: &str,
) -> (String, String, bool) {
    let reply = client
        .post(format!("{base}/api/bookings"))
        .header("Idempotency-Key", key)
        .json(&common::booking_body(
            username,
            tomorrow_at(hour),
            tomorrow_at(hour + 1),
            "Keyed",
        ))
        .send()
        .await
        .expect("answers");
    assert_eq!(reply.status(), StatusCode::CREATED);
    let replayed = reply.headers().contains_key("idempotent-replayed");
    let body: Value = reply.json().await.expect("json");
    (
        body["booking"]["id"].as_str().expect("id").to_owned(),
        body["cancelToken"]
            .as_str()
            .expect("cancel token")
            .to_owned(),
        replayed,
    )
}

async fn cancel(client: &reqwest::Client, base: &str, id: &str, token: &str) -> StatusCode {
    client
        .post(format!("{base}/api/bookings/{id}/cancel"))
        .json(&json!({"cancelToken": token}))
        .send()
        .await
        .expect("answers")
        .status()
}

/// What anyone holding only the idempotency key could compute: the token
/// derived without a server secret.
fn derived_from_the_key_alone(key: &str, booking_id: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(booking_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn replays_return_a_working_cancel_token_across_restarts_and_when_the_key_is_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("booking.db").display());
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let without_key = vec![("DATABASE_URL", database.clone())];
    let with_key = vec![
        ("DATABASE_URL", database.clone()),
        ("BOOKING_SECRET_KEY", SECRET_KEY.to_owned()),
    ];
    let client = reqwest::Client::new();

    // 1. No key: a keyed booking, exactly as before the key existed.
    let program = Program::start(addr, &without_key).await;
    let base = program.base();
    let username = organizer(&client, &base).await;
    let (early_id, early_token, replayed) = book(&client, &base, &username, 9, "early-key").await;
    assert!(!replayed);
    assert_eq!(
        early_token,
        derived_from_the_key_alone("early-key", &early_id),
        "without a key the token is derived from the idempotency key"
    );
    program.kill_9();

    // 2. Restarted with the key: the retry of the earlier booking still
    // gets the token it was made with; a new booking's token needs the key.
    let program = Program::start(addr, &with_key).await;
    let (id, token, replayed) = book(&client, &base, &username, 9, "early-key").await;
    assert!(replayed, "the same key replays");
    assert_eq!(
        (id.as_str(), token.as_str()),
        (early_id.as_str(), early_token.as_str())
    );
    let (late_id, late_token, replayed) = book(&client, &base, &username, 11, "late-key").await;
    assert!(!replayed);
    assert_ne!(
        late_token,
        derived_from_the_key_alone("late-key", &late_id),
        "with BOOKING_SECRET_KEY the idempotency key alone does not give the cancel token"
    );
    program.kill_9();

    // 3. Restarted again with the same key: the replay is the same token,
    // and both replayed tokens cancel their bookings.
    let program = Program::start(addr, &with_key).await;
    let (id, token, replayed) = book(&client, &base, &username, 11, "late-key").await;
    assert!(replayed);
    assert_eq!(
        (id.as_str(), token.as_str()),
        (late_id.as_str(), late_token.as_str())
    );
    assert_eq!(
        cancel(&client, &base, &late_id, &token).await,
        StatusCode::OK
    );
    assert_eq!(
        cancel(&client, &base, &early_id, &early_token).await,
        StatusCode::OK
    );
    drop(program);
}
