//! Statements on `idempotency_keys`. A key is `(organizer_id, operation,
//! key_hash)`: `$1`, `$2`, `$3` in every statement here.

/// Claims a key in one statement: inserts it pending (fingerprint `$4`,
/// claimed at `$5`, forgotten at `$6`), or takes over the existing record
/// when it expired by `$5` (a fresh claim) or is a pending claim of the same
/// request made before `$7` (abandoned: only `claimed_at` changes). A row
/// back means the caller holds the key. No row: the record stands, and
/// [`READ_KEY`] (a new statement, so a new snapshot that sees a record
/// committed after this one began) says what it is. Racing claims of one
/// key: the insert's unique index entry makes each wait for the one before,
/// which they then find and do not take over, so exactly one wins.
pub(crate) const CLAIM_KEY: &str = "\
    INSERT INTO idempotency_keys AS k (organizer_id, operation, key_hash, fingerprint, \
        claimed_at, outcome, expires_at) \
    VALUES ($1, $2, $3, $4, $5, NULL, $6) \
    ON CONFLICT ON CONSTRAINT idempotency_keys_pkey DO UPDATE SET \
        fingerprint = EXCLUDED.fingerprint, claimed_at = EXCLUDED.claimed_at, outcome = NULL, \
        expires_at = CASE WHEN k.expires_at <= EXCLUDED.claimed_at \
                          THEN EXCLUDED.expires_at ELSE k.expires_at END \
    WHERE k.expires_at <= EXCLUDED.claimed_at \
       OR (k.outcome IS NULL AND k.fingerprint = EXCLUDED.fingerprint AND k.claimed_at < $7) \
    RETURNING true";

/// The record of a key that [`CLAIM_KEY`] did not take.
pub(crate) const READ_KEY: &str = "\
    SELECT fingerprint, claimed_at, outcome, expires_at FROM idempotency_keys \
    WHERE organizer_id = $1 AND operation = $2 AND key_hash = $3";

/// Records outcome `$4`: the key is done.
pub(crate) const COMPLETE_KEY: &str = "\
    UPDATE idempotency_keys SET outcome = $4 \
    WHERE organizer_id = $1 AND operation = $2 AND key_hash = $3";

/// Forgets a pending claim (a finished one stays).
pub(crate) const ABANDON_KEY: &str = "\
    DELETE FROM idempotency_keys \
    WHERE organizer_id = $1 AND operation = $2 AND key_hash = $3 AND outcome IS NULL";
