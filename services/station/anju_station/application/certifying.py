"""Handlers for residence certificates: issue from the registry's facts, read, print, revoke,
and the public check of a number."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from anju_station.application.aggregates import CERTIFICATES
from anju_station.application.desk import StationConfig
from anju_station.domain import certificates
from anju_station.domain.certificates import NUMBERS, Residence
from anju_station.domain.errors import CertificateNotFound, ResidenceUnknown
from eventkit.certificates import mask_name
from eventkit.commands import Accepted, Caller, Command, StreamCommand
from eventkit.errors import UnknownResident
from eventkit.store import Store


class IssueCertificate(Command):
    resident_id: UUID
    purpose: str | None = Field(
        default=None, max_length=200, description="What the certificate is for, as it will say"
    )


class RevokeCertificate(StreamCommand):
    reason: str = Field(min_length=1, max_length=500)


async def issue_certificate(
    store: Store, cmd: IssueCertificate, caller: Caller, cfg: StationConfig
) -> Accepted:
    """The registry's facts as the station learnt them: the resident's name, the unit they
    live at and since when; refused once they moved out or died."""
    today = cfg.clock().astimezone(UTC).date()
    number = NUMBERS.new(today)
    async with CERTIFICATES.create(store, caller, "issue_certificate", NUMBERS.id_of(number)) as w:
        known = await cfg.known.resident(w.session, cmd.resident_id)
        if known is None or not caller.covers(known.path):
            raise UnknownResident("no such resident", resident_id=str(cmd.resident_id))
        learnt = await cfg.residences.get(w.session, cmd.resident_id)
        path = known.path
        places = [i for i in (path.community_id, path.building_id, path.unit_id) if i]
        names = await cfg.known.area_names(w.session, places)
        if learnt is None or learnt.name is None or path.community_id not in names:
            raise ResidenceUnknown(
                "the station has not learnt this resident's name and address from the registry",
                resident_id=str(cmd.resident_id),
            )
        w.emit(
            certificates.issue(
                w.id,
                number=number,
                residence=Residence(
                    cmd.resident_id, learnt.name, path, learnt.living_since, known.active
                ),
                address=" ".join(names[i] for i in places if i in names),
                community_name=names[path.community_id],
                purpose=cmd.purpose,
                staff_id=caller.principal.sub,
                today=today,
            )
        )
    return w.accepted


async def revoke_certificate(
    store: Store, certificate_id: UUID, cmd: RevokeCertificate, caller: Caller, cfg: StationConfig
) -> Accepted:
    return await CERTIFICATES.act(
        store,
        certificate_id,
        caller,
        "revoke_certificate",
        cmd.expected_version,
        lambda c: certificates.revoke(
            c, reason=cmd.reason, staff_id=caller.principal.sub, now=cfg.clock()
        ),
    )


class CertificateView(BaseModel):
    id: UUID
    number: str
    resident_id: UUID
    holder_name: str
    address: str
    community_name: str
    living_since: date
    purpose: str | None
    issued_on: date
    valid: bool
    revoked_reason: str | None
    revoked_at: datetime | None
    verify_url: str
    version: int


def verify_url(cfg: StationConfig, number: str) -> str:
    return f"{cfg.public_url.rstrip('/')}/public/certificates/{number}"


async def certificate(
    store: Store, certificate_id: UUID, caller: Caller
) -> tuple[certificates.Certificate, int]:
    c, stream = await CERTIFICATES.read(store, certificate_id, caller, "read_certificate")
    return c, stream.version


def view(c: certificates.Certificate, version: int, cfg: StationConfig) -> CertificateView:
    return CertificateView(
        id=c.id,
        number=c.number,
        resident_id=c.resident_id,
        holder_name=c.holder_name,
        address=c.address,
        community_name=c.community_name,
        living_since=c.living_since,
        purpose=c.purpose,
        issued_on=c.issued_on,
        valid=c.valid,
        revoked_reason=c.revoked_reason,
        revoked_at=c.revoked_at,
        verify_url=verify_url(cfg, c.number),
        version=version,
    )


class CertificateCheck(BaseModel):
    """What anyone holding a residence certificate's number may check: whether it is valid,
    and what it says — the holder's name masked (王*英), nothing the certificate does not show."""

    number: str
    status: Literal["valid", "revoked"]
    holder: str
    address: str
    community_name: str
    living_since: date
    issued_on: date
    revoked_on: date | None


async def check(store: Store, number: str) -> CertificateCheck:
    async with store.session() as session:
        try:
            c, _ = await CERTIFICATES.load(session, NUMBERS.id_of(number))
        except CertificateNotFound:
            raise CertificateNotFound("no such certificate", number=number) from None
    if c.number != number:
        raise CertificateNotFound("no such certificate", number=number)
    return CertificateCheck(
        number=c.number,
        status="valid" if c.valid else "revoked",
        holder=mask_name(c.holder_name),
        address=c.address,
        community_name=c.community_name,
        living_since=c.living_since,
        issued_on=c.issued_on,
        revoked_on=None if c.revoked_at is None else c.revoked_at.astimezone(UTC).date(),
    )
