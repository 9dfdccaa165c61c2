"""A tiny catalogue of events of a source named ``demo``, for the kernel's own tests: what they
append, relay, project and decode when no service's events are needed."""

from __future__ import annotations

from anju_contracts import Event, EventCatalog


class Counted(Event):
    """A number was counted."""

    event_type = "demo.Counted"
    n: int


class Noted(Event):
    """A note was taken."""

    event_type = "demo.Noted"
    text: str


CATALOG = EventCatalog("demo", [Counted, Noted])
