"""Messages the contract tests share."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from anju_contracts import Event


class NoteV1(Event):
    """A demo service's first note event, upcast to :class:`NoteV2` by the catalogs under test."""

    event_type: ClassVar[str] = "demo.NoteTaken"
    text: str


class NoteV2(Event):
    """v2 split the text into a title and a body."""

    event_type: ClassVar[str] = "demo.NoteTaken"
    event_version: ClassVar[int] = 2
    title: str
    body: str


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
