-- Browser sessions of the web pages. Separate from api_tokens on purpose: a session cookie
-- is only ever accepted from a cookie (with CSRF checks on every form), a bearer token only
-- from an Authorization header, so a stolen cookie is not an API credential and vice versa.
-- Only the sha256 of the cookie's value is stored.
CREATE TABLE web_sessions (
    token_hash   text        PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
