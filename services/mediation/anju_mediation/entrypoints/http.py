"""Mediation's HTTP routes: thin — parse, pick the caller's context, call a handler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Body, Request

from anju_contracts.mediation import Sensitivity
from anju_mediation.application import disputes, petitions, signals
from anju_mediation.application.aggregates import DISPUTES, PETITIONS
from anju_mediation.application.commands import (
    AnswerPetition,
    AnswerReferral,
    AssignMediator,
    Close,
    ClosePetition,
    ConvertSignal,
    DismissSignal,
    Escalate,
    FailMediation,
    FollowUpAgreement,
    HoldSession,
    PetitionStep,
    ProxyPetition,
    ReachAgreement,
    ReassignMediator,
    RecordReturnVisit,
    Refer,
    RegisterDispute,
    Reopen,
    ReportSignal,
    Resolve,
    ScheduleSession,
    UnassignMediator,
)
from anju_mediation.application.disputes import DisputeView
from anju_mediation.application.petitions import PetitionView
from anju_mediation.application.signals import SignalView
from anju_mediation.domain.disputes import Slas
from anju_mediation.domain.petitions import Deadlines
from anju_mediation.domain.retention import Retention
from eventkit import audit
from eventkit.app import CONFIG, CallerDep, CommandRouter, StoreDep
from eventkit.commands import Accepted, Clock
from eventkit.known import Known


@dataclass(frozen=True)
class MediationConfig:
    """What the handlers need besides the store: the time, the SLAs, the petition deadlines,
    what mediation has learnt of the registry, and how long closed disputes are kept."""

    clock: Clock
    slas: Slas
    petition_deadlines: Deadlines
    known: Known
    retention: Retention


ConfigDep = Annotated[MediationConfig, CONFIG]

router = APIRouter()
"""The reads: a record as it stands in mediation's own store."""

commands = CommandRouter()
"""The commands. They decide on what mediation has learnt of the registry, so each may name the
registry's writes it follows by their consistency tokens (``eventkit.app.caught_up``)."""


# -- conflict signals ------------------------------------------------------------------------------


@commands.post("/signals", tags=["signals"], status_code=201)
async def report_signal(
    cmd: ReportSignal, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Report a tension spotted on patrol (未诉先办); the reporter is the caller."""
    return await signals.report_signal(
        store, cmd, caller, known=config.known, now=caller.now(config.clock)
    )


@router.get("/signals/{signal_id}", tags=["signals"])
async def get_signal(signal_id: UUID, store: StoreDep, caller: CallerDep) -> SignalView:
    """The signal now (within the caller's areas)."""
    return await signals.view_signal(store, signal_id, caller)


@commands.post("/signals/{signal_id}/dismissal", tags=["signals"], status_code=201)
async def dismiss_signal(
    signal_id: UUID, cmd: DismissSignal, store: StoreDep, caller: CallerDep
) -> Accepted:
    return await signals.dismiss_signal(store, signal_id, cmd, caller)


@commands.post("/signals/{signal_id}/dispute", tags=["signals"], status_code=201)
async def convert_signal(
    signal_id: UUID, cmd: ConvertSignal, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Turn the signal into a dispute (the answer names the dispute)."""
    return await signals.convert_signal(
        store,
        signal_id,
        cmd,
        caller,
        known=config.known,
        now=caller.now(config.clock),
        slas=config.slas,
    )


# -- disputes ----------------------------------------------------------------------------------------


@commands.post("/disputes", tags=["disputes"], status_code=201)
async def register_dispute(
    cmd: RegisterDispute, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Register a dispute at the tier that fits its location (or the one named)."""
    return await disputes.register_dispute(
        store, cmd, caller, known=config.known, now=caller.now(config.clock), slas=config.slas
    )


@router.get("/disputes/{dispute_id}", tags=["disputes"])
async def get_dispute(
    request: Request, dispute_id: UUID, store: StoreDep, caller: CallerDep
) -> DisputeView:
    """The dispute now; a sensitive one only for its mediators and the director (audited)."""
    view = await disputes.view_dispute(store, dispute_id, caller)
    if view.sensitivity == Sensitivity.SENSITIVE:
        await audit.record_read(
            store.pool,
            caller.principal,
            "dispute",
            view.id,
            audit.route_of(request),
            correlation_id=audit.correlation_of(request),
        )
    return view


@commands.post("/disputes/{dispute_id}/escalations", tags=["disputes"], status_code=201)
async def escalate(
    dispute_id: UUID, cmd: Escalate, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Move the dispute up a tier (the next one unless named), with a reason."""
    decide = disputes.escalate(cmd, now=caller.now(config.clock), slas=config.slas)
    return await DISPUTES.act(
        store, dispute_id, caller, "escalate_dispute", cmd.expected_version, decide
    )


@commands.post("/disputes/{dispute_id}/mediators", tags=["disputes"], status_code=201)
async def assign_mediator(
    dispute_id: UUID, cmd: AssignMediator, store: StoreDep, caller: CallerDep
) -> Accepted:
    return await DISPUTES.act(
        store, dispute_id, caller, "assign_mediator", cmd.expected_version, disputes.assign(cmd)
    )


@commands.post("/disputes/{dispute_id}/mediators/reassignment", tags=["disputes"], status_code=201)
async def reassign_mediator(
    dispute_id: UUID, cmd: ReassignMediator, store: StoreDep, caller: CallerDep
) -> Accepted:
    return await DISPUTES.act(
        store, dispute_id, caller, "reassign_mediator", cmd.expected_version, disputes.reassign(cmd)
    )


@commands.delete("/disputes/{dispute_id}/mediators/{mediator_id}", tags=["disputes"])
async def unassign_mediator(
    dispute_id: UUID,
    mediator_id: str,
    store: StoreDep,
    caller: CallerDep,
    cmd: Annotated[UnassignMediator | None, Body()] = None,
) -> Accepted:
    cmd = cmd or UnassignMediator()
    decide = disputes.unassign(mediator_id, cmd)
    return await DISPUTES.act(
        store, dispute_id, caller, "unassign_mediator", cmd.expected_version, decide
    )


@commands.post("/disputes/{dispute_id}/sessions", tags=["disputes"], status_code=201)
async def schedule_session(
    dispute_id: UUID, cmd: ScheduleSession, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Plan a mediation session (枫桥小屋, police point, station, on site); ``sub_id`` names it."""
    session_id = uuid4()
    decide = disputes.schedule_session(session_id, cmd, now=caller.now(config.clock))
    answer = await DISPUTES.act(
        store, dispute_id, caller, "schedule_session", cmd.expected_version, decide
    )
    return answer.with_sub_id(session_id)


@commands.post("/disputes/{dispute_id}/sessions/held", tags=["disputes"], status_code=201)
async def hold_unplanned_session(
    dispute_id: UUID, cmd: HoldSession, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Record a session that was held without being planned (``place`` is required).

    ``sub_id`` names the new session."""
    session_id = uuid4()
    decide = disputes.hold_session(session_id, cmd, planned=False, now=caller.now(config.clock))
    answer = await DISPUTES.act(
        store, dispute_id, caller, "hold_session", cmd.expected_version, decide
    )
    return answer.with_sub_id(session_id)


@commands.post(
    "/disputes/{dispute_id}/sessions/{session_id}/held", tags=["disputes"], status_code=201
)
async def hold_session(
    dispute_id: UUID,
    session_id: UUID,
    cmd: HoldSession,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    """Record that a planned session took place: attendees and minutes."""
    decide = disputes.hold_session(session_id, cmd, planned=True, now=caller.now(config.clock))
    answer = await DISPUTES.act(
        store, dispute_id, caller, "hold_session", cmd.expected_version, decide
    )
    return answer.with_sub_id(session_id)


@commands.post("/disputes/{dispute_id}/agreement", tags=["disputes"], status_code=201)
async def reach_agreement(
    dispute_id: UUID, cmd: ReachAgreement, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Record the agreement: terms, and at least two parties who confirmed it; ``sub_id`` names it."""
    agreement_id = uuid4()
    decide = disputes.reach_agreement(agreement_id, cmd, now=caller.now(config.clock))
    answer = await DISPUTES.act(
        store, dispute_id, caller, "reach_agreement", cmd.expected_version, decide
    )
    return answer.with_sub_id(agreement_id)


@commands.post("/disputes/{dispute_id}/failure", tags=["disputes"], status_code=201)
async def fail_mediation(
    dispute_id: UUID, cmd: FailMediation, store: StoreDep, caller: CallerDep
) -> Accepted:
    return await DISPUTES.act(
        store, dispute_id, caller, "fail_mediation", cmd.expected_version, disputes.fail(cmd)
    )


@commands.post("/disputes/{dispute_id}/referrals", tags=["disputes"], status_code=201)
async def refer(
    dispute_id: UUID, cmd: Refer, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Refer a dispute whose mediation failed (police, court, housing centre, property company).

    ``sub_id`` names the referral, for its answer."""
    referral_id = uuid4()
    decide = disputes.refer(referral_id, cmd, now=caller.now(config.clock))
    answer = await DISPUTES.act(
        store, dispute_id, caller, "refer_dispute", cmd.expected_version, decide
    )
    return answer.with_sub_id(referral_id)


@commands.post(
    "/disputes/{dispute_id}/referrals/{referral_id}/answer", tags=["disputes"], status_code=201
)
async def answer_referral(
    dispute_id: UUID,
    referral_id: UUID,
    cmd: AnswerReferral,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    decide = disputes.answer_referral(referral_id, cmd, now=caller.now(config.clock))
    answer = await DISPUTES.act(
        store, dispute_id, caller, "answer_referral", cmd.expected_version, decide
    )
    return answer.with_sub_id(referral_id)


@commands.post("/disputes/{dispute_id}/agreement/follow-ups", tags=["disputes"], status_code=201)
async def follow_up_agreement(
    dispute_id: UUID, cmd: FollowUpAgreement, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Record whether the agreement was carried out."""
    decide = disputes.follow_up(cmd, now=caller.now(config.clock))
    return await DISPUTES.act(
        store, dispute_id, caller, "follow_up_agreement", cmd.expected_version, decide
    )


@commands.post("/disputes/{dispute_id}/return-visits", tags=["disputes"], status_code=201)
async def record_return_visit(
    dispute_id: UUID, cmd: RecordReturnVisit, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """A return visit (回访) with the parties' satisfaction, 1 to 5."""
    decide = disputes.return_visit(cmd, now=caller.now(config.clock))
    return await DISPUTES.act(
        store, dispute_id, caller, "record_return_visit", cmd.expected_version, decide
    )


@commands.post("/disputes/{dispute_id}/resolution", tags=["disputes"], status_code=201)
async def resolve(
    dispute_id: UUID, cmd: Resolve, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    decide = disputes.resolve(cmd, now=caller.now(config.clock), slas=config.slas)
    return await DISPUTES.act(
        store, dispute_id, caller, "resolve_dispute", cmd.expected_version, decide
    )


@commands.post("/disputes/{dispute_id}/closing", tags=["disputes"], status_code=201)
async def close(
    dispute_id: UUID,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
    cmd: Annotated[Close | None, Body()] = None,
) -> Accepted:
    cmd = cmd or Close()
    return await disputes.close_dispute(
        store,
        dispute_id,
        cmd,
        caller,
        now=caller.now(config.clock),
        retention=config.retention,
    )


@commands.post("/disputes/{dispute_id}/reopening", tags=["disputes"], status_code=201)
async def reopen(
    dispute_id: UUID, cmd: Reopen, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Reopen a resolved (or closed) dispute within its window; its SLA starts again."""
    decide = disputes.reopen(cmd, now=caller.now(config.clock), slas=config.slas)
    return await DISPUTES.act(
        store, dispute_id, caller, "reopen_dispute", cmd.expected_version, decide
    )


# -- petitions by proxy ------------------------------------------------------------------------------


@commands.post("/petitions", tags=["petitions"], status_code=201)
async def proxy_petition(
    cmd: ProxyPetition, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Register a petition on a resident's behalf; the petition agent is the caller."""
    return await petitions.proxy_petition(
        store, cmd, caller, known=config.known, now=caller.now(config.clock)
    )


@router.get("/petitions/{petition_id}", tags=["petitions"])
async def get_petition(petition_id: UUID, store: StoreDep, caller: CallerDep) -> PetitionView:
    """The petition now (within the caller's areas)."""
    return await petitions.view_petition(store, petition_id, caller)


@commands.post("/petitions/{petition_id}/forwarding", tags=["petitions"], status_code=201)
async def forward_petition(
    petition_id: UUID, cmd: PetitionStep, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    decide = petitions.forward(
        cmd, now=caller.now(config.clock), deadlines=config.petition_deadlines
    )
    return await PETITIONS.act(
        store, petition_id, caller, "forward_petition", cmd.expected_version, decide
    )


@commands.post("/petitions/{petition_id}/acceptance", tags=["petitions"], status_code=201)
async def accept_petition(
    petition_id: UUID, cmd: PetitionStep, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    decide = petitions.accept(
        cmd, now=caller.now(config.clock), deadlines=config.petition_deadlines
    )
    return await PETITIONS.act(
        store, petition_id, caller, "accept_petition", cmd.expected_version, decide
    )


@commands.post("/petitions/{petition_id}/answer", tags=["petitions"], status_code=201)
async def answer_petition(
    petition_id: UUID, cmd: AnswerPetition, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    decide = petitions.answer(cmd, now=caller.now(config.clock))
    return await PETITIONS.act(
        store, petition_id, caller, "answer_petition", cmd.expected_version, decide
    )


@commands.post("/petitions/{petition_id}/closing", tags=["petitions"], status_code=201)
async def close_petition(
    petition_id: UUID, cmd: ClosePetition, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    decide = petitions.close(cmd, now=caller.now(config.clock))
    return await PETITIONS.act(
        store, petition_id, caller, "close_petition", cmd.expected_version, decide
    )
