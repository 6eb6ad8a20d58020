//! # booking-core
//!
//! Bookable meeting slots done right. Organizers publish working hours in
//! their own time zone; attendees see free slots and book one; either side can
//! cancel. Two promises come first:
//!
//! * **nobody is ever double-booked**, even under concurrent requests from
//!   many processes: every [`BookingStore`](store::BookingStore) refuses an
//!   overlapping booking atomically, whatever happened before it;
//! * **every time is right in every time zone**, across daylight-saving
//!   changes: working hours are resolved with one documented rule
//!   ([`time::resolve_local`]) and everything stored is UTC.
//!
//! ## Map of the crate
//!
//! | module | what it holds |
//! |---|---|
//! | [`time`] | [`TimeRange`](time::TimeRange), wall-clock times, the local-to-UTC rule, clocks |
//! | [`organizer`] | organizers and their validated [`OrganizerSettings`](organizer::OrganizerSettings) |
//! | [`booking`] | bookings and the attendee's [`BookingRequest`](booking::BookingRequest) |
//! | [`ids`], [`secret`], [`validation`] | ULID ids, API/cancel tokens stored as SHA-256 hashes, field-named input errors |
//! | [`availability`] | the pure engine: [`available_slots`](availability::available_slots), [`check_booking`](availability::check_booking) |
//! | [`store`], [`lock`], [`provider`] | the three traits adapters implement |
//! | [`service`] | [`BookingService`](service::BookingService), which wires them with the rules |
//! | `memory` | `MemoryStore` and `MemoryLock` (feature `memory`, on by default) |
//! | `testkit` | the conformance suite every store runs (feature `testkit`) |

pub mod availability;
pub mod booking;
pub mod ids;
pub mod lock;
pub mod organizer;
pub mod provider;
pub mod secret;
pub mod service;
pub mod store;
pub mod time;
pub mod validation;

#[cfg(feature = "memory")]
pub mod memory;

#[cfg(feature = "testkit")]
pub mod testkit;

/// The root README's code examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
