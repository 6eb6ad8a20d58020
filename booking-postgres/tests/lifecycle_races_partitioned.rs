//! `tests/lifecycle_races.rs` again, every schema in the partitioned layout
//! (`bookings` and `idempotency_keys` hash-partitioned by organizer into
//! `common::PARTITIONS` partitions): `common`, declared inside the module
//! named `partitioned`, migrates its schemas so.

#[path = "lifecycle_races.rs"]
mod partitioned;
