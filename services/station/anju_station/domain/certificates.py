"""Residence certificates (居住证明): the desk certifies what the registry says — the holder lives
at this unit since a date — under a number anyone can check.

A certificate is refused for a resident who no longer lives on the estate (moved out or died);
once issued it stays valid until the desk revokes it, with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID

from anju_contracts import Event
from anju_contracts.registry import AreaPath
from anju_contracts.station import ResidenceCertificateIssued, ResidenceCertificateRevoked
from anju_station.domain.errors import CertificateRevoked, NotLivingHere
from eventkit.certificates import CertificateNumbers

NUMBERS = CertificateNumbers("R", UUID("3c1f7e0a-5d42-4b8e-a6f9-2e71c0d4b853"))
"""Residence certificates: ``ANJU-R-2026-0A1B2C3D``."""


@dataclass(frozen=True)
class Residence:
    """What the station knows of where a resident lives, from the registry."""

    resident_id: UUID
    name: str
    path: AreaPath
    living_since: date
    living_here: bool
    """False once the registry says the resident moved out or died."""


@dataclass(frozen=True)
class Certificate:
    id: UUID
    number: str
    resident_id: UUID
    holder_name: str
    address: str
    community_name: str
    living_since: date
    purpose: str | None
    path: AreaPath
    issued_on: date
    revoked_reason: str | None = None
    revoked_at: datetime | None = None

    @property
    def valid(self) -> bool:
        return self.revoked_at is None


def fold(events: Iterable[Event]) -> Certificate | None:
    state: Certificate | None = None
    for e in events:
        if isinstance(e, ResidenceCertificateIssued):
            state = Certificate(
                e.certificate_id,
                e.number,
                e.resident_id,
                e.holder_name,
                e.address,
                e.community_name,
                e.living_since,
                e.purpose,
                e.path,
                e.issued_on,
            )
        elif isinstance(e, ResidenceCertificateRevoked) and state is not None:
            state = replace(state, revoked_reason=e.reason, revoked_at=e.revoked_at)
    return state


def issue(
    certificate_id: UUID,
    *,
    number: str,
    residence: Residence,
    address: str,
    community_name: str,
    purpose: str | None,
    staff_id: str,
    today: date,
) -> list[Event]:
    if not residence.living_here:
        raise NotLivingHere(
            "the registry says this resident no longer lives on the estate",
            resident_id=str(residence.resident_id),
        )
    return [
        ResidenceCertificateIssued(
            certificate_id=certificate_id,
            number=number,
            resident_id=residence.resident_id,
            holder_name=residence.name,
            address=address,
            community_name=community_name,
            living_since=residence.living_since,
            purpose=purpose,
            path=residence.path,
            issued_by=staff_id,
            issued_on=today,
        )
    ]


def revoke(state: Certificate, *, reason: str, staff_id: str, now: datetime) -> list[Event]:
    if not state.valid:
        raise CertificateRevoked("the certificate is already revoked", number=state.number)
    return [
        ResidenceCertificateRevoked(
            certificate_id=state.id,
            number=state.number,
            reason=reason,
            revoked_by=staff_id,
            revoked_at=now,
        )
    ]
