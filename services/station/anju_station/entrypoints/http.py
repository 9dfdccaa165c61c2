"""The station's HTTP routes: thin — parse, pick the caller's context, call a handler.

``public`` holds the one route served without a token: checking a residence certificate by its
number.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Response

from anju_station.application import certifying, desk, duty, gathering
from anju_station.application.certifying import (
    CertificateCheck,
    CertificateView,
    IssueCertificate,
    RevokeCertificate,
)
from anju_station.application.desk import (
    Callback,
    CheckDocuments,
    Complete,
    HandOff,
    LogReception,
    ReceiveService,
    ReceptionView,
    Refuse,
    ServiceType,
    ServiceView,
    StationConfig,
)
from anju_station.application.duty import RosterView, SetRoster
from anju_station.application.gathering import (
    AnswerOpinion,
    GatheringView,
    OpinionView,
    RaiseOpinion,
    RecordGathering,
    ReferOpinion,
)
from anju_station.application.printing import certificate_pdf
from anju_station.domain.certificates import NUMBERS
from eventkit.app import CONFIG, CallerDep, CommandRouter, StoreDep
from eventkit.commands import Accepted

ConfigDep = Annotated[StationConfig, CONFIG]
Number = Annotated[str, Path(pattern=NUMBERS.pattern)]

router = APIRouter()
"""The reads: a record as it stands in the station's own store."""

commands = CommandRouter()
"""The commands. They decide on what the station has learnt of the registry, so each may name
the registry's writes it follows by their consistency tokens (``eventkit.app.caught_up``)."""

public = APIRouter(prefix="/public")
"""Served without a token (the kernel's open paths under ``/public``)."""


@commands.post("/receptions", tags=["receptions"], status_code=201)
async def log_reception(
    cmd: LogReception, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Log a visit to the desk in one request: who (a resident, or nobody for an anonymous
    visitor), why, who sent them, what came of it."""
    return await desk.log_reception(store, cmd, caller, config)


@router.get("/receptions/{reception_id}", tags=["receptions"])
async def get_reception(reception_id: UUID, store: StoreDep, caller: CallerDep) -> ReceptionView:
    return await desk.view_reception(store, reception_id, caller)


@router.get("/catalogue", tags=["services"])
async def catalogue(caller: CallerDep, config: ConfigDep) -> dict[str, ServiceType]:
    """The convenience services this desk offers, by code."""
    return config.catalogue


@commands.post("/services", tags=["services"], status_code=201)
async def receive_service(
    cmd: ReceiveService, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """A convenience service of the catalogue begins at the desk."""
    return await desk.receive_service(store, cmd, caller, config)


@router.get("/services/{service_id}", tags=["services"])
async def get_service(service_id: UUID, store: StoreDep, caller: CallerDep) -> ServiceView:
    return await desk.view_service(store, service_id, caller)


@commands.post("/services/{service_id}/documents", tags=["services"], status_code=201)
async def check_documents(
    service_id: UUID, cmd: CheckDocuments, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Documents checked: what is missing goes on one notice (一次性告知), else accepted."""
    return await desk.check_documents(store, service_id, cmd, caller, config)


@commands.post("/services/{service_id}/hand-off", tags=["services"], status_code=201)
async def hand_off(
    service_id: UUID, cmd: HandOff, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Hand the service to the agency of record; it is overdue after the catalogue's days."""
    return await desk.hand_off(store, service_id, cmd, caller, config)


@commands.post("/services/{service_id}/completion", tags=["services"], status_code=201)
async def complete(
    service_id: UUID, cmd: Complete, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await desk.complete(store, service_id, cmd, caller, config)


@commands.post("/services/{service_id}/refusal", tags=["services"], status_code=201)
async def refuse(
    service_id: UUID, cmd: Refuse, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await desk.refuse(store, service_id, cmd, caller, config)


@commands.post("/services/{service_id}/callback", tags=["services"], status_code=201)
async def call_back(
    service_id: UUID, cmd: Callback, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """The resident's satisfaction (1–5) when the desk calls back."""
    return await desk.call_back(store, service_id, cmd, caller, config)


# -- residence certificates ------------------------------------------------------------------


@commands.post("/certificates", tags=["certificates"], status_code=201)
async def issue_certificate(
    cmd: IssueCertificate, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """A residence certificate (居住证明) from what the registry says: the resident lives at
    their unit since a date. Refused (409 ``resident_not_living_here``) once they moved out."""
    return await certifying.issue_certificate(store, cmd, caller, config)


@router.get("/certificates/{certificate_id}", tags=["certificates"])
async def get_certificate(
    certificate_id: UUID, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> CertificateView:
    c, version = await certifying.certificate(store, certificate_id, caller)
    return certifying.view(c, version, config)


@router.get(
    "/certificates/{certificate_id}/pdf",
    tags=["certificates"],
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The printable PDF"}},
)
async def print_certificate(
    certificate_id: UUID, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Response:
    """The certificate as a printable A4 PDF, with its number and where to check it."""
    c, _ = await certifying.certificate(store, certificate_id, caller)
    return Response(
        certificate_pdf(c, certifying.verify_url(config, c.number)),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{c.number}.pdf"'},
    )


@commands.post("/certificates/{certificate_id}/revocation", tags=["certificates"], status_code=201)
async def revoke_certificate(
    certificate_id: UUID,
    cmd: RevokeCertificate,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    """The certificate no longer holds; checking its number says it was revoked."""
    return await certifying.revoke_certificate(store, certificate_id, cmd, caller, config)


@public.get("/certificates/{number}", tags=["certificates"])
async def check_certificate(number: Number, store: StoreDep) -> CertificateCheck:
    """Check a residence certificate by its number — no token needed."""
    return await certifying.check(store, number)


# -- lectures, activities and opinions ---------------------------------------------------------


@commands.post("/gatherings", tags=["gatherings"], status_code=201)
async def record_gathering(
    cmd: RecordGathering, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """A theory lecture, policy explanation, civilisation-practice activity or opinion-gathering
    session that was held: topic, speaker, day, attendance."""
    return await gathering.record_gathering(store, cmd, caller, config)


@router.get("/gatherings/{gathering_id}", tags=["gatherings"])
async def get_gathering(gathering_id: UUID, store: StoreDep, caller: CallerDep) -> GatheringView:
    return await gathering.view_gathering(store, gathering_id, caller)


@commands.post("/gatherings/{gathering_id}/opinions", tags=["gatherings"], status_code=201)
async def raise_opinion(
    gathering_id: UUID, cmd: RaiseOpinion, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """An opinion raised at an opinion-gathering session; ``id`` names the opinion."""
    return await gathering.raise_opinion(store, gathering_id, cmd, caller, config)


@router.get("/opinions/{opinion_id}", tags=["gatherings"])
async def get_opinion(opinion_id: UUID, store: StoreDep, caller: CallerDep) -> OpinionView:
    return await gathering.view_opinion(store, opinion_id, caller)


@commands.post("/opinions/{opinion_id}/answer", tags=["gatherings"], status_code=201)
async def answer_opinion(
    opinion_id: UUID, cmd: AnswerOpinion, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await gathering.answer_opinion(store, opinion_id, cmd, caller, config)


@commands.post("/opinions/{opinion_id}/referral", tags=["gatherings"], status_code=201)
async def refer_opinion(
    opinion_id: UUID, cmd: ReferOpinion, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """To mediation (it reports a conflict signal linked to the opinion) or to governance (a
    work item)."""
    return await gathering.refer_opinion(store, opinion_id, cmd, caller, config)


# -- duty roster ---------------------------------------------------------------------------------


@commands.put("/rosters/{community_id}/{day}", tags=["roster"], status_code=201)
async def set_roster(
    community_id: UUID,
    day: date,
    cmd: SetRoster,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    """Who is on duty at the desk and the pioneer post (党员先锋岗) that day."""
    return await duty.set_roster(store, community_id, day, cmd, caller, config)


@router.get("/rosters/{community_id}/{day}", tags=["roster"])
async def get_roster(
    community_id: UUID, day: date, store: StoreDep, caller: CallerDep
) -> RosterView:
    return await duty.view_roster(store, community_id, day, caller)
