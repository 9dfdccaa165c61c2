"""Consent, where it is the legal basis of processing: given and withdrawn, per person and purpose.

Each service that processes on consent keeps one small aggregate per person and purpose (stream
``consent-<id>``, the id derived from both by :func:`consent_id`, so that the consent for a
purpose is found without a lookup table). Its events are the service's own contract events —
``…ConsentGiven`` and ``…ConsentWithdrawn`` with the person's id, the ``purpose``, the day and
the person's ``path`` — and the rules are these, pure:

- giving a consent already given changes nothing (no event); giving it again after a
  withdrawal is a new consent;
- withdrawing a consent that is not given is refused (:class:`ConsentNotGiven`, 422 ``consent_not_given``);
- what the consent covered stops from the withdrawal on; the service decides what that means
  (a profile no longer shown, an attendance no longer linked to the person).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid5

from anju_contracts import Event
from anju_contracts.registry import AreaPath
from eventkit.errors import Rejected

_NAMESPACE = UUID("3c0e1f4e-5a4b-4f1e-9d7a-c0a5e9b1d2f3")


def consent_id(person_id: UUID, purpose: str) -> UUID:
    """The id of the consent of ``person_id`` for ``purpose`` (the same every time)."""
    return uuid5(_NAMESPACE, f"{person_id}/{purpose}")


class ConsentNotGiven(Rejected):
    code = "consent_not_given"


@dataclass(frozen=True)
class Consent:
    person_id: UUID
    purpose: str
    path: AreaPath
    given: bool
    since: date
    """When it was last given or withdrawn."""


def fold(events: Iterable[Event], *, person: str) -> Consent | None:
    """The consent as its events leave it; ``person`` names the events' person field
    (``volunteer_id``, ``resident_id``). An event with ``given_on`` gives, one with
    ``withdrawn_on`` withdraws."""
    state: Consent | None = None
    for event in events:
        fields: dict[str, Any] = dict(event)
        given_on, withdrawn_on = fields.get("given_on"), fields.get("withdrawn_on")
        day = given_on if given_on is not None else withdrawn_on
        if not isinstance(day, date):
            continue
        state = Consent(
            person_id=fields[person],
            purpose=str(fields["purpose"]),
            path=fields["path"],
            given=given_on is not None,
            since=day,
        )
    return state


def needs_giving(state: Consent | None) -> bool:
    """Whether giving the consent records anything (it does unless it stands already)."""
    return state is None or not state.given


def check_withdrawable(state: Consent | None, person_id: UUID, purpose: str) -> None:
    """Refuse to withdraw a consent that is not given."""
    if state is None or not state.given:
        raise ConsentNotGiven(
            "no consent is given for this purpose", person_id=str(person_id), purpose=purpose
        )


def stands(state: Consent | None) -> bool:
    """Whether the consent is given now."""
    return state is not None and state.given
