#!/bin/bash
# Runs once, on the first start of an empty PostgreSQL volume (docker-entrypoint-initdb.d).
# For every service named in ANJU_DATABASES: a login role anju_<service> with the password from
# ANJU_<SERVICE>_DB_PASSWORD, and a database anju_<service> that the role owns (so the service
# can run its own migrations). Nobody else may connect to it. The query service's database holds
# the read models.
# And the key store (docs/personal-data.md): a role anju_keys with ANJU_KEYS_DB_PASSWORD owning
# the database anju_keys. Every service with a database connects to it as anju_keys; the first to
# start creates the table data_keys, owned by that role, so every service may read, create and
# destroy keys in it.
set -euo pipefail

create() { # role-and-database-name password
    echo "anju: creating role and database $1"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v name="$1" -v password="$2" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
GRANT ALL ON DATABASE :"name" TO :"name";
SQL
}

for service in ${ANJU_DATABASES:?ANJU_DATABASES lists the services}; do
    password_var="ANJU_${service^^}_DB_PASSWORD"
    create "anju_${service}" "${!password_var:?set ${password_var}}"
done
create anju_keys "${ANJU_KEYS_DB_PASSWORD:?set ANJU_KEYS_DB_PASSWORD}"
