//! How PostgreSQL runs the insert statements. The store's connections use
//! generic plans (`plan_cache_mode=force_generic_plan`), made once per
//! connection from the statistics of that moment; a plan made while
//! `bookings` was empty (a new deployment, a table emptied by `TRUNCATE`)
//! stays in use until the table is next analyzed. Whatever plan was chosen, a booking
//! without limits, hold or client cap must not read the organizer's other
//! bookings: that would make every booking slower the more an organizer
//! already has.

mod common;

use booking_core::store::BookingStore;
use booking_core::testkit::fixtures::{at, new_booking, range};
use booking_postgres::testing::{INSERT_PARAMETER_TYPES, insert_statements};
use common::{TestDb, organizer};
use serde_json::Value;

/// Sum of `key` over every node of an `EXPLAIN (FORMAT JSON)` plan.
fn sum_over_nodes(node: &Value, key: &str) -> f64 {
    let own = node.get(key).and_then(Value::as_f64).unwrap_or(0.0);
    let children = node
        .get("Plans")
        .and_then(Value::as_array)
        .map_or(0.0, |plans| {
            plans.iter().map(|p| sum_over_nodes(p, key)).sum()
        });
    own + children
}

/// `EXECUTE` arguments for a confirmed booking of `organizer` at hour `hour`
/// of 1 March 2030: no event type, limits, hold, client cap, event or
/// idempotency key; decided on configuration version `version`.
fn arguments(id: &str, organizer: &str, hour: u32, version: i64) -> String {
    let start = format!("'2030-03-01 {hour:02}:00:00+00'");
    let end = format!("'2030-03-01 {hour:02}:30:00+00'");
    format!(
        "'{id}', '{organizer}', NULL, 'intro', 'Ann', 'ann@example.org', NULL, 'Intro', NULL, \
         {start}, {end}, now(), '0', '0', {start}, {end}, '{hash}', 'confirmed', NULL, NULL, \
         '{{}}', '{{}}', '{{}}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
         NULL, {version}",
        hash = "0".repeat(64),
    )
}

/// Both insert statements, planned generically while `bookings` is empty,
/// then run for an organizer with 200 bookings: no part of the plan reads
/// (and filters away) any of them.
#[tokio::test(flavor = "multi_thread")]
async fn an_insert_planned_on_an_empty_table_reads_none_of_the_organizers_bookings() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let version: i64 = sqlx::query_scalar("SELECT config_version FROM organizers WHERE id = $1")
        .bind(ada.id.to_string())
        .fetch_one(&db.pool)
        .await
        .unwrap();
    // Emptied after use (as `TRUNCATE` leaves it: no pages, no statistics).
    db.store
        .insert_booking(new_booking(ada.id, range(at(0, 0), 30), 0, 0))
        .await
        .unwrap();
    sqlx::query("TRUNCATE bookings, booking_events")
        .execute(&db.pool)
        .await
        .unwrap();
    let mut session = db.pool.acquire().await.unwrap();
    sqlx::query("SET plan_cache_mode = force_generic_plan")
        .execute(&mut *session)
        .await
        .unwrap();
    for (hour, (name, statement)) in (10..).zip(insert_statements()) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "PREPARE bk_{name} ({INSERT_PARAMETER_TYPES}) AS {statement}"
        )))
        .execute(&mut *session)
        .await
        .unwrap();
        // The generic plan is made at the first execution: on an empty table.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "EXECUTE bk_{name} ({})",
            arguments(&format!("first-{name}"), &ada.id.to_string(), hour, version)
        )))
        .execute(&mut *session)
        .await
        .unwrap();
    }
    // 200 bookings in December 2026: none near 1 March 2030.
    for k in 0..200 {
        let start = at(0, 0) + chrono::Duration::minutes(30 * k);
        db.store
            .insert_booking(new_booking(ada.id, range(start, 30), 0, 0))
            .await
            .unwrap();
    }
    assert_eq!(common::booking_rows(&db.pool).await, 202);

    for (hour, (name, _)) in (1..).zip(insert_statements()) {
        let plan: Value = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE bk_{name} ({})",
            arguments(&format!("probe-{name}"), &ada.id.to_string(), hour, version)
        )))
        .fetch_one(&mut *session)
        .await
        .unwrap();
        let root = &plan[0]["Plan"];
        assert_eq!(
            sum_over_nodes(root, "Rows Removed by Filter"),
            0.0,
            "{name} read bookings it then filtered away: {plan:#}"
        );
        assert_eq!(root["Actual Rows"], 1, "{name} answered");
    }
    assert_eq!(
        common::booking_rows(&db.pool).await,
        204,
        "both probes inserted"
    );
}
