//! Statements on `records`: one table for every kind of an organizer's
//! satellite data, keyed by `(kind, id)`, with a lookup key unique per kind.

/// The columns a record is read from.
macro_rules! record_columns {
    () => {
        "kind, id, organizer_id, lookup, data, created_at, expires_at"
    };
}

/// Inserts record `($1, $2)` or replaces every other column of it. Another
/// record of the kind with lookup `$4` raises 23505 on `records_lookup_key`.
pub(crate) const PUT_RECORD: &str = "\
    INSERT INTO records (kind, id, organizer_id, lookup, data, created_at, expires_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7) \
    ON CONFLICT ON CONSTRAINT records_pkey DO UPDATE SET \
        organizer_id = EXCLUDED.organizer_id, lookup = EXCLUDED.lookup, data = EXCLUDED.data, \
        created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at";

/// Record `($1, $2)`, expired or not.
pub(crate) const RECORD: &str = concat!(
    "SELECT ",
    record_columns!(),
    " FROM records WHERE kind = $1 AND id = $2"
);

/// The record of kind `$1` with lookup `$2`, unless expired at `$3`: a
/// global lookup.
pub(crate) const RECORD_BY_LOOKUP: &str = concat!(
    "SELECT ",
    record_columns!(),
    " FROM records WHERE kind = $1 AND lookup = $2 AND (expires_at IS NULL OR expires_at > $3)"
);

/// Organizer `$1`'s records of kind `$2` not expired at `$3`, oldest first
/// (then by id, byte-wise).
pub(crate) const RECORDS: &str = concat!(
    "SELECT ",
    record_columns!(),
    " FROM records WHERE organizer_id = $1 AND kind = $2 \
       AND (expires_at IS NULL OR expires_at > $3) \
     ORDER BY created_at, id COLLATE \"C\""
);

/// Deletes record `($1, $2)`.
pub(crate) const DELETE_RECORD: &str = "DELETE FROM records WHERE kind = $1 AND id = $2";
