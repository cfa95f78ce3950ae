-- Refused attempts: staff actions the case refused (wrong counter, wrong role, step not
-- open, already decided, not found), rate-limit hits and failed sign-ins. Read by the
-- inspectorate per application and per user. Written by the edge; never changes a case.
CREATE TABLE security_log (
    id                  bigserial   PRIMARY KEY,
    at                  timestamptz NOT NULL,
    username            text,                  -- NULL: anonymous (public pages and API)
    role                text,
    client_ip           text,
    action              text        NOT NULL,  -- decide, claim, extend, track, sign_in, ...
    code                text        NOT NULL,  -- the refusal or brake code
    registration_number text,
    step_id             text,
    details             jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX security_log_application ON security_log (registration_number, at)
    WHERE registration_number IS NOT NULL;
CREATE INDEX security_log_user ON security_log (username, at) WHERE username IS NOT NULL;
