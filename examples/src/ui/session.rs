//! Who is signed in, read from the session cookie, and the guard every form
//! post goes through.
//!
//! Signing in with the API token starts a booking-core session
//! ([`BookingService::start_session`]): the cookie holds the session's own
//! random token, never the API token, and each request is checked with
//! [`BookingService::session`], which also ends sessions that were idle or
//! are too old, signed out, or made before the API token was rotated.
//! Signing out ends the session on the server ([`BookingService::end_session`]),
//! so a copy of the cookie stops working too; "sign out everywhere" ends all
//! of the organizer's sessions ([`BookingService::end_all_sessions`]). This
//! module is the only place that knows what the cookie holds: the rest of
//! the pages see a [`SessionKey`] (an opaque value, also what form tokens are
//! bound to).
//!
//! [`BookingService::start_session`]: booking_core::BookingService::start_session
//! [`BookingService::session`]: booking_core::BookingService::session
//! [`BookingService::end_session`]: booking_core::BookingService::end_session
//! [`BookingService::end_all_sessions`]: booking_core::BookingService::end_all_sessions

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use booking_core::{Organizer, ServiceError};

use super::Ui;
use super::cookies::{Cookie, CookieValue, Transport};
use super::csrf::{self, Purpose};
use super::layout::{internal_error, message_page};

/// The session cookie's value, opaque outside this module.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct SessionKey(String);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(<secret>)")
    }
}

/// A form a signed-in organizer posts; it carries the session's form token.
pub(super) trait SignedInForm: Default {
    /// The form token it carries (empty when none).
    fn csrf(&self) -> &str;
}

impl SignedInForm for super::form::FormFields {
    fn csrf(&self) -> &str {
        self.first(csrf::FIELD)
    }
}

/// Why a sign-in did not start a session.
pub(super) enum NotStarted {
    /// The API token is not an organizer's.
    WrongToken,
    /// The page to send instead (a refusal, or a failure).
    Page(Response),
}

/// Who is signed in, or why nobody is.
pub(super) enum Session {
    /// A valid session.
    SignedIn(Organizer, SessionKey),
    /// No session cookie.
    Anonymous,
    /// A session cookie that no longer signs anyone in.
    Expired(SessionKey),
}

impl Ui {
    /// How this request arrived (which cookie names and attributes apply).
    pub(super) fn transport(&self, request: &HeaderMap) -> Transport {
        Transport::of(request, self.security.options.cookie_security)
    }

    /// Who the request's session cookie signs in. A duplicated session
    /// cookie is refused with a page saying so.
    pub(super) async fn session(&self, request: &HeaderMap) -> Result<Session, Response> {
        let key = match self.transport(request).read(request, Cookie::Session) {
            CookieValue::Absent => return Ok(Session::Anonymous),
            CookieValue::Duplicate => return Err(Refused::DuplicateCookie.into_response()),
            CookieValue::One(value) => SessionKey(value),
        };
        match self.service.session(&key.0).await {
            Ok(organizer) => Ok(Session::SignedIn(organizer, key)),
            Err(ServiceError::Unauthorized) => Ok(Session::Expired(key)),
            Err(error) => Err(internal_error(&error)),
        }
    }

    /// The signed-in organizer, or the response to send instead: the
    /// sign-in page for anybody else.
    pub(super) async fn require_organizer(
        &self,
        request: &HeaderMap,
    ) -> Result<(Organizer, SessionKey), Response> {
        match self.session(request).await? {
            Session::SignedIn(organizer, key) => Ok((organizer, key)),
            Session::Anonymous | Session::Expired(_) => {
                Err(Redirect::to("/dashboard").into_response())
            }
        }
    }

    /// Signs in with `api_token`: starts a session and gives the organizer,
    /// the session's key and the `Set-Cookie` to send.
    pub(super) async fn start_session(
        &self,
        request: &HeaderMap,
        api_token: &str,
    ) -> Result<(Organizer, SessionKey, HeaderValue), NotStarted> {
        let started = match self.service.start_session(api_token).await {
            Ok(started) => started,
            Err(ServiceError::Unauthorized) => return Err(NotStarted::WrongToken),
            Err(error) => return Err(NotStarted::Page(internal_error(&error))),
        };
        let key = SessionKey(started.token.expose().to_owned());
        let cookie = self
            .transport(request)
            .set(Cookie::Session, &key.0)
            .ok_or_else(|| NotStarted::Page(Refused::UnusableToken.into_response()))?;
        Ok((started.organizer, key, cookie))
    }

    /// Ends this browser's session on the server (a copy of the cookie stops
    /// working too) and gives the `Set-Cookie` that forgets it here.
    pub(super) async fn end_session(
        &self,
        request: &HeaderMap,
        key: Option<&SessionKey>,
    ) -> Result<HeaderValue, Response> {
        if let Some(key) = key {
            self.service
                .end_session(&key.0)
                .await
                .map_err(|error| internal_error(&error))?;
        }
        Ok(self.forget_session(request))
    }

    /// Ends every session of `organizer`, in every browser ("sign out
    /// everywhere"), and gives the `Set-Cookie` that forgets this one.
    pub(super) async fn end_all_sessions(
        &self,
        request: &HeaderMap,
        organizer: &Organizer,
    ) -> Result<HeaderValue, Response> {
        self.service
            .end_all_sessions(organizer.id)
            .await
            .map_err(|error| internal_error(&error))?;
        Ok(self.forget_session(request))
    }

    /// The `Set-Cookie` that forgets the session cookie in this browser.
    pub(super) fn forget_session(&self, request: &HeaderMap) -> HeaderValue {
        self.transport(request).clear(Cookie::Session)
    }

    /// The checks every signed-in organizer's form post passes, in order: it
    /// comes from the service's own pages, from a live session, and carries
    /// that session's token. Gives the organizer, the session and the form
    /// (an unreadable form reads as empty, so it fails the token check), or
    /// the response to send instead.
    pub(super) async fn signed_in_post<T: SignedInForm>(
        &self,
        request: &HeaderMap,
        form: Result<Form<T>, FormRejection>,
    ) -> Result<(Organizer, SessionKey, T), Response> {
        self.check_origin(request)
            .map_err(IntoResponse::into_response)?;
        let (organizer, key) = self.require_organizer(request).await?;
        let form = form.map(|Form(f)| f).unwrap_or_default();
        self.check_form_token(&key, form.csrf())
            .map_err(IntoResponse::into_response)?;
        Ok((organizer, key, form))
    }

    /// The token a signed-in organizer's forms carry.
    pub(super) fn form_token(&self, key: &SessionKey) -> String {
        self.security.token(Purpose::SignedIn, &key.0)
    }

    /// The check every signed-in organizer's form post passes: its token
    /// belongs to this session.
    pub(super) fn check_form_token(
        &self,
        key: &SessionKey,
        presented: &str,
    ) -> Result<(), Refused> {
        if self.security.verify(Purpose::SignedIn, &key.0, presented) {
            Ok(())
        } else {
            Err(Refused::StaleForm)
        }
    }

    /// The pre-session value of a visitor who is not signed in, and the
    /// `Set-Cookie` to send when it is new, for the sign-in and sign-up forms.
    pub(super) fn pre_session(
        &self,
        request: &HeaderMap,
    ) -> Result<(String, Option<HeaderValue>), Refused> {
        let transport = self.transport(request);
        match transport.read(request, Cookie::PreSession) {
            CookieValue::Duplicate => Err(Refused::DuplicateCookie),
            CookieValue::One(value) if value.len() == 64 && hex::decode(&value).is_ok() => {
                Ok((value, None))
            }
            CookieValue::One(_) | CookieValue::Absent => {
                let mut random = [0u8; 32];
                getrandom::fill(&mut random).map_err(Refused::Randomness)?;
                let value = hex::encode(random);
                let cookie = transport.set(Cookie::PreSession, &value);
                Ok((value, cookie))
            }
        }
    }

    /// The token the sign-in and sign-up forms carry for `pre_session`.
    pub(super) fn sign_in_token(&self, pre_session: &str) -> String {
        self.security.token(Purpose::SignIn, pre_session)
    }

    /// The checks a sign-in or sign-up post passes: it comes from the
    /// service's own pages, the browser sent its pre-session cookie, once,
    /// and the form's token belongs to it.
    pub(super) fn check_sign_in_form(
        &self,
        request: &HeaderMap,
        presented: &str,
    ) -> Result<(), Refused> {
        self.check_origin(request)?;
        self.check_sign_in_token(request, presented)
    }

    fn check_sign_in_token(&self, request: &HeaderMap, presented: &str) -> Result<(), Refused> {
        match self.transport(request).read(request, Cookie::PreSession) {
            CookieValue::Duplicate => Err(Refused::DuplicateCookie),
            CookieValue::Absent => Err(Refused::CookiesNeeded),
            CookieValue::One(value) if self.security.verify(Purpose::SignIn, &value, presented) => {
                Ok(())
            }
            CookieValue::One(_) => Err(Refused::StaleForm),
        }
    }

    /// The first check of every form post: it comes from the service's own
    /// pages.
    pub(super) fn check_origin(&self, request: &HeaderMap) -> Result<(), Refused> {
        csrf::check_origin(request, self.security.options.public_origin.as_deref()).map_err(
            |refusal| {
                tracing::warn!(
                    %refusal,
                    "refused a form post from another site; behind a proxy that rewrites Host, \
                     set BOOKING_PUBLIC_ORIGIN"
                );
                Refused::ForeignPost(refusal)
            },
        )
    }
}

/// Why a request was refused before it could act, each with its page.
#[derive(Debug, thiserror::Error)]
pub(super) enum Refused {
    /// The form came from another site.
    #[error("the form came from another site")]
    ForeignPost(#[source] csrf::ForeignPost),
    /// The form's token does not belong to this browser's cookie.
    #[error("the form's token does not belong to this browser's cookie")]
    StaleForm,
    /// The browser sent one of the pages' cookies twice.
    #[error("the browser sent one of the pages' cookies twice")]
    DuplicateCookie,
    /// A sign-in form came without its pre-session cookie.
    #[error("the browser sent no cookie with the form")]
    CookiesNeeded,
    /// The session token cannot be a cookie value.
    #[error("the token cannot be kept in a cookie")]
    UnusableToken,
    /// No randomness for a pre-session value.
    #[error("no randomness for a pre-session value")]
    Randomness(#[source] getrandom::Error),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::ForeignPost(_) => message_page(
                StatusCode::FORBIDDEN,
                "Request refused",
                "This form can only be sent from this site's own pages.",
            ),
            Refused::StaleForm => message_page(
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form was not sent from this site's current page, or it has expired. Go \
                 back, reload the page and try again.",
            ),
            Refused::DuplicateCookie => message_page(
                StatusCode::BAD_REQUEST,
                "Conflicting cookies",
                "Your browser sent this site's sign-in cookie twice; another site may have \
                 planted one. Clear this site's cookies in your browser, then sign in again.",
            ),
            Refused::CookiesNeeded => message_page(
                StatusCode::FORBIDDEN,
                "Cookies needed",
                "Your browser did not send this site's cookie with the form. Allow cookies for \
                 this site, reload the page and try again.",
            ),
            Refused::UnusableToken => message_page(
                StatusCode::BAD_REQUEST,
                "Token not accepted",
                "Your sign-in could not be kept in a cookie. Please try again.",
            ),
            Refused::Randomness(_) => internal_error(&self),
        }
    }
}
