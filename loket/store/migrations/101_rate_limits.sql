-- Brakes shared by every API process: fixed-window request counters per bucket
-- (track:ip:..., track:reg:..., signin:ip:...) and failed sign-ins per user name.
CREATE TABLE rate_limit_windows (
    bucket       text        NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limit_windows_age ON rate_limit_windows (window_start);

CREATE TABLE signin_failures (
    username     text        PRIMARY KEY,
    failures     integer     NOT NULL,
    last_at      timestamptz NOT NULL,
    locked_until timestamptz
);
