"""A resident's consents in health (their attendance at activities linked to them): given and
withdrawn per purpose, one small aggregate each (``eventkit.consent``)."""

from __future__ import annotations

from uuid import UUID

from anju_contracts.health import HealthConsentGiven, HealthConsentPurpose, HealthConsentWithdrawn
from anju_health.application.aggregates import CONSENTS
from anju_health.application.commands import ConsentStep
from anju_health.application.records import HealthConfig, visible_resident
from eventkit import consent
from eventkit.commands import Accepted, Caller
from eventkit.store import Store, StoreSession


async def give(
    store: Store, resident_id: UUID, cmd: ConsentStep, caller: Caller, cfg: HealthConfig
) -> Accepted:
    entity = consent.consent_id(resident_id, cmd.purpose)
    async with CONSENTS.upsert(store, caller, "record_consent", entity) as w:
        person = await visible_resident(cfg.known, w.session, resident_id, caller)
        if consent.needs_giving(w.state):
            given = HealthConsentGiven(
                resident_id=resident_id,
                purpose=cmd.purpose,
                given_on=cfg.day_of(caller),
                path=person.path,
            )
            w.emit([given])
    return w.accepted


async def withdraw(
    store: Store, resident_id: UUID, cmd: ConsentStep, caller: Caller, cfg: HealthConfig
) -> Accepted:
    entity = consent.consent_id(resident_id, cmd.purpose)
    async with CONSENTS.upsert(store, caller, "record_consent", entity) as w:
        person = await visible_resident(cfg.known, w.session, resident_id, caller)
        consent.check_withdrawable(w.state, resident_id, cmd.purpose)
        withdrawn = HealthConsentWithdrawn(
            resident_id=resident_id,
            purpose=cmd.purpose,
            withdrawn_on=cfg.day_of(caller),
            path=person.path,
        )
        w.emit([withdrawn])
    return w.accepted


async def consented(
    session: StoreSession, resident_id: UUID, purpose: HealthConsentPurpose
) -> bool:
    """Whether the resident's consent to ``purpose`` stands (none is assumed)."""
    stream = await session.load(CONSENTS.stream(consent.consent_id(resident_id, purpose)))
    return consent.stands(consent.fold(stream.payloads, person="resident_id"))
