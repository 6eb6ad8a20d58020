//! A real HTTP receiver on loopback that verifies every signature with the
//! `standardwebhooks` crate, records what it got, and answers with scripted
//! statuses (200 when nothing is scripted).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::post;
use standardwebhooks::Webhook;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: i64,
    /// The `v1,...` entries of `webhook-signature`.
    pub signatures: Vec<String>,
    /// For each signature, the index of the trusted secret whose
    /// `standardwebhooks` verifier accepts it (signature and timestamp
    /// tolerance), if any.
    pub verified_by: Vec<Option<usize>>,
    /// For each signature, the index of the trusted secret that produced
    /// it (the crate's signer, no timestamp check), if any.
    pub signed_by: Vec<Option<usize>>,
    /// `content-type`.
    pub content_type: String,
    /// The body.
    pub body: String,
    /// The status answered.
    pub answered: u16,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// Whether every signature verifies with a trusted secret.
    pub fn all_verified(&self) -> bool {
        !self.verified_by.is_empty() && self.verified_by.iter().all(Option::is_some)
    }
}

#[derive(Default)]
struct Shared {
    answers: Mutex<VecDeque<u16>>,
    secrets: Mutex<Vec<String>>,
    received: Mutex<Vec<Received>>,
}

/// The receiver; stops when dropped.
pub struct Receiver {
    /// Its URL.
    pub url: String,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Receiver {
    /// A receiver on a free loopback port.
    pub async fn start() -> Receiver {
        Self::serve(TcpListener::bind("127.0.0.1:0").await.unwrap())
    }

    /// A receiver on `addr` (a port chosen earlier).
    pub async fn start_on(addr: SocketAddr) -> Receiver {
        Self::serve(TcpListener::bind(addr).await.unwrap())
    }

    fn serve(listener: TcpListener) -> Receiver {
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/hook", post(hook))
            // Where a scripted 3xx points: a GET that would "succeed".
            .route("/moved", axum::routing::get(|| async { StatusCode::OK }))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            url: format!("http://{addr}/hook"),
            shared,
            server,
        }
    }

    /// Verifies signatures with `secret` too; returns its index.
    pub fn trust(&self, secret: &str) -> usize {
        let mut secrets = self.shared.secrets.lock().unwrap();
        secrets.push(secret.to_owned());
        secrets.len() - 1
    }

    /// Answers the next requests with these statuses, then 200 again.
    pub fn answer_next(&self, statuses: impl IntoIterator<Item = u16>) {
        self.shared.answers.lock().unwrap().extend(statuses);
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }
}

async fn hook(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, [(axum::http::HeaderName, &'static str); 1]) {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let id = text("webhook-id");
    let timestamp: i64 = text("webhook-timestamp").parse().unwrap_or(-1);
    let signatures: Vec<String> = text("webhook-signature")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let secrets = shared.secrets.lock().unwrap().clone();
    let verified_by = signatures
        .iter()
        .map(|signature| {
            // Each signature on its own, so every one of them is checked.
            let mut single = headers.clone();
            single.insert(
                "webhook-signature",
                HeaderValue::from_str(signature).unwrap(),
            );
            secrets.iter().position(|secret| {
                Webhook::new(secret)
                    .unwrap()
                    .verify(body.as_bytes(), &single)
                    .is_ok()
            })
        })
        .collect();
    let signed_by = signatures
        .iter()
        .map(|signature| {
            secrets.iter().position(|secret| {
                Webhook::new(secret)
                    .unwrap()
                    .sign(&id, timestamp, body.as_bytes())
                    .unwrap()
                    == *signature
            })
        })
        .collect();
    let answered = shared.answers.lock().unwrap().pop_front().unwrap_or(200);
    shared.received.lock().unwrap().push(Received {
        id,
        timestamp,
        signatures,
        verified_by,
        signed_by,
        content_type: text("content-type"),
        body,
        answered,
    });
    // A redirect points at a GET route answering 200, as a moved receiver
    // would: a sender that followed it would wrongly count a success.
    (
        StatusCode::from_u16(answered).unwrap(),
        [(axum::http::header::LOCATION, "/moved")],
    )
}
