#!/bin/sh
# Run once by the postgres image's entrypoint, on the first start (empty data volume), as the
# superuser. Two roles that cannot touch each other's data:
#   loket     owns the database `loket` (Loket's migrations run as this role)
#   temporal  owns `temporal` and `temporal_visibility` (temporal-sql-tool sets up the schemas)
# Neither is a superuser nor may create databases or roles. Passwords come from the
# environment (LOKET_DB_PASSWORD, TEMPORAL_DB_PASSWORD) and are passed as psql variables,
# quoted by psql (:'name'), never spliced into SQL text.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v loket_password="$LOKET_DB_PASSWORD" -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE loket LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'loket_password';
CREATE ROLE temporal LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'temporal_password';
CREATE DATABASE loket OWNER loket;
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
REVOKE ALL ON DATABASE loket FROM PUBLIC;
REVOKE ALL ON DATABASE temporal FROM PUBLIC;
REVOKE ALL ON DATABASE temporal_visibility FROM PUBLIC;
-- Temporal's PostgreSQL visibility schema indexes with btree_gin; created here, by the
-- superuser, so the temporal role needs no more rights than owning its databases.
\connect temporal_visibility
CREATE EXTENSION IF NOT EXISTS btree_gin;
SQL
