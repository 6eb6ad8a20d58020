//! Liveness and readiness: `/healthz` says the process serves, `/readyz`
//! whether the store (and the Redis lock, when configured) answer; a
//! read-only SQLite file is refused at start.

mod common;

use reqwest::StatusCode;

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn a_working_store_is_ready() {
    let server = common::sqlite_server().await;
    let ready = server.get("/readyz", None).await;
    assert_eq!(ready.status, StatusCode::OK, "{ready:?}");
    assert_eq!(ready.json["status"], "ok", "{ready:?}");
    assert_eq!(ready.json["store"], "ok", "{ready:?}");
    assert_eq!(ready.json["lock"], "ok", "{ready:?}");
    let live = server.get("/healthz", None).await;
    assert_eq!(live.status, StatusCode::OK, "{live:?}");
}

/// PostgreSQL goes away after start (the service reaches it through a proxy
/// this test cuts): `/readyz` turns 503 while `/healthz` stays 200.
#[cfg(all(feature = "postgres", feature = "redis"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_postgres_is_not_ready() {
    use booking_postgres::testing::{self, IsolatedSchema, PoolSettings};
    use common::proxy::{self, Proxy};

    let settings = PoolSettings {
        max_connections: 1,
        application_name: "booking-examples-readyz".to_owned(),
    };
    let schema = IsolatedSchema::create_with(&testing::database_url(), "bk_ready", &settings)
        .await
        .expect("a test schema on the shared PostgreSQL");
    let direct = schema.url_with_search_path();
    let proxy = Proxy::start(proxy::url_authority(&direct)).await;
    let server = common::start_with_env(
        &[("DATABASE_URL", proxy::url_via(&direct, proxy.addr()))],
        None,
    )
    .await;
    let ready = server.get("/readyz", None).await;
    assert_eq!(ready.status, StatusCode::OK, "{ready:?}");

    proxy.cut();
    let ready = server.get("/readyz", None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{ready:?}");
    assert_eq!(ready.json["status"], "unavailable", "{ready:?}");
    assert_eq!(ready.json["store"], "down", "{ready:?}");
    let live = server.get("/healthz", None).await;
    assert_eq!(live.status, StatusCode::OK, "{live:?}");

    drop(server);
    schema.drop().await.expect("drop the test schema");
}

/// A SQLite file the service cannot write (here: read-only and, for root,
/// who ignores permission bits, immutable) stops it at start with one line.
#[cfg(feature = "sqlite")]
#[tokio::test]
async fn a_read_only_sqlite_file_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("readonly.db");
    let url = format!("sqlite://{}", path.display());
    let config =
        booking_examples::Config::from_lookup(|name| (name == "DATABASE_URL").then(|| url.clone()))
            .expect("config");
    // Created and migrated while writable.
    booking_examples::build(&config)
        .await
        .unwrap_or_else(|error| panic!("{}", error.one_line()));
    let _read_only = ReadOnly::make(&path);
    match booking_examples::build(&config).await {
        Ok((_, backends)) => panic!("a read-only file must be refused, got {backends}"),
        Err(error) => {
            let line = error.one_line();
            assert!(!line.contains('\n'), "{line}");
            assert!(
                line.starts_with(&format!(
                    "the SQLite database {} is not writable",
                    path.display()
                )),
                "{line}"
            );
        }
    }
}

/// Makes a file unwritable for this process until dropped: mode 0444, and
/// when that is not enough (root), the immutable attribute (`chattr +i`).
#[cfg(feature = "sqlite")]
struct ReadOnly {
    path: std::path::PathBuf,
    immutable: bool,
}

#[cfg(feature = "sqlite")]
impl ReadOnly {
    fn make(path: &std::path::Path) -> ReadOnly {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).expect("chmod");
        let writable = std::fs::OpenOptions::new().write(true).open(path).is_ok();
        if writable {
            let status = std::process::Command::new("chattr")
                .arg("+i")
                .arg(path)
                .status()
                .expect("run chattr (e2fsprogs): root ignores mode bits");
            assert!(status.success(), "chattr +i {}", path.display());
            assert!(
                std::fs::OpenOptions::new().write(true).open(path).is_err(),
                "the file is still writable"
            );
        }
        ReadOnly {
            path: path.to_owned(),
            immutable: writable,
        }
    }
}

#[cfg(feature = "sqlite")]
impl Drop for ReadOnly {
    fn drop(&mut self) {
        if self.immutable {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(&self.path)
                .status();
        }
    }
}
