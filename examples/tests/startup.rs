//! Start-up: a configured server that cannot be reached, a taken port or a
//! bad variable stops the service with one clear line.

use std::collections::HashMap;

use booking_examples::{Config, StartupError, startup};

fn config(vars: &[(&str, &str)]) -> Result<Config, booking_examples::config::ConfigError> {
    let map: HashMap<&str, &str> = vars.iter().copied().collect();
    Config::from_lookup(|name| map.get(name).map(|v| (*v).to_owned()))
}

/// A local port nothing listens on: bound, then released.
#[cfg(any(feature = "postgres", feature = "redis"))]
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
async fn start_error(vars: &[(&str, &str)]) -> String {
    let config = config(vars).expect("valid configuration");
    match booking_examples::build(&config).await {
        Ok((_, backends)) => panic!("expected a start-up failure, got {backends}"),
        Err(error) => {
            let line = error.one_line();
            assert!(!line.contains('\n'), "one line: {line}");
            line
        }
    }
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn an_unreachable_postgres_is_one_clear_line_without_the_password() {
    let url = format!(
        "postgres://postgres:s3cret@127.0.0.1:{}/postgres",
        closed_port()
    );
    let line = start_error(&[("DATABASE_URL", &url)]).await;
    assert!(
        line.starts_with("cannot reach PostgreSQL at postgres://postgres:***@127.0.0.1:"),
        "{line}"
    );
    assert!(!line.contains("s3cret"), "{line}");
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn an_unreachable_redis_is_one_clear_line() {
    let url = format!("redis://127.0.0.1:{}", closed_port());
    let line = start_error(&[("DATABASE_URL", "memory://"), ("REDIS_URL", &url)]).await;
    assert!(
        line.starts_with(&format!("cannot reach Redis at {url}")),
        "{line}"
    );
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn a_sqlite_file_that_cannot_be_created_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/missing/dir/booking.db", dir.path().display());
    let line = start_error(&[("DATABASE_URL", &url)]).await;
    assert!(
        line.starts_with("cannot open the SQLite database "),
        "{line}"
    );
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn the_default_configuration_creates_and_migrates_a_sqlite_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fresh.db");
    let url = format!("sqlite://{}", path.display());
    let config = config(&[("DATABASE_URL", &url)]).expect("config");
    let (_, backends) = booking_examples::build(&config)
        .await
        .unwrap_or_else(|e| panic!("{}", e.one_line()));
    assert!(path.exists(), "the file is created");
    assert!(backends.store.starts_with("SQLite file"), "{backends}");
    assert!(backends.lock.starts_with("in-process"), "{backends}");
}

#[tokio::test]
async fn a_taken_port_is_one_clear_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let config = config(&[("BOOKING_ADDR", &addr), ("DATABASE_URL", "memory://")]).expect("config");
    let error: StartupError = startup::bind(&config).await.expect_err("the port is taken");
    assert!(
        error
            .one_line()
            .starts_with(&format!("cannot listen on {addr}: ")),
        "{}",
        error.one_line()
    );
}

#[test]
fn unsupported_urls_are_refused_before_anything_starts() {
    let error = config(&[("DATABASE_URL", "mysql://root:pw@db/bookings")]).expect_err("mysql");
    let line = StartupError::from(error).one_line();
    assert!(line.starts_with("DATABASE_URL="), "{line}");
    assert!(!line.contains(":pw@"), "{line}");
}
