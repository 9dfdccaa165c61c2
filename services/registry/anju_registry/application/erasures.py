"""Erasing a person (docs/personal-data.md, "Erasure"): the registry destroys their key, then
announces ``registry.PersonErased``, which every service follows.

Destroying comes first and is idempotent: when the append fails after it, the data is gone
already and sending the command again appends. Who erased, when and why is kept in
``registry_erasures`` (the reason never travels on a topic).
"""

from __future__ import annotations

from typing import cast
from uuid import UUID

from anju_registry.application.aggregates import RESIDENTS
from anju_registry.application.commands import EraseResident
from anju_registry.application.lookups import IdNumbers
from anju_registry.application.residents import stop_care
from anju_registry.domain import residents
from eventkit.commands import Accepted, Caller
from eventkit.errors import Unavailable
from eventkit.keys import KeyStore
from eventkit.personal import resident_subject
from eventkit.store import Session, Store

DDL = """
CREATE TABLE IF NOT EXISTS registry_erasures (
    id             bigserial PRIMARY KEY,
    resident_id    uuid NOT NULL,
    basis          text NOT NULL,
    reason         text NOT NULL,
    sub            text NOT NULL,
    roles          text[] NOT NULL,
    correlation_id text,
    erased_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS registry_erasures_resident ON registry_erasures (resident_id);
"""


class ErasureUnavailable(Unavailable):
    """No key store is configured: nothing can be erased (the fields are kept in clear)."""

    code = "erasure_unavailable"


async def erase_resident(
    store: Store,
    resident_id: UUID,
    cmd: EraseResident,
    caller: Caller,
    *,
    keys: KeyStore | None,
    id_numbers: IdNumbers,
    action: str = "erase_resident",
) -> Accepted:
    """Erase the person (``action``: a director's command, or the scheduler's when the
    retention period of the person's record ends, :mod:`anju_registry.application.retention`)."""
    if keys is None:
        raise ErasureUnavailable("no key store is configured: personal data cannot be erased")
    async with RESIDENTS.update(store, resident_id, caller, action, cmd.expected_version) as w:
        events = residents.erase(w.state, basis=cmd.basis)
        await keys.destroy(resident_subject(resident_id))
        if w.state.id_number is not None:
            await id_numbers.release(w.session, w.state.id_number, resident_id)
        await stop_care(w, reason="the person's data was erased")
        w.emit(events)
        await cast(Session, w.session).conn.execute(
            """
            INSERT INTO registry_erasures (resident_id, basis, reason, sub, roles, correlation_id)
            VALUES ($1, $2, $3, $4, $5, $6)
            """,
            resident_id,
            cmd.basis,
            cmd.reason,
            caller.principal.sub,
            list(caller.principal.roles),
            w.caller.context.correlation_id,
        )
    return w.accepted
