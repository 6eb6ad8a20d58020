//! One load run per backend, with its limits measured in the same run, and
//! the Redis comparison.

use std::sync::Arc;

use booking_core::store::BookingStore;

use crate::backend::{
    BackendKind, CheckResult, Env, Instance, LoadError, LoadOrganizer, StoreHandle,
};
use crate::fixtures::{Bound, Layout, organizer_username};
use crate::http;
use crate::pgwire::Snapshot;
use crate::scenario::{
    self, CONTENDED_FIRST_SLOT, Contended, PgRaw, RAW_INSERT_ON_CONFLICT, RAW_INSERT_PLAIN,
    RedisCounts, SettingsCheck,
};
use crate::stats::Measurement;

/// How the load program runs.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Concurrent tasks (and PostgreSQL connections).
    pub concurrency: usize,
    /// How long (or how many operations) each measured phase runs.
    pub bound: Bound,
    /// How many times the limit and the service phases alternate; the best
    /// of each is reported (noise on a shared machine only slows things down).
    pub rounds: u32,
    /// Organizers owned by each task.
    pub organizers_per_task: usize,
    /// Rounds of the contended scenario.
    pub contended_rounds: u32,
    /// Racers per contended round.
    pub racers: usize,
    /// Bookings counted through the PostgreSQL proxy.
    pub round_trip_bookings: u64,
    /// Also measure the plain INSERT shape on PostgreSQL.
    pub plain_insert: bool,
    /// Also measure the example HTTP service (SQLite and PostgreSQL + Redis
    /// backends).
    pub http: bool,
    /// Also measure the store's calls without the service:
    /// `insert_booking` alone, and `booking_context` + `insert_booking`.
    pub breakdown: bool,
}

/// The fewest organizers each task books on the in-memory store. It takes
/// a few hundred thousand bookings a second, so four organizers' horizons
/// (29,184 slots each) would be used up within seconds and the rest of a
/// phase would measure nothing but refusals; 64 last 30 million bookings.
pub const MEMORY_ORGANIZERS_PER_TASK: usize = 64;

impl LoadOptions {
    /// The booking layout of the throughput phases.
    pub fn layout(&self) -> Layout {
        Layout {
            tasks: self.concurrency.max(1),
            organizers_per_task: self.organizers_per_task.max(1),
        }
    }

    /// The layout on `kind`: on the in-memory store, at least
    /// [`MEMORY_ORGANIZERS_PER_TASK`] organizers per task.
    pub fn layout_for(&self, kind: BackendKind) -> Layout {
        let layout = self.layout();
        match kind {
            BackendKind::Memory => Layout {
                organizers_per_task: layout.organizers_per_task.max(MEMORY_ORGANIZERS_PER_TASK),
                ..layout
            },
            _ => layout,
        }
    }
}

/// A measured phase with a name.
#[derive(Debug, Clone)]
pub struct Phase {
    /// What was measured.
    pub name: String,
    /// The best round.
    pub measurement: Measurement,
}

/// Everything measured for one backend.
#[derive(Debug, Clone)]
pub struct BackendReport {
    /// Which backend.
    pub kind: BackendKind,
    /// `create_booking` through the service (best round).
    pub service: Measurement,
    /// The limits, headline first.
    pub limits: Vec<Phase>,
    /// The contended slot.
    pub contended: Contended,
    /// The double-booking check.
    pub check: CheckResult,
    /// Bookings the run made successfully (the check must find exactly these).
    pub expected_active: u64,
    /// PostgreSQL messages for `round_trip_bookings` bookings.
    pub pg_round_trips: Option<Result<(Snapshot, u64), String>>,
    /// Redis commands during the service phases, and the booking attempts
    /// they served.
    pub redis_per_booking: Option<(RedisCounts, u64)>,
    /// The HTTP figures, when measured.
    pub http: Option<HttpFigures>,
    /// The settings-version check across two services on one database
    /// (`None` on the memory store).
    pub settings_check: Option<SettingsCheck>,
}

/// The example HTTP service against the same operations in-process, on the
/// same service and store (best round of each).
#[derive(Debug, Clone, Default)]
pub struct HttpFigures {
    /// `available_slots` for one day, in-process.
    pub slots_in_process: Measurement,
    /// `GET /api/organizers/{username}/slots` for one day.
    pub slots_http: Measurement,
    /// The same requests answered by the transport floor
    /// ([`http::Server::floor`]): a fixed copy of a real reply, no service.
    pub slots_floor: Measurement,
    /// `create_booking` in-process.
    pub bookings_in_process: Measurement,
    /// `POST /api/bookings`.
    pub bookings_http: Measurement,
    /// Bookings made by all HTTP-section rounds, in-process and over HTTP.
    pub total_booked: u64,
}

impl BackendReport {
    /// Whether the run proved what it must: no overlapping bookings, every
    /// contended round with exactly one winner, and as many active bookings
    /// as successful calls.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.check.overlapping > 0 {
            problems.push(format!(
                "{}: {} overlapping active bookings (double booking!)",
                self.kind, self.check.overlapping
            ));
        }
        let bad = self.contended.bad_rounds();
        if bad > 0 {
            problems.push(format!(
                "{}: {bad} contended rounds without exactly one winner (winners per round: {:?})",
                self.kind, self.contended.winners
            ));
        }
        if self.check.active != self.expected_active {
            problems.push(format!(
                "{}: {} active bookings in the store, but {} bookings succeeded",
                self.kind, self.check.active, self.expected_active
            ));
        }
        if let Some(check) = &self.settings_check {
            for problem in &check.problems {
                problems.push(format!("{}: {problem}", self.kind));
            }
        }
        if self.service.ok == 0 {
            problems.push(format!("{}: no booking succeeded", self.kind));
        }
        problems
    }
}

fn keep_best(best: &mut Option<Measurement>, m: Measurement) {
    if best.as_ref().is_none_or(|b| m.rate() > b.rate()) {
        *best = Some(m);
    }
}

/// Runs every phase on a fresh `kind` backend and cleans it up.
pub async fn run_backend(
    kind: BackendKind,
    env: &Env,
    options: &LoadOptions,
) -> Result<BackendReport, LoadError> {
    let run = crate::backend::run_tag();
    let instance = Instance::create(kind, env, &run).await?;
    let result = measure_backend(&instance, env, options, &run).await;
    let cleanup = instance.cleanup(env).await;
    let report = result?;
    cleanup?;
    Ok(report)
}

async fn measure_backend(
    instance: &Instance,
    env: &Env,
    options: &LoadOptions,
    run: &str,
) -> Result<BackendReport, LoadError> {
    let kind = instance.kind;
    let layout = options.layout_for(kind);
    let tasks = layout.tasks;
    eprintln!(
        "[{kind}] registering {} organizers",
        layout.organizers() * 2 + 2
    );
    let service_orgs = instance
        .register_organizers(run, layout.organizers())
        .await?;
    let raw_tag = format!("{run}x");
    let raw_orgs = instance
        .register_organizers(&raw_tag, layout.organizers())
        .await?;
    let contended_tag = format!("{run}c");
    let contended_orgs = instance.register_organizers(&contended_tag, 1).await?;
    let settings_tag = format!("{run}s");
    let settings_orgs = instance.register_organizers(&settings_tag, 1).await?;
    let mut expected_active = 0u64;

    // Warm-up: every task books each of its organizers once (fills the
    // service's organizer-id cache, opens connections, prepares statements).
    let run_name: Arc<str> = Arc::from(run);
    let mut cursors = vec![0u64; tasks];
    let warm = scenario::drive(
        &mut cursors,
        Bound::Count((tasks * layout.organizers_per_task) as u64),
        scenario::booking_op(instance.service.clone(), Arc::clone(&run_name), layout),
    )
    .await;
    expected_active += warm.ok;

    // The limits to compare with.
    let mut raw_cursors = vec![0u64; tasks];
    let pg_raw = match &instance.handle {
        StoreHandle::Postgres { schema, .. } => {
            Some(PgRaw::connect(env, schema, tasks, &raw_orgs).await?)
        }
        _ => None,
    };
    let raw_orgs_shared = Arc::new(raw_orgs.clone());
    let mut limits: Vec<Limit> = Vec::new();
    match &instance.handle {
        StoreHandle::Postgres { .. } => {
            limits.push(Limit::PgOnConflict);
            if options.plain_insert {
                limits.push(Limit::PgPlain);
            }
        }
        StoreHandle::Sqlite { .. } => limits.push(Limit::SqliteRaw),
        StoreHandle::Memory => limits.push(Limit::StoreInsert),
    }
    if options.breakdown {
        if matches!(instance.handle, StoreHandle::Postgres { .. }) {
            limits.push(Limit::PgReadInsert);
        }
        if !matches!(instance.handle, StoreHandle::Memory) {
            limits.push(Limit::StoreInsert);
        }
        limits.push(Limit::StoreContextInsert);
    }
    let limit_names: Vec<String> = limits.iter().map(|l| l.name(kind)).collect();
    let mut best_limits: Vec<Option<Measurement>> = vec![None; limit_names.len()];
    let mut best_service: Option<Measurement> = None;
    let mut redis_total = RedisCounts::default();
    let mut redis_attempts = 0u64;

    // A short untimed pass of each raw limit, so its first statement's
    // preparation is not measured.
    let warm_bound = Bound::Count(tasks as u64 * 2);
    for limit in &limits {
        let m = measure_limit(
            instance,
            &pg_raw,
            *limit,
            layout,
            &raw_orgs_shared,
            &mut raw_cursors,
            warm_bound,
        )
        .await?;
        expected_active += m.ok;
    }

    for round in 0..options.rounds.max(1) {
        for (index, name) in limit_names.iter().enumerate() {
            let m = measure_limit(
                instance,
                &pg_raw,
                limits[index],
                layout,
                &raw_orgs_shared,
                &mut raw_cursors,
                options.bound,
            )
            .await?;
            eprintln!(
                "[{kind}] round {}: {name}: {:.0}/s ({} errors)",
                round + 1,
                m.rate(),
                m.error_count()
            );
            expected_active += m.ok;
            keep_best(&mut best_limits[index], m);
        }
        let redis_before = match kind {
            BackendKind::PostgresRedis => Some(scenario::redis_counts(&env.redis_url).await?),
            _ => None,
        };
        let m = scenario::drive(
            &mut cursors,
            options.bound,
            scenario::booking_op(instance.service.clone(), Arc::clone(&run_name), layout),
        )
        .await;
        if let Some(before) = redis_before {
            let after = scenario::redis_counts(&env.redis_url).await?;
            let delta = after.since(&before);
            redis_total.add(&delta);
            redis_attempts += m.ok + m.error_count();
        }
        eprintln!(
            "[{kind}] round {}: create_booking: {:.0}/s ({} errors)",
            round + 1,
            m.rate(),
            m.error_count()
        );
        expected_active += m.ok;
        keep_best(&mut best_service, m);
    }
    if let Some(raw) = pg_raw {
        raw.close().await;
    }

    // Over HTTP, alternating with the same operations in-process.
    let http = if options.http && matches!(kind, BackendKind::Sqlite | BackendKind::PostgresRedis) {
        let figures = measure_http(instance, options, &run_name, &mut cursors).await?;
        expected_active += figures.total_booked;
        Some(figures)
    } else {
        None
    };

    // The contended slot.
    let contended_user = organizer_username(&contended_tag, 0);
    scenario::warm_organizer(&instance.service, &contended_user).await?;
    expected_active += 1;
    let contended = scenario::contended(
        &instance.service,
        &contended_user,
        options.contended_rounds,
        options.racers,
        CONTENDED_FIRST_SLOT,
    )
    .await?;
    expected_active += contended.total_winners();
    eprintln!(
        "[{kind}] contended: winners per round {:?}",
        contended.winners
    );

    // A settings change in another process is seen by the next booking.
    let settings_check = match instance.second_service(env).await? {
        Some(second) => {
            let result = scenario::settings_change_seen(
                &instance.service,
                &second.service,
                &organizer_username(&settings_tag, 0),
            )
            .await;
            second.close().await;
            let check = result?;
            expected_active += check.booked;
            eprintln!(
                "[{kind}] settings change seen across processes: {}",
                if check.problems.is_empty() {
                    "yes".to_owned()
                } else {
                    check.problems.join("; ")
                }
            );
            Some(check)
        }
        None => None,
    };

    // Round trips per booking, through the counting proxy.
    let pg_round_trips = match &instance.handle {
        StoreHandle::Postgres { schema, .. } if options.round_trip_bookings > 0 => {
            let counted = scenario::postgres_round_trips(
                env,
                schema,
                Arc::clone(&instance.lock),
                run,
                options.round_trip_bookings,
            )
            .await;
            if counted.is_ok() {
                expected_active += options.round_trip_bookings + 1;
            }
            Some(
                counted
                    .map(|s| (s, options.round_trip_bookings))
                    .map_err(|e| e.to_string()),
            )
        }
        _ => None,
    };

    let mut all_orgs = service_orgs;
    all_orgs.extend(raw_orgs);
    all_orgs.extend(contended_orgs);
    all_orgs.extend(settings_orgs);
    let check = instance.check(&all_orgs).await?;
    eprintln!(
        "[{kind}] check: {} overlapping, {} active (expected {expected_active})",
        check.overlapping, check.active
    );

    Ok(BackendReport {
        kind,
        service: best_service.unwrap_or_default(),
        limits: limit_names
            .into_iter()
            .zip(best_limits)
            .map(|(name, m)| Phase {
                name,
                measurement: m.unwrap_or_default(),
            })
            .collect(),
        contended,
        check,
        expected_active,
        pg_round_trips,
        redis_per_booking: (kind == BackendKind::PostgresRedis)
            .then_some((redis_total, redis_attempts)),
        http,
        settings_check,
    })
}

/// The HTTP phases: the example router served on loopback, slots queries
/// and bookings over HTTP, each alternating with the same operation called
/// in-process. Returns the best round of each, and how many bookings all
/// rounds made.
async fn measure_http(
    instance: &Instance,
    options: &LoadOptions,
    run: &Arc<str>,
    cursors: &mut [u64],
) -> Result<HttpFigures, LoadError> {
    let kind = instance.kind;
    let layout = options.layout_for(kind);
    let server = http::Server::start(instance.service.clone()).await?;
    let client = http::client(layout.tasks)?;
    let base: Arc<str> = Arc::from(server.base());
    let mut slot_cursors = vec![0u64; layout.tasks];
    let floor =
        http::Server::floor(http::capture_slots_reply(&client, &base, run, layout).await?).await?;
    let floor_base: Arc<str> = Arc::from(floor.base());
    // Slots queries over HTTP to `base`: the service's or the floor's.
    let slots_at = |base: &Arc<str>| {
        http::http_slots_op(client.clone(), Arc::clone(base), Arc::clone(run), layout)
    };
    // Warm-up: opens the client's connections to both.
    let warm = Bound::Count(layout.tasks as u64 * 2);
    for target in [&base, &floor_base] {
        scenario::drive(&mut slot_cursors, warm, slots_at(target)).await;
    }
    let mut best = [None, None, None, None, None];
    let mut booked = 0;
    for round in 0..options.rounds.max(1) {
        let phases: [(&str, Measurement); 5] = [
            (
                "slots in-process",
                scenario::drive(
                    &mut slot_cursors,
                    options.bound,
                    http::slots_op(instance.service.clone(), Arc::clone(run), layout),
                )
                .await,
            ),
            (
                "slots over HTTP",
                scenario::drive(&mut slot_cursors, options.bound, slots_at(&base)).await,
            ),
            (
                "slots over HTTP, transport floor",
                scenario::drive(&mut slot_cursors, options.bound, slots_at(&floor_base)).await,
            ),
            (
                "create_booking in-process",
                scenario::drive(
                    cursors,
                    options.bound,
                    scenario::booking_op(instance.service.clone(), Arc::clone(run), layout),
                )
                .await,
            ),
            (
                "bookings over HTTP",
                scenario::drive(
                    cursors,
                    options.bound,
                    http::http_booking_op(
                        client.clone(),
                        Arc::clone(&base),
                        Arc::clone(run),
                        layout,
                    ),
                )
                .await,
            ),
        ];
        for (index, (name, m)) in phases.into_iter().enumerate() {
            eprintln!(
                "[{kind}] http round {}: {name}: {:.0}/s ({} errors)",
                round + 1,
                m.rate(),
                m.error_count()
            );
            if index >= 3 {
                booked += m.ok;
            }
            keep_best(&mut best[index], m);
        }
    }
    drop(server);
    drop(floor);
    let [
        slots_in_process,
        slots_http,
        slots_floor,
        bookings_in_process,
        bookings_http,
    ] = best.map(Option::unwrap_or_default);
    Ok(HttpFigures {
        slots_in_process,
        slots_http,
        slots_floor,
        bookings_in_process,
        bookings_http,
        total_booked: booked,
    })
}

/// A figure the booking path is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    /// Raw INSERT … ON CONFLICT DO NOTHING on dedicated connections.
    PgOnConflict,
    /// Raw plain INSERT on dedicated connections.
    PgPlain,
    /// The store's context SELECT then the raw INSERT, on dedicated
    /// connections.
    PgReadInsert,
    /// Raw INSERT transactions on one SQLite connection.
    SqliteRaw,
    /// `store.insert_booking` alone.
    StoreInsert,
    /// `store.booking_context` + `store.insert_booking`.
    StoreContextInsert,
}

impl Limit {
    fn name(self, kind: BackendKind) -> String {
        match self {
            Limit::PgOnConflict => {
                "raw INSERT … ON CONFLICT DO NOTHING (store's shape), one connection per task"
                    .into()
            }
            Limit::PgPlain => "raw plain INSERT, one connection per task".into(),
            Limit::PgReadInsert => {
                "raw context SELECT + INSERT, one connection per task (breakdown: the design's floor)"
                    .into()
            }
            Limit::SqliteRaw => "raw INSERT transactions, 1 connection, same pragmas".into(),
            Limit::StoreInsert => match kind {
                BackendKind::Memory => "`MemoryStore::insert_booking` alone".into(),
                _ => "`insert_booking` alone, through the store (breakdown)".into(),
            },
            Limit::StoreContextInsert => {
                "`booking_context` + `insert_booking`, through the store (breakdown)".into()
            }
        }
    }
}

/// Runs `limit` on `instance`'s backend for `bound`.
async fn measure_limit(
    instance: &Instance,
    pg_raw: &Option<Arc<PgRaw>>,
    limit: Limit,
    layout: Layout,
    raw_orgs: &Arc<Vec<LoadOrganizer>>,
    cursors: &mut [u64],
    bound: Bound,
) -> Result<Measurement, LoadError> {
    let store: Arc<dyn BookingStore> = Arc::clone(&instance.store);
    match (limit, pg_raw, &instance.handle) {
        (Limit::PgOnConflict, Some(raw), _) => Ok(scenario::drive(
            cursors,
            bound,
            raw.op(RAW_INSERT_ON_CONFLICT, false, layout),
        )
        .await),
        (Limit::PgPlain, Some(raw), _) => {
            Ok(scenario::drive(cursors, bound, raw.op(RAW_INSERT_PLAIN, false, layout)).await)
        }
        (Limit::PgReadInsert, Some(raw), _) => {
            Ok(scenario::drive(cursors, bound, raw.op(RAW_INSERT_ON_CONFLICT, true, layout)).await)
        }
        (Limit::SqliteRaw, _, StoreHandle::Sqlite { path, .. }) => {
            scenario::sqlite_raw_inserts(path.clone(), raw_orgs.to_vec(), layout, cursors, bound)
                .await
        }
        (Limit::StoreContextInsert, _, _) => Ok(scenario::drive(
            cursors,
            bound,
            scenario::store_context_insert_op(store, Arc::clone(raw_orgs), layout),
        )
        .await),
        (Limit::StoreInsert, _, _) => Ok(scenario::drive(
            cursors,
            bound,
            scenario::store_insert_op(store, Arc::clone(raw_orgs), layout),
        )
        .await),
        (other, _, _) => Err(LoadError::Other(format!(
            "{other:?} does not apply to {}",
            instance.kind
        ))),
    }
}

/// The Redis comparison: raw `SET NX PX` + compare-and-delete pairs on one
/// multiplexed connection (as the lock has) and on one connection per task,
/// and `RedisLock` acquire + release pairs, alternating, best round kept.
#[derive(Debug, Clone)]
pub struct RedisReport {
    /// Raw pairs, all tasks on one multiplexed connection.
    pub raw_shared: Measurement,
    /// Raw pairs, one connection per task.
    pub raw_per_task: Measurement,
    /// `RedisLock::acquire` + `release`.
    pub lock: Measurement,
}

/// Measures the [`RedisReport`].
pub async fn run_redis(env: &Env, options: &LoadOptions) -> Result<RedisReport, LoadError> {
    let url = &env.redis_url;
    let run = crate::backend::run_tag();
    let tasks = options.concurrency.max(1);
    let shared = Arc::new(vec![scenario::redis_connection(url).await?]);
    let mut per_task = Vec::with_capacity(tasks);
    for _ in 0..tasks {
        per_task.push(scenario::redis_connection(url).await?);
    }
    let per_task = Arc::new(per_task);
    let lock = scenario::bench_lock(url, &format!("bk_load:{run}:lockpair")).await?;
    let organizers: Arc<Vec<_>> = Arc::new(
        (0..tasks)
            .map(|_| booking_core::organizer::OrganizerId::generate())
            .collect(),
    );
    let prefix_shared: Arc<str> = Arc::from(format!("bk_load:{run}:raw1"));
    let prefix_per_task: Arc<str> = Arc::from(format!("bk_load:{run}:rawn"));
    let mut cursors = [vec![0u64; tasks], vec![0u64; tasks], vec![0u64; tasks]];
    // Warm-up: loads the script, opens the lock's connection.
    let warm = Bound::Count(tasks as u64 * 4);
    scenario::drive(
        &mut cursors[0],
        warm,
        scenario::redis_raw_op(Arc::clone(&shared), Arc::clone(&prefix_shared)),
    )
    .await;
    scenario::drive(
        &mut cursors[1],
        warm,
        scenario::redis_raw_op(Arc::clone(&per_task), Arc::clone(&prefix_per_task)),
    )
    .await;
    scenario::drive(
        &mut cursors[2],
        warm,
        scenario::lock_pair_op(Arc::clone(&lock), Arc::clone(&organizers)),
    )
    .await;
    let (mut best_shared, mut best_per_task, mut best_lock) = (None, None, None);
    for round in 0..options.rounds.max(1) {
        let m = scenario::drive(
            &mut cursors[0],
            options.bound,
            scenario::redis_raw_op(Arc::clone(&shared), Arc::clone(&prefix_shared)),
        )
        .await;
        eprintln!(
            "[redis] round {}: raw pairs, 1 connection: {:.0}/s",
            round + 1,
            m.rate()
        );
        keep_best(&mut best_shared, m);
        let m = scenario::drive(
            &mut cursors[1],
            options.bound,
            scenario::redis_raw_op(Arc::clone(&per_task), Arc::clone(&prefix_per_task)),
        )
        .await;
        eprintln!(
            "[redis] round {}: raw pairs, {tasks} connections: {:.0}/s",
            round + 1,
            m.rate()
        );
        keep_best(&mut best_per_task, m);
        let m = scenario::drive(
            &mut cursors[2],
            options.bound,
            scenario::lock_pair_op(Arc::clone(&lock), Arc::clone(&organizers)),
        )
        .await;
        eprintln!(
            "[redis] round {}: RedisLock acquire+release: {:.0}/s",
            round + 1,
            m.rate()
        );
        keep_best(&mut best_lock, m);
    }
    Ok(RedisReport {
        raw_shared: best_shared.unwrap_or_default(),
        raw_per_task: best_per_task.unwrap_or_default(),
        lock: best_lock.unwrap_or_default(),
    })
}
