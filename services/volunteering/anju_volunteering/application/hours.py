"""Handlers for a volunteer's hours and certificates of service, and the public verification."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel

from anju_contracts import Event
from anju_contracts.volunteering import HoursRecorded, HoursSource
from anju_volunteering.application.aggregates import CERTIFICATES, VOLUNTEERS, ledger_stream
from anju_volunteering.application.commands import IssueCertificate, RejectHours
from anju_volunteering.application.people import VolunteeringConfig
from anju_volunteering.domain import ledger
from anju_volunteering.domain.errors import CertificateNotFound
from anju_volunteering.domain.ledger import EntryStatus
from eventkit.access import Guarded
from eventkit.aggregate import not_before
from eventkit.certificates import mask_name
from eventkit.commands import Accepted, Caller, area_of
from eventkit.store import Store


def _records(event: Event, entry_id: UUID) -> bool:
    return isinstance(event, HoursRecorded) and event.entry_id == entry_id


async def _on_ledger(
    store: Store,
    volunteer_id: UUID,
    entry_id: UUID,
    caller: Caller,
    cfg: VolunteeringConfig,
    *,
    reason: str | None,
) -> Accepted:
    """Approve (``reason`` None) or reject an entry; the answer names the ledger's stream."""
    async with VOLUNTEERS.update(store, volunteer_id, caller, "approve_hours") as w:
        stream = await w.session.load(ledger_stream(volunteer_id))
        # never dated before the hours it decides on were recorded
        not_before(next((r for r in stream.events if _records(r.event, entry_id)), None), caller)
        current = ledger.fold(volunteer_id, stream.payloads)
        by = caller.principal.sub
        if reason is None:
            today = caller.now(cfg.clock).date()
            events = ledger.approve(current, entry_id, by=by, today=today)
        else:
            events = ledger.reject(current, entry_id, by=by, reason=reason)
        result = await w.session.append(
            stream.id,
            stream.version,
            events,
            context=caller.context,
            area=area_of(w.state.path),
        )
        w.answer_with(result)
    return w.accepted


async def approve(
    store: Store, volunteer_id: UUID, entry_id: UUID, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    return await _on_ledger(store, volunteer_id, entry_id, caller, cfg, reason=None)


async def reject(
    store: Store,
    volunteer_id: UUID,
    entry_id: UUID,
    cmd: RejectHours,
    caller: Caller,
    cfg: VolunteeringConfig,
) -> Accepted:
    return await _on_ledger(store, volunteer_id, entry_id, caller, cfg, reason=cmd.reason)


class EntryView(BaseModel):
    entry_id: UUID
    source: HoursSource
    source_id: UUID
    hours: float
    served_on: date
    status: EntryStatus


class LedgerView(BaseModel):
    volunteer_id: UUID
    approved_hours: float
    pending_hours: float
    entries: list[EntryView]
    version: int


async def view_ledger(store: Store, volunteer_id: UUID, caller: Caller) -> LedgerView:
    await VOLUNTEERS.read(store, volunteer_id, caller, "read_hours")
    async with store.session() as session:
        stream = await session.load(ledger_stream(volunteer_id))
    book = ledger.fold(volunteer_id, stream.payloads)
    entries = sorted(book.entries.values(), key=lambda e: (e.served_on, str(e.id)))

    def total(status: EntryStatus) -> float:
        return round(sum(e.hours for e in entries if e.status == status), 2)

    return LedgerView(
        volunteer_id=volunteer_id,
        approved_hours=total(EntryStatus.APPROVED),
        pending_hours=total(EntryStatus.PENDING),
        entries=[
            EntryView(
                entry_id=e.id,
                source=e.source,
                source_id=e.source_id,
                hours=e.hours,
                served_on=e.served_on,
                status=e.status,
            )
            for e in entries
        ],
        version=stream.version,
    )


# -- certificates ---------------------------------------------------------------------------------


async def issue_certificate(
    store: Store,
    volunteer_id: UUID,
    cmd: IssueCertificate,
    caller: Caller,
    cfg: VolunteeringConfig,
) -> Accepted:
    """A certificate of the volunteer's approved hours in the period; the answer names it."""
    async with VOLUNTEERS.update(store, volunteer_id, caller, "issue_certificate") as w:
        stream = await w.session.load(ledger_stream(volunteer_id))
        certificate_id, events = ledger.certify(
            ledger.fold(volunteer_id, stream.payloads),
            path=w.state.path,
            period_from=cmd.period_from,
            period_to=cmd.period_to,
            content=cmd.content,
            issuer=cmd.issuer,
            today=caller.now(cfg.clock).date(),
        )
        result = await w.append_to(
            CERTIFICATES, certificate_id, 0, events, guard=Guarded.at(w.state.path)
        )
        w.answer_with(result, certificate_id)
    return w.accepted


class CertificateView(BaseModel):
    id: UUID
    number: str
    volunteer_id: UUID
    period_from: date
    period_to: date
    hours: float
    services: int
    content: str
    issuer: str
    issued_on: date


async def view_certificate(store: Store, certificate_id: UUID, caller: Caller) -> CertificateView:
    c, _ = await CERTIFICATES.read(store, certificate_id, caller, "read_certificate")
    return CertificateView(
        id=c.certificate_id,
        number=c.number,
        volunteer_id=c.volunteer_id,
        period_from=c.period_from,
        period_to=c.period_to,
        hours=c.hours,
        services=c.services,
        content=c.content,
        issuer=c.issuer,
        issued_on=c.issued_on,
    )


class Verification(BaseModel):
    """What anyone holding a certificate's number may check: that it was issued, and what it
    says. The volunteer's name is shown masked (王*英)."""

    number: str
    valid: bool
    volunteer: str
    period_from: date
    period_to: date
    hours: float
    services: int
    content: str
    issuer: str
    issued_on: date


async def verify(store: Store, number: str) -> Verification:
    async with store.session() as session:
        certificate, _ = await CERTIFICATES.load(session, ledger.NUMBERS.id_of(number))
        if certificate.number != number:
            raise CertificateNotFound("no such certificate", number=number)
        volunteer, _ = await VOLUNTEERS.load(session, certificate.volunteer_id)
    return Verification(
        number=certificate.number,
        valid=True,
        volunteer=mask_name(volunteer.name),
        period_from=certificate.period_from,
        period_to=certificate.period_to,
        hours=certificate.hours,
        services=certificate.services,
        content=certificate.content,
        issuer=certificate.issuer,
        issued_on=certificate.issued_on,
    )
