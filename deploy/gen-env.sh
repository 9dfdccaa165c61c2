#!/bin/sh
# Print a compose .env with fresh random secrets:  deploy/gen-env.sh > .env  (keep it out of git).
# Hex values are safe inside database URLs.
set -eu
rand() { python3 -c 'import secrets; print(secrets.token_hex(24))'; }
cat <<ENV
# Anju compose secrets, generated $(date -u +%Y-%m-%dT%H:%M:%SZ). Keep private.
ANJU_JWT_SECRET=$(rand)
ANJU_POSTGRES_PASSWORD=$(rand)
ANJU_REGISTRY_DB_PASSWORD=$(rand)
ANJU_QUERY_DB_PASSWORD=$(rand)
ANJU_MEDIATION_DB_PASSWORD=$(rand)
ANJU_GRAFANA_ADMIN_PASSWORD=$(rand)
ENV
