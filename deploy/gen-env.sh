#!/bin/sh
# Print a compose .env with fresh random secrets:  deploy/gen-env.sh > .env  (keep it out of git).
# Hex values are safe inside database URLs.
set -eu
rand() { python3 -c 'import secrets; print(secrets.token_hex(24))'; }
master_key() { python3 -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())'; }
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
echo "ANJU_KEYS_DB_PASSWORD=$(rand)"
# The master key that wraps every person's data key (32 bytes, base64). Lose it and every
# personal field reads as erased; keep a copy in the organisation's secret store, never beside
# the backups of anju_keys (docs/operations.md, Backup).
echo "ANJU_MASTER_KEY=$(master_key)"
echo "ANJU_GRAFANA_ADMIN_PASSWORD=$(rand)"
