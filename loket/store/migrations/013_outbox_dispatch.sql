-- Issue 13: the transactional outbox is dispatched by the workers (activities/dispatcher.py)
-- instead of one delivery activity per notification. A row written by a workflow on the
-- dispatch path gets dispatch_at (its next attempt's time) in the same transaction as the
-- change that caused it; rows without it belong to workflows still on the activity path.
-- A dispatcher claims due rows with FOR UPDATE SKIP LOCKED and a lease (claimed_until), so
-- several dispatchers never take the same row at once and a dead one's rows come back.
ALTER TABLE notification_outbox
    ADD COLUMN dispatch_at       timestamptz,
    ADD COLUMN claimed_until     timestamptz,
    ADD COLUMN dispatch_attempts integer NOT NULL DEFAULT 0;

CREATE INDEX outbox_dispatch_due ON notification_outbox (dispatch_at)
    WHERE delivered_at IS NULL AND dispatch_at IS NOT NULL;
