-- Working time a step used (elapsed minus its pauses), written when it closes; the SLA
-- report aggregates it without re-deriving pauses from the audit trail.
ALTER TABLE tasks ADD COLUMN used_working_s bigint;
CREATE INDEX tasks_closed ON tasks (closed_at) WHERE state = 'done';
