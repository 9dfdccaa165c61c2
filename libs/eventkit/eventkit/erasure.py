"""Following an erasure in every service (docs/personal-data.md, "Erasure").

The registry erases a person by destroying their key and announcing ``registry.PersonErased``.
Each service then does its part, with the kernel's help:

- :func:`erasure_policy` (run by every service with an event store and a key store): destroys
  the keys of the service's own records that name the person (a dispute they are a party to, a
  12345 order they called about: a record's free text may name them too), so the fields of
  those records that no ``resident_id`` claims read as erased as well;
- the decoder drops the person's keys from its cache as soon as it reads the event
  (:meth:`eventkit.messages.Decoder.read_batch`), so nothing opens with a key kept in memory;
- read models blank their clear copies when they apply the event: :func:`blank` writes the
  statement a projection runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from anju_contracts.registry import CATALOG as REGISTRY, PersonErased
from eventkit.keys import KeyStore
from eventkit.messages import Delivered
from eventkit.personal import ERASED_TEXT, record_subject
from eventkit.policy import Policy
from eventkit.store import Session

log = structlog.get_logger("eventkit.erasure")


def erasure_policy(source: str, keys: KeyStore) -> Policy:
    """The policy through which ``source`` follows ``registry.PersonErased``."""

    async def handle(session: Session, delivered: Delivered) -> None:
        event = delivered.event
        if not isinstance(event, PersonErased):
            return
        streams = await session.streams_naming(event.resident_id)
        destroyed = 0
        for stream_id in streams:
            destroyed += await keys.destroy(record_subject(source, stream_id))
        log.info(
            "person_erased_followed",
            resident_id=str(event.resident_id),
            records=len(streams),
            keys_destroyed=destroyed,
        )

    return Policy(name=f"{source}_erasure", catalogs=[REGISTRY], handle=handle)


def blank(table: str, *, key: str, text: Sequence[str] = (), values: Sequence[str] = ()) -> str:
    """The statement that erases a person's clear copies in a read model's ``table``: the
    ``text`` columns read ``[已删除]``, the ``values`` columns null, in the rows whose ``key``
    column is the person's id (``$1``). Names come from code, never from input."""
    assignments = [f"{column} = '{ERASED_TEXT}'" for column in text]
    assignments += [f"{column} = NULL" for column in values]
    if not assignments:
        raise ValueError("nothing to blank")
    return f"UPDATE {table} SET {', '.join(assignments)} WHERE {key} = $1"
