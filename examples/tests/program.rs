//! The `booking-service` binary, spawned as an operator runs it: `--help`,
//! flags over environment variables, `localhost:PORT`, JSON logs without
//! colour codes, SIGTERM while a client holds a partial request, and a
//! process at a low file-descriptor limit flooded with idle connections.

use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use booking_examples::config::SETTINGS;

mod common;

use common::wire;

const BIN: &str = env!("CARGO_BIN_EXE_booking-service");

/// The program under test: this package's binary, or another build of the
/// service named by `BOOKING_SERVICE_BIN` (to show a finding on an older
/// build, e.g. the `service` example before this binary existed).
fn bin() -> String {
    std::env::var("BOOKING_SERVICE_BIN").unwrap_or_else(|_| BIN.to_owned())
}

/// How long a test waits for the program to start or stop. Generous: a
/// bound for a failure, not a measurement.
const BOUND: Duration = Duration::from_secs(60);

/// A port nothing listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A spawned program whose output is collected as it comes.
struct Program {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

fn collect(mut pipe: impl std::io::Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&text);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .expect("output")
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    text
}

impl Program {
    /// Spawns `command` with a clean service environment: memory store,
    /// no rate limits, plus `env`.
    fn spawn(mut command: Command, env: &[(&str, &str)]) -> Program {
        for setting in SETTINGS {
            command.env_remove(setting.variable);
        }
        command
            .env("DATABASE_URL", "memory://")
            .env("BOOKING_RATE_LIMIT", "off")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn booking-service");
        let stdout = collect(child.stdout.take().expect("stdout"));
        let stderr = collect(child.stderr.take().expect("stderr"));
        Program {
            child,
            stdout,
            stderr,
        }
    }

    fn run(args: &[&str], env: &[(&str, &str)]) -> Program {
        let mut command = Command::new(bin());
        command.args(args);
        Program::spawn(command, env)
    }

    fn stdout(&self) -> String {
        self.stdout.lock().expect("stdout").clone()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr").clone()
    }

    /// Waits for the process to exit by itself.
    fn wait(&mut self) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the reader threads drain the pipes.
                std::thread::sleep(Duration::from_millis(100));
                return status;
            }
            assert!(
                started.elapsed() < BOUND,
                "the program did not exit; stdout: {}\nstderr: {}",
                self.stdout(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `GET http://addr/healthz` answers 200.
    async fn wait_ready(&mut self, addr: SocketAddr) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(response) = client.get(format!("http://{addr}/healthz")).send().await
                && response.status() == reqwest::StatusCode::OK
            {
                return;
            }
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!(
                    "the program exited with {status}; stderr: {}",
                    self.stderr()
                );
            }
            assert!(started.elapsed() < BOUND, "the program did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM (what `docker stop` and systemd send).
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM");
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn help_lists_every_setting_and_starts_nothing() {
    for flag in ["--help", "-h"] {
        let mut program = Program::run(&[flag], &[]);
        let status = program.wait();
        let help = program.stdout();
        assert!(status.success(), "{flag}: {status}; {}", program.stderr());
        assert!(help.contains("Usage: booking-service"), "{help}");
        for setting in SETTINGS {
            assert!(
                help.contains(&format!("--{}", setting.flag)),
                "{flag}: {help}"
            );
            assert!(help.contains(setting.variable), "{flag}: {help}");
        }
        assert!(!help.contains('\u{1b}'), "no colour codes: {help:?}");
        assert!(!program.stderr().contains("listening"), "no server started");
    }
}

#[test]
fn an_unknown_flag_is_refused_with_a_clear_line() {
    let mut program = Program::run(&["--no-such-flag"], &[]);
    let status = program.wait();
    assert_eq!(status.code(), Some(2), "{}", program.stderr());
    let first = program
        .stderr()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(first, "error: unexpected argument '--no-such-flag' found");
    let mut program = Program::run(&["--max-connections", "none"], &[]);
    let status = program.wait();
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        program.stderr().trim(),
        "error: BOOKING_MAX_CONNECTIONS=\"none\" is invalid: expected a whole number from 1 to 1000000"
    );
}

/// Flags win over variables, and `localhost:PORT` is accepted from either.
#[tokio::test]
async fn flags_override_the_environment_and_localhost_is_an_address() {
    let port = free_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut program = Program::run(
        &[
            "--addr",
            &format!("localhost:{port}"),
            "--database-url",
            "memory://",
        ],
        &[
            // Both would stop the program if the flags did not win.
            ("BOOKING_ADDR", "not an address"),
            ("DATABASE_URL", "mysql://nope"),
        ],
    );
    program.wait_ready(addr).await;
    drop(program);

    let port = free_port();
    let localhost = format!("localhost:{port}");
    let mut program = Program::run(&[], &[("BOOKING_ADDR", &localhost)]);
    program.wait_ready(([127, 0, 0, 1], port).into()).await;
}

/// `LOG_FORMAT=json`: every line on stdout is one JSON object; text logs
/// to a pipe carry no colour codes.
#[tokio::test]
async fn logs_are_json_lines_on_request_and_plain_text_otherwise() {
    let port = free_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut program = Program::run(&["--addr", &addr.to_string()], &[("LOG_FORMAT", "json")]);
    program.wait_ready(addr).await;
    program.terminate();
    assert!(program.wait().success(), "{}", program.stderr());
    let stdout = program.stdout();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
        })
        .collect();
    assert!(lines.len() >= 4, "{stdout}");
    for line in &lines {
        assert!(
            line["level"].is_string() && line["timestamp"].is_string(),
            "{line}"
        );
    }
    assert!(
        lines.iter().any(|line| line["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("listening on http://127.0.0.1:"))),
        "{stdout}"
    );
    assert!(
        lines.iter().any(|line| line["span"]["path"] == "/healthz"),
        "request logs carry their span: {stdout}"
    );

    let port = free_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut program = Program::run(&["--addr", &addr.to_string()], &[]);
    program.wait_ready(addr).await;
    program.terminate();
    assert!(program.wait().success());
    let stdout = program.stdout();
    assert!(stdout.contains("listening on"), "{stdout}");
    assert!(
        !stdout.contains('\u{1b}'),
        "no colour codes in a pipe: {stdout:?}"
    );
}

/// SIGTERM while one client holds a partial request and another an idle
/// connection: the process still exits, by the shutdown deadline.
#[tokio::test]
async fn sigterm_ends_the_process_even_while_a_client_holds_a_partial_request() {
    let port = free_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let addr_text = addr.to_string();
    let mut program = Program::run(
        &[],
        &[
            ("BOOKING_ADDR", &addr_text),
            ("BOOKING_SHUTDOWN_TIMEOUT_SECS", "2"),
            ("BOOKING_HEADER_TIMEOUT_SECS", "600"),
            ("BOOKING_IDLE_TIMEOUT_SECS", "600"),
        ],
    );
    program.wait_ready(addr).await;
    let mut partial = wire::connect(addr).await;
    wire::send(
        &mut partial,
        b"POST /api/organizers HTTP/1.1\r\nHost: test\r\nContent-Le",
    )
    .await;
    let _idle = wire::connect(addr).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    program.terminate();
    let status = program.wait();
    assert!(status.success(), "{status}; {}", program.stderr());
    assert!(program.stdout().contains("stopped"), "{}", program.stdout());
}

/// The finding: with 1,024 file descriptors, 1,100 idle connections
/// kept `/healthz` from being answered. Here the process gets 256 and the
/// client opens 400; the cap (200) keeps accepting possible and the idlest
/// connections make room for the fresh one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_beyond_the_file_limit_do_not_starve_healthz() {
    let port = free_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut command = Command::new("bash");
    command.args(["-c", &format!("ulimit -n 256 && exec \"{}\"", bin())]);
    let addr_text = addr.to_string();
    let mut program = Program::spawn(
        command,
        &[
            ("BOOKING_ADDR", &addr_text),
            ("BOOKING_MAX_CONNECTIONS", "200"),
            ("BOOKING_IDLE_TIMEOUT_SECS", "600"),
            ("BOOKING_HEADER_TIMEOUT_SECS", "600"),
        ],
    );
    program.wait_ready(addr).await;
    let mut idle = Vec::new();
    for _ in 0..400 {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(stream) => idle.push(stream),
            Err(error) => panic!("connect: {error}"),
        }
    }
    let client = reqwest::Client::new();
    let reply = tokio::time::timeout(
        wire::CLOSE_BOUND,
        client.get(format!("http://{addr}/healthz")).send(),
    )
    .await
    .expect("/healthz answers while 400 idle connections are open")
    .expect("a reply");
    assert_eq!(reply.status(), reqwest::StatusCode::OK);
    assert!(
        !program.stdout().contains("Too many open files"),
        "{}",
        program.stdout()
    );
}
