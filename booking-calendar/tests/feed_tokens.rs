//! Feed tokens over a real store: one secret per organizer, shown again
//! unchanged, only its hash stored, rotation kills the old one, and
//! organizers and server keys kept apart.

use std::sync::Arc;

use booking_calendar::FeedTokens;
use booking_calendar::tokens::FEED_TOKEN_RECORD;
use booking_core::chrono::Utc;
use booking_core::secret::TokenHash;
use booking_core::{BookingStore, MemoryStore, OrganizerId};

#[tokio::test]
async fn each_organizer_has_one_token_found_by_its_hash_until_rotated() {
    let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
    let tokens = FeedTokens::new(store.clone(), b"server key one");
    let (ada, bob) = (OrganizerId::generate(), OrganizerId::generate());

    let ada_token = tokens.token(ada).await.unwrap();
    let bob_token = tokens.token(bob).await.unwrap();
    assert_ne!(ada_token, bob_token);
    assert_eq!(ada_token.expose().len(), 64);
    assert_eq!(tokens.token(ada).await.unwrap(), ada_token);
    assert!(!format!("{ada_token:?}").contains(ada_token.expose()));

    // Only the hash is kept.
    let stored = store
        .records(ada, FEED_TOKEN_RECORD, Utc::now())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].lookup,
        Some(TokenHash::of(ada_token.expose()).to_hex())
    );
    assert!(!stored[0].data.contains(ada_token.expose()));

    assert_eq!(
        tokens.organizer_for(ada_token.expose()).await.unwrap(),
        Some(ada)
    );
    assert_eq!(
        tokens.organizer_for(bob_token.expose()).await.unwrap(),
        Some(bob)
    );
    for wrong in [
        "",
        "nope",
        &"0".repeat(64),
        &ada_token.expose().to_uppercase(),
    ] {
        assert_eq!(
            tokens.organizer_for(wrong).await.unwrap(),
            None,
            "{wrong:?}"
        );
    }

    let rotated = tokens.rotate(ada).await.unwrap();
    assert_ne!(rotated, ada_token);
    assert_eq!(
        tokens.organizer_for(ada_token.expose()).await.unwrap(),
        None
    );
    assert_eq!(
        tokens.organizer_for(rotated.expose()).await.unwrap(),
        Some(ada)
    );
    assert_eq!(
        tokens.token(ada).await.unwrap(),
        rotated,
        "shown again after rotation"
    );
    assert_eq!(
        tokens.organizer_for(bob_token.expose()).await.unwrap(),
        Some(bob)
    );

    // Another server key derives other tokens (the stored data alone is
    // not enough to make one); after a key change the old token stops
    // working and the one shown works.
    let other_key = FeedTokens::new(store.clone(), b"server key two");
    let new_bob = other_key.token(bob).await.unwrap();
    assert_ne!(new_bob, bob_token);
    assert_eq!(
        other_key.organizer_for(bob_token.expose()).await.unwrap(),
        None
    );
    assert_eq!(
        other_key.organizer_for(new_bob.expose()).await.unwrap(),
        Some(bob)
    );
    assert_eq!(other_key.token(bob).await.unwrap(), new_bob);
}
