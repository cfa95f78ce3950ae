-- Documents (issue 10, 10A): every uploaded version of every slot, the staff's verdict on
-- each item at each step, and every download (who, when, which file). Files themselves
-- live in the content-addressed file store (loket/files); rows carry only their SHA-256.
CREATE TABLE document_versions (
    registration_number text        NOT NULL REFERENCES applications ON DELETE CASCADE,
    slot                text        NOT NULL,
    version             integer     NOT NULL CHECK (version >= 1),
    sha256              char(64)    NOT NULL,
    size                bigint      NOT NULL CHECK (size >= 0),
    media_type          text        NOT NULL,
    uploaded_at         timestamptz NOT NULL,
    uploaded_by         text        NOT NULL,
    uploaded_by_role    text        NOT NULL,
    audit_seq           integer     NOT NULL,
    PRIMARY KEY (registration_number, slot, version)
);
CREATE INDEX document_versions_sha256 ON document_versions (sha256);

CREATE TABLE document_verdicts (
    registration_number text        NOT NULL REFERENCES applications ON DELETE CASCADE,
    audit_seq           integer     NOT NULL,
    slot                text        NOT NULL,
    version             integer,
    step_id             text        NOT NULL,
    attempt             integer     NOT NULL,
    verdict             text        NOT NULL
        CHECK (verdict IN ('complete', 'incomplete', 'not_applicable')),
    note                text        NOT NULL DEFAULT '',
    decided_by          text        NOT NULL,
    decided_at          timestamptz NOT NULL,
    PRIMARY KEY (registration_number, audit_seq)
);

CREATE TABLE document_downloads (
    id                  bigserial   PRIMARY KEY,
    registration_number text        NOT NULL,
    slot                text        NOT NULL,
    version             integer     NOT NULL,
    sha256              char(64)    NOT NULL,
    who                 text        NOT NULL,
    role                text        NOT NULL,
    at                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX document_downloads_application ON document_downloads (registration_number, at);
