//! # booking-examples
//!
//! The full booking service over HTTP, wired from `booking-core` and its
//! adapters: the project's "run it and try it" crate.
//!
//! ```text
//! cargo run --release --bin booking-service
//! ```
//!
//! starts the service on `127.0.0.1:3000` with an embedded SQLite file
//! (`booking.db`, created and migrated on start) and the in-process slot
//! lock: nothing to install. `DATABASE_URL=postgres://...` switches to
//! PostgreSQL and `REDIS_URL=redis://...` to the Redis slot lock; every
//! setting is also a flag (`--help`, [`config`]). The service logs which
//! store and lock it chose, and stops at start with one clear line when a
//! configured server cannot be reached or a SQLite file cannot be written
//! ([`startup::StartupError`]).
//!
//! ## Cargo features
//!
//! `sqlite`, `postgres` and `redis` (all on by default) each pull in one
//! adapter crate. `--no-default-features --features sqlite` builds a service
//! with no PostgreSQL or Redis code; asking such a build for a PostgreSQL or
//! Redis URL fails at start naming the missing feature. `memory://` (the
//! in-memory store) needs no feature.
//!
//! ## Pieces
//!
//! * [`config::Config`]: the settings (environment variables and flags);
//! * [`startup::build`]: connects and migrates the chosen backends into a
//!   [`BookingService`](booking_core::service::BookingService) with its
//!   calendars, invitation emails and webhooks ([`integrations`]);
//! * [`http::app_router`] (and [`http::router_with`] without calendars and
//!   webhooks): the JSON API and the pages, with readiness,
//!   metrics and rate limits (endpoints, error codes and statuses are listed
//!   in [`http`]); [`http::router`] is the same without rate limits;
//! * [`serve::serve`]: the HTTP/1.1 server with its timeouts, connection cap
//!   and shutdown deadline; [`startup::serve`] runs the configured router on
//!   it until a shutdown signal;
//! * [`program`]: the `booking-service` binary (`src/main.rs`, and
//!   `examples/service.rs` under its first name).
//!
//! The integration tests in `tests/` start the same router on an ephemeral
//! port and talk to it over real HTTP, or spawn the binary itself.

pub mod config;
pub mod http;
pub mod integrations;
pub mod program;
pub mod serve;
pub mod startup;
pub mod ui;

pub use config::Config;
pub use http::{router, router_with};
pub use integrations::App;
pub use startup::{Backends, StartupError, build, build_with, serve};
