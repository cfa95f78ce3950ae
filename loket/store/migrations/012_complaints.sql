-- Complaints (issue 12b). A complaint is registered like an application (its tracking
-- number ADU-2026-000123 and access code hash are a submissions row; its handling route
-- runs in the same workflow and writes applications/tasks/audit_events). This row keeps
-- what the route does not: which application it concerns and where it came from.
CREATE TABLE complaints (
    tracking_number      text PRIMARY KEY REFERENCES submissions (registration_number),
    -- the permit application complained about, if the complainant named one
    related_registration text CHECK (length(related_registration) <= 40),
    -- SP4N-LAPOR! ticket number or report address, when the complaint came from there
    lapor_ticket         text CHECK (length(lapor_ticket) <= 300),
    source               text        NOT NULL CHECK (source IN ('public', 'tracking', 'lapor')),
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX complaints_related ON complaints (related_registration)
    WHERE related_registration IS NOT NULL;

-- Post-issue supervision of a deemed approval (fiktif positif): opened by the record
-- activity from the step_deemed_approved audit entry, worked by the step's agency, closed
-- once with a note. A closed row never changes again (the trigger below).
CREATE TABLE supervision_tasks (
    registration_number text        NOT NULL REFERENCES applications ON DELETE CASCADE,
    step_id             text        NOT NULL,
    attempt             integer     NOT NULL,
    agency              text        NOT NULL,
    counter             text        NOT NULL,
    legal_basis         text        NOT NULL,
    deemed_at           timestamptz NOT NULL,
    audit_seq           integer     NOT NULL,
    closed_at           timestamptz,
    closed_by           text,
    note                text CHECK (length(note) <= 4000),
    PRIMARY KEY (registration_number, step_id, attempt),
    CHECK ((closed_at IS NULL) = (closed_by IS NULL) AND (closed_at IS NULL) = (note IS NULL))
);
CREATE INDEX supervision_open ON supervision_tasks (agency, deemed_at) WHERE closed_at IS NULL;

CREATE FUNCTION supervision_closed_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.closed_at IS NOT NULL THEN
        RAISE EXCEPTION 'supervision task %/% is closed', OLD.registration_number, OLD.step_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER supervision_closed_is_final BEFORE UPDATE ON supervision_tasks
    FOR EACH ROW WHEN (OLD.closed_at IS NOT NULL) EXECUTE FUNCTION supervision_closed_is_final();
