//! `booking-service`: the booking service as a program.
//!
//! ```text
//! cargo run --release --bin booking-service -- --help
//! ```
//!
//! Settings come from flags or environment variables (`--help` lists them;
//! see [`booking_examples::config`]). With none set it serves
//! `http://127.0.0.1:3000` from a SQLite file `booking.db` in the working
//! directory.

fn main() -> std::process::ExitCode {
    booking_examples::program::main()
}
