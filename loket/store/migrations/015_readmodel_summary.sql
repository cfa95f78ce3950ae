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
