//! `tests/batches.rs` again, every schema in the partitioned layout
//! (`bookings` and `idempotency_keys` hash-partitioned by organizer into
//! `common::PARTITIONS` partitions), where the batch statement's
//! `ON CONFLICT DO NOTHING` has the partitions' exclusion constraints as
//! its arbiters: `common`, declared inside the module named `partitioned`,
//! migrates its schemas so.

#[path = "batches.rs"]
mod partitioned;
