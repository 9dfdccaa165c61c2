"""The health service's HTTP routes: thin — parse, pick the caller's context, call a handler.

Every read of a health record, and of protected care, is audited before the answer leaves.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request

from anju_contracts.health import ICD10, Programme
from anju_health.application import activities, consents, protected, read_audit, records
from anju_health.application.activities import ActivityView
from anju_health.application.commands import (
    AssignDoctor,
    BreakGlass,
    ConsentStep,
    Diagnose,
    Enrol,
    EnrolProtected,
    Leave,
    OpenRecord,
    RecordActivity,
    RecordAllergy,
    RecordAttendance,
    RecordEncounter,
    RecordProtectedVisit,
    RescheduleProtectedVisit,
    RescheduleVisit,
    SkipVisit,
)
from anju_health.application.protected import GlassBreakView, GlassOpened, ProtectedView
from anju_health.application.read_audit import AuditedKind
from anju_health.application.records import HealthConfig, RecordView
from eventkit import audit
from eventkit.app import CONFIG, CallerDep, CommandRouter, StoreDep
from eventkit.audit import AuditedReads, ReadFilter, read_filter
from eventkit.commands import Accepted, Caller

ConfigDep = Annotated[HealthConfig, CONFIG]
Filters = Annotated[ReadFilter, Depends(read_filter(AuditedKind, record="a resident's id"))]

router = APIRouter()
"""The reads: a record as it stands in health's own store."""

commands = CommandRouter()
"""The commands. They decide on what health has learnt of the registry, so each may name the
registry's writes it follows by their consistency tokens (``eventkit.app.caught_up``)."""


async def _audit(
    request: Request,
    store: StoreDep,
    caller: Caller,
    kind: str,
    id: UUID,
    *,
    reason: str | None = None,
) -> None:
    await audit.record_read(
        store.pool,
        caller.principal,
        kind,
        id,
        audit.route_of(request),
        correlation_id=audit.correlation_of(request),
        reason=reason,
    )


# -- records -----------------------------------------------------------------------------------


@commands.post("/records/{resident_id}", tags=["records"], status_code=201)
async def open_record(
    resident_id: UUID, cmd: OpenRecord, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Open the resident's health record (reopen a closed one); a resident aged 65 or over
    is enrolled in the elderly programme."""
    return await records.open_record(store, resident_id, cmd, caller, config)


@router.get("/records/{resident_id}", tags=["records"])
async def get_record(
    request: Request, resident_id: UUID, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> RecordView:
    """The record with its clinical chart, for a doctor of the resident's area (audited)."""
    view = await records.view_record(store, resident_id, caller, config)
    await _audit(request, store, caller, "health_record", resident_id)
    return view


@commands.put("/records/{resident_id}/family-doctor", tags=["records"])
async def assign_doctor(
    resident_id: UUID, cmd: AssignDoctor, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await records.assign_doctor(store, resident_id, cmd, caller, config)


@commands.post("/records/{resident_id}/allergies", tags=["chart"], status_code=201)
async def record_allergy(
    resident_id: UUID, cmd: RecordAllergy, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await records.record_allergy(store, resident_id, cmd, caller, config)


@commands.post("/records/{resident_id}/conditions", tags=["chart"], status_code=201)
async def diagnose(
    resident_id: UUID, cmd: Diagnose, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Put a coded diagnosis (ICD-10, e.g. I10, E11) on the chart."""
    return await records.diagnose(store, resident_id, cmd, caller, config)


@commands.post(
    "/records/{resident_id}/conditions/{icd10}/resolution", tags=["chart"], status_code=201
)
async def resolve_condition(
    resident_id: UUID,
    icd10: Annotated[str, Path(pattern=ICD10, description="The ICD-10 code on the chart")],
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    return await records.resolve_condition(store, resident_id, icd10, caller, config)


@commands.post("/records/{resident_id}/programmes", tags=["programmes"], status_code=201)
async def enrol(
    resident_id: UUID, cmd: Enrol, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Enrol in a programme and book its first visit (a chronic-disease programme needs its
    diagnosis on the chart)."""
    return await records.enrol(store, resident_id, cmd, caller, config)


@commands.post(
    "/records/{resident_id}/programmes/{programme}/leave", tags=["programmes"], status_code=201
)
async def leave(
    resident_id: UUID,
    programme: Programme,
    cmd: Leave,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    return await records.leave(store, resident_id, programme, cmd, caller, config)


@commands.post("/records/{resident_id}/encounters", tags=["visits"], status_code=201)
async def record_encounter(
    resident_id: UUID, cmd: RecordEncounter, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Record a check-up or visit: readings with units, findings, guidance. With a
    programme, it completes that programme's visit and books the next. ``sub_id`` names the
    encounter. Impossible readings are refused (422 ``implausible_reading``); alarming ones
    are kept and marked for review."""
    return await records.record_encounter(store, resident_id, cmd, caller, config)


@commands.post("/records/{resident_id}/visits/{visit_id}/skip", tags=["visits"], status_code=201)
async def skip_visit(
    resident_id: UUID,
    visit_id: UUID,
    cmd: SkipVisit,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    """The visit will not happen (a reason code); the programme's next one is booked."""
    return await records.skip_visit(store, resident_id, visit_id, cmd, caller, config)


@commands.post(
    "/records/{resident_id}/visits/{visit_id}/reschedule", tags=["visits"], status_code=201
)
async def reschedule_visit(
    resident_id: UUID,
    visit_id: UUID,
    cmd: RescheduleVisit,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    return await records.reschedule_visit(store, resident_id, visit_id, cmd, caller, config)


# -- protected care ------------------------------------------------------------------------------


@commands.post("/protected/{resident_id}", tags=["protected care"], status_code=201)
async def enrol_protected(
    resident_id: UUID, cmd: EnrolProtected, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Enrol a patient in severe-mental-disorder care; the enrolling doctor manages it."""
    return await protected.enrol(store, resident_id, cmd, caller, config)


@router.get("/protected/{resident_id}", tags=["protected care"])
async def get_protected(
    request: Request, resident_id: UUID, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> ProtectedView:
    """Protected care, for its managing doctors or after breaking the glass (audited)."""
    view = await protected.view(store, resident_id, caller, config)
    reason = await protected.glass_reason(store, resident_id, caller, config)
    await _audit(request, store, caller, "protected_care", resident_id, reason=reason)
    return view


@commands.post("/protected/{resident_id}/visits", tags=["protected care"], status_code=201)
async def record_protected_visit(
    resident_id: UUID,
    cmd: RecordProtectedVisit,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    return await protected.record_visit(store, resident_id, cmd, caller, config)


@commands.post(
    "/protected/{resident_id}/visits/reschedule", tags=["protected care"], status_code=201
)
async def reschedule_protected_visit(
    resident_id: UUID,
    cmd: RescheduleProtectedVisit,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    return await protected.reschedule(store, resident_id, cmd, caller, config)


@commands.post("/protected/{resident_id}/glass", tags=["protected care"], status_code=201)
async def break_glass(
    resident_id: UUID, cmd: BreakGlass, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> GlassOpened:
    """Open protected care one does not manage, for ``minutes``, with a reason. Recorded and
    shown to the directors of the area."""
    return await protected.break_glass(store, resident_id, cmd, caller, config)


@router.get("/glass-breaks", tags=["protected care"])
async def list_glass_breaks(
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
    since: datetime | None = None,
) -> list[GlassBreakView]:
    """Break-the-glass openings in the director's areas (default: the last 30 days)."""
    start = since or config.now() - timedelta(days=30)
    return await protected.glass_breaks(store, start, caller, config)


# -- the audit of reads --------------------------------------------------------------------------


@router.get("/audit/reads", tags=["audit"])
async def list_audited_reads(
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
    search: Filters,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> AuditedReads:
    """Who read which health record or protected care, by which route and when, with the
    reason given when the glass was broken to read it; the newest first, the reads of residents
    in the director's areas (admins: all). The same filters and shape as the query service's
    ``GET /audit/reads``."""
    async with store.pool.acquire() as conn:
        return await read_audit.audited_reads(
            conn, search, caller, config, limit=limit, offset=offset
        )


# -- activities ----------------------------------------------------------------------------------


@commands.post("/activities", tags=["activities"], status_code=201)
async def record_activity(
    cmd: RecordActivity, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """A clinic day or health activity held in a community or grid, with the number served."""
    return await activities.record_activity(store, cmd, caller, config)


@commands.post("/activities/{activity_id}/attendance", tags=["activities"], status_code=201)
async def record_attendance(
    activity_id: UUID,
    cmd: RecordAttendance,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    """Someone attended: linked to the resident named only when they consent to it (see
    ``/consents``), else counted anonymously."""
    return await activities.record_attendance(store, activity_id, cmd, caller, config)


@commands.post("/consents/{resident_id}", tags=["consent"], status_code=201)
async def give_consent(
    resident_id: UUID, cmd: ConsentStep, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """The resident consents to ``purpose`` (their attendance at activities linked to them)."""
    return await consents.give(store, resident_id, cmd, caller, config)


@commands.post("/consents/{resident_id}/withdrawal", tags=["consent"], status_code=201)
async def withdraw_consent(
    resident_id: UUID, cmd: ConsentStep, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """The resident withdraws their consent: their attendances are no longer linked to them,
    only counted."""
    return await consents.withdraw(store, resident_id, cmd, caller, config)


@router.get("/activities/{activity_id}", tags=["activities"])
async def get_activity(activity_id: UUID, store: StoreDep, caller: CallerDep) -> ActivityView:
    return await activities.view_activity(store, activity_id, caller)
