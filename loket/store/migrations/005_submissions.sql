-- Submissions: one row per idempotency key, written by the submit service before the
-- workflow starts. The applications row is the workflow's alone (its record activity is
-- its only writer), so the access code's hash moves here.
CREATE TABLE submissions (
    idempotency_key     text PRIMARY KEY,
    registration_number text        NOT NULL UNIQUE,
    permit_type         text        NOT NULL,
    -- sha256 of the access code the applicant tracks the file with; never the code itself
    access_code_hash    text        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);

INSERT INTO submissions (idempotency_key, registration_number, permit_type, access_code_hash,
                         created_at)
SELECT 'legacy:' || registration_number, registration_number, permit_type, access_code_hash,
       submitted_at
FROM applications WHERE access_code_hash IS NOT NULL;

ALTER TABLE applications DROP COLUMN access_code_hash;
