//! Sessions and API token rotation.

use super::*;

#[tokio::test]
async fn sessions_live_until_idle_too_old_signed_out_or_the_token_rotates() {
    let f = fixture().await;
    let started = f.service.start_session(f.api_token.expose()).await.unwrap();
    assert_eq!(started.organizer.id, f.ada.id);
    let session = started.token.expose().to_owned();
    assert_eq!(f.service.session(&session).await.unwrap().id, f.ada.id);
    assert!(matches!(
        f.service.start_session("not-a-token").await,
        Err(ServiceError::Unauthorized)
    ));
    assert!(
        matches!(
            f.service.session(f.api_token.expose()).await,
            Err(ServiceError::Unauthorized)
        ),
        "the API token is not a session"
    );

    // Used every hour: alive; then idle for more than two hours: ended.
    for _ in 0..3 {
        f.clock.advance(Duration::hours(1));
        f.service.session(&session).await.unwrap();
    }
    f.clock.advance(Duration::hours(2) + Duration::minutes(1));
    assert!(matches!(
        f.service.session(&session).await,
        Err(ServiceError::Unauthorized)
    ));

    // Signed out: ended; the others live on.
    let one = f.service.start_session(f.api_token.expose()).await.unwrap();
    let two = f.service.start_session(f.api_token.expose()).await.unwrap();
    f.service.end_session(one.token.expose()).await.unwrap();
    assert!(f.service.session(one.token.expose()).await.is_err());
    f.service.session(two.token.expose()).await.unwrap();

    // Rotating the API token ends every session and the old token.
    let new_token = f.service.rotate_api_token(&f.ada).await.unwrap();
    assert!(f.service.session(two.token.expose()).await.is_err());
    assert!(f.service.authenticate(f.api_token.expose()).await.is_err());
    assert_eq!(
        f.service.authenticate(new_token.expose()).await.unwrap().id,
        f.ada.id
    );

    // Sign out everywhere.
    let a = f.service.start_session(new_token.expose()).await.unwrap();
    let b = f.service.start_session(new_token.expose()).await.unwrap();
    assert_eq!(f.service.end_all_sessions(&f.ada).await.unwrap(), 2);
    assert!(f.service.session(a.token.expose()).await.is_err());
    assert!(f.service.session(b.token.expose()).await.is_err());
}

#[tokio::test]
async fn a_session_ends_seven_days_after_sign_in_however_used() {
    let f = fixture().await;
    let started = f.service.start_session(f.api_token.expose()).await.unwrap();
    for _ in 0..(7 * 24) {
        f.clock.advance(Duration::hours(1));
        let _ = f.service.session(started.token.expose()).await;
    }
    assert!(matches!(
        f.service.session(started.token.expose()).await,
        Err(ServiceError::Unauthorized)
    ));
}
