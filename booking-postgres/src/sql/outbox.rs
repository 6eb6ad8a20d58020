//! Statements on the outbox: `booking_events` (written by the booking
//! statements themselves) and the job queue `jobs`.

/// The columns an event is read from.
macro_rules! event_columns {
    () => {
        "seq, id, organizer_id, booking_id, kind, occurred_at, payload"
    };
}

/// The columns a job is read from (`seq` orders a claim's jobs).
macro_rules! job_columns {
    () => {
        "seq, id, queue, organizer_id, event_id, booking_id, target, payload, status, attempts, \
         run_at, last_error, last_status, created_at, updated_at"
    };
}

/// Up to `$2` events numbered above `$1`, ascending.
pub(crate) const EVENTS_AFTER: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM booking_events WHERE seq > $1 ORDER BY seq LIMIT $2"
);

/// Up to `$1` undispatched events, oldest first (a partial index holds
/// exactly these).
pub(crate) const UNDISPATCHED_EVENTS: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM booking_events WHERE NOT dispatched ORDER BY seq LIMIT $1"
);

/// In one statement: enqueues the jobs given as parallel arrays (`$2` ids,
/// `$3` queues, `$4` organizers, `$5` events, `$6` bookings, `$7` targets,
/// `$8` payloads, `$9` first attempts; `created_at` and `updated_at` are the
/// first attempt's time), in the order given so their `seq` follows it,
/// skipping a (queue, event, target) that already has its job; and marks
/// events `$1` dispatched. Returns how many events were still undispatched.
/// Two dispatchers of the same events: the second's jobs wait for the
/// first's (a unique index entry in progress), then are skipped.
pub(crate) const DISPATCH_EVENTS: &str = "\
    WITH enqueued AS ( \
        INSERT INTO jobs (id, queue, organizer_id, event_id, booking_id, target, payload, run_at, \
            created_at, updated_at) \
        SELECT j.id, j.queue, j.organizer_id, j.event_id, j.booking_id, j.target, j.payload, \
            j.run_at, j.run_at, j.run_at \
        FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
            $8::text[], $9::timestamptz[]) WITH ORDINALITY \
            AS j(id, queue, organizer_id, event_id, booking_id, target, payload, run_at, ord) \
        ORDER BY j.ord \
        ON CONFLICT ON CONSTRAINT jobs_once_per_target DO NOTHING \
    ), marked AS ( \
        UPDATE booking_events SET dispatched = true \
        WHERE id = ANY($1::text[]) AND NOT dispatched RETURNING 1 \
    ) \
    SELECT count(*) FROM marked";

/// Claims up to `$3` jobs of queue `$1` due at `$2`, leasing each until `$4`
/// with one more attempt, in one statement. The inner `SELECT ... FOR
/// UPDATE SKIP LOCKED` picks pending, due, unleased jobs with no older
/// pending job of the same queue, booking and target, oldest first, and
/// locks them, skipping rows another claim has locked; a row claimed and
/// committed by another worker since this statement's snapshot is
/// re-checked on its newest version when locked (READ COMMITTED), so its
/// lease makes it drop out. No job is ever returned to two workers.
pub(crate) const CLAIM_JOBS: &str = concat!(
    "UPDATE jobs SET attempts = attempts + 1, lease_until = $4, updated_at = $2 \
     WHERE seq IN ( \
         SELECT c.seq FROM jobs c \
         WHERE c.queue = $1 AND c.status = 'pending' AND c.run_at <= $2 \
           AND (c.lease_until IS NULL OR c.lease_until <= $2) \
           AND NOT EXISTS ( \
               SELECT 1 FROM jobs e \
               WHERE e.queue = c.queue AND e.booking_id = c.booking_id AND e.target = c.target \
                 AND e.status = 'pending' AND e.seq < c.seq \
           ) \
         ORDER BY c.seq LIMIT $3 \
         FOR UPDATE SKIP LOCKED \
     ) \
     RETURNING ",
    job_columns!()
);

/// Records an attempt's outcome on job `$1` at `$6`: status `$2`, next or
/// final run time `$3`, error `$4`, status code `$5`; the lease ends.
pub(crate) const FINISH_JOB: &str = "\
    UPDATE jobs SET status = $2, run_at = $3, last_error = $4, last_status = $5, \
        lease_until = NULL, updated_at = $6 \
    WHERE id = $1";

/// Organizer `$1`'s jobs of queue `$2` (of target `$3` when not NULL),
/// newest first, at most `$4`.
pub(crate) const JOBS: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE organizer_id = $1 AND queue = $2 AND ($3::text IS NULL OR target = $3) \
     ORDER BY seq DESC LIMIT $4"
);
