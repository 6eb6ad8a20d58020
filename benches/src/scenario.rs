//! The measured phases: the booking path through `BookingService`, the raw
//! limits it is compared with (single INSERTs, single Redis round trips),
//! the contended slot, and the statement / round-trip counts.

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use booking_core::availability::counted_range_for;
use booking_core::booking::{Booking, BookingId, NewBooking};
use booking_core::event::{BookingEvent, BookingEventKind, EventId};
use booking_core::event_type::{DEFAULT_SLUG, Slug};
use booking_core::lock::{DEFAULT_LOCK_TTL, SlotKey, SlotLock};
use booking_core::organizer::{OrganizerId, OrganizerRef};
use booking_core::secret::TokenHash;
use booking_core::service::BookingService;
use booking_core::store::{BookingStore, ContextQuery, StoreError};
use booking_core::{Attendee, TimeRange};
use booking_postgres::PostgresStore;
use booking_redis_lock::{RELEASE_SCRIPT, RedisLock, RedisLockConfig};
use chrono::Duration as ChronoDuration;
use sqlx::postgres::{PgConnection, PgSslMode};
use sqlx::types::Json;
use sqlx::{Connection as _, PgPool};
use tokio::sync::Mutex as AsyncMutex;

use crate::backend::{Env, LoadError, LoadOrganizer, schema_options};
use crate::fixtures::{
    self, ATTENDEE_EMAIL, ATTENDEE_NAME, BOOKING_DESCRIPTION, BOOKING_TITLE, Bound,
    LOAD_FIRST_SLOT, LOAD_NOW, Layout, booking_request, load_slot, organizer_username,
};
use crate::pgwire::{CountingProxy, Snapshot};
use crate::stats::Measurement;

/// Why one operation failed: a stable code to count by, and the full
/// message (printed once per code).
#[derive(Debug, Clone)]
pub struct OpError {
    /// Grouping key, e.g. `slot_unavailable`.
    pub code: String,
    /// The error with its sources.
    pub message: String,
}

impl OpError {
    /// An error with this code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        OpError {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The error and its chain of sources on one line.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Runs one task per entry of `cursors`, each calling `op(task, n)` with
/// `n` counting up from its cursor, until `bound` is reached; records every
/// latency and leaves each cursor at the task's next `n`, so a later phase
/// continues where this one stopped.
pub async fn drive<F, Fut>(cursors: &mut [u64], bound: Bound, op: F) -> Measurement
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), OpError>> + Send + 'static,
{
    let op = Arc::new(op);
    let claimed = Arc::new(AtomicU64::new(0));
    let reported: Arc<Mutex<HashSet<String>>> = Arc::default();
    let cpu_before = crate::cpu::CpuSample::now();
    let start = Instant::now();
    let (deadline, limit) = match bound {
        Bound::Time(d) => (Some(start + d), None),
        Bound::Count(n) => (None, Some(n)),
    };
    let mut handles = Vec::with_capacity(cursors.len());
    for (task, first) in cursors.iter().copied().enumerate() {
        let op = Arc::clone(&op);
        let claimed = Arc::clone(&claimed);
        let reported = Arc::clone(&reported);
        handles.push(tokio::spawn(async move {
            let mut m = Measurement::default();
            let mut n = first;
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                if limit.is_some_and(|l| claimed.fetch_add(1, Ordering::Relaxed) >= l) {
                    break;
                }
                let t0 = Instant::now();
                let result = op(task, n).await;
                m.latencies.push(t0.elapsed());
                match result {
                    Ok(()) => m.ok += 1,
                    Err(error) => {
                        let first_time = reported
                            .lock()
                            .map(|mut seen| seen.insert(error.code.clone()))
                            .unwrap_or(false);
                        if first_time {
                            eprintln!("  first {} error: {}", error.code, error.message);
                        }
                        m.add_error(&error.code);
                    }
                }
                n += 1;
            }
            (m, n)
        }));
    }
    let mut total = Measurement::default();
    for (task, handle) in handles.into_iter().enumerate() {
        match handle.await {
            Ok((m, next)) => {
                total.absorb(m);
                cursors[task] = next;
            }
            Err(join) => {
                eprintln!("  a load task failed: {join}");
                total.add_error("task_failed");
            }
        }
    }
    total.elapsed = start.elapsed();
    total.cpu = Some(crate::cpu::CpuSample::now().since(&cpu_before));
    total
}

/// `create_booking` through the service: task `task`'s `n`-th booking per
/// `layout`, on the organizers of run `run`.
pub fn booking_op(
    service: BookingService,
    run: Arc<str>,
    layout: Layout,
) -> impl Fn(usize, u64) -> std::pin::Pin<Box<dyn Future<Output = Result<(), OpError>> + Send>>
+ Send
+ Sync
+ 'static {
    move |task, n| {
        let service = service.clone();
        let run = Arc::clone(&run);
        Box::pin(async move {
            let (organizer, slot) = layout
                .booking(task, n)
                .ok_or_else(|| OpError::new("horizon", "the organizers' horizon is used up"))?;
            let range = load_slot(slot).map_err(|e| OpError::new("fixture", e.to_string()))?;
            let request = booking_request(&organizer_username(&run, organizer), range);
            match service.create_booking(request).await {
                Ok(_) => Ok(()),
                Err(error) => Err(OpError::new(error.code(), chain(&error))),
            }
        })
    }
}

/// The booking the service would hand the store for `organizer`'s `slot`:
/// its default event type, the same attendee, title and description, no
/// buffers, no limits, a cancel-token hash, and the `booking.created` event
/// the store writes in the same atomic step.
pub fn new_booking(organizer: LoadOrganizer, slot: u64) -> Result<NewBooking, OpError> {
    let time = load_slot(slot).map_err(|e| OpError::new("fixture", e.to_string()))?;
    Ok(new_booking_at(organizer, time))
}

/// [`new_booking`] for any `time` (not only the load layout's slots).
pub fn new_booking_at(organizer: LoadOrganizer, time: TimeRange) -> NewBooking {
    let mut new = NewBooking {
        config_version: None,
        id: BookingId::generate(),
        organizer_id: organizer.id,
        event_type_id: organizer.event_type_id,
        event_type_slug: Slug::default_slug(),
        attendee: Attendee::new(ATTENDEE_NAME, ATTENDEE_EMAIL),
        metadata: None,
        title: BOOKING_TITLE.into(),
        description: Some(BOOKING_DESCRIPTION.into()),
        time,
        buffer_before: ChronoDuration::zero(),
        buffer_after: ChronoDuration::zero(),
        cancel_token_hash: TokenHash::of("raw insert"),
        created_at: LOAD_NOW,
        limits: Vec::new(),
        replaces_hold: None,
        idempotency: None,
        event: None,
    };
    let event = BookingEvent {
        seq: 0,
        id: EventId::generate(),
        kind: BookingEventKind::Created,
        occurred_at: LOAD_NOW,
        booking: Booking::from_new(new.clone()),
        previous_time: None,
        cancelled_by: None,
    };
    new.event = Some(event.to_record());
    new
}

/// What the service reads before a booking of `time` on `organizer`: the
/// context of its default event type, occupied intervals within two days
/// (the widest reach of buffers and lengths) and, were there limits, the
/// starts they count.
pub fn context_query(organizer: OrganizerId, time: TimeRange) -> ContextQuery {
    ContextQuery {
        organizer: OrganizerRef::Id(organizer),
        event_type: Slug::default_slug(),
        occupied_within: time.widened(ChronoDuration::days(2), ChronoDuration::days(2)),
        counted_within: counted_range_for(time),
        now: LOAD_NOW,
    }
}

/// `store.insert_booking` alone, without the service around it.
pub fn store_insert_op(
    store: Arc<dyn BookingStore>,
    organizers: Arc<Vec<LoadOrganizer>>,
    layout: Layout,
) -> impl Fn(usize, u64) -> std::pin::Pin<Box<dyn Future<Output = Result<(), OpError>> + Send>>
+ Send
+ Sync
+ 'static {
    move |task, n| {
        let store = Arc::clone(&store);
        let organizers = Arc::clone(&organizers);
        Box::pin(async move {
            let (organizer, slot) = layout
                .booking(task, n)
                .ok_or_else(|| OpError::new("horizon", "horizon used up"))?;
            let booking = new_booking(organizers[organizer], slot)?;
            match store.insert_booking(booking).await {
                Ok(_) => Ok(()),
                Err(StoreError::Conflict) => Err(OpError::new("conflict", "conflict")),
                Err(error) => Err(OpError::new("store", chain(&error))),
            }
        })
    }
}

/// `store.booking_context` then `store.insert_booking`: the store's two
/// calls of a booking, without the service (validation, lock, availability
/// check, cancel token) around them.
pub fn store_context_insert_op(
    store: Arc<dyn BookingStore>,
    organizers: Arc<Vec<LoadOrganizer>>,
    layout: Layout,
) -> impl Fn(usize, u64) -> std::pin::Pin<Box<dyn Future<Output = Result<(), OpError>> + Send>>
+ Send
+ Sync
+ 'static {
    move |task, n| {
        let store = Arc::clone(&store);
        let organizers = Arc::clone(&organizers);
        Box::pin(async move {
            let (organizer, slot) = layout
                .booking(task, n)
                .ok_or_else(|| OpError::new("horizon", "horizon used up"))?;
            let booking = new_booking(organizers[organizer], slot)?;
            store
                .booking_context(&context_query(booking.organizer_id, booking.time))
                .await
                .map_err(|e| OpError::new("store", chain(&e)))?
                .ok_or_else(|| OpError::new("store", "organizer not found"))?;
            match store.insert_booking(booking).await {
                Ok(_) => Ok(()),
                Err(StoreError::Conflict) => Err(OpError::new("conflict", "conflict")),
                Err(error) => Err(OpError::new("store", chain(&error))),
            }
        })
    }
}

// ------------------------------------------------------------- PostgreSQL

/// The raw INSERT in the shape of the store's row insert: one statement,
/// every column a booking of the default event type has, `ON CONFLICT ON
/// CONSTRAINT bookings_no_overlap DO NOTHING`. (The store's own statement
/// also checks limits, replaces a hold and writes the `booking.created` event
/// in data-modifying `WITH` parts; this is the bare row.)
pub const RAW_INSERT_ON_CONFLICT: &str = "\
    INSERT INTO bookings (id, organizer_id, event_type_id, event_type_slug, attendant_name, \
        attendant_email, metadata, title, description, start_time, end_time, created_at, updated_at, \
        buffer_before, buffer_after, occupied_start, occupied_end, cancel_token_hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15, $16, $17) \
    ON CONFLICT ON CONSTRAINT bookings_no_overlap DO NOTHING RETURNING id";

/// The plain INSERT (an overlap raises 23P01 instead).
pub const RAW_INSERT_PLAIN: &str = "\
    INSERT INTO bookings (id, organizer_id, event_type_id, event_type_slug, attendant_name, \
        attendant_email, metadata, title, description, start_time, end_time, created_at, updated_at, \
        buffer_before, buffer_after, occupied_start, occupied_end, cancel_token_hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15, $16, $17) \
    RETURNING id";

/// A copy of `PostgresStore`'s one-query booking context by organizer id
/// (organizer, configuration version, event type `$1`, its schedule, the
/// occupied intervals of live rows at `$6` overlapping `[$2, $3)`, and the
/// starts its limits count in `[$4, $5)` when it has limits; organizer
/// `$7`), for the raw "read + insert" figure: the floor of the
/// one-read-one-insert design on dedicated connections, without the pool and
/// the store's decoding. Keep it in step with `booking_context!` in
/// booking-postgres/src/sql/mod.rs (here with its macros expanded).
pub const RAW_BOOKING_CONTEXT: &str = "\
    WITH o AS (SELECT id, username, email, display_name, time_zone, api_token_hash, created_at, \
        config_version FROM organizers WHERE id = $7) \
    SELECT o.id, o.username, o.email, o.display_name, o.time_zone, o.api_token_hash, o.created_at, \
        o.config_version, \
        et.id AS et_id, et.slug AS et_slug, et.title AS et_title, et.description AS et_description, \
        et.duration AS et_duration, et.duration_options AS et_duration_options, \
        et.slot_step AS et_slot_step, et.buffer_before AS et_buffer_before, \
        et.buffer_after AS et_buffer_after, et.min_notice AS et_min_notice, \
        et.booking_window_kind AS et_booking_window_kind, \
        et.booking_window_horizon AS et_booking_window_horizon, \
        et.booking_window_days AS et_booking_window_days, \
        et.booking_window_first AS et_booking_window_first, \
        et.booking_window_last AS et_booking_window_last, \
        et.limit_per_day AS et_limit_per_day, et.limit_per_week AS et_limit_per_week, \
        et.limit_week_starts_on AS et_limit_week_starts_on, et.schedule_id AS et_schedule_id, \
        et.location AS et_location, et.active AS et_active, et.hold_duration AS et_hold_duration, \
        sc.id AS sc_id, sc.name AS sc_name, sc.time_zone AS sc_time_zone, \
        sc.weekly_hours AS sc_weekly_hours, sc.date_overrides AS sc_date_overrides, \
        sc.is_default AS sc_is_default, \
        COALESCE(occ.starts, '{}') AS occupied_starts, COALESCE(occ.ends, '{}') AS occupied_ends, \
        COALESCE(cnt.starts, '{}') AS booked_starts \
    FROM o \
    LEFT JOIN event_types et ON et.organizer_id = o.id AND et.slug = $1 \
    LEFT JOIN schedules sc ON sc.organizer_id = o.id AND et.id IS NOT NULL \
        AND (sc.id = et.schedule_id OR (et.schedule_id IS NULL AND sc.is_default)) \
    CROSS JOIN LATERAL ( \
        SELECT array_agg(b.occupied_start ORDER BY b.occupied_start, b.occupied_end) AS starts, \
            array_agg(b.occupied_end ORDER BY b.occupied_start, b.occupied_end) AS ends \
        FROM bookings b \
        WHERE b.organizer_id = o.id \
          AND b.deleted_at IS NULL AND (b.status = 'confirmed' OR b.hold_expires_at > $6) \
          AND tstzrange(b.occupied_start, b.occupied_end, '[)') && tstzrange($2, $3, '[)') \
    ) occ \
    CROSS JOIN LATERAL ( \
        SELECT array_agg(b.start_time ORDER BY b.start_time) AS starts \
        FROM bookings b \
        WHERE (et.limit_per_day IS NOT NULL OR et.limit_per_week IS NOT NULL) \
          AND b.organizer_id = o.id AND b.event_type_id = et.id \
          AND b.deleted_at IS NULL AND (b.status = 'confirmed' OR b.hold_expires_at > $6) \
          AND b.start_time >= $4 AND b.start_time < $5 \
    ) cnt";

/// Dedicated connections for the raw INSERTs, one per task: nothing between
/// the task and PostgreSQL (no pool, no ping).
pub struct PgRaw {
    conns: Vec<AsyncMutex<PgConnection>>,
    /// Each organizer's id and its default event type's id, as text.
    organizers: Vec<(String, String)>,
}

impl PgRaw {
    /// Opens `tasks` connections on `schema`, inserting for `organizers`.
    pub async fn connect(
        env: &Env,
        schema: &str,
        tasks: usize,
        organizers: &[LoadOrganizer],
    ) -> Result<Arc<PgRaw>, LoadError> {
        let options = schema_options(&env.database_url, schema)?;
        let mut conns = Vec::with_capacity(tasks);
        for _ in 0..tasks {
            let conn = PgConnection::connect_with(&options)
                .await
                .map_err(LoadError::postgres(&env.database_url))?;
            conns.push(AsyncMutex::new(conn));
        }
        Ok(Arc::new(PgRaw {
            conns,
            organizers: organizers
                .iter()
                .map(|o| (o.id.to_string(), o.event_type_id.to_string()))
                .collect(),
        }))
    }

    /// One raw INSERT per call, with `sql` ([`RAW_INSERT_ON_CONFLICT`] or
    /// [`RAW_INSERT_PLAIN`]); with `read_first`, the booking context is read
    /// ([`RAW_BOOKING_CONTEXT`]) on the same connection before it.
    pub fn op(
        self: &Arc<Self>,
        sql: &'static str,
        read_first: bool,
        layout: Layout,
    ) -> impl Fn(usize, u64) -> std::pin::Pin<Box<dyn Future<Output = Result<(), OpError>> + Send>>
    + Send
    + Sync
    + 'static {
        let raw = Arc::clone(self);
        let hash = TokenHash::of("raw insert").to_hex();
        move |task, n| {
            let raw = Arc::clone(&raw);
            let hash = hash.clone();
            Box::pin(async move {
                let (organizer, slot) = layout
                    .booking(task, n)
                    .ok_or_else(|| OpError::new("horizon", "horizon used up"))?;
                let range = load_slot(slot).map_err(|e| OpError::new("fixture", e.to_string()))?;
                let (organizer_id, event_type_id) = &raw.organizers[organizer];
                let mut conn = raw.conns[task].lock().await;
                if read_first {
                    let reach = range.widened(ChronoDuration::days(2), ChronoDuration::days(2));
                    let counted = counted_range_for(range);
                    sqlx::query(RAW_BOOKING_CONTEXT)
                        .bind(DEFAULT_SLUG)
                        .bind(reach.start())
                        .bind(reach.end())
                        .bind(counted.start())
                        .bind(counted.end())
                        .bind(LOAD_NOW)
                        .bind(organizer_id)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(|e| OpError::new("postgres", chain(&e)))?
                        .ok_or_else(|| OpError::new("postgres", "no such organizer"))?;
                }
                let row: Option<(String,)> = sqlx::query_as(sql)
                    .bind(BookingId::generate().to_string())
                    .bind(organizer_id)
                    .bind(event_type_id)
                    .bind(DEFAULT_SLUG)
                    .bind(ATTENDEE_NAME)
                    .bind(ATTENDEE_EMAIL)
                    .bind(None::<Json<serde_json::Value>>)
                    .bind(BOOKING_TITLE)
                    .bind(Some(BOOKING_DESCRIPTION))
                    .bind(range.start())
                    .bind(range.end())
                    .bind(LOAD_NOW)
                    .bind(ChronoDuration::zero())
                    .bind(ChronoDuration::zero())
                    .bind(range.start())
                    .bind(range.end())
                    .bind(&hash)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(|e| OpError::new("postgres", chain(&e)))?;
                row.map(|_| ())
                    .ok_or_else(|| OpError::new("conflict", "conflict"))
            })
        }
    }

    /// Closes the connections.
    pub async fn close(self: Arc<Self>) {
        if let Ok(raw) = Arc::try_unwrap(self) {
            for conn in raw.conns {
                let _ = conn.into_inner().close().await;
            }
        }
    }
}

/// Round trips and statements per `create_booking` on PostgreSQL, counted
/// by a [`CountingProxy`] in front of the server: a separate one-connection
/// pool on `schema` (built like the service's, TLS off so the stream can be
/// read), a new organizer, one booking to warm caches, then `bookings`
/// sequential bookings counted.
pub async fn postgres_round_trips(
    env: &Env,
    schema: &str,
    lock: Arc<dyn SlotLock>,
    run: &str,
    bookings: u64,
) -> Result<Snapshot, LoadError> {
    let url = &env.database_url;
    let options = schema_options(url, schema)?;
    let upstream = tokio::net::lookup_host((options.get_host(), options.get_port()))
        .await?
        .next()
        .ok_or_else(|| LoadError::Other(format!("cannot resolve the host of {url}")))?;
    let proxy = CountingProxy::start(upstream).await?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .test_before_acquire(env.pool_ping)
        .connect_with(
            options
                .host("127.0.0.1")
                .port(proxy.addr().port())
                .ssl_mode(PgSslMode::Disable),
        )
        .await
        .map_err(LoadError::postgres(url))?;
    let service =
        crate::backend::service_over(Arc::new(PostgresStore::from_pool(pool.clone())), lock);
    let tag = format!("{run}rt");
    crate::backend::register_organizers(&service, &tag, 1).await?;
    let username = organizer_username(&tag, 0);
    service
        .create_booking(booking_request(&username, load_slot(0)?))
        .await?;
    let before = proxy.snapshot();
    for slot in 1..=bookings {
        service
            .create_booking(booking_request(&username, load_slot(slot)?))
            .await?;
    }
    let counted = proxy.snapshot().since(&before);
    pool.close().await;
    Ok(counted)
}

// ------------------------------------------------------------------ SQLite

/// The raw SQLite limit: single-row INSERT transactions (`BEGIN IMMEDIATE;
/// INSERT; COMMIT`) into the store's `bookings` table from one connection
/// with the store's pragmas, on a blocking thread, nothing around them.
/// SQLite has one writer, so one connection is its limit; more would only
/// wait on each other.
pub async fn sqlite_raw_inserts(
    path: std::path::PathBuf,
    organizers: Vec<LoadOrganizer>,
    layout: Layout,
    cursors: &mut [u64],
    bound: Bound,
) -> Result<Measurement, LoadError> {
    let mut local = cursors.to_vec();
    let (measurement, local) = tokio::task::spawn_blocking(move || {
        let result = sqlite_raw_loop(&path, &organizers, layout, &mut local, bound);
        result.map(|m| (m, local))
    })
    .await
    .map_err(|e| LoadError::Other(e.to_string()))??;
    cursors.copy_from_slice(&local);
    Ok(measurement)
}

fn sqlite_raw_loop(
    path: &std::path::Path,
    organizers: &[LoadOrganizer],
    layout: Layout,
    cursors: &mut [u64],
    bound: Bound,
) -> Result<Measurement, LoadError> {
    let sqlite = |e: rusqlite::Error| LoadError::Sqlite(e.to_string());
    let mut conn = rusqlite::Connection::open(path).map_err(sqlite)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(sqlite)?;
    let _mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(sqlite)?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
        .map_err(sqlite)?;
    let organizers: Vec<(String, String)> = organizers
        .iter()
        .map(|o| (o.id.to_string(), o.event_type_id.to_string()))
        .collect();
    let hash = TokenHash::of("raw insert").to_hex();
    let mut m = Measurement::default();
    let cpu_before = crate::cpu::CpuSample::now();
    let start = Instant::now();
    let mut i: u64 = 0;
    loop {
        match bound {
            Bound::Time(d) if start.elapsed() >= d => break,
            Bound::Count(n) if i >= n => break,
            _ => {}
        }
        let task = usize::try_from(i % cursors.len().max(1) as u64).unwrap_or(0);
        i += 1;
        let Some((organizer, slot)) = layout.booking(task, cursors[task]) else {
            m.add_error("horizon");
            break;
        };
        cursors[task] += 1;
        let range = load_slot(slot)?;
        let t0 = Instant::now();
        let result = (|| -> rusqlite::Result<()> {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.prepare_cached(
                "INSERT INTO bookings (id, organizer_id, event_type_id, event_type_slug, attendant_name, \
                   attendant_email, metadata, title, description, start_time, end_time, buffer_before_secs, \
                   buffer_after_secs, occupied_start, occupied_end, cancel_token_hash, created_at, \
                   updated_at, deleted_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, NULL)",
            )?
            .execute(rusqlite::params![
                BookingId::generate().to_string(),
                organizers[organizer].0,
                organizers[organizer].1,
                DEFAULT_SLUG,
                ATTENDEE_NAME,
                ATTENDEE_EMAIL,
                None::<String>,
                BOOKING_TITLE,
                Some(BOOKING_DESCRIPTION),
                range.start().timestamp_micros(),
                range.end().timestamp_micros(),
                0i64,
                0i64,
                range.start().timestamp_micros(),
                range.end().timestamp_micros(),
                hash,
                LOAD_NOW.timestamp_micros(),
            ])?;
            tx.commit()
        })();
        m.latencies.push(t0.elapsed());
        match result {
            Ok(()) => m.ok += 1,
            Err(error) => {
                if m.errors.is_empty() {
                    eprintln!("  first sqlite raw insert error: {error}");
                }
                m.add_error("sqlite");
            }
        }
    }
    m.elapsed = start.elapsed();
    m.cpu = Some(crate::cpu::CpuSample::now().since(&cpu_before));
    Ok(m)
}

// ------------------------------------------------------------------- Redis

/// A Redis connection for the raw round trips: the multiplexed kind the
/// lock's connection manager uses.
pub async fn redis_connection(url: &str) -> Result<redis::aio::MultiplexedConnection, LoadError> {
    let client = redis::Client::open(url).map_err(|e| LoadError::redis(url)(e.to_string()))?;
    client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| LoadError::redis(url)(e.to_string()))
}

/// The raw Redis limit: `SET key token NX PX 10000` then the lock's own
/// compare-and-delete script (`EVALSHA`), nothing else. With `conns` of
/// length 1 every task shares one multiplexed connection (as the lock does);
/// otherwise task `t` uses `conns[t % len]`.
pub fn redis_raw_op(
    conns: Arc<Vec<redis::aio::MultiplexedConnection>>,
    prefix: Arc<str>,
) -> impl Fn(usize, u64) -> std::pin::Pin<Box<dyn Future<Output = Result<(), OpError>> + Send>>
+ Send
+ Sync
+ 'static {
    let script = Arc::new(redis::Script::new(RELEASE_SCRIPT));
    move |task, n| {
        let mut conn = conns[task % conns.len().max(1)].clone();
        let prefix = Arc::clone(&prefix);
        let script = Arc::clone(&script);
        Box::pin(async move {
            let key = format!("{prefix}:{task}:{n}");
            let token = format!("{:064x}", (u128::from(n) << 16) | task as u128);
            let redis_err = |e: redis::RedisError| OpError::new("redis", e.to_string());
            let set: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(10_000u64)
                .query_async(&mut conn)
                .await
                .map_err(redis_err)?;
            if set.is_none() {
                return Err(OpError::new("held", "key already held"));
            }
            let deleted: i64 = script
                .key(&key)
                .arg(&token)
                .invoke_async(&mut conn)
                .await
                .map_err(redis_err)?;
            if deleted == 1 {
                Ok(())
            } else {
                Err(OpError::new("not_released", "release deleted nothing"))
            }
        })
    }
}

/// `RedisLock::acquire` + `release` on distinct keys, as the service calls
/// them for a booking.
pub fn lock_pair_op(
    lock: Arc<RedisLock>,
    organizers: Arc<Vec<OrganizerId>>,
) -> impl Fn(usize, u64) -> std::pin::Pin<Box<dyn Future<Output = Result<(), OpError>> + Send>>
+ Send
+ Sync
+ 'static {
    move |task, n| {
        let lock = Arc::clone(&lock);
        let organizers = Arc::clone(&organizers);
        Box::pin(async move {
            let minutes = i64::try_from(n).unwrap_or(i64::MAX / 120);
            let key = SlotKey {
                organizer_id: organizers[task % organizers.len().max(1)],
                start: LOAD_FIRST_SLOT + ChronoDuration::minutes(minutes),
            };
            let guard = lock
                .acquire(&key, DEFAULT_LOCK_TTL)
                .await
                .map_err(|e| OpError::new("lock", chain(&e)))?;
            lock.release(&guard)
                .await
                .map_err(|e| OpError::new("lock", chain(&e)))?;
            Ok(())
        })
    }
}

/// A [`RedisLock`] with its own key prefix, for the lock-pair phase.
pub async fn bench_lock(url: &str, prefix: &str) -> Result<Arc<RedisLock>, LoadError> {
    let lock = RedisLock::connect(url, RedisLockConfig::default().with_prefix(prefix))
        .await
        .map_err(|e| LoadError::redis(url)(e.to_string()))?;
    Ok(Arc::new(lock))
}

/// Redis's own command counters (`INFO`): all commands, and the three the
/// lock sends. `total_commands_processed` also counts the commands a Lua
/// script runs (the release script's `GET` and `DEL`), so round trips are
/// `SET + EVALSHA + EVAL`, not `total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedisCounts {
    /// `total_commands_processed`, including commands run inside scripts
    /// and other clients' commands.
    pub total: u64,
    /// `SET` calls.
    pub set: u64,
    /// `EVALSHA` calls.
    pub evalsha: u64,
    /// `EVAL` calls (the script's fallback when not cached).
    pub eval: u64,
}

impl RedisCounts {
    /// Commands the lock sends, one round trip each.
    pub fn round_trips(&self) -> u64 {
        self.set + self.evalsha + self.eval
    }

    /// Adds `other` to `self`.
    pub fn add(&mut self, other: &RedisCounts) {
        self.total += other.total;
        self.set += other.set;
        self.evalsha += other.evalsha;
        self.eval += other.eval;
    }

    /// What happened between `earlier` and `self`, less the one `INFO`
    /// that took `self`.
    pub fn since(&self, earlier: &RedisCounts) -> RedisCounts {
        RedisCounts {
            total: self.total.saturating_sub(earlier.total).saturating_sub(1),
            set: self.set.saturating_sub(earlier.set),
            evalsha: self.evalsha.saturating_sub(earlier.evalsha),
            eval: self.eval.saturating_sub(earlier.eval),
        }
    }
}

/// Reads the counters (one `INFO all`).
pub async fn redis_counts(url: &str) -> Result<RedisCounts, LoadError> {
    let mut conn = redis_connection(url).await?;
    let info: String = redis::cmd("INFO")
        .arg("all")
        .query_async(&mut conn)
        .await
        .map_err(|e| LoadError::redis(url)(e.to_string()))?;
    Ok(parse_redis_counts(&info))
}

fn parse_redis_counts(info: &str) -> RedisCounts {
    let mut counts = RedisCounts::default();
    for line in info.lines() {
        let line = line.trim();
        if let Some(total) = line.strip_prefix("total_commands_processed:") {
            counts.total = total.parse().unwrap_or(0);
        }
        let calls = |rest: &str| -> u64 {
            rest.split(',')
                .find_map(|kv| kv.strip_prefix("calls="))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        if let Some(rest) = line.strip_prefix("cmdstat_set:") {
            counts.set = calls(rest);
        } else if let Some(rest) = line.strip_prefix("cmdstat_evalsha:") {
            counts.evalsha = calls(rest);
        } else if let Some(rest) = line.strip_prefix("cmdstat_eval:") {
            counts.eval = calls(rest);
        }
    }
    counts
}

/// The server's version (`redis_version` from `INFO server`).
pub async fn redis_version(url: &str) -> Result<String, LoadError> {
    let mut conn = redis_connection(url).await?;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut conn)
        .await
        .map_err(|e| LoadError::redis(url)(e.to_string()))?;
    Ok(info
        .lines()
        .find_map(|l| l.trim().strip_prefix("redis_version:"))
        .unwrap_or("unknown")
        .to_owned())
}

// ---------------------------------------------------------------- contention

/// What the contended scenario saw.
#[derive(Debug, Clone, Default)]
pub struct Contended {
    /// Successful bookings in each round (must all be 1).
    pub winners: Vec<u32>,
    /// Latency of every refused racer.
    pub losers: Measurement,
    /// Latency of every winner.
    pub winner_latencies: Vec<Duration>,
}

impl Contended {
    /// Rounds that did not have exactly one winner.
    pub fn bad_rounds(&self) -> usize {
        self.winners.iter().filter(|w| **w != 1).count()
    }

    /// Winners in all.
    pub fn total_winners(&self) -> u64 {
        self.winners.iter().map(|w| u64::from(*w)).sum()
    }
}

/// `racers` tasks released together by a barrier, all booking the same slot
/// of `username`, for `rounds` rounds (a new slot each round, slots
/// `first_slot..`).
pub async fn contended(
    service: &BookingService,
    username: &str,
    rounds: u32,
    racers: usize,
    first_slot: u64,
) -> Result<Contended, LoadError> {
    let mut result = Contended::default();
    for round in 0..rounds {
        let range = load_slot(first_slot + u64::from(round))?;
        let barrier = Arc::new(tokio::sync::Barrier::new(racers));
        let mut handles = Vec::with_capacity(racers);
        for _ in 0..racers {
            let service = service.clone();
            let barrier = Arc::clone(&barrier);
            let request = booking_request(username, range);
            handles.push(tokio::spawn(async move {
                barrier.wait().await;
                let t0 = Instant::now();
                let outcome = service.create_booking(request).await;
                (
                    outcome.map(|_| ()).map_err(|e| e.code().to_owned()),
                    t0.elapsed(),
                )
            }));
        }
        let mut winners = 0;
        for handle in handles {
            let (outcome, latency) = handle
                .await
                .map_err(|e| LoadError::Other(format!("a racer failed: {e}")))?;
            match outcome {
                Ok(()) => {
                    winners += 1;
                    result.winner_latencies.push(latency);
                }
                Err(code) => {
                    result.losers.add_error(&code);
                    result.losers.latencies.push(latency);
                }
            }
        }
        result.winners.push(winners);
    }
    Ok(result)
}

/// What the settings-version check saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsCheck {
    /// Bookings it made (each must be in the store).
    pub booked: u64,
    /// What went wrong (empty when the check passed).
    pub problems: Vec<String>,
}

/// A settings change made through `second` (another process, with its own
/// store connections and caches) must be seen by the very next booking
/// through `first`: `first` books slot 0 of `username` (so it has the
/// organizer cached), `second` moves the working hours to 12:00–24:00, and
/// `first` must then refuse slot 1 (03:00) as not offered; `second` puts the
/// hours back, and `first` must then book slot 1.
pub async fn settings_change_seen(
    first: &BookingService,
    second: &BookingService,
    username: &str,
) -> Result<SettingsCheck, LoadError> {
    let mut check = SettingsCheck::default();
    first
        .create_booking(booking_request(username, load_slot(0)?))
        .await?;
    check.booked += 1;
    let mut afternoons = fixtures::load_settings()?;
    afternoons.weekly_hours = booking_core::WeeklyHours::every_day(vec![
        booking_core::LocalInterval::parse("12:00", "24:00")
            .map_err(fixtures::FixtureError::from)?,
    ]);
    second.put_settings(username, afternoons).await?;
    match first
        .create_booking(booking_request(username, load_slot(1)?))
        .await
    {
        Err(error) if error.code() == "slot_unavailable" => {}
        Err(error) => check.problems.push(format!(
            "after another process moved the working hours, a booking outside them failed              with {} instead of slot_unavailable: {}",
            error.code(),
            chain(&error)
        )),
        Ok(_) => {
            check.booked += 1;
            check.problems.push(
                "a booking outside the working hours another process had just set was accepted                  (stale settings)"
                    .into(),
            );
        }
    }
    second
        .put_settings(username, fixtures::load_settings()?)
        .await?;
    match first
        .create_booking(booking_request(username, load_slot(1)?))
        .await
    {
        Ok(_) => check.booked += 1,
        Err(error) => check.problems.push(format!(
            "after another process restored the working hours, the booking was refused: {}",
            chain(&error)
        )),
    }
    Ok(check)
}

/// Pool of the PostgreSQL store behind an instance, if any.
pub fn postgres_pool(handle: &crate::backend::StoreHandle) -> Option<&PgPool> {
    match handle {
        crate::backend::StoreHandle::Postgres { pool, .. } => Some(pool),
        _ => None,
    }
}

/// The slot numbers used by the contended organizer: 0 warms the caches,
/// rounds use 1.. .
pub const CONTENDED_FIRST_SLOT: u64 = 1;

/// Books slot 0 of `username` once, so the service knows the organizer's id
/// (the lock is then taken before the read, as on every later booking).
pub async fn warm_organizer(service: &BookingService, username: &str) -> Result<(), LoadError> {
    service
        .create_booking(booking_request(username, fixtures::load_slot(0)?))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_counters_are_read_from_info() {
        let info = "# Stats\r\ntotal_commands_processed:1234\r\n# Commandstats\r\n\
                    cmdstat_set:calls=10,usec=50,usec_per_call=5.00,rejected_calls=0,failed_calls=0\r\n\
                    cmdstat_evalsha:calls=7,usec=70\r\ncmdstat_eval:calls=1,usec=9\r\n";
        let counts = parse_redis_counts(info);
        assert_eq!(
            counts,
            RedisCounts {
                total: 1234,
                set: 10,
                evalsha: 7,
                eval: 1
            }
        );
        let later = RedisCounts {
            total: 1300,
            set: 40,
            evalsha: 37,
            eval: 1,
        };
        assert_eq!(later.since(&counts).total, 65);
    }

    #[tokio::test]
    async fn drive_stops_at_a_count_and_advances_cursors() {
        let mut cursors = vec![0, 100];
        let m = drive(&mut cursors, Bound::Count(10), |_task, n| async move {
            if n % 2 == 0 {
                Ok(())
            } else {
                Err(OpError::new("odd", "odd"))
            }
        })
        .await;
        assert_eq!(m.ok + m.error_count(), 10);
        assert_eq!(cursors[0] + (cursors[1] - 100), 10);
        assert_eq!(m.latencies.len(), 10);
    }
}
