"""A volunteer's consents (their profile shown to others, photos kept): given and withdrawn per
purpose, one small aggregate each (``eventkit.consent``), and what a withdrawal stops."""

from __future__ import annotations

from uuid import UUID

from anju_contracts.volunteering import (
    VolunteerConsentGiven,
    VolunteerConsentPurpose,
    VolunteerConsentWithdrawn,
)
from anju_volunteering.application.aggregates import CONSENTS, VOLUNTEERS
from anju_volunteering.application.commands import ConsentStep
from anju_volunteering.application.people import VolunteeringConfig
from eventkit import consent
from eventkit.commands import Accepted, Caller
from eventkit.store import Store


async def give(
    store: Store, volunteer_id: UUID, cmd: ConsentStep, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    entity = consent.consent_id(volunteer_id, cmd.purpose)
    async with CONSENTS.upsert(store, caller, "record_consent", entity) as w:
        volunteer, _ = await VOLUNTEERS.load(w.session, volunteer_id, caller)
        if consent.needs_giving(w.state):
            today = caller.now(cfg.clock).date()
            w.emit(
                [
                    VolunteerConsentGiven(
                        volunteer_id=volunteer_id,
                        purpose=cmd.purpose,
                        given_on=today,
                        path=volunteer.path,
                    )
                ]
            )
    return w.accepted


async def withdraw(
    store: Store, volunteer_id: UUID, cmd: ConsentStep, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    entity = consent.consent_id(volunteer_id, cmd.purpose)
    async with CONSENTS.upsert(store, caller, "record_consent", entity) as w:
        volunteer, _ = await VOLUNTEERS.load(w.session, volunteer_id, caller)
        if not (w.state is None and cmd.purpose is VolunteerConsentPurpose.PROFILE):
            # joining counted as consent to the profile: that one can be withdrawn at once
            consent.check_withdrawable(w.state, volunteer_id, cmd.purpose)
        w.emit(
            [
                VolunteerConsentWithdrawn(
                    volunteer_id=volunteer_id,
                    purpose=cmd.purpose,
                    withdrawn_on=caller.now(cfg.clock).date(),
                    path=volunteer.path,
                )
            ]
        )
    return w.accepted
