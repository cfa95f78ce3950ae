-- Escalations, the notification outbox and the calendar versions deadlines were made with.

CREATE TABLE escalations (
    registration_number text        NOT NULL REFERENCES applications ON DELETE CASCADE,
    step_id             text        NOT NULL,
    attempt             integer     NOT NULL,
    rule_index          integer     NOT NULL,
    action              text        NOT NULL,
    recipient           text        NOT NULL,
    level               integer     NOT NULL,
    due_at              timestamptz,
    fired_at            timestamptz NOT NULL,
    PRIMARY KEY (registration_number, step_id, attempt, rule_index)
);
CREATE INDEX escalations_recent ON escalations (fired_at DESC);

CREATE TABLE notification_outbox (
    key                 text        PRIMARY KEY,
    registration_number text        NOT NULL,
    kind                text        NOT NULL,
    recipient           text        NOT NULL,
    payload             jsonb       NOT NULL,
    created_at          timestamptz NOT NULL,
    attempts            integer     NOT NULL DEFAULT 0,
    last_error          text,
    delivered_at        timestamptz
);
CREATE INDEX outbox_pending ON notification_outbox (created_at) WHERE delivered_at IS NULL;

CREATE TABLE calendars (
    version     text        PRIMARY KEY,
    snapshot    jsonb       NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
