-- Read model of Loket. Written only by activities (and the API for users and
-- submissions); the workflows are the source of truth.

CREATE TABLE applications (
    registration_number text PRIMARY KEY,
    permit_type         text        NOT NULL,
    route_version       integer     NOT NULL,
    status              text        NOT NULL
        CHECK (status IN ('in_progress', 'approved', 'rejected', 'cancelled')),
    data                jsonb       NOT NULL,
    -- sha256 of the access code the applicant tracks the file with; never the code itself
    access_code_hash    text,
    submitted_at        timestamptz NOT NULL,
    service_due_at      timestamptz,
    calendar_version    text        NOT NULL,
    current_steps       text[]      NOT NULL DEFAULT '{}',
    current_agencies    text[]      NOT NULL DEFAULT '{}',
    waiting_for_applicant boolean   NOT NULL DEFAULT false,
    fees                jsonb,
    fee_total           bigint,
    finished_at         timestamptz,
    -- audit chain head: the last event written and its hash (tamper evidence)
    last_seq            integer     NOT NULL DEFAULT 0,
    last_hash           text        NOT NULL DEFAULT '',
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX applications_open ON applications (permit_type, submitted_at)
    WHERE status = 'in_progress';

-- Registration numbers: PBG-2026-000123, one counter per permit type and year.
CREATE TABLE registration_counters (
    permit_type text    NOT NULL,
    year        integer NOT NULL,
    last_value  integer NOT NULL,
    PRIMARY KEY (permit_type, year)
);

CREATE TABLE tasks (
    id                  bigserial PRIMARY KEY,
    registration_number text        NOT NULL REFERENCES applications ON DELETE CASCADE,
    step_id             text        NOT NULL,
    attempt             integer     NOT NULL,
    name                text        NOT NULL,
    agency              text        NOT NULL,
    counter             text        NOT NULL,
    state               text        NOT NULL
        CHECK (state IN ('open', 'returned', 'done', 'cancelled')),
    clock               text        NOT NULL DEFAULT 'running',
    opened_at           timestamptz NOT NULL,
    due_at              timestamptz,
    calendar_version    text        NOT NULL,
    claimed_by          text,
    outcome             text,
    note                text,
    decided_by          text,
    closed_at           timestamptz,
    escalation_level    integer     NOT NULL DEFAULT 0,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (registration_number, step_id, attempt)
);
-- Inboxes read only open rows, by counter, soonest deadline first.
CREATE INDEX tasks_inbox ON tasks (agency, counter, due_at)
    WHERE state IN ('open', 'returned');

CREATE TABLE audit_events (
    registration_number text        NOT NULL REFERENCES applications ON DELETE CASCADE,
    seq                 integer     NOT NULL,
    event               text        NOT NULL,
    at                  timestamptz NOT NULL,
    actor               text        NOT NULL,
    actor_role          text        NOT NULL,
    step_id             text,
    attempt             integer,
    from_state          text,
    to_state            text,
    details             jsonb       NOT NULL DEFAULT '{}',
    prev_hash           text        NOT NULL,
    hash                text        NOT NULL,
    PRIMARY KEY (registration_number, seq)
);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text        NOT NULL UNIQUE,
    full_name     text        NOT NULL,
    password_hash text        NOT NULL,
    role          text        NOT NULL
        CHECK (role IN ('staff', 'supervisor', 'admin', 'inspector')),
    agency        text,
    active        boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_counters (
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    agency  text   NOT NULL,
    counter text   NOT NULL,
    PRIMARY KEY (user_id, agency, counter)
);

CREATE TABLE api_tokens (
    token_hash text        PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
