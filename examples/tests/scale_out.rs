//! Many service processes on one PostgreSQL and one Redis (issue "Scale
//! out"): three `booking-service` processes, started as an operator starts
//! them, and 60 clients spread across them racing for the same slot, for the
//! last booking a day's limit allows, and with one idempotency key. Each race
//! has exactly one winner, and afterwards no two active bookings of the
//! organizer overlap (checked by SQL).
#![cfg(all(feature = "postgres", feature = "redis"))]

use std::collections::BTreeSet;
use std::sync::Arc;

use booking_core::chrono::{DateTime, Duration, Utc};
use booking_postgres::testing::{self, IsolatedSchema, PoolSettings};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Barrier;

mod common;
mod integrations_support;

use common::{booking_body, unique};
use integrations_support::{Program, free_port, tomorrow_at};

const PROCESSES: usize = 3;
const CLIENTS: usize = 60;

/// Three processes sharing one fresh schema and the Redis lock.
struct Cluster {
    programs: Vec<Program>,
    schema: IsolatedSchema,
    client: reqwest::Client,
}

impl Cluster {
    async fn start() -> Cluster {
        let settings = PoolSettings {
            max_connections: 2,
            application_name: "booking-examples-scale-out".to_owned(),
        };
        let schema = IsolatedSchema::create_with(&testing::database_url(), "bk_e2e", &settings)
            .await
            .unwrap_or_else(|error| {
                panic!("{error} (start PostgreSQL: scripts/ensure-services.sh)")
            });
        let env = [
            ("DATABASE_URL", schema.url_with_search_path()),
            ("REDIS_URL", common::pg::redis_url()),
        ];
        let mut programs = Vec::new();
        for _ in 0..PROCESSES {
            let addr = ([127, 0, 0, 1], free_port()).into();
            programs.push(Program::start(addr, &env).await);
        }
        Cluster {
            programs,
            schema,
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(CLIENTS)
                .build()
                .expect("http client"),
        }
    }

    /// The base URL client `n` talks to: clients spread evenly.
    fn base(&self, n: usize) -> String {
        self.programs[n % PROCESSES].base()
    }

    async fn send(
        &self,
        n: usize,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        body: Value,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base(n)))
            .json(&body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.expect("the service answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// An organizer registered through one process and open all week in UTC
    /// through another: (username, API token).
    async fn organizer(&self) -> (String, String) {
        let username = unique("scale");
        let (status, registered) = self
            .send(
                0,
                reqwest::Method::POST,
                "/api/organizers",
                None,
                json!({
                    "username": username,
                    "email": format!("{username}@example.com"),
                    "name": "Scale Out",
                    "timeZone": "UTC",
                }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{registered}");
        let token = registered["apiToken"]
            .as_str()
            .expect("apiToken")
            .to_owned();
        let day = json!([{"start": "00:00", "end": "24:00"}]);
        let (status, settings) = self
            .send(
                1,
                reqwest::Method::PUT,
                "/api/settings",
                Some(&token),
                json!({
                    "timeZone": "UTC",
                    "weeklyHours": {"monday": day, "tuesday": day, "wednesday": day,
                                    "thursday": day, "friday": day, "saturday": day,
                                    "sunday": day},
                    "dateOverrides": [],
                    "slotMinutes": 60,
                    "bufferBeforeMinutes": 0,
                    "bufferAfterMinutes": 0,
                    "minNoticeMinutes": 0,
                    "maxAdvanceDays": 30
                }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{settings}");
        (username, token)
    }

    /// Sends `CLIENTS` requests at once, client `n` to process `n % 3`,
    /// the body and key of each chosen by `request(n)`.
    async fn race(
        self: &Arc<Self>,
        request: impl Fn(usize) -> (Value, Option<String>),
    ) -> Vec<(StatusCode, Value)> {
        let barrier = Arc::new(Barrier::new(CLIENTS));
        let mut tasks = Vec::new();
        for n in 0..CLIENTS {
            let (body, key) = request(n);
            let cluster = Arc::clone(self);
            let barrier = Arc::clone(&barrier);
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                cluster
                    .send(
                        n,
                        reqwest::Method::POST,
                        "/api/bookings",
                        None,
                        body,
                        key.as_deref(),
                    )
                    .await
            }));
        }
        let mut replies = Vec::new();
        for task in tasks {
            replies.push(task.await.expect("a client task"));
        }
        replies
    }

    async fn active_bookings(&self) -> i64 {
        sqlx::query_scalar(
            "SELECT count(*) FROM bookings WHERE deleted_at IS NULL AND status = 'confirmed'",
        )
        .fetch_one(self.schema.pool())
        .await
        .expect("count bookings")
    }

    async fn overlapping_pairs(&self) -> i64 {
        sqlx::query_scalar(
            "SELECT count(*) FROM bookings a JOIN bookings b \
               ON a.organizer_id = b.organizer_id AND a.id < b.id \
             WHERE a.deleted_at IS NULL AND b.deleted_at IS NULL \
               AND a.occupied_start < b.occupied_end AND b.occupied_start < a.occupied_end",
        )
        .fetch_one(self.schema.pool())
        .await
        .expect("overlap query")
    }
}

fn winners(replies: &[(StatusCode, Value)]) -> Vec<&Value> {
    replies
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .map(|(_, body)| body)
        .collect()
}

fn codes_of_losers(replies: &[(StatusCode, Value)]) -> BTreeSet<String> {
    replies
        .iter()
        .filter(|(status, _)| *status != StatusCode::CREATED)
        .map(|(status, body)| {
            assert_eq!(*status, StatusCode::CONFLICT, "a loser is a 409: {body}");
            body["code"].as_str().unwrap_or("").to_owned()
        })
        .collect()
}

fn hours(start: DateTime<Utc>, minutes: i64) -> (DateTime<Utc>, DateTime<Utc>) {
    (start, start + Duration::minutes(minutes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_and_sixty_clients_have_one_winner_per_race() {
    let cluster = Arc::new(Cluster::start().await);
    let (username, token) = cluster.organizer().await;

    // 1. One slot, 60 clients, three processes.
    let (start, end) = hours(tomorrow_at(10), 60);
    let body = booking_body(&username, start, end, "Same slot");
    let replies = cluster.race(|_| (body.clone(), None)).await;
    assert_eq!(winners(&replies).len(), 1, "one slot, one booking");
    let codes = codes_of_losers(&replies);
    assert!(
        codes.is_subset(&BTreeSet::from([
            "slot_unavailable".to_owned(),
            "slot_being_booked".to_owned()
        ])),
        "{codes:?}"
    );

    // 2. The last booking a day's limit allows: an event type of at most 2
    // bookings a day, one already taken, 60 clients each after a different
    // (or, past 40, the same) free half hour of that day.
    let (status, created) = cluster
        .send(
            2,
            reqwest::Method::POST,
            "/api/event-types",
            Some(&token),
            json!({
                "slug": "limited",
                "title": "Limited",
                "durationMinutes": 30,
                "limits": {"perDay": 2},
            }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let day_after = tomorrow_at(0) + Duration::days(1);
    let limited = |start: DateTime<Utc>| {
        let mut body = booking_body(&username, start, start + Duration::minutes(30), "Limited");
        body["eventType"] = json!("limited");
        body
    };
    let (status, first) = cluster
        .send(
            0,
            reqwest::Method::POST,
            "/api/bookings",
            None,
            limited(day_after + Duration::hours(1)),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let replies = cluster
        .race(|n| {
            let slot = i64::try_from(n % 40).expect("small");
            (
                limited(day_after + Duration::hours(2) + Duration::minutes(30 * slot)),
                None,
            )
        })
        .await;
    assert_eq!(
        winners(&replies).len(),
        1,
        "the day's last booking goes to exactly one client: {:?}",
        codes_of_losers(&replies)
    );
    let codes = codes_of_losers(&replies);
    assert!(codes.contains("booking_limit_reached"), "{codes:?}");
    assert!(
        codes.is_subset(&BTreeSet::from([
            "booking_limit_reached".to_owned(),
            "slot_unavailable".to_owned(),
            "slot_being_booked".to_owned()
        ])),
        "{codes:?}"
    );

    // 3. One idempotency key, 60 identical requests: one booking, and every
    // 201 is the same booking; the rest were told the first is running.
    let (start, end) = hours(tomorrow_at(15), 60);
    let body = booking_body(&username, start, end, "One key");
    let key = unique("key");
    let replies = cluster.race(|_| (body.clone(), Some(key.clone()))).await;
    let won = winners(&replies);
    assert!(!won.is_empty(), "someone gets the booking");
    let ids: BTreeSet<&str> = won
        .iter()
        .map(|body| body["booking"]["id"].as_str().expect("booking id"))
        .collect();
    assert_eq!(ids.len(), 1, "every replay is the same booking: {ids:?}");
    let codes = codes_of_losers(&replies);
    assert!(
        codes.is_subset(&BTreeSet::from(["idempotency_in_progress".to_owned()])),
        "{codes:?}"
    );

    // Slot race + limit race (the earlier one and the winner) + key race.
    assert_eq!(cluster.active_bookings().await, 4);
    assert_eq!(cluster.overlapping_pairs().await, 0);
    let cluster = Arc::into_inner(cluster).expect("the races are over");
    drop(cluster.programs);
    cluster.schema.drop().await.expect("drop the test schema");
}
