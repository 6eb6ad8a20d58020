//! The configuration a booking is decided on, kept between requests.
//!
//! A booking needs the organizer, the event type and its schedule to decide
//! (hours, notice, window, lengths, limits). Reading them for every booking
//! would double the statements of the hot path, so the service keeps what
//! its last read of each (organizer, event type) returned, with the
//! organizer's configuration **version**. A booking decided on a kept copy
//! carries that version to the store
//! ([`NewBooking::config_version`](crate::booking::NewBooking::config_version)),
//! which inserts it only while the configuration is still at that version,
//! in the same atomic step as the overlap check. A change made by another
//! process is therefore never missed: the insert is refused with
//! [`StoreError::ConfigChanged`](crate::store::StoreError::ConfigChanged),
//! the copy is dropped and the booking decided again on a fresh read.
//!
//! Occupied time and counted starts are never kept: the store checks them
//! itself, atomically (they only make a refusal earlier on the read path).
//! Only a usable copy is kept (the event type exists, is active and has a
//! schedule), so a refusal such as "no such event type" always comes from a
//! fresh read.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::event_type::{EventType, Slug};
use crate::organizer::{Organizer, OrganizerId};
use crate::schedule::Schedule;

/// What a booking is decided on, as of one configuration version.
#[derive(Debug)]
pub(super) struct Decision {
    pub(super) organizer: Organizer,
    pub(super) config_version: u64,
    pub(super) event_type: EventType,
    pub(super) schedule: Schedule,
}

/// Entries kept before the cache starts over; bounds memory per process.
const DECISION_CACHE_LIMIT: usize = 10_000;

/// The kept copies, by organizer and event type slug.
#[derive(Debug, Default)]
pub(super) struct Decisions {
    by_event_type: RwLock<HashMap<(OrganizerId, Slug), Arc<Decision>>>,
}

impl Decisions {
    /// The kept copy for this event type, if any.
    pub(super) fn get(&self, organizer: OrganizerId, slug: &Slug) -> Option<Arc<Decision>> {
        let map = self.by_event_type.read().unwrap_or_else(|p| p.into_inner());
        map.get(&(organizer, slug.clone())).cloned()
    }

    /// Keeps `decision` unless a copy of a later version is kept already.
    pub(super) fn remember(&self, slug: Slug, decision: Decision) {
        let mut map = self
            .by_event_type
            .write()
            .unwrap_or_else(|p| p.into_inner());
        let key = (decision.organizer.id, slug);
        if map
            .get(&key)
            .is_some_and(|kept| kept.config_version > decision.config_version)
        {
            return;
        }
        if map.len() >= DECISION_CACHE_LIMIT && !map.contains_key(&key) {
            map.clear();
        }
        map.insert(key, Arc::new(decision));
    }

    /// Drops every copy of `organizer`'s configuration (it changed).
    pub(super) fn forget(&self, organizer: OrganizerId) {
        let mut map = self
            .by_event_type
            .write()
            .unwrap_or_else(|p| p.into_inner());
        map.retain(|(id, _), _| *id != organizer);
    }
}
