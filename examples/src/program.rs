//! The service program, `booking-service` (also `cargo run --example
//! service`): settings from flags and the environment, logging, the tokio
//! runtime, start-up, serving until SIGTERM or Ctrl-C, and exit codes.
//!
//! | exit code | when |
//! |---|---|
//! | 0 | `--help`, `--version`, or a clean stop after a signal |
//! | 1 | a setting is invalid or start-up failed (one line on stderr, `error: ...`) |
//! | 2 | an unknown flag or a flag without its value (clap's message on stderr) |

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Arg, ArgAction, Command};
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogConfig, LogFormat, SETTINGS};
use crate::startup::{self, StartupError};

/// How long the runtime waits for blocking tasks (SQLite calls) once the
/// server has stopped, so a stuck one cannot keep the process alive.
const RUNTIME_SHUTDOWN: Duration = Duration::from_secs(1);

/// Runs the program with the process's arguments.
pub fn main() -> ExitCode {
    main_with_args(std::env::args_os())
}

/// Runs the program with `args` (the first is the program name).
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let values = match command().try_get_matches_from(args) {
        Ok(matches) => SETTINGS
            .iter()
            .filter_map(|setting| {
                matches
                    .get_one::<String>(setting.variable)
                    .map(|value| (setting.variable, value.clone()))
            })
            .collect::<HashMap<_, _>>(),
        Err(error) => {
            // --help and --version are "errors" that print to stdout and
            // exit 0; real errors go to stderr with exit code 2.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let config = match Config::from_lookup(|name| values.get(name).cloned()) {
        Ok(config) => config,
        Err(error) => return fail(&StartupError::from(error)),
    };
    if let Err(line) = init_logging(&config.log) {
        eprintln!("error: {line}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(config));
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

/// One line on stderr, for people and for process supervisors.
fn fail(error: &StartupError) -> ExitCode {
    eprintln!("error: {}", error.one_line());
    ExitCode::FAILURE
}

/// The command line: one flag per [`SETTINGS`] entry, each also read from
/// its environment variable (a flag wins).
pub fn command() -> Command {
    let args = SETTINGS.iter().map(|setting| {
        let help = match setting.default {
            Some(default) => format!("{} [default: {default}]", setting.help),
            None => format!("{} [default: unset]", setting.help),
        };
        Arg::new(setting.variable)
            .long(setting.flag)
            .env(setting.variable)
            // The value of DATABASE_URL may hold a password: never print it.
            .hide_env_values(true)
            .value_name(setting.value_name)
            .action(ArgAction::Set)
            .help(help)
    });
    Command::new("booking-service")
        .version(env!("CARGO_PKG_VERSION"))
        .about("The booking service: the HTTP API and web pages for bookable meeting slots.")
        .after_help(
            "Every option can also be set by the environment variable shown with it; \
             a flag wins over its variable, and an empty variable counts as unset. \
             Endpoints, error codes and examples: examples/README.md.",
        )
        .args(args)
}

/// Installs the log subscriber: text (ANSI colours only when stdout is a
/// terminal) or JSON lines, filtered by `log.filter`.
fn init_logging(log: &LogConfig) -> Result<(), String> {
    let filter = EnvFilter::try_new(&log.filter)
        .map_err(|error| format!("RUST_LOG={:?} is invalid: {error}", log.filter))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    let installed = match log.format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::stdout().is_terminal())
            .try_init(),
    };
    installed.map_err(|error| format!("cannot install the logger: {error}"))
}

async fn run(config: Config) -> Result<(), StartupError> {
    let (app, backends) = startup::build(&config).await?;
    tracing::info!(store = %backends.store, "store chosen");
    tracing::info!(lock = %backends.lock, "lock chosen");
    let listener = startup::bind(&config).await?;
    let addr = listener.local_addr().unwrap_or(config.addr);
    tracing::info!(
        rate_limits = if config.http.rate_limits.enabled {
            "on"
        } else {
            "off"
        },
        max_connections = config.server.max_connections,
        "booking service listening on http://{addr} (try GET /healthz)"
    );
    tracing::info!(
        public_url = %config.integrations.public_url,
        email = if config.integrations.smtp_url.is_some() { "on" } else { "off" },
        secret_key = if config.integrations.secret_key.is_some() { "set" } else { "unset" },
        private_urls = if config.integrations.allow_private_urls { "allowed" } else { "refused" },
        "calendars, emails and webhooks"
    );
    startup::serve(listener, app, &config, shutdown_signal())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed_and_lists_every_setting() {
        command().debug_assert();
        let help = command().render_long_help().to_string();
        for setting in SETTINGS {
            assert!(help.contains(&format!("--{}", setting.flag)), "{help}");
            assert!(help.contains(setting.variable), "{help}");
        }
    }
}
