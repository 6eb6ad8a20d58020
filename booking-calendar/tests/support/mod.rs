//! Real servers on loopback for the tests: Radicale (CalDAV, and ICS on
//! GET) and aiosmtpd (SMTP), both from PyPI, installed with pip from
//! `requirements.txt` when missing. Each server gets a free port and its
//! own temporary directory; dropping it stops the process and removes the
//! directory. A server that cannot start fails the test.

#![allow(dead_code)]

use std::io::Read as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

static INSTALL: Once = Once::new();

/// Makes sure `radicale` and `aiosmtpd` import, installing them with
/// `scripts/ensure-python-servers.sh` (pip, pinned versions) if not.
pub fn ensure_python_servers() {
    INSTALL.call_once(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ensure-python-servers.sh");
        let status = Command::new("bash")
            .arg(&script)
            .status()
            .expect("bash runs the install script");
        assert!(
            status.success(),
            "{} could not install the test servers",
            script.display()
        );
    });
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A server process on 127.0.0.1 with its own directory.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub dir: tempfile::TempDir,
    command: Vec<String>,
}

impl Server {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the process (the directory stays until drop).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Wait until the port is really closed.
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the process again on the same port and directory.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        let mut child = Command::new(&self.command[0])
            .args(&self.command[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server process starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                panic!("{:?} exited with {status}: {stderr}", self.command);
            }
            assert!(
                Instant::now() < deadline,
                "{:?} did not listen in 60 s",
                self.command
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // Nobody reads stderr from here on; let it go nowhere so the pipe
        // never fills.
        drop(child.stderr.take());
        self.child = Some(child);
    }

    fn new(command: Vec<String>, port: u16, dir: tempfile::TempDir) -> Server {
        Server {
            child: None,
            port,
            dir,
            command,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Radicale on a free port; with `user` (name, password) it requires HTTP
/// basic authentication (htpasswd, plain), otherwise none.
pub fn radicale(user: Option<(&str, &str)>) -> Server {
    ensure_python_servers();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let port = free_port();
    let storage = dir.path().join("collections");
    let mut command: Vec<String> = ["python3", "-m", "radicale", "--storage-filesystem-folder"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    command.push(storage.display().to_string());
    command.extend(["--hosts".to_owned(), format!("127.0.0.1:{port}")]);
    match user {
        None => command.extend(["--auth-type".to_owned(), "none".to_owned()]),
        Some((name, password)) => {
            let htpasswd = dir.path().join("users");
            std::fs::write(&htpasswd, format!("{name}:{password}\n")).expect("htpasswd written");
            command.extend([
                "--auth-type".to_owned(),
                "htpasswd".to_owned(),
                "--auth-htpasswd-filename".to_owned(),
                htpasswd.display().to_string(),
                "--auth-htpasswd-encryption".to_owned(),
                "plain".to_owned(),
            ]);
        }
    }
    let mut server = Server::new(command, port, dir);
    server.start();
    server
}

/// An aiosmtpd SMTP server that stores what it receives as a Maildir in
/// its directory; `start` is left to the caller when `started` is false (a
/// server that is down at first).
pub fn smtp_server(started: bool) -> Server {
    smtp_server_with(started, None).0
}

/// How a test SMTP server speaks TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// STARTTLS, required before anything else.
    StartTls,
    /// TLS from the first byte (smtps).
    Implicit,
}

/// An SMTP server with TLS, its certificate for 127.0.0.1 issued by a
/// fresh test CA; returns the server (started) and the CA's PEM.
pub fn smtp_server_tls(tls: SmtpTls) -> (Server, String) {
    let (server, ca) = smtp_server_with(true, Some(tls));
    (server, ca.unwrap_or_default())
}

fn smtp_server_with(started: bool, tls: Option<SmtpTls>) -> (Server, Option<String>) {
    ensure_python_servers();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let port = free_port();
    let maildir = dir.path().join("maildir");
    let mut command = vec![
        "python3".to_owned(),
        "-m".to_owned(),
        "aiosmtpd".to_owned(),
        "-n".to_owned(),
        "-l".to_owned(),
        format!("127.0.0.1:{port}"),
        "-c".to_owned(),
        "aiosmtpd.handlers.Mailbox".to_owned(),
    ];
    let mut ca_pem = None;
    if let Some(tls) = tls {
        let (ca, cert, key) = certificates(dir.path());
        let (cert_flag, key_flag) = match tls {
            SmtpTls::StartTls => ("--tlscert", "--tlskey"),
            SmtpTls::Implicit => ("--smtpscert", "--smtpskey"),
        };
        command.extend([
            cert_flag.to_owned(),
            cert.display().to_string(),
            key_flag.to_owned(),
            key.display().to_string(),
        ]);
        ca_pem = Some(ca);
    }
    command.push(maildir.display().to_string());
    let mut server = Server::new(command, port, dir);
    if started {
        server.start();
    }
    (server, ca_pem)
}

/// A test CA and a certificate for 127.0.0.1 it issued, written into
/// `dir`: (CA PEM, certificate file, key file).
fn certificates(dir: &Path) -> (String, PathBuf, PathBuf) {
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "booking-calendar test CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("a CA");
    let key = rcgen::KeyPair::generate().expect("a server key");
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("params");
    let certificate = params.signed_by(&key, &ca).expect("a server certificate");
    let cert_file = dir.join("server.pem");
    let key_file = dir.join("server.key");
    std::fs::write(&cert_file, certificate.pem()).expect("certificate written");
    std::fs::write(&key_file, key.serialize_pem()).expect("key written");
    (ca.pem(), cert_file, key_file)
}

/// The raw messages an [`smtp_server`] received so far.
pub fn received(server: &Server) -> Vec<String> {
    let mut messages = Vec::new();
    for sub in ["new", "cur"] {
        let dir: PathBuf = server.dir.path().join("maildir").join(sub);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            messages.push(std::fs::read_to_string(entry.path()).expect("a readable message"));
        }
    }
    messages
}

/// A plain HTTP request to a test server (to set it up), returning the
/// status.
pub async fn http(
    method: &str,
    url: &str,
    auth: Option<(&str, &str)>,
    body: Option<String>,
) -> u16 {
    let client = reqwest::Client::new();
    let mut request = client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
    if let Some((user, password)) = auth {
        request = request.basic_auth(user, Some(password));
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "text/calendar; charset=utf-8")
            .body(body);
    }
    request
        .send()
        .await
        .expect("the test server answers")
        .status()
        .as_u16()
}

/// The organizer every test books with: `ada`, in London, working every
/// day `hours.0` to `hours.1`, offering the 30-minute event type `intro`
/// titled `title` at `location`.
pub async fn register_ada(
    service: &booking_core::BookingService,
    (email, name): (&str, &str),
    hours: (&str, &str),
    title: &str,
    location: Option<booking_core::Location>,
) -> booking_core::Organizer {
    use booking_core::{EventTypeDraft, LocalInterval, NewOrganizer, ScheduleDraft, WeeklyHours};
    let (ada, _) = service
        .register_organizer(NewOrganizer::new(
            "ada",
            email,
            name,
            booking_core::Tz::Europe__London,
        ))
        .await
        .unwrap();
    let hours = WeeklyHours::every_day(vec![LocalInterval::parse(hours.0, hours.1).unwrap()]);
    service
        .create_schedule(&ada, ScheduleDraft::new("Hours", hours))
        .await
        .unwrap();
    let mut intro =
        EventTypeDraft::new("intro", title, booking_core::chrono::Duration::minutes(30));
    intro.location = location;
    service.create_event_type(&ada, intro).await.unwrap();
    ada
}

/// The value of a parsed calendar's own property `name` (`METHOD`,
/// `VERSION`, ...), as written.
pub fn calendar_property(calendar: &icalendar::parser::Calendar<'_>, name: &str) -> Option<String> {
    calendar
        .properties
        .iter()
        .find(|p| p.name.as_str() == name)
        .map(|p| p.val.as_str().to_owned())
}
