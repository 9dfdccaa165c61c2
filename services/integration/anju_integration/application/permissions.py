"""What each role may do in the integration service (admins may do everything; areas decide
where)."""

from __future__ import annotations

from anju_contracts.integration import SOURCE
from eventkit.access import Permissions

PERMISSIONS = Permissions.of(SOURCE, {})
