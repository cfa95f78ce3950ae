-- Issue 13 goal 6, second part (bench/readmodel.py on 219,536 applications, 1,001,214 tasks).

-- The staff inbox pages by (deadline, id) per counter, or per agency for a supervisor
-- (loket/store/inbox.py): each index range is read in that order and only as far as a page.
CREATE INDEX tasks_inbox_counter
    ON tasks (agency, counter, (COALESCE(due_at, 'infinity'::timestamptz)), id)
    WHERE state IN ('open', 'returned');
CREATE INDEX tasks_inbox_agency
    ON tasks (agency, (COALESCE(due_at, 'infinity'::timestamptz)), id)
    WHERE state IN ('open', 'returned');

-- The stalled list pages in two runs (loket/store/monitoring.py stalled_candidates): steps
-- past their deadline by (deadline, level descending, id), then escalated steps not yet
-- due by (level descending, deadline with paused ones first, id).
CREATE INDEX tasks_stalled_overdue
    ON tasks (due_at, (-escalation_level), id)
    WHERE state IN ('open', 'returned');
CREATE INDEX tasks_stalled_escalated
    ON tasks ((-escalation_level), (COALESCE(due_at, '-infinity'::timestamptz)), id)
    WHERE state IN ('open', 'returned') AND escalation_level > 0;

-- The SLA report from a summary (loket/store/sla.py). Both tables are written by
-- apply_batch in the transaction that writes the task rows, so they cannot disagree.
-- sla_closed: one narrow row per done step (the exact durations the percentiles need),
-- with its duration's bucket (about 13 % wide); sla_daily: per step, UTC day and bucket,
-- the counts the report adds up. A year's report adds up about 100,000 summary rows and
-- reads the exact durations only inside the bucket that holds each percentile.
CREATE FUNCTION sla_bucket(used_working_s bigint) RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN used_working_s IS NOT NULL
                THEN floor(ln(greatest(used_working_s, 0) + 1) * 8)::smallint END;

CREATE TABLE sla_closed (
    registration_number text        NOT NULL,
    step_id             text        NOT NULL,
    attempt             integer     NOT NULL,
    permit_type         text        NOT NULL,
    agency              text        NOT NULL,
    counter             text        NOT NULL,
    name                text        NOT NULL,
    closed_at           timestamptz NOT NULL,
    due_at              timestamptz,
    used_working_s      bigint,
    escalation_level    integer     NOT NULL,
    bucket              smallint GENERATED ALWAYS AS (sla_bucket(used_working_s)) STORED,
    PRIMARY KEY (registration_number, step_id, attempt),
    FOREIGN KEY (registration_number, step_id, attempt)
        REFERENCES tasks (registration_number, step_id, attempt) ON DELETE CASCADE
);

CREATE TABLE sla_daily (
    permit_type          text     NOT NULL,
    agency               text     NOT NULL,
    counter              text     NOT NULL,
    step_id              text     NOT NULL,
    day                  date     NOT NULL,  -- of closed_at in UTC
    bucket               smallint NOT NULL,  -- -1: no duration recorded
    closed               integer  NOT NULL,
    on_time              integer  NOT NULL,
    late                 integer  NOT NULL,
    timed                integer  NOT NULL,  -- with a duration: what the percentiles count
    max_escalation_level integer  NOT NULL,
    min_name             text     NOT NULL,
    PRIMARY KEY (permit_type, agency, counter, step_id, day, bucket)
);

INSERT INTO sla_closed (registration_number, step_id, attempt, permit_type, agency, counter,
                        name, closed_at, due_at, used_working_s, escalation_level)
SELECT t.registration_number, t.step_id, t.attempt, a.permit_type, t.agency, t.counter,
       t.name, t.closed_at, t.due_at, t.used_working_s, t.escalation_level
FROM tasks t JOIN applications a USING (registration_number)
WHERE t.state = 'done' AND t.closed_at IS NOT NULL;

INSERT INTO sla_daily
SELECT permit_type, agency, counter, step_id, (closed_at AT TIME ZONE 'UTC')::date,
       coalesce(bucket, -1), count(*),
       count(*) FILTER (WHERE due_at IS NULL OR closed_at <= due_at),
       count(*) FILTER (WHERE closed_at > due_at), count(used_working_s),
       max(escalation_level), min(name)
FROM sla_closed
GROUP BY permit_type, agency, counter, step_id, (closed_at AT TIME ZONE 'UTC')::date,
         coalesce(bucket, -1);

-- Indexed after the backfill (faster than row by row). A report's edges (part days) by
-- time; a percentile inside its bucket by duration; a recount by step and day.
CREATE INDEX sla_closed_at ON sla_closed (closed_at);
CREATE INDEX sla_closed_durations
    ON sla_closed (permit_type, agency, counter, step_id, bucket, used_working_s)
    INCLUDE (closed_at) WHERE used_working_s IS NOT NULL;
CREATE INDEX sla_closed_days ON sla_closed (permit_type, agency, counter, step_id, closed_at);
CREATE INDEX sla_daily_day ON sla_daily (day);
