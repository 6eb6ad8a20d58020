//! An organizer's connected calendars: where their busy time comes from.
//!
//! A connection is a [record](booking_core::record) of kind
//! [`CONNECTION_RECORD`]: an ICS feed URL (a calendar's "secret address in
//! iCal format"), or a CalDAV calendar collection URL with a user name and
//! password. The password is sealed with the server's
//! [`SecretBox`] before it is stored, and no [`Connection`] ever carries it;
//! without a server key, CalDAV connections are refused rather than stored
//! in clear. Every URL is checked with the service's [`UrlPolicy`] when it
//! is stored, and again by the [`SafeClient`](booking_net::SafeClient) at
//! every fetch.

use std::sync::Arc;

use booking_core::chrono::{DateTime, Utc};
use booking_core::record::Record;
use booking_core::secret::{SecretBox, SecretBoxError};
use booking_core::{BookingStore, OrganizerId, StoreError};
use booking_net::{UrlError, UrlPolicy};
use serde::{Deserialize, Serialize};

/// The record kind of calendar connections.
pub const CONNECTION_RECORD: &str = "calendar_connection";
/// The most calendars one organizer may connect.
pub const MAX_CONNECTIONS: usize = 10;
/// The longest name, user name or password accepted.
pub const MAX_FIELD_LEN: usize = 200;

/// What kind of calendar a connection reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionKind {
    /// An iCalendar feed fetched with `GET`.
    Ics,
    /// A CalDAV calendar collection queried with `REPORT`.
    Caldav,
}

/// A calendar to connect, as an organizer submits it. As JSON:
/// `{"kind": "ics", "url": "..."}` or
/// `{"kind": "caldav", "url": "...", "username": "...", "password": "..."}`,
/// each with an optional `"name"`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum NewConnection {
    /// An ICS feed.
    Ics {
        /// The feed's URL (http or https).
        url: String,
        /// A name for people; the URL's host when absent.
        #[serde(default)]
        name: Option<String>,
    },
    /// A CalDAV calendar collection.
    Caldav {
        /// The collection's URL (http or https).
        url: String,
        /// The user name for basic authentication.
        username: String,
        /// The password (stored encrypted, never returned).
        password: String,
        /// A name for people; the URL's host when absent.
        #[serde(default)]
        name: Option<String>,
    },
}

impl std::fmt::Debug for NewConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NewConnection::Ics { url, name } => f
                .debug_struct("Ics")
                .field("url", url)
                .field("name", name)
                .finish(),
            NewConnection::Caldav {
                url,
                username,
                name,
                ..
            } => f
                .debug_struct("Caldav")
                .field("url", url)
                .field("username", username)
                .field("name", name)
                .finish_non_exhaustive(),
        }
    }
}

/// A connected calendar as shown to its organizer: never the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection {
    /// Its id.
    pub id: String,
    /// Whose calendar it is.
    #[serde(skip)]
    pub organizer_id: OrganizerId,
    /// ICS feed or CalDAV.
    pub kind: ConnectionKind,
    /// The name shown to people (also in "stale calendar" notices, which
    /// attendees may see: it is never the URL).
    pub name: String,
    /// The URL.
    pub url: String,
    /// The CalDAV user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// When it was connected.
    pub created_at: DateTime<Utc>,
}

/// A connection as stored: the password sealed.
#[derive(Clone, Serialize, Deserialize)]
struct StoredConnection {
    kind: ConnectionKind,
    name: String,
    url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed_password: Option<String>,
}

/// A connection with what it takes to read it.
#[derive(Clone)]
pub(crate) struct Source {
    pub(crate) connection: Connection,
    /// For CalDAV: the user name and the password (or why it cannot be
    /// opened).
    pub(crate) credentials: Option<(String, Result<String, SecretBoxError>)>,
}

/// Why a connection was refused or could not be handled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The URL is not one the service may fetch.
    #[error("the calendar URL is not accepted: {0}")]
    InvalidUrl(#[source] UrlError),
    /// A required field is empty.
    #[error("{0} is required")]
    Missing(&'static str),
    /// A field is too long.
    #[error("{0} must be at most {MAX_FIELD_LEN} characters")]
    TooLong(&'static str),
    /// A field holds control characters.
    #[error("{0} must not contain control characters")]
    ControlCharacters(&'static str),
    /// A password must be stored but the service has no key to seal it.
    #[error(
        "a CalDAV password cannot be stored: the server has no secret key configured (BOOKING_SECRET_KEY)"
    )]
    NoSecretKey,
    /// The organizer already has the most calendars allowed.
    #[error("at most {MAX_CONNECTIONS} calendars can be connected")]
    TooMany,
    /// No such connection of this organizer.
    #[error("no such calendar connection")]
    NotFound,
    /// The password could not be sealed.
    #[error("the password could not be encrypted: {0}")]
    Seal(#[source] SecretBoxError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ConnectionError {
    /// A stable code for APIs: `invalid_url`, `validation_failed`,
    /// `secret_key_missing`, `too_many_calendars`, `not_found`, or
    /// `internal` (the service's fault).
    pub fn code(&self) -> &'static str {
        match self {
            ConnectionError::InvalidUrl(_) => "invalid_url",
            ConnectionError::Missing(_)
            | ConnectionError::TooLong(_)
            | ConnectionError::ControlCharacters(_) => "validation_failed",
            ConnectionError::NoSecretKey => "secret_key_missing",
            ConnectionError::TooMany => "too_many_calendars",
            ConnectionError::NotFound => "not_found",
            ConnectionError::Seal(_) | ConnectionError::Store(_) => "internal",
        }
    }

    /// Whether the caller's input is at fault (a 4xx), rather than the
    /// service (a 5xx). A missing server key is the service's
    /// configuration, but the request cannot succeed until it changes, so
    /// it counts as a client error too (the message says why).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, ConnectionError::Seal(_) | ConnectionError::Store(_))
    }
}

/// Connecting, listing and removing an organizer's calendars. Cheap to
/// clone.
///
/// ```
/// use std::sync::Arc;
/// use booking_calendar::connections::{Connections, NewConnection};
/// use booking_core::{BookingStore, MemoryStore, OrganizerId};
/// use booking_net::UrlPolicy;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
/// let connections = Connections::new(store, UrlPolicy::public_only(), None);
/// let organizer = OrganizerId::generate();
/// let feed: NewConnection = serde_json::from_str(
///     r#"{"kind": "ics", "url": "https://calendar.example.com/secret/basic.ics"}"#,
/// )?;
/// let connected = connections.connect(organizer, feed).await?;
/// assert_eq!(connected.name, "calendar.example.com");
/// assert_eq!(connections.list(organizer).await?.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Connections {
    store: Arc<dyn BookingStore>,
    policy: UrlPolicy,
    secrets: Option<SecretBox>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("policy", &self.policy)
            .field("secrets", &self.secrets.is_some())
            .finish_non_exhaustive()
    }
}

impl Connections {
    /// Connections kept in `store`, URLs checked with `policy`, passwords
    /// sealed with `secrets` (`None`: CalDAV connections are refused).
    pub fn new(
        store: Arc<dyn BookingStore>,
        policy: UrlPolicy,
        secrets: Option<SecretBox>,
    ) -> Self {
        Connections {
            store,
            policy,
            secrets,
        }
    }

    /// The URL policy in force.
    pub fn policy(&self) -> UrlPolicy {
        self.policy
    }

    /// Connects a calendar for `organizer`, after checking every field.
    pub async fn connect(
        &self,
        organizer: OrganizerId,
        new: NewConnection,
    ) -> Result<Connection, ConnectionError> {
        let (kind, url, name, credentials) = match new {
            NewConnection::Ics { url, name } => (ConnectionKind::Ics, url, name, None),
            NewConnection::Caldav {
                url,
                username,
                password,
                name,
            } => (
                ConnectionKind::Caldav,
                url,
                name,
                Some((username, password)),
            ),
        };
        let url = url.trim().to_owned();
        if url.is_empty() {
            return Err(ConnectionError::Missing("url"));
        }
        let parsed = self
            .policy
            .check(&url)
            .map_err(ConnectionError::InvalidUrl)?;
        let name = match name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) {
            Some(name) => checked("name", name)?,
            None => parsed.host_str().unwrap_or("calendar").to_owned(),
        };
        let (username, sealed_password) = match credentials {
            None => (None, None),
            Some((username, password)) => {
                let username = checked("username", username)?;
                if username.is_empty() {
                    return Err(ConnectionError::Missing("username"));
                }
                if password.is_empty() {
                    return Err(ConnectionError::Missing("password"));
                }
                if password.chars().count() > MAX_FIELD_LEN {
                    return Err(ConnectionError::TooLong("password"));
                }
                let secrets = self.secrets.as_ref().ok_or(ConnectionError::NoSecretKey)?;
                let sealed = secrets
                    .seal(password.as_bytes())
                    .map_err(ConnectionError::Seal)?;
                (Some(username), Some(sealed))
            }
        };
        let now = Utc::now();
        if self.records(organizer, now).await?.len() >= MAX_CONNECTIONS {
            return Err(ConnectionError::TooMany);
        }
        let stored = StoredConnection {
            kind,
            name,
            url,
            username,
            sealed_password,
        };
        let id = ulid::Ulid::generate().to_string();
        let data = serde_json::to_string(&stored).map_err(StoreError::backend)?;
        self.store
            .put_record(Record {
                kind: CONNECTION_RECORD.to_owned(),
                id: id.clone(),
                organizer_id: organizer,
                lookup: None,
                data,
                created_at: now,
                expires_at: None,
            })
            .await?;
        Ok(public(id, organizer, stored, now))
    }

    /// The organizer's connected calendars, oldest first.
    pub async fn list(&self, organizer: OrganizerId) -> Result<Vec<Connection>, ConnectionError> {
        Ok(self
            .sources(organizer)
            .await?
            .into_iter()
            .map(|source| source.connection)
            .collect())
    }

    /// Removes one of the organizer's connections;
    /// [`ConnectionError::NotFound`] if it has none with this id.
    pub async fn delete(&self, organizer: OrganizerId, id: &str) -> Result<(), ConnectionError> {
        match self.store.record(CONNECTION_RECORD, id).await? {
            Some(record) if record.organizer_id == organizer => {
                self.store.delete_record(CONNECTION_RECORD, id).await?;
                Ok(())
            }
            _ => Err(ConnectionError::NotFound),
        }
    }

    /// The organizer's connections with their credentials opened.
    pub(crate) async fn sources(&self, organizer: OrganizerId) -> Result<Vec<Source>, StoreError> {
        let mut sources = Vec::new();
        for record in self.records(organizer, Utc::now()).await? {
            let Ok(stored) = serde_json::from_str::<StoredConnection>(&record.data) else {
                tracing::error!(connection = %record.id, "a calendar connection record cannot be read; it is ignored");
                continue;
            };
            let credentials = match (&stored.username, &stored.sealed_password) {
                (Some(username), Some(sealed)) => {
                    let password = match &self.secrets {
                        Some(secrets) => secrets
                            .open(sealed)
                            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
                        None => Err(SecretBoxError::Open),
                    };
                    Some((username.clone(), password))
                }
                _ => None,
            };
            sources.push(Source {
                connection: public(record.id, record.organizer_id, stored, record.created_at),
                credentials,
            });
        }
        Ok(sources)
    }

    async fn records(
        &self,
        organizer: OrganizerId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Record>, StoreError> {
        self.store.records(organizer, CONNECTION_RECORD, now).await
    }
}

fn public(
    id: String,
    organizer_id: OrganizerId,
    stored: StoredConnection,
    created_at: DateTime<Utc>,
) -> Connection {
    Connection {
        id,
        organizer_id,
        kind: stored.kind,
        name: stored.name,
        url: stored.url,
        username: stored.username,
        created_at,
    }
}

/// `value` trimmed, if short enough and free of control characters.
fn checked(field: &'static str, value: String) -> Result<String, ConnectionError> {
    let value = value.trim().to_owned();
    if value.chars().count() > MAX_FIELD_LEN {
        return Err(ConnectionError::TooLong(field));
    }
    if value.chars().any(char::is_control) {
        return Err(ConnectionError::ControlCharacters(field));
    }
    Ok(value)
}
