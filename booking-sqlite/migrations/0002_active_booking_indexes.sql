-- booking-sqlite schema, level 2: indexes over active bookings for the two
-- hot queries.
--
-- 1. The overlap check inside insert_booking (and occupied_intervals) asks
--    for active bookings of one organizer with
--    occupied_end > :start AND occupied_start < :end.
--    Ordering the index by occupied_end makes SQLite visit only bookings that
--    end after the requested start, which is the organizer's few upcoming
--    bookings rather than their whole history; occupied_start is in the index
--    too, so the check never touches the table. Partial (active only), since
--    cancelled bookings occupy nothing. deleted_at (always NULL here) is
--    included only because SQLite's planner does not count a partial index's
--    WHERE clause as covering its column: without it, every index entry would
--    cost a table lookup.
CREATE INDEX bookings_active_occupied_idx
    ON bookings (organizer_id, occupied_end, occupied_start, deleted_at)
    WHERE deleted_at IS NULL;

-- 2. Listing pages of active bookings ordered by (start_time, id): the index
--    delivers rows in page order, so LIMIT/OFFSET need no sort, and it alone
--    answers the page's COUNT(*) (deleted_at included for the same reason).
CREATE INDEX bookings_active_start_idx
    ON bookings (organizer_id, start_time, id, deleted_at)
    WHERE deleted_at IS NULL;
