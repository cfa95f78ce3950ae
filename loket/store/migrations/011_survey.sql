-- Satisfaction survey (SKM, Permenpan RB 14/2017): one anonymous response per finished
-- application. The row names no application: ``respondent`` is an HMAC of the registration
-- number under the server's secret, there only to refuse a second response. Only the
-- service and the month are kept beside the nine ratings (no time of day, no person).
CREATE TABLE survey_responses (
    respondent       text     PRIMARY KEY,
    -- HMAC of the Idempotency-Key that wrote it: a retried request finds its own row
    request          text     NOT NULL,
    permit_type      text     NOT NULL,
    period           date     NOT NULL CHECK (period = date_trunc('month', period)::date),
    persyaratan      smallint NOT NULL CHECK (persyaratan BETWEEN 1 AND 4),
    prosedur         smallint NOT NULL CHECK (prosedur BETWEEN 1 AND 4),
    waktu            smallint NOT NULL CHECK (waktu BETWEEN 1 AND 4),
    biaya            smallint NOT NULL CHECK (biaya BETWEEN 1 AND 4),
    produk           smallint NOT NULL CHECK (produk BETWEEN 1 AND 4),
    kompetensi       smallint NOT NULL CHECK (kompetensi BETWEEN 1 AND 4),
    perilaku         smallint NOT NULL CHECK (perilaku BETWEEN 1 AND 4),
    pengaduan        smallint NOT NULL CHECK (pengaduan BETWEEN 1 AND 4),
    sarana           smallint NOT NULL CHECK (sarana BETWEEN 1 AND 4)
);
CREATE INDEX survey_responses_period ON survey_responses (permit_type, period);
