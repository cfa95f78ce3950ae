-- Every route version an application was started with, as it was: pages and the API show
-- an application's outcomes, documents, fees and form from the version it is pinned to,
-- never from today's catalog.
CREATE TABLE route_versions (
    permit_type text        NOT NULL,
    version     integer     NOT NULL,
    digest      text        NOT NULL,
    definition  json        NOT NULL,  -- json, not jsonb: key order (outcomes) is kept
    first_seen  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (permit_type, version)
);
