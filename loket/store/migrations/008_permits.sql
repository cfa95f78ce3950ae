-- Issued permits (issue 10 §2): official numbers from a gap-free counter per permit type
-- and year, the permit's printed content, its PDF's hash, revocation; the dated table of
-- who holds which signing position; and the permit's own audit trail (a permit outlives
-- its workflow: a revocation comes long after the application closed).

CREATE TABLE permit_counters (
    permit_type text    NOT NULL,
    year        integer NOT NULL,
    last_value  integer NOT NULL CHECK (last_value >= 1),
    PRIMARY KEY (permit_type, year)
);

CREATE TABLE officials (
    id          bigserial PRIMARY KEY,
    position    text NOT NULL CHECK (position ~ '^[a-z][a-z0-9_]*$'),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    nip         text NOT NULL CHECK (nip ~ '^[0-9]{18}$'),
    valid_from  date NOT NULL,
    valid_to    date CHECK (valid_to IS NULL OR valid_to >= valid_from),
    acting      text NOT NULL CHECK (acting IN ('definitive', 'plt', 'plh')),
    created_by  text NOT NULL DEFAULT 'loket',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX officials_position ON officials (position, valid_from);

CREATE TABLE permits (
    -- One permit per application: a retried numbering finds this row and takes no number.
    registration_number text PRIMARY KEY,
    number              text        NOT NULL UNIQUE CHECK (length(number) BETWEEN 1 AND 100),
    permit_type         text        NOT NULL,
    year                integer     NOT NULL,
    seq                 integer     NOT NULL CHECK (seq >= 1),
    status              text        NOT NULL CHECK (status IN ('numbered', 'issued', 'revoked')),
    issued_at           timestamptz NOT NULL,
    valid_until         date,
    -- Everything the PDF prints (holder, masked NIK, object, signer...): rendering reads
    -- only this, so a retried render gives the same bytes.
    document            jsonb       NOT NULL,
    pdf_sha256          text CHECK (pdf_sha256 ~ '^[0-9a-f]{64}$'),
    pdf_size            integer,
    revoked_at          timestamptz,
    revoked_by          text,
    revoked_reason      text,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (permit_type, year, seq)
);

CREATE TABLE permit_events (
    id      bigserial PRIMARY KEY,
    number  text        NOT NULL REFERENCES permits (number),
    event   text        NOT NULL,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text        NOT NULL,
    details jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX permit_events_number ON permit_events (number, id);
