//! The load program: `cargo run --release -p benches --bin load -- --help`.

use std::process::ExitCode;
use std::time::Duration;

use benches::backend::{BackendKind, DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, Env};
use benches::fixtures::Bound;
use benches::machine::Machine;
use benches::report::Report;
use benches::run::{self, LoadOptions};
use benches::scaling::ScalingOptions;

const HELP: &str = "\
load: drives BookingService in-process and compares it with this machine's limits

USAGE:
    cargo run --release -p benches --bin load -- [OPTIONS]

OPTIONS:
    --backends LIST        comma-separated, from: memory, sqlite, postgres, postgres+redis,
                           sqlite+nolock, postgres+nolock
                           [default: memory,sqlite,postgres,postgres+redis]
    --concurrency N        concurrent tasks, and PostgreSQL pool size [default: 16]
    --duration-secs S      length of each measured phase [default: 2]
    --count N              run each measured phase for N operations instead of a time
    --rounds R             alternate each figure with its limit R times, keep the best [default: 1]
    --organizers-per-task N  organizers each task books [default: 4]
    --contended-rounds R   rounds of the contended scenario [default: 20]
    --racers N             tasks racing for one slot [default: 64]
    --round-trip-bookings N  bookings counted through the PostgreSQL proxy (0: off) [default: 50]
    --plain-insert         also measure a plain INSERT (no ON CONFLICT) as a PostgreSQL limit
    --breakdown            also measure the store's calls without the service: insert_booking
                           alone, and booking_context + insert_booking
    --no-http              skip the example HTTP service (measured on sqlite and postgres+redis)
    --pool-ping            build the PostgreSQL pool with test_before_acquire(true), as sqlx
                           does by default (the store's own pool does not ping before lending)
    --engine               also time the availability engine (no servers needed)
    --engine-only          only time the availability engine
    --scaling              also measure how the stores scale with what they hold (no servers
                           needed): MemoryStore::insert_booking batch by batch from 0 to
                           --scaling-bookings, create_booking on memory and SQLite at each
                           size, and create_booking next to --scaling-neighbours earlier
                           and later bookings (memory and SQLite)
    --scaling-only         only the --scaling phases
    --scaling-bookings N   bookings the memory store fills up to [default: 1000000]
    --scaling-organizers N organizers they are spread over [default: 1000]
    --scaling-neighbours N bookings before and after the booked slots [default: 100000]
    --markdown PATH        also write the Markdown report to PATH
    --check                exit non-zero on any overlapping bookings, any contended round
                           without exactly one winner, or a store whose bookings do not
                           match the successful calls
    -h, --help             this text

ENVIRONMENT:
    DATABASE_URL   [default: postgres://postgres@127.0.0.1:5432/postgres]
    REDIS_URL      [default: redis://127.0.0.1:6379]
";

struct Args {
    backends: Vec<BackendKind>,
    options: LoadOptions,
    pool_ping: bool,
    engine: bool,
    engine_only: bool,
    scaling: Option<ScalingOptions>,
    scaling_only: bool,
    markdown: Option<String>,
    check: bool,
}

fn value<'a>(args: &'a [String], i: &mut usize, name: &str) -> Result<&'a str, String> {
    *i += 1;
    args.get(*i)
        .map(String::as_str)
        .ok_or_else(|| format!("{name} needs a value"))
}

fn number<T: std::str::FromStr>(text: &str, name: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{name}: {text:?} is not a valid number"))
}

fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        backends: vec![
            BackendKind::Memory,
            BackendKind::Sqlite,
            BackendKind::Postgres,
            BackendKind::PostgresRedis,
        ],
        options: LoadOptions {
            concurrency: 16,
            bound: Bound::Time(Duration::from_secs(2)),
            rounds: 1,
            organizers_per_task: 4,
            contended_rounds: 20,
            racers: 64,
            round_trip_bookings: 50,
            plain_insert: false,
            breakdown: false,
            http: true,
        },
        pool_ping: false,
        engine: false,
        engine_only: false,
        scaling: None,
        scaling_only: false,
        markdown: None,
        check: false,
    };
    let mut i = 0;
    while i < args.len() {
        let name = args[i].as_str();
        match name {
            "-h" | "--help" => return Ok(None),
            "--backends" => {
                parsed.backends = value(args, &mut i, name)?
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--concurrency" => {
                parsed.options.concurrency = number(value(args, &mut i, name)?, name)?;
                if parsed.options.concurrency == 0 {
                    return Err("--concurrency must be at least 1".into());
                }
            }
            "--duration-secs" => {
                let secs: f64 = number(value(args, &mut i, name)?, name)?;
                if !(secs > 0.0 && secs <= 3600.0) {
                    return Err("--duration-secs must be between 0 and 3600".into());
                }
                parsed.options.bound = Bound::Time(Duration::from_secs_f64(secs));
            }
            "--count" => {
                parsed.options.bound = Bound::Count(number(value(args, &mut i, name)?, name)?)
            }
            "--rounds" => parsed.options.rounds = number(value(args, &mut i, name)?, name)?,
            "--organizers-per-task" => {
                parsed.options.organizers_per_task = number(value(args, &mut i, name)?, name)?
            }
            "--contended-rounds" => {
                parsed.options.contended_rounds = number(value(args, &mut i, name)?, name)?
            }
            "--racers" => {
                parsed.options.racers = number(value(args, &mut i, name)?, name)?;
                if parsed.options.racers == 0 {
                    return Err("--racers must be at least 1".into());
                }
            }
            "--round-trip-bookings" => {
                parsed.options.round_trip_bookings = number(value(args, &mut i, name)?, name)?
            }
            "--plain-insert" => parsed.options.plain_insert = true,
            "--breakdown" => parsed.options.breakdown = true,
            "--no-http" => parsed.options.http = false,
            "--pool-ping" => parsed.pool_ping = true,
            "--engine" => parsed.engine = true,
            "--engine-only" => parsed.engine_only = true,
            "--scaling" => {
                parsed.scaling.get_or_insert_with(ScalingOptions::default);
            }
            "--scaling-only" => {
                parsed.scaling.get_or_insert_with(ScalingOptions::default);
                parsed.scaling_only = true;
            }
            "--scaling-bookings" => {
                let n = number(value(args, &mut i, name)?, name)?;
                parsed
                    .scaling
                    .get_or_insert_with(ScalingOptions::default)
                    .bookings = n;
            }
            "--scaling-organizers" => {
                let n: usize = number(value(args, &mut i, name)?, name)?;
                if n == 0 {
                    return Err("--scaling-organizers must be at least 1".into());
                }
                parsed
                    .scaling
                    .get_or_insert_with(ScalingOptions::default)
                    .organizers = n;
            }
            "--scaling-neighbours" => {
                let n = number(value(args, &mut i, name)?, name)?;
                parsed
                    .scaling
                    .get_or_insert_with(ScalingOptions::default)
                    .neighbours = n;
            }
            "--markdown" => parsed.markdown = Some(value(args, &mut i, name)?.to_owned()),
            "--check" => parsed.check = true,
            other => return Err(format!("unknown option {other:?} (see --help)")),
        }
        i += 1;
    }
    Ok(Some(parsed))
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&argv) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("load: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("load: cannot start the Tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let command = format!(
        "cargo run --release -p benches --bin load --{}",
        argv.iter().map(|a| format!(" {a}")).collect::<String>()
    );
    runtime.block_on(run_all(args, command))
}

async fn run_all(args: Args, command: String) -> ExitCode {
    let env = Env {
        database_url: std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.into()),
        redis_url: std::env::var("REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.into()),
        pool_size: u32::try_from(args.options.concurrency).unwrap_or(u32::MAX),
        pool_ping: args.pool_ping,
    };
    let mut machine = Machine::detect();
    let backends = if args.engine_only || args.scaling_only {
        Vec::new()
    } else {
        args.backends.clone()
    };
    let mut failed = false;

    if backends.iter().any(|b| b.is_postgres()) {
        match server_version(&env.database_url).await {
            Ok(v) => machine.postgres = Some(v),
            Err(e) => {
                eprintln!(
                    "load: cannot reach PostgreSQL at {}: {e}\n      start it (bash scripts/ensure-services.sh) or set DATABASE_URL",
                    env.database_url
                );
                return ExitCode::FAILURE;
            }
        }
    }
    let uses_redis = backends.contains(&BackendKind::PostgresRedis);
    if uses_redis {
        match benches::scenario::redis_version(&env.redis_url).await {
            Ok(v) => machine.redis = Some(v),
            Err(e) => {
                eprintln!(
                    "load: cannot reach Redis at {}: {e}\n      start it (bash scripts/ensure-services.sh) or set REDIS_URL",
                    env.redis_url
                );
                return ExitCode::FAILURE;
            }
        }
    }

    let mut reports = Vec::new();
    for kind in &backends {
        eprintln!("== {kind}");
        match run::run_backend(*kind, &env, &args.options).await {
            Ok(report) => reports.push(report),
            Err(e) => {
                eprintln!("load: the {kind} run failed: {e}");
                failed = true;
            }
        }
    }
    let redis = if uses_redis {
        eprintln!("== redis");
        match run::run_redis(&env, &args.options).await {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("load: the Redis comparison failed: {e}");
                failed = true;
                None
            }
        }
    } else {
        None
    };
    let engine = if args.engine || args.engine_only {
        eprintln!("== engine");
        let budget = Duration::from_millis(600);
        match tokio::task::spawn_blocking(move || benches::engine::engine_table(budget)).await {
            Ok(Ok(table)) => Some(table),
            Ok(Err(e)) => {
                eprintln!("load: the engine table failed: {e}");
                failed = true;
                None
            }
            Err(e) => {
                eprintln!("load: the engine table failed: {e}");
                failed = true;
                None
            }
        }
    } else {
        None
    };

    let mut extra = Vec::new();
    if let Some(options) = &args.scaling {
        eprintln!("== scaling");
        match benches::scaling::run_scaling(&env, options).await {
            Ok(scaling) => extra.push(scaling.markdown()),
            Err(e) => {
                eprintln!("load: the scaling phases failed: {e}");
                failed = true;
            }
        }
    }

    let problems: Vec<String> = reports.iter().flat_map(|r| r.problems()).collect();
    let report = Report {
        command,
        machine,
        options: args.options.clone(),
        backends: reports,
        redis,
        engine,
        extra,
    };
    let markdown = report.markdown();
    println!("{markdown}");
    if let Some(path) = &args.markdown
        && let Err(e) = std::fs::write(path, &markdown)
    {
        eprintln!("load: cannot write {path}: {e}");
        failed = true;
    }
    for problem in &problems {
        eprintln!("load: CHECK FAILED: {problem}");
    }
    if failed || (args.check && !problems.is_empty()) {
        ExitCode::FAILURE
    } else {
        if args.check {
            eprintln!("load: check passed: no double booking, one winner per contended round");
        }
        ExitCode::SUCCESS
    }
}

async fn server_version(url: &str) -> Result<String, String> {
    let mut conn = benches::backend::admin_connection(url)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query_scalar::<_, String>("SHOW server_version")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| e.to_string())
}
