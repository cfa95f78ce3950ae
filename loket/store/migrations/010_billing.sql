-- Billing and payment (issue 11). Bills (SKRD) and payments are written by the record
-- activity from the workflow's record batch; payment attempts by the callback service,
-- one row per callback whatever its outcome (the reconciliation log).
CREATE TABLE bills (
    billing_code        text        PRIMARY KEY CHECK (billing_code ~ '^[0-9]{18,38}$'),
    registration_number text        NOT NULL REFERENCES applications ON DELETE CASCADE,
    bill_index          integer     NOT NULL CHECK (bill_index BETWEEN 1 AND 99),
    step_id             text        NOT NULL,
    attempt             integer     NOT NULL,
    amount              bigint      NOT NULL CHECK (amount > 0),
    currency            text        NOT NULL DEFAULT 'IDR',
    billed_at           timestamptz NOT NULL,
    pay_by              timestamptz NOT NULL,
    status              text        NOT NULL CHECK (status IN ('open', 'paid', 'cancelled')),
    closed_at           timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (registration_number, bill_index)
);
CREATE INDEX bills_open ON bills (pay_by) WHERE status = 'open';

-- One payment per bill, one bill per bank transaction: the database's own guarantee that
-- two callbacks for one bill record exactly one payment.
CREATE TABLE payments (
    id                  bigserial   PRIMARY KEY,
    billing_code        text        NOT NULL UNIQUE REFERENCES bills ON DELETE CASCADE,
    registration_number text        NOT NULL,
    channel             text        NOT NULL CHECK (channel IN ('bank', 'teller')),
    bank                text,
    transaction_id      text,
    receipt_number      text        NOT NULL,
    amount              bigint      NOT NULL,
    paid_at             timestamptz NOT NULL,
    recorded_at         timestamptz NOT NULL,
    recorded_by         text        NOT NULL,
    UNIQUE (bank, transaction_id),
    CHECK ((channel = 'bank') = (bank IS NOT NULL AND transaction_id IS NOT NULL))
);
CREATE INDEX payments_paid_at ON payments (paid_at);

CREATE TABLE payment_attempts (
    id                  bigserial   PRIMARY KEY,
    received_at         timestamptz NOT NULL DEFAULT now(),
    bank                text        NOT NULL,
    -- 'accepted', 'replayed', or the code it was refused with
    outcome             text        NOT NULL,
    transaction_id      text,
    billing_code        text,
    amount              bigint,
    registration_number text,
    client_ip           text,
    body_sha256         text        NOT NULL
);
CREATE INDEX payment_attempts_transaction ON payment_attempts (bank, transaction_id);
CREATE INDEX payment_attempts_received ON payment_attempts (received_at DESC);
