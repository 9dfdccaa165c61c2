"""Messages the contract tests share."""

from __future__ import annotations

import uuid
from typing import Any


def resident_registered() -> dict[str, Any]:
    """A ``registry.ResidentRegistered`` envelope, parsed, with its personal fields opened (what
    a whole-envelope message held, as a reader with the keys sees it)."""
    resident_id = uuid.uuid4()
    return {
        "id": str(uuid.uuid4()),
        "type": "registry.ResidentRegistered",
        "version": 2,
        "source": "registry",
        "subject": f"resident-{resident_id}",
        "sequence": 1,
        "position": 7,
        "occurred_at": "2026-11-27T08:00:00+00:00",
        "correlation_id": "c-1",
        "causation_id": None,
        "actor": {"id": "desk-1", "roles": ["desk_staff"]},
        "area": str(uuid.uuid4()),
        "data": {
            "resident_id": str(resident_id),
            "name": "王秀英",
            "sex": "female",
            "date_of_birth": "1948-03-02",
            "id_number": "11010519480302002X",
            "phone": None,
            "path": {"community_id": str(uuid.uuid4())},
        },
    }
