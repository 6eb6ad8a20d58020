//! Statements on `bookings`: inserting bookings and holds, moving and
//! cancelling bookings, ending holds, reading bookings back.

// ------------------------------------------------------------------ writes

/// The `event` part of a write: the booking event (its id at parameter
/// `$id`, then organizer, booking, kind, instant and payload at `$rest`),
/// inserted only with the row that the part `$source` returns, and not at
/// all when the id is NULL.
macro_rules! write_event {
    ($source:literal, $id:literal, $rest:literal) => {
        concat!(
            "event AS ( \
                 INSERT INTO booking_events (id, organizer_id, booking_id, kind, occurred_at, \
                     payload) \
                 SELECT ",
            $id,
            ", ",
            $rest,
            " FROM ",
            $source,
            " WHERE ",
            $id,
            "::text IS NOT NULL )"
        )
    };
}

/// The `settings` part of [`INSERT`]: the organizer's configuration
/// version, locked `FOR SHARE`, when `$36` is given.
macro_rules! insert_settings {
    () => {
        "WITH settings AS ( \
             SELECT o.config_version FROM organizers o \
             WHERE o.id = $2 AND $36::bigint IS NOT NULL FOR SHARE \
         )"
    };
}

/// The first columns of [`INSERT`]'s `refusal` part: whether the
/// configuration moved on from `$36`, whether the organizer is missing.
macro_rules! insert_config_refusals {
    () => {
        "$36::bigint IS NOT NULL \
             AND (SELECT config_version FROM settings) IS DISTINCT FROM $36 \
             AS config_changed, \
         $36::bigint IS NOT NULL AND NOT EXISTS (SELECT 1 FROM settings) \
             AS organizer_missing"
    };
}

/// [`INSERT`] from its `inserted` part on: the row, its event, its
/// idempotency key, and the answer.
macro_rules! insert_row_and_answer {
    () => {
        concat!(
            "inserted AS ( \
                 INSERT INTO bookings (id, organizer_id, event_type_id, event_type_slug, \
                     attendant_name, attendant_email, metadata, title, description, start_time, \
                     end_time, created_at, updated_at, buffer_before, buffer_after, \
                     occupied_start, occupied_end, cancel_token_hash, status, hold_expires_at, \
                     hold_client) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15, \
                     $16, $17, $18, $19, $20 \
                 FROM refusal WHERE NOT config_changed AND NOT hold_missing \
                     AND full_limit IS NULL AND NOT too_many_holds \
                 ON CONFLICT DO NOTHING \
                 RETURNING ",
            booking_columns!(),
            " ), ",
            write_event!("inserted", "$26", "$27, $28, $29, $30, $31"),
            ", completed AS ( \
                 UPDATE idempotency_keys k SET outcome = $35 \
                 WHERE k.organizer_id = $32 AND k.operation = $33 AND k.key_hash = $34 \
                   AND EXISTS (SELECT 1 FROM inserted) \
             ) \
             SELECT r.config_changed, r.organizer_missing, r.hold_missing, r.full_limit, \
                 r.too_many_holds, \
                 CASE WHEN i.id IS NULL THEN EXISTS ( \
                     SELECT 1 FROM bookings b WHERE b.organizer_id = $2 AND ",
            live_at!("b", "$12"),
            "          AND b.id IS DISTINCT FROM $24 \
                       AND tstzrange(b.occupied_start, b.occupied_end, '[)') \
                           && tstzrange($15, $16, '[)') \
                 ) END AS blocked, \
                 CASE WHEN i.id IS NULL THEN EXISTS ( \
                     SELECT 1 FROM bookings d WHERE d.id = $1 AND d.organizer_id = $2 \
                 ) END \
                     AS duplicate, \
                 i.* \
             FROM refusal r LEFT JOIN inserted i ON true"
        )
    };
}

/// Inserts a booking or a hold (`$18` status `confirmed` or `held`) in one
/// statement, with every check that belongs to the same atomic step:
///
/// * `settings`: when `$36` (the configuration version the booking was
///   decided on) is given, the organizer's row `FOR SHARE`: a configuration
///   change (which updates that row) committed before this statement is
///   seen (after waiting for one in progress, PostgreSQL re-reads the row),
///   and one that starts later waits until this insert commits, so the
///   booking is never decided on a configuration that was already replaced;
/// * `checks`: for each limit `i` (arrays `$21` from, `$22` before, `$23`
///   max), how many live bookings and holds of event type `$3` (at `$12`,
///   the creation instant) start in `[from, before)`, not counting the hold
///   `$24` being replaced;
/// * `replaced`: deletes hold `$24` (when given) if it is still live; the
///   insert reads its result, so the hold is gone before the insert checks
///   the exclusion constraint, and does not block its own booking. A
///   data-modifying `WITH` part always runs, so the `$24 IS NOT NULL` test
///   comes first: a generic plan turns it into a one-time filter, and no
///   index is scanned when there is no hold (a plan made while `bookings`
///   was empty could otherwise scan the organizer's bookings by
///   `organizer_id` and filter every one away; `tests/plans.rs`);
/// * `refusal`: whether the configuration moved on from `$36` (or the
///   organizer does not exist), whether
///   the hold to replace was missing, the 1-based number
///   of the first full limit, and whether client `$20` already keeps `$25`
///   live holds of the organizer (`$25` NULL: no cap);
/// * `inserted`: the row (updated_at is `$12` too), only when nothing above
///   refused, `ON CONFLICT DO NOTHING`: an overlapping live row makes it
///   insert nothing instead of raising 23P01, and speculative insertion
///   does not deadlock under contention. No conflict target is named, so
///   the arbiters are all the table's unique and exclusion constraints:
///   the exclusion constraint and the primary key (a row with id `$1`
///   already there, reported as `duplicate`). The same statement thus
///   serves both layouts: in the partitioned one the exclusion constraints
///   are on the partitions (`bookings_p{i}_no_overlap`), and PostgreSQL 15
///   cannot name a partition's constraint as the target of an insert into
///   the parent (`ON CONFLICT ON CONSTRAINT bookings_no_overlap` fails
///   there with 42704), but uses them all as arbiters when none is named;
/// * `event`: the booking event (`$26` id, `$27` organizer, `$28` booking,
///   `$29` kind, `$30` instant, `$31` payload), only with the row;
/// * `completed`: the idempotency key (`$32` organizer, `$33` operation,
///   `$34` key hash) gets outcome `$35`, only with the row.
///
/// It returns one row: the refusals, `blocked` and `duplicate` (only when
/// nothing was inserted: whether a live row overlaps, and whether a row with
/// id `$1` exists, in this statement's snapshot) and the inserted row's
/// columns (NULL when none). When nothing was inserted,
/// no refusal is set and nothing live overlaps, the constraint saw a row
/// this snapshot does not count: an expired hold, or an overlap committed a
/// moment ago (see `RETIRE_EXPIRED_HOLDS`).
///
/// Without limits, a hold to replace or a client cap this is the whole
/// insert: one statement, autocommitted; every write in it depends on the
/// row being inserted, so a refusal writes nothing. With them it runs in a
/// transaction after the locks below, and is rolled back when it inserted
/// nothing (the replaced hold's deletion included).
pub(crate) const INSERT: &str = concat!(
    insert_settings!(),
    ", checks AS ( \
         SELECT c.ord, c.max_count, ( \
             SELECT count(*) FROM bookings b \
             WHERE b.organizer_id = $2 AND b.event_type_id = $3 AND ",
    live_at!("b", "$12"),
    "          AND b.id IS DISTINCT FROM $24 \
               AND b.start_time >= c.starts_from AND b.start_time < c.starts_before \
         ) AS taken \
         FROM unnest($21::timestamptz[], $22::timestamptz[], $23::bigint[]) WITH ORDINALITY \
             AS c(starts_from, starts_before, max_count, ord) \
     ), replaced AS ( \
         DELETE FROM bookings h \
         WHERE $24::text IS NOT NULL AND h.id = $24 AND h.organizer_id = $2 \
           AND h.status = 'held' AND ",
    live_at!("h", "$12"),
    "    RETURNING h.id \
     ), refusal AS ( \
         SELECT ",
    insert_config_refusals!(),
    ", $24::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM replaced) AS hold_missing, \
             (SELECT min(ord) FROM checks WHERE taken >= max_count) AS full_limit, \
             $25::bigint IS NOT NULL AND ( \
                 SELECT count(*) FROM bookings h \
                 WHERE h.organizer_id = $2 AND h.status = 'held' AND h.hold_client = $20 AND ",
    live_at!("h", "$12"),
    "        ) >= $25 AS too_many_holds \
     ), ",
    insert_row_and_answer!()
);

/// [`INSERT`] for a row with no limit to count, no hold to replace and no
/// client cap (`$21` to `$25` empty or NULL): the booking hot path. The
/// same statement without the parts that would only find nothing to do,
/// since PostgreSQL still sets up each part of a generic plan on every
/// execution (8% of the statement's server CPU, measured as
/// `benches/README.md` says). Same parameters, same answer.
pub(crate) const INSERT_PLAIN: &str = concat!(
    insert_settings!(),
    ", refusal AS ( \
         SELECT ",
    insert_config_refusals!(),
    ", false AS hold_missing, NULL::bigint AS full_limit, false AS too_many_holds \
     ), ",
    insert_row_and_answer!()
);

/// Inserts several bookings and holds of the kind [`INSERT_PLAIN`] takes
/// (no limit, no hold to replace, no client cap) in one statement: the
/// booking hot path under concurrent load, where one statement's fixed
/// server cost (its protocol messages, executor start-up, commit) is
/// shared by the rows of a batch (see `batch`). Each parameter is an array
/// with one element per row, in `INSERT_PLAIN`'s order without the limit,
/// hold and cap parameters: `$1` to `$20` the row, `$21` to `$26` its
/// event (NULL id: none), `$27` to `$30` its idempotency key (NULL: none),
/// `$31` the configuration version it was decided on (NULL: not checked).
///
/// * `settings`: the organizers of the rows with a version, locked
///   `FOR SHARE` in id order, as `INSERT_PLAIN` locks its one (a
///   configuration change is seen, or waits until this commits);
/// * `inserted`: the rows whose version is still current (or unchecked),
///   in organizer and time order, `ON CONFLICT DO NOTHING`: a row that
///   overlaps a live row, an earlier row of the same statement included
///   (speculative insertion checks rows of its own transaction too), or
///   that has an existing id, is not inserted; the others are;
/// * `event` and `completed`: the events and idempotency keys of the
///   inserted rows.
///
/// It returns the inserted rows only. A row not among them is refused for
/// one of `INSERT_PLAIN`'s reasons, which that statement, run for the row
/// alone, tells apart; every write here depends on its row being inserted,
/// so a refused row wrote nothing.
pub(crate) const INSERT_BATCH: &str = concat!(
    "WITH rows AS ( \
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::jsonb[], $8::text[], $9::text[], $10::timestamptz[], \
             $11::timestamptz[], $12::timestamptz[], $13::interval[], $14::interval[], \
             $15::timestamptz[], $16::timestamptz[], $17::text[], $18::text[], \
             $19::timestamptz[], $20::text[], $21::text[], $22::text[], $23::text[], \
             $24::text[], $25::timestamptz[], $26::text[], $27::text[], $28::text[], \
             $29::text[], $30::text[], $31::bigint[]) \
         AS r(id, organizer_id, event_type_id, event_type_slug, attendant_name, \
             attendant_email, metadata, title, description, start_time, end_time, created_at, \
             buffer_before, buffer_after, occupied_start, occupied_end, cancel_token_hash, \
             status, hold_expires_at, hold_client, event_id, event_organizer_id, \
             event_booking_id, event_kind, event_occurred_at, event_payload, key_organizer_id, \
             key_operation, key_hash, key_outcome, config_version) \
     ), settings AS ( \
         SELECT o.id, o.config_version FROM organizers o \
         WHERE o.id IN (SELECT r.organizer_id FROM rows r WHERE r.config_version IS NOT NULL) \
         ORDER BY o.id FOR SHARE \
     ), inserted AS ( \
         INSERT INTO bookings (id, organizer_id, event_type_id, event_type_slug, \
             attendant_name, attendant_email, metadata, title, description, start_time, \
             end_time, created_at, updated_at, buffer_before, buffer_after, occupied_start, \
             occupied_end, cancel_token_hash, status, hold_expires_at, hold_client) \
         SELECT r.id, r.organizer_id, r.event_type_id, r.event_type_slug, r.attendant_name, \
             r.attendant_email, r.metadata, r.title, r.description, r.start_time, r.end_time, \
             r.created_at, r.created_at, r.buffer_before, r.buffer_after, r.occupied_start, \
             r.occupied_end, r.cancel_token_hash, r.status, r.hold_expires_at, r.hold_client \
         FROM rows r \
         WHERE r.config_version IS NULL OR r.config_version = ( \
             SELECT s.config_version FROM settings s WHERE s.id = r.organizer_id) \
         ORDER BY r.organizer_id, r.occupied_start \
         ON CONFLICT DO NOTHING \
         RETURNING ",
    booking_columns!(),
    " ), event AS ( \
         INSERT INTO booking_events (id, organizer_id, booking_id, kind, occurred_at, payload) \
         SELECT r.event_id, r.event_organizer_id, r.event_booking_id, r.event_kind, \
             r.event_occurred_at, r.event_payload \
         FROM inserted i JOIN rows r ON r.id = i.id \
         WHERE r.event_id IS NOT NULL \
     ), completed AS ( \
         UPDATE idempotency_keys k SET outcome = r.key_outcome \
         FROM inserted i JOIN rows r ON r.id = i.id \
         WHERE k.organizer_id = r.key_organizer_id AND k.operation = r.key_operation \
           AND k.key_hash = r.key_hash \
     ) \
     SELECT * FROM inserted"
);

/// Before an insert with limits decided on a configuration version:
/// locks organizer `$1`'s row `FOR SHARE` (as the insert's `settings` part
/// does) before the event type's row, in the order a configuration change
/// takes them, so the two never wait on each other in a cycle. Returns the
/// version; no row: no such organizer.
pub(crate) const LOCK_CONFIG_VERSION: &str =
    "SELECT config_version FROM organizers WHERE id = $1 FOR SHARE";

/// Before an insert with limits: locks the event type's row until the
/// transaction ends, so inserts and moves with limits of one event type run
/// one after the other. `NO KEY UPDATE` does not block the `KEY SHARE`
/// locks of foreign-key checks, so bookings without limits never wait for
/// it. No row: the event type (or its organizer) does not exist (any more).
pub(crate) const LOCK_EVENT_TYPE: &str =
    "SELECT 1 FROM event_types WHERE organizer_id = $1 AND id = $2 FOR NO KEY UPDATE";

/// Before a move with limits: locks the row of booking `$1`'s event type,
/// as [`LOCK_EVENT_TYPE`] does. No row: the booking is not organizer `$2`'s,
/// or has no event type any more (then no limit applies to it).
pub(crate) const LOCK_EVENT_TYPE_OF_BOOKING: &str = "\
    SELECT 1 FROM event_types e \
    JOIN bookings b ON b.organizer_id = e.organizer_id AND b.event_type_id = e.id \
    WHERE b.id = $1 AND b.organizer_id = $2 FOR NO KEY UPDATE OF e";

/// Before a hold with a client cap: locks the organizer's row, so two holds
/// of one organizer's client cannot both see room under the cap. Taken
/// before any event type lock, as a configuration change (whose
/// compare-and-set updates this row) does, so the two never wait on each
/// other in a cycle. No row: no such organizer.
pub(crate) const LOCK_ORGANIZER: &str = "SELECT 1 FROM organizers WHERE id = $1 FOR NO KEY UPDATE";

/// Moves booking `$1` of organizer `$2`, decided at sequence `$3`, to
/// `[$4, $5)` with buffers `$6`/`$7` and occupied bounds `[$8, $9)`, at `$10`,
/// in one `UPDATE` that the exclusion constraint checks like an insert:
///
/// * `target`: the booking as it is (to tell why nothing moved);
/// * `checks`: the limits (arrays `$11` from, `$12` before, `$13` max) on
///   the booking's own event type, the booking itself not counted;
/// * `refusal`: the first full limit, and whether a live row other than the
///   booking overlaps the new occupied interval in this snapshot;
/// * `moved`: the update, only when the booking is still active at the
///   expected sequence and nothing refused: the new time, buffers and
///   bounds, one more sequence, the old time as `rescheduled_from`;
/// * `event`: the booking event (`$14` to `$19`), only with the move.
///
/// A live row that this snapshot cannot see (a racing insert or move, an
/// expired hold) makes the exclusion constraint raise 23P01; two moves that
/// each wait for the other's new index entry end in a deadlock (40P01),
/// which PostgreSQL breaks by failing one. Either way the statement wrote
/// nothing (see the crate docs for what the store does then).
pub(crate) const RESCHEDULE: &str = concat!(
    "WITH target AS ( \
         SELECT t.event_type_id, t.sequence, t.deleted_at FROM bookings t \
         WHERE t.id = $1 AND t.organizer_id = $2 AND t.status = 'confirmed' \
     ), checks AS ( \
         SELECT c.ord, c.max_count, ( \
             SELECT count(*) FROM bookings b, target t \
             WHERE b.organizer_id = $2 AND b.event_type_id = t.event_type_id AND ",
    live_at!("b", "$10"),
    "          AND b.id <> $1 \
               AND b.start_time >= c.starts_from AND b.start_time < c.starts_before \
         ) AS taken \
         FROM unnest($11::timestamptz[], $12::timestamptz[], $13::bigint[]) WITH ORDINALITY \
             AS c(starts_from, starts_before, max_count, ord) \
     ), refusal AS ( \
         SELECT (SELECT min(ord) FROM checks WHERE taken >= max_count) AS full_limit, \
             EXISTS ( \
                 SELECT 1 FROM bookings b WHERE b.organizer_id = $2 AND ",
    live_at!("b", "$10"),
    "              AND b.id <> $1 \
                   AND tstzrange(b.occupied_start, b.occupied_end, '[)') && tstzrange($8, $9, '[)') \
             ) AS blocked \
     ), moved AS ( \
         UPDATE bookings m SET start_time = $4, end_time = $5, buffer_before = $6, \
             buffer_after = $7, occupied_start = $8, occupied_end = $9, updated_at = $10, \
             sequence = m.sequence + 1, rescheduled_from_start = m.start_time, \
             rescheduled_from_end = m.end_time \
         FROM refusal r \
         WHERE m.id = $1 AND m.organizer_id = $2 AND m.status = 'confirmed' \
           AND m.deleted_at IS NULL AND m.sequence = $3 \
           AND r.full_limit IS NULL AND NOT r.blocked \
         RETURNING ",
    booking_columns!(),
    " ), ",
    write_event!("moved", "$14", "$15, $16, $17, $18, $19"),
    " SELECT t.sequence IS NOT NULL AS found, t.sequence AS current_sequence, \
         t.deleted_at AS cancelled_at, r.full_limit, r.blocked, m.* \
     FROM refusal r LEFT JOIN target t ON true LEFT JOIN moved m ON true"
);

/// After an insert or move was refused by the exclusion constraint for a
/// row its own snapshot did not count: ends (`deleted_at = hold_expires_at`)
/// the holds of organizer `$1` expired at `$4` whose occupied interval
/// overlaps `[$2, $3)`, locking them in id order (so two of these never
/// deadlock), and says whether a live row other than `$5` still overlaps, in
/// a snapshot taken now. Not blocked: the store tries its write once more.
pub(crate) const RETIRE_EXPIRED_HOLDS: &str = concat!(
    "WITH expired AS ( \
         SELECT id FROM bookings \
         WHERE organizer_id = $1 AND status = 'held' AND deleted_at IS NULL \
           AND hold_expires_at <= $4 \
           AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($2, $3, '[)') \
         ORDER BY id FOR UPDATE \
     ), retired AS ( \
         UPDATE bookings b SET deleted_at = b.hold_expires_at FROM expired e \
         WHERE b.organizer_id = $1 AND b.id = e.id RETURNING b.id \
     ) \
     SELECT (SELECT count(*) FROM retired) AS retired, EXISTS ( \
         SELECT 1 FROM bookings b WHERE b.organizer_id = $1 AND ",
    live_at!("b", "$4"),
    "      AND b.id IS DISTINCT FROM $5 \
           AND tstzrange(b.occupied_start, b.occupied_end, '[)') && tstzrange($2, $3, '[)') \
     ) AS blocked"
);

/// Cancels booking `$1` of organizer `$2` at `$3` (soft delete, one more
/// sequence) if it is active and, when `$4` is given, still at sequence
/// `$4`, writing its event (`$5` to `$10`) in the same statement; returns
/// the booking's state before (to tell why nothing changed) and the
/// cancelled row. Every part names the organizer, so a distributed planner
/// routes the statement to one shard; a booking of another organizer is not
/// found.
pub(crate) const CANCEL: &str = concat!(
    "WITH target AS ( \
         SELECT t.sequence, t.deleted_at FROM bookings t \
         WHERE t.id = $1 AND t.organizer_id = $2 AND t.status = 'confirmed' \
     ), cancelled AS ( \
         UPDATE bookings c SET deleted_at = $3, updated_at = $3, sequence = c.sequence + 1 \
         WHERE c.id = $1 AND c.organizer_id = $2 AND c.status = 'confirmed' \
           AND c.deleted_at IS NULL AND ($4::bigint IS NULL OR c.sequence = $4) \
         RETURNING ",
    booking_columns!(),
    " ), ",
    write_event!("cancelled", "$5", "$6, $7, $8, $9, $10"),
    " SELECT t.sequence IS NOT NULL AS found, t.sequence AS current_sequence, \
         t.deleted_at AS cancelled_at, c.* \
     FROM (SELECT 1) AS one LEFT JOIN target t ON true LEFT JOIN cancelled c ON true"
);

/// Ends hold `$1` early, given its token's hash `$2`, if it is live at `$3`.
pub(crate) const RELEASE_HOLD: &str = concat!(
    "DELETE FROM bookings h WHERE h.id = $1 AND h.status = 'held' AND h.cancel_token_hash = $2 AND ",
    live_at!("h", "$3")
);

/// Deletes idempotency records and holds expired at `$1`; how many went.
pub(crate) const PURGE_EXPIRED: &str = "\
    WITH keys AS (DELETE FROM idempotency_keys WHERE expires_at <= $1 RETURNING 1), \
         holds AS (DELETE FROM bookings WHERE status = 'held' AND hold_expires_at <= $1 RETURNING 1) \
    SELECT (SELECT count(*) FROM keys) + (SELECT count(*) FROM holds)";

// ------------------------------------------------------------------- reads

/// A booking (never a hold) by id: a global lookup.
pub(crate) const BOOKING_BY_ID: &str = concat!(
    "SELECT ",
    booking_columns!(),
    " FROM bookings WHERE id = $1 AND status = 'confirmed'"
);

/// Row `$1` as an insert returns it, if it is organizer `$2`'s, starts at
/// `$3` and has token hash `$4`: the row an insert's first try committed
/// before its connection was lost.
pub(crate) const ROW_BY_ID: &str = concat!(
    "SELECT ",
    booking_columns!(),
    " FROM bookings WHERE id = $1 AND organizer_id = $2 AND start_time = $3 \
       AND cancel_token_hash = $4"
);

/// The hold whose token hashes to `$1`, expired or not: a global lookup
/// (the token is all its visitor has). Token hashes of holds are not
/// unique in the schema (tokens are random, so they never repeat in
/// practice); a live one is preferred.
pub(crate) const HOLD_BY_TOKEN_HASH: &str = concat!(
    "SELECT ",
    booking_columns!(),
    " FROM bookings WHERE cancel_token_hash = $1 AND status = 'held' \
     ORDER BY deleted_at IS NULL DESC, hold_expires_at DESC, id DESC LIMIT 1"
);

/// A page and the total in one round trip: the count row is always there,
/// the page joined to it (NULL columns when the page is empty). Organizer
/// `$1`'s bookings (never holds), active ones and those cancelled at or
/// after `$4` (NULL: none); `$filter` narrows them.
macro_rules! list_bookings {
    ($filter:literal) => {
        concat!(
            "WITH matching AS (SELECT ",
            booking_columns!(),
            " FROM bookings WHERE organizer_id = $1 AND status = 'confirmed' \
               AND (deleted_at IS NULL OR deleted_at >= $4) ",
            $filter,
            ") SELECT t.total, p.* \
             FROM (SELECT count(*) AS total FROM matching) t \
             LEFT JOIN LATERAL (SELECT * FROM matching ORDER BY start_time, id LIMIT $2 OFFSET $3) p \
                 ON true \
             ORDER BY p.start_time, p.id"
        )
    };
}

/// Page `LIMIT $2 OFFSET $3` of all of organizer `$1`'s bookings.
pub(crate) const LIST_ALL: &str = list_bookings!("");

/// As [`LIST_ALL`], for bookings starting in `[$5, $6)` (UTC instants).
pub(crate) const LIST_RANGE: &str = list_bookings!("AND start_time >= $5 AND start_time < $6");
