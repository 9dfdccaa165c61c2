"""Following an erasure in every service (docs/personal-data.md, "Erasure").

The registry erases a person by destroying their key and announcing ``registry.PersonErased``.
Each service then does its part, with the kernel's help:

- :func:`erasure_policy` (run by every service with an event store and a key store): destroys
  the keys of the service's own records that name the person (a dispute they are a party to, a
  12345 order they called about: a record's free text may name them too), so the fields of
  those records that no ``resident_id`` claims read as erased as well;
- the decoder drops the person's keys from its cache as soon as it reads the event
  (:meth:`eventkit.messages.Decoder.read_batch`), so nothing opens with a key kept in memory;
- read models blank their clear copies when they apply the event: :func:`blank` and
  :func:`blank_where` write the statement a projection runs, :func:`erased_payload` erases a
  payload a read model keeps whole (a timeline entry) as a rebuild would read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

import structlog
from pydantic import BaseModel

from anju_contracts import Envelope
from anju_contracts.base import personal_fields
from anju_contracts.registry import CATALOG as REGISTRY, PersonErased
from eventkit.keys import KeyStore
from eventkit.messages import Delivered
from eventkit.personal import (
    ERASED_TEXT,
    erased_value,
    kind_of,
    nested_model,
    personal_items,
    record_subject,
)
from eventkit.policy import Policy
from eventkit.rows import Row, Writers
from eventkit.store import Session

log = structlog.get_logger("eventkit.erasure")


Reach = Callable[[Sequence[str]], Sequence[str]]
"""A service's further records of a person, from the streams that name them: a volunteer's
hours ledger (``ledger-<id>``) for their ``volunteer-<id>``, whose events name the volunteer,
not the resident."""


def erasure_policy(source: str, keys: KeyStore, *, reach: Reach | None = None) -> Policy:
    """The policy through which ``source`` follows ``registry.PersonErased``; ``reach``: the
    service's records of the person that no event of theirs names by the resident id."""

    async def handle(session: Session, delivered: Delivered) -> None:
        event = delivered.event
        if not isinstance(event, PersonErased):
            return
        streams = await session.streams_naming(event.resident_id)
        if reach is not None:
            streams = list(dict.fromkeys([*streams, *reach(streams)]))
        destroyed = 0
        for stream_id in streams:
            destroyed += await keys.destroy(record_subject(source, stream_id))
        log.info(
            "person_erased_followed",
            resident_id=str(event.resident_id),
            records=len(streams),
            keys_destroyed=destroyed,
        )

    return Policy(
        name=f"{source}_erasure",
        catalogs=[REGISTRY],
        handle=handle,
        types=frozenset({PersonErased.event_type}),
    )


def blank(table: str, *, key: str, text: Sequence[str] = (), values: Sequence[str] = ()) -> str:
    """The statement that erases a person's clear copies in a read model's ``table``: the
    ``text`` columns read ``[已删除]``, the ``values`` columns null, in the rows whose ``key``
    column is the person's id (``$1``). Names come from code, never from input."""
    return blank_where(table, f"{key} = $1", text=text, values=values)


def blank_where(
    table: str,
    where: str,
    *,
    text: Sequence[str] = (),
    values: Sequence[str] = (),
    text_lists: Sequence[str] = (),
    also: Sequence[str] = (),
) -> str:
    """The statement that erases the clear copies in the rows of ``table`` that ``where``
    selects (a projection's statement over a group of erasures reads their ids as
    ``$1::uuid[]``), as a rebuild would read them once the keys are gone:

    - ``text`` columns read ``[已删除]`` where they held something (a null stays null: sealing
      leaves a null personal field null);
    - ``values`` columns (a date, an identity number, a whole object) read null;
    - ``text_lists`` (``jsonb`` arrays of personal strings: attendees, errands) keep their
      length, each item ``[已删除]``;
    - ``also``: further assignments the erasure makes (``status = 'erased'``).

    Names and conditions come from code, never from input.
    """
    assignments = [
        f"{column} = CASE WHEN {column} IS NULL THEN NULL ELSE '{ERASED_TEXT}' END"
        for column in text
    ]
    assignments += [f"{column} = NULL" for column in values]
    assignments += [
        f"{column} = (SELECT coalesce(jsonb_agg(to_jsonb('{ERASED_TEXT}'::text)), '[]'::jsonb)"
        f" FROM jsonb_array_elements({column}))"
        for column in text_lists
    ]
    assignments += also
    if not assignments:
        raise ValueError("nothing to blank")
    return f"UPDATE {table} SET {', '.join(assignments)} WHERE {where}"


def blank_on_erasure(writers: Writers, *statements: str) -> None:
    """Have ``writers`` run ``statements`` (:func:`blank_where`, in this order) for each group
    of ``registry.PersonErased`` in a batch, with the erased people's ids as ``$1::uuid[]``.
    The projection follows the registry's catalogue for it."""
    for sql in statements:
        writers.row(PersonErased, sql)(_erased_person)


def _erased_person(_: Envelope, event: PersonErased) -> Row:
    return (event.resident_id,)


def erased_payload(
    model: type[BaseModel], data: Mapping[str, Any], *, person_id: UUID | None, record: bool
) -> dict[str, Any]:
    """``data`` (a JSON-mode payload of ``model`` kept in a read model: a timeline entry, an
    item's history) as it reads once ``person_id`` is erased: the personal fields their key
    (:mod:`eventkit.personal`, "whose key") gives to the person read ``[已删除]`` or null, and,
    when ``record`` (the payload's record names the person, so its key is destroyed too), so do
    the fields no ``resident_id`` claims. Another person's fields stay. Everything else, ids,
    dates and counts, stays as it was."""
    person = "" if person_id is None else str(person_id)  # None: the record alone is erased
    return _erased_object(model, dict(data), person, record, owner=None)


def _erased_object(
    model: type[BaseModel], obj: dict[str, Any], person: str, record: bool, owner: str | None
) -> dict[str, Any]:
    if obj.get("resident_id"):
        owner = str(obj["resident_id"])
    reached = owner == person if owner is not None else record
    personal = personal_fields(model)
    for name, info in model.model_fields.items():
        key = info.alias or name
        value = obj.get(key)
        if value is None:
            continue
        if name in personal:
            if reached:
                kind = kind_of(model, name) if isinstance(value, str) else "v"
                obj[key] = erased_value(kind)
            continue
        item_kind = personal_items(model, name)
        if item_kind is not None and isinstance(value, list):
            if reached:
                obj[key] = [erased_value(item_kind if isinstance(v, str) else "v") for v in value]
            continue
        nested = nested_model(info.annotation)
        if nested is None:
            continue
        if isinstance(value, dict):
            obj[key] = _erased_object(nested, dict(value), person, record, owner)
        elif isinstance(value, list):
            obj[key] = [
                _erased_object(nested, dict(v), person, record, owner) if isinstance(v, dict) else v
                for v in value
            ]
    return obj
