-- Applicant contacts and per-channel deliveries (issue 11 §1, UU 27/2022 on personal data).
-- Contacts are written by the submission service with the submission and read only at
-- delivery time: they never travel through Temporal, search attributes, logs or webhooks.
CREATE TABLE applicant_contacts (
    registration_number text PRIMARY KEY REFERENCES submissions (registration_number),
    -- E.164: '+' and at most 15 digits (loket/contact.py normalizes to +62...)
    phone               varchar(16),
    email               varchar(254),
    language            text        NOT NULL DEFAULT 'id' CHECK (language IN ('id', 'en')),
    -- consent to be contacted: when, and which version of the purpose text was shown
    consent_at          timestamptz NOT NULL,
    consent_version     text        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (phone IS NOT NULL OR email IS NOT NULL)
);

-- One row per outbox entry and channel: the unique (key, channel) is what makes "one
-- message per event per channel". 'sending' is a claim that expires at claimed_until, so
-- an attempt that died mid-send is taken over by the next one after the lease.
CREATE TABLE notification_deliveries (
    key              text        NOT NULL REFERENCES notification_outbox (key),
    channel          text        NOT NULL CHECK (channel IN ('email', 'phone')),
    state            text        NOT NULL
        CHECK (state IN ('sending', 'retrying', 'sent', 'failed', 'skipped', 'recorded')),
    attempts         integer     NOT NULL DEFAULT 0,
    last_error       text,
    claimed_until    timestamptz,
    template_version text,
    provider_ref     text,
    sent_at          timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key, channel)
);
