//! The booking service under its first name: `cargo run --release --example
//! service` runs the same program as `cargo run --release --bin
//! booking-service` ([`booking_examples::program`]), flags and all. The
//! `--bin` form is the one to use: building an example also builds the
//! package's test-only dependencies.

fn main() -> std::process::ExitCode {
    booking_examples::program::main()
}
