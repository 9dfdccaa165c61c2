"""Retention in the registry: a resident who moved out or died is erased when the period of
their kind of record ends (:mod:`anju_registry.domain.retention`).

Moving out and a death arm the deadline ``registry.retention_due`` for the resident, in the
command's transaction. When it fires, the scheduler erases the person through the erase
command's own application function (:func:`~anju_registry.application.erasures.erase_resident`),
as the registry itself, with basis ``retention`` and a reason naming the rule: the key is
destroyed, the erasure audited, ``registry.PersonErased`` announced, exactly as a director's.

A person who comes back is registered again as a new resident (a new id, a new key; the
identity number passes to the new record), so the old record's deadline can only ever erase
the old record. The handler still checks, when it fires, that the record is closed and not
erased yet (a director may have erased the person meanwhile), and does nothing otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import structlog

from anju_contracts.registry import SOURCE, ErasureBasis
from anju_registry.application.aggregates import RESIDENTS, SERVICE_ACTOR
from anju_registry.application.commands import EraseResident
from anju_registry.application.erasures import erase_resident
from anju_registry.application.lookups import IdNumbers
from anju_registry.domain.residents import ResidentStatus
from eventkit.auth import Principal, Role
from eventkit.commands import Caller
from eventkit.keys import KeyStore
from eventkit.scheduler import Deadline, DeadlineHandler
from eventkit.store import Context, JoinedStore, Session

log = structlog.get_logger("anju_registry.retention")

ERASE_BY_RETENTION = "erase_by_retention"
"""The action the scheduler erases under (the registry acting as itself, never over HTTP)."""


def retention_due(keys: Callable[[], KeyStore | None], id_numbers: IdNumbers) -> DeadlineHandler:
    """The deadline handler; ``keys`` gives the runtime's key store once it has started."""

    async def handle(session: Session, deadline: Deadline) -> None:
        resident_id = UUID(deadline.key)
        resident, _ = await RESIDENTS.load(session, resident_id)
        if resident.status not in (ResidentStatus.MOVED_OUT, ResidentStatus.DEAD):
            log.info("retention_not_applicable", resident_id=deadline.key, status=resident.status)
            return
        principal = Principal(
            sub=SOURCE, roles=(Role.SERVICE,), areas=(str(resident.path.community_id),)
        )
        caller = Caller(principal, Context(actor=SERVICE_ACTOR))
        cmd = EraseResident(basis=ErasureBasis.RETENTION, reason=str(deadline.payload["reason"]))
        await erase_resident(
            JoinedStore(session),
            resident_id,
            cmd,
            caller,
            keys=keys(),
            id_numbers=id_numbers,
            action=ERASE_BY_RETENTION,
        )
        log.info("retention_erased", resident_id=deadline.key, rule=deadline.payload["rule"])

    return handle
