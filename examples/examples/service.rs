//! The booking service: `cargo run --release --example service`.
//!
//! Configuration comes from the environment (`BOOKING_ADDR`, `DATABASE_URL`,
//! `REDIS_URL`, `RUST_LOG`); see the crate README. With nothing set it serves
//! `http://127.0.0.1:3000` from a SQLite file `booking.db` in the working
//! directory.

use std::process::ExitCode;

use booking_examples::{Config, StartupError, startup};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line on stderr, for people and for process supervisors.
            eprintln!("error: {}", error.one_line());
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), StartupError> {
    let config = Config::from_env()?;
    let (service, backends) = startup::build(&config).await?;
    tracing::info!(store = %backends.store, "store chosen");
    tracing::info!(lock = %backends.lock, "lock chosen");
    let listener = startup::bind(&config).await?;
    let addr = listener.local_addr().unwrap_or(config.addr);
    tracing::info!("booking service listening on http://{addr} (try GET /healthz)");
    startup::serve(listener, service, shutdown_signal())
        .await
        .map_err(|source| StartupError::Listen { addr, source })?;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix (what `docker stop` and systemd send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down; finishing requests in flight");
}
