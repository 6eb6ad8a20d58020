//! Real servers on loopback for the calendar and webhook tests: the service
//! (in this process, or the `booking-service` binary), a webhook receiver
//! that verifies every signature, an ICS feed server, and aiosmtpd (from
//! PyPI, installed by `booking-calendar/scripts/ensure-python-servers.sh`).
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use booking_examples::App;
use booking_examples::config::SETTINGS;
use serde_json::Value;

use super::common::{self, Server};

/// How long a test waits for something that must happen: a bound for a
/// failure, not a measurement.
pub const BOUND: Duration = Duration::from_secs(90);

/// A server key long enough for `BOOKING_SECRET_KEY`.
pub const SECRET_KEY: &str = "test-secret-key-0123456789abcdef0123456789";

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Waits until `check` is true, polling; panics with `what` after
/// [`BOUND`].
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return;
        }
        assert!(started.elapsed() < BOUND, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The service on a SQLite file in its own directory, started as the
/// program starts it, with a second handle on the same database (a service
/// built from the same configuration) for operations the HTTP API does not
/// offer here (moving a booking).
pub struct Harness {
    pub server: Server,
    pub app: App,
    pub dir: tempfile::TempDir,
}

/// Starts the service with `vars` (and `BOOKING_ALLOW_PRIVATE_URLS=1`
/// unless `vars` says otherwise) on a fresh SQLite file.
pub async fn harness(vars: &[(&str, &str)]) -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("booking.db").display());
    let mut all: Vec<(&str, String)> = vec![("DATABASE_URL", url.clone())];
    if !vars.iter().any(|(k, _)| *k == "BOOKING_ALLOW_PRIVATE_URLS") {
        all.push(("BOOKING_ALLOW_PRIVATE_URLS", "1".to_owned()));
    }
    all.extend(vars.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let server = common::start_with_env(&all, None).await;
    let config = booking_examples::Config::from_lookup(|name| {
        all.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
    })
    .expect("valid configuration");
    let (app, _) = booking_examples::build(&config)
        .await
        .unwrap_or_else(|error| panic!("a second handle: {}", error.one_line()));
    Harness { server, app, dir }
}

/// An organizer open every day, all day, in UTC; returns (username, token).
pub async fn organizer(server: &Server) -> (String, String) {
    let username = common::unique("cal");
    let token = server.register(&username, "UTC").await;
    server.open_all_week(&token, "UTC").await;
    (username, token)
}

/// Tomorrow at `hour`:00 UTC.
pub fn tomorrow_at(hour: u32) -> chrono::DateTime<chrono::Utc> {
    common::local(chrono_tz::UTC, common::tomorrow(chrono_tz::UTC), hour)
}

/// One request a webhook receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub signature: String,
    pub body: Value,
    /// Whether a signature verified with one of the receiver's secrets.
    pub verified: bool,
    /// The receiver's secrets that verified it.
    pub verified_by: Vec<String>,
    /// The status it answered.
    pub answered: u16,
}

#[derive(Default)]
struct ReceiverState {
    secrets: Vec<String>,
    script: VecDeque<u16>,
    received: Vec<Received>,
}

/// A webhook receiver on loopback: verifies each delivery's signature with
/// the Standard Webhooks library and every secret it was given, answers
/// with its script of statuses (then 200; 401 for a bad signature), and
/// records everything.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<ReceiverState>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// A receiver on a free port.
    pub async fn start() -> Receiver {
        Self::start_on(0).await
    }

    /// A receiver on `port` (0: any).
    pub async fn start_on(port: u16) -> Receiver {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let shared = state.clone();
        let app = Router::new().route(
            "/hooks",
            post(move |headers: HeaderMap, body: String| {
                let state = shared.clone();
                async move {
                    let mut state = state.lock().expect("receiver state");
                    let verified_by: Vec<String> = state
                        .secrets
                        .iter()
                        .filter(|secret| {
                            standardwebhooks::Webhook::new(secret)
                                .and_then(|hook| hook.verify(body.as_bytes(), &headers))
                                .is_ok()
                        })
                        .cloned()
                        .collect();
                    let verified = !verified_by.is_empty();
                    let answered = if verified {
                        state.script.pop_front().unwrap_or(200)
                    } else {
                        401
                    };
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    state.received.push(Received {
                        id: header("webhook-id"),
                        signature: header("webhook-signature"),
                        body: serde_json::from_str(&body).unwrap_or(Value::Null),
                        verified,
                        verified_by,
                        answered,
                    });
                    StatusCode::from_u16(answered).unwrap_or(StatusCode::OK)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the receiver");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://{addr}/hooks"),
            state,
            task: Arc::new(task),
        }
    }

    /// Trusts `secret` from now on.
    pub fn trust(&self, secret: &str) {
        self.state
            .lock()
            .expect("state")
            .secrets
            .push(secret.to_owned());
    }

    /// Answers the next deliveries with `statuses`, in order.
    pub fn script(&self, statuses: &[u16]) {
        self.state
            .lock()
            .expect("state")
            .script
            .extend(statuses.iter().copied());
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().expect("state").received.clone()
    }

    /// Stops listening.
    pub fn stop(&self) {
        self.task.abort();
    }
}

/// A server of ICS feeds on loopback: `GET /{name}.ics` answers what was
/// put under that name.
#[derive(Clone)]
pub struct FeedServer {
    pub base: String,
    feeds: Arc<Mutex<std::collections::HashMap<String, String>>>,
}

impl FeedServer {
    pub async fn start() -> FeedServer {
        let feeds: Arc<Mutex<std::collections::HashMap<String, String>>> = Arc::default();
        let shared = feeds.clone();
        let app = Router::new().route(
            "/{name}",
            get(
                move |axum::extract::Path(name): axum::extract::Path<String>| {
                    let feeds = shared.clone();
                    async move {
                        match feeds.lock().expect("feeds").get(&name) {
                            Some(text) => (
                                StatusCode::OK,
                                [("content-type", "text/calendar; charset=utf-8")],
                                text.clone(),
                            ),
                            None => (
                                StatusCode::NOT_FOUND,
                                [("content-type", "text/plain")],
                                String::new(),
                            ),
                        }
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FeedServer {
            base: format!("http://{addr}"),
            feeds,
        }
    }

    /// Serves `text` at `/{name}`; returns its URL.
    pub fn put(&self, name: &str, text: &str) -> String {
        self.feeds
            .lock()
            .expect("feeds")
            .insert(name.to_owned(), text.to_owned());
        format!("{}/{name}", self.base)
    }
}

static INSTALL: Once = Once::new();

/// Makes sure aiosmtpd imports (pip, pinned versions).
pub fn ensure_python_servers() {
    INSTALL.call_once(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../booking-calendar/scripts/ensure-python-servers.sh");
        let status = Command::new("bash")
            .arg(&script)
            .status()
            .expect("bash runs the install script");
        assert!(status.success(), "{} failed", script.display());
    });
}

/// aiosmtpd on loopback, storing what it receives as a Maildir.
pub struct Smtp {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Smtp {
    /// A server on a free port, started when `started`.
    pub fn new(started: bool) -> Smtp {
        ensure_python_servers();
        let mut smtp = Smtp {
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            child: None,
        };
        if started {
            smtp.start();
        }
        smtp
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir")
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        let mut child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.maildir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("aiosmtpd exited with {status}");
            }
            assert!(started.elapsed() < BOUND, "aiosmtpd did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        self.child = Some(child);
    }

    /// The raw messages received so far.
    pub fn received(&self) -> Vec<String> {
        let mut messages = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir().join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    messages.push(text);
                }
            }
        }
        messages
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One email as the tests look at it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    /// The `text/calendar` part's `method=` parameter.
    pub content_method: String,
    /// The `.ics` attachment, unfolded.
    pub ics: String,
    pub text: String,
}

impl Mail {
    /// The value of the first `NAME:` line of the attachment.
    pub fn ics_value(&self, name: &str) -> String {
        ics_value(&self.ics, name)
    }
}

/// The value of the first `NAME:` (or `NAME;...:`) line of unfolded
/// iCalendar text.
pub fn ics_value(ics: &str, name: &str) -> String {
    ics.lines()
        .find(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(':') || rest.starts_with(';'))
        })
        .and_then(|line| line.split_once(':').map(|(_, value)| value.to_owned()))
        .unwrap_or_default()
}

/// iCalendar text with folded lines joined (RFC 5545 §3.1).
pub fn unfold(text: &str) -> String {
    text.replace("\r\n ", "")
        .replace("\r\n\t", "")
        .replace("\n ", "")
        .replace("\r\n", "\n")
}

/// Parses a raw message with mail-parser.
pub fn parse_mail(raw: &str) -> Mail {
    use mail_parser::{MessageParser, MimeHeaders as _};
    let message = MessageParser::default()
        .parse(raw.as_bytes())
        .expect("a parsable message");
    let to = message
        .to()
        .and_then(|to| to.first())
        .and_then(|addr| addr.address())
        .map(|address| vec![address.to_owned()])
        .unwrap_or_default();
    let mut ics = String::new();
    let mut content_method = String::new();
    for part in message.attachments() {
        if let Some(kind) = part.content_type()
            && kind.ctype() == "text"
            && kind.subtype() == Some("calendar")
        {
            content_method = kind.attribute("method").unwrap_or_default().to_owned();
            ics = unfold(&String::from_utf8_lossy(part.contents()));
        }
    }
    Mail {
        to,
        subject: message.subject().unwrap_or_default().to_owned(),
        content_method,
        ics,
        text: message.body_text(0).unwrap_or_default().into_owned(),
    }
}

/// The `booking-service` binary, spawned as an operator runs it.
pub struct Program {
    child: Child,
    pub addr: SocketAddr,
}

impl Program {
    /// Spawns the binary listening on `addr` with `env` (on top of a clean
    /// environment: rate limits off) and waits for `/healthz`.
    pub async fn start(addr: SocketAddr, env: &[(&str, String)]) -> Program {
        let mut command = Command::new(env!("CARGO_BIN_EXE_booking-service"));
        for setting in SETTINGS {
            command.env_remove(setting.variable);
        }
        command
            .env("BOOKING_RATE_LIMIT", "off")
            .env("BOOKING_ADDR", addr.to_string())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = command.spawn().expect("spawn booking-service");
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(response) = client.get(format!("http://{addr}/healthz")).send().await
                && response.status() == reqwest::StatusCode::OK
            {
                break;
            }
            if let Some(status) = child.try_wait().expect("try_wait") {
                panic!("booking-service exited with {status}");
            }
            assert!(started.elapsed() < BOUND, "booking-service did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Program { child, addr }
    }

    /// `kill -9`: no chance to finish anything.
    pub fn kill_9(mut self) {
        let status = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -KILL");
        let _ = self.child.wait();
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Radicale (CalDAV) on loopback with one user (htpasswd, plain).
pub struct Radicale {
    pub port: u16,
    _dir: tempfile::TempDir,
    child: Child,
}

impl Radicale {
    pub fn start(user: &str, password: &str) -> Radicale {
        ensure_python_servers();
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let users = dir.path().join("users");
        std::fs::write(&users, format!("{user}:{password}\n")).expect("htpasswd");
        let mut child = Command::new("python3")
            .args(["-m", "radicale", "--storage-filesystem-folder"])
            .arg(dir.path().join("collections"))
            .arg("--hosts")
            .arg(format!("127.0.0.1:{port}"))
            .args(["--auth-type", "htpasswd", "--auth-htpasswd-filename"])
            .arg(&users)
            .args(["--auth-htpasswd-encryption", "plain"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("radicale starts");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("radicale exited with {status}");
            }
            assert!(started.elapsed() < BOUND, "radicale did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        Radicale {
            port,
            _dir: dir,
            child,
        }
    }

    /// A request as `user`, for setting up collections and events.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        auth: (&str, &str),
        body: Option<String>,
    ) -> u16 {
        let mut request = reqwest::Client::new()
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("a method"),
                format!("http://127.0.0.1:{}{path}", self.port),
            )
            .basic_auth(auth.0, Some(auth.1));
        if let Some(body) = body {
            request = request
                .header("content-type", "text/calendar; charset=utf-8")
                .body(body);
        }
        request
            .send()
            .await
            .expect("radicale answers")
            .status()
            .as_u16()
    }
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
