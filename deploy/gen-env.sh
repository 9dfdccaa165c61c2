#!/bin/sh
# Print a compose .env with fresh random secrets:  deploy/gen-env.sh > .env  (keep it out of git).
# Hex values are safe inside database URLs.
set -eu
rand() { python3 -c 'import secrets; print(secrets.token_hex(24))'; }
# The services with a database (rendered from services/*/service.toml by `make manifest`).
# >>> anju manifest: databases
DATABASES="query registry mediation health volunteering station governance integration"
# <<< anju manifest
echo "# Anju compose secrets, generated $(date -u +%Y-%m-%dT%H:%M:%SZ). Keep private."
echo "ANJU_JWT_SECRET=$(rand)"
echo "ANJU_POSTGRES_PASSWORD=$(rand)"
for service in $DATABASES; do
    echo "ANJU_$(echo "$service" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD=$(rand)"
done
echo "ANJU_GRAFANA_ADMIN_PASSWORD=$(rand)"
