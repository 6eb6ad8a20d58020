//! # benches
//!
//! Measures the two numbers a scheduling library is judged on: how fast it
//! answers "which slots are free", and how many bookings per second it takes
//! without ever double-booking. Every booking-path figure is reported as a
//! ratio to a limit of this machine measured **in the same run** (a raw
//! INSERT into the same table, raw Redis round trips), so the figures mean
//! something on a noisy shared machine.
//!
//! * `cargo bench -p benches`: criterion benchmarks of the engine
//!   (`available_slots` with 0–10,000 busy intervals and 1–366-day windows,
//!   `check_booking` against 10,000 busy intervals) and of the in-memory
//!   `BookingService::create_booking`.
//! * `cargo run --release -p benches --bin load -- --help`: the load
//!   program, which drives `BookingService` in-process on each backend
//!   combination, measures the limits, races 64 tasks for one slot, counts
//!   PostgreSQL round trips and Redis commands per booking, checks that no
//!   two active bookings overlap, and prints everything as Markdown.
//!
//! The library holds what both share: the workloads ([`fixtures`]), the
//! timing loops ([`engine`], [`scenario`]), the backends ([`backend`]) and
//! the report ([`report`]).

pub mod backend;
pub mod cpu;
pub mod engine;
pub mod fixtures;
pub mod http;
pub mod machine;
pub mod nolock;
pub mod pgwire;
pub mod report;
pub mod run;
pub mod scaling;
pub mod scenario;
pub mod stats;
