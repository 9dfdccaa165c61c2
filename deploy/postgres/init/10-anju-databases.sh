#!/bin/bash
# Runs once, on the first start of an empty PostgreSQL volume (docker-entrypoint-initdb.d).
# For every service named in ANJU_DATABASES: a login role anju_<service> with the password from
# ANJU_<SERVICE>_DB_PASSWORD, and a database anju_<service> that the role owns (so the service
# can run its own migrations). Nobody else may connect to it. The query service's database holds
# the read models.
set -euo pipefail

for service in ${ANJU_DATABASES:?ANJU_DATABASES lists the services}; do
    name="anju_${service}"
    password_var="ANJU_${service^^}_DB_PASSWORD"
    password="${!password_var:?set ${password_var}}"
    echo "anju: creating role and database ${name}"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v name="$name" -v password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
GRANT ALL ON DATABASE :"name" TO :"name";
SQL
done
