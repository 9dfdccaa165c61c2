"""The volunteering service's HTTP routes: thin — parse, pick the caller's context, call a handler.

``public`` holds the one route served without a token: checking a certificate of service by its
number, as an employer or a school would.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path

from anju_volunteering.application import consents, hours, people, work
from anju_volunteering.application.commands import (
    AcceptRequest,
    AssignRequest,
    Attendance,
    CancelRequest,
    ChangeVolunteer,
    CheckIn,
    CheckOut,
    ConsentStep,
    DeclineRequest,
    Deliver,
    FormTeam,
    IssueCertificate,
    RaiseRequest,
    RegisterVolunteer,
    RejectHours,
    ScheduleActivity,
    ShiftVolunteer,
    TeamMember,
    VolunteerStep,
)
from anju_volunteering.application.hours import CertificateView, LedgerView, Verification
from anju_volunteering.application.people import TeamView, VolunteeringConfig, VolunteerView
from anju_volunteering.application.work import ActivityView, RequestView
from anju_volunteering.domain.ledger import NUMBERS
from eventkit.app import CONFIG, CallerDep, CommandRouter, StoreDep
from eventkit.commands import Accepted

ConfigDep = Annotated[VolunteeringConfig, CONFIG]
Number = Annotated[str, Path(pattern=NUMBERS.pattern)]

router = APIRouter()
"""The reads: a record as it stands in volunteering's own store."""

commands = CommandRouter()
"""The commands. They decide on what volunteering has learnt of the registry, so each may name
the registry's writes it follows by their consistency tokens (``eventkit.app.caught_up``)."""

public = APIRouter(prefix="/public")
"""Served without a token (``eventkit.guard.OPEN_PATHS``)."""


# -- volunteers ---------------------------------------------------------------------------------


@commands.post("/volunteers", tags=["volunteers"], status_code=201)
async def register_volunteer(
    cmd: RegisterVolunteer, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """A volunteer joins, serving a grid (or community); a resident or an organisation's
    in-service party member."""
    return await people.register(store, cmd, caller, config)


@router.get("/volunteers/{volunteer_id}", tags=["volunteers"])
async def get_volunteer(volunteer_id: UUID, store: StoreDep, caller: CallerDep) -> VolunteerView:
    return await people.view_volunteer(store, volunteer_id, caller)


@commands.post("/volunteers/{volunteer_id}/changes", tags=["volunteers"], status_code=201)
async def change_volunteer(
    volunteer_id: UUID, cmd: ChangeVolunteer, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await people.change(store, volunteer_id, cmd, caller, config)


@commands.post("/volunteers/{volunteer_id}/pause", tags=["volunteers"], status_code=201)
async def pause_volunteer(
    volunteer_id: UUID, cmd: VolunteerStep, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await people.pause(store, volunteer_id, cmd, caller, config)


@commands.post("/volunteers/{volunteer_id}/resumption", tags=["volunteers"], status_code=201)
async def resume_volunteer(
    volunteer_id: UUID, cmd: VolunteerStep, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await people.resume(store, volunteer_id, cmd, caller, config)


@commands.post("/volunteers/{volunteer_id}/consents", tags=["volunteers"], status_code=201)
async def give_consent(
    volunteer_id: UUID, cmd: ConsentStep, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """The volunteer consents to ``purpose`` (their profile shown to others, photos kept)."""
    return await consents.give(store, volunteer_id, cmd, caller, config)


@commands.post(
    "/volunteers/{volunteer_id}/consents/withdrawal", tags=["volunteers"], status_code=201
)
async def withdraw_consent(
    volunteer_id: UUID, cmd: ConsentStep, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """The volunteer withdraws their consent to ``purpose``: their profile is no longer shown
    to others, no photo of them is kept."""
    return await consents.withdraw(store, volunteer_id, cmd, caller, config)


@commands.post("/volunteers/{volunteer_id}/departure", tags=["volunteers"], status_code=201)
async def volunteer_leaves(
    volunteer_id: UUID, cmd: VolunteerStep, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await people.leave(store, volunteer_id, cmd, caller, config)


# -- teams -----------------------------------------------------------------------------------------


@commands.post("/teams", tags=["teams"], status_code=201)
async def form_team(
    cmd: FormTeam, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """A team with its purpose and leader (its first member) and partner organisations."""
    return await people.form_team(store, cmd, caller, config)


@router.get("/teams/{team_id}", tags=["teams"])
async def get_team(team_id: UUID, store: StoreDep, caller: CallerDep) -> TeamView:
    return await people.view_team(store, team_id, caller)


@commands.post("/teams/{team_id}/members", tags=["teams"], status_code=201)
async def add_member(
    team_id: UUID, cmd: TeamMember, store: StoreDep, caller: CallerDep
) -> Accepted:
    return await people.add_member(store, team_id, cmd, caller)


@commands.post("/teams/{team_id}/members/removal", tags=["teams"], status_code=201)
async def remove_member(
    team_id: UUID, cmd: TeamMember, store: StoreDep, caller: CallerDep
) -> Accepted:
    return await people.remove_member(store, team_id, cmd, caller)


@commands.post("/teams/{team_id}/leader", tags=["teams"], status_code=201)
async def change_leader(
    team_id: UUID, cmd: TeamMember, store: StoreDep, caller: CallerDep
) -> Accepted:
    return await people.change_leader(store, team_id, cmd, caller)


# -- requests --------------------------------------------------------------------------------------


@commands.post("/requests", tags=["requests"], status_code=201)
async def raise_request(
    cmd: RaiseRequest, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """A resident's need (微心愿), raised on their behalf; it must be taken up within the
    response time (``ANJU_VOLUNTEERING_RESPONSE_HOURS``) or the coordinator is told."""
    return await work.raise_request(store, cmd, caller, config)


@router.get("/requests/{request_id}", tags=["requests"])
async def get_request(request_id: UUID, store: StoreDep, caller: CallerDep) -> RequestView:
    return await work.view_request(store, request_id, caller)


@commands.post("/requests/{request_id}/assignment", tags=["requests"], status_code=201)
async def assign_request(
    request_id: UUID, cmd: AssignRequest, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Give the request to one team or one volunteer (again, while nobody took it up)."""
    return await work.assign(store, request_id, cmd, caller, config)


@commands.post("/requests/{request_id}/acceptance", tags=["requests"], status_code=201)
async def accept_request(
    request_id: UUID, cmd: AcceptRequest, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await work.accept(store, request_id, cmd, caller, config)


@commands.post("/requests/{request_id}/decline", tags=["requests"], status_code=201)
async def decline_request(
    request_id: UUID, cmd: DeclineRequest, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """The assignee declines; the request is open for another assignment."""
    return await work.decline(store, request_id, cmd, caller, config)


@commands.post("/requests/{request_id}/check-in", tags=["requests"], status_code=201)
async def check_in(
    request_id: UUID, cmd: CheckIn, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await work.check_in(store, request_id, cmd, caller, config)


@commands.post("/requests/{request_id}/check-out", tags=["requests"], status_code=201)
async def check_out(
    request_id: UUID, cmd: CheckOut, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Finish on site: each volunteer who checked in is credited the time (to be approved)."""
    return await work.check_out(store, request_id, cmd, caller, config)


@commands.post("/requests/{request_id}/delivery", tags=["requests"], status_code=201)
async def deliver_request(
    request_id: UUID, cmd: Deliver, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """The beneficiary's feedback (satisfaction 1–5) closes the request."""
    return await work.deliver(store, request_id, cmd, caller, config)


@commands.post("/requests/{request_id}/cancellation", tags=["requests"], status_code=201)
async def cancel_request(
    request_id: UUID, cmd: CancelRequest, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await work.cancel(store, request_id, cmd, caller, config)


# -- activities ------------------------------------------------------------------------------------


@commands.post("/activities", tags=["activities"], status_code=201)
async def schedule_activity(
    cmd: ScheduleActivity, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """A themed party day, a practical-things day or a patrol, with its shifts."""
    return await work.schedule_activity(store, cmd, caller, config)


@router.get("/activities/{activity_id}", tags=["activities"])
async def get_activity(activity_id: UUID, store: StoreDep, caller: CallerDep) -> ActivityView:
    return await work.view_activity(store, activity_id, caller)


@commands.post(
    "/activities/{activity_id}/shifts/{shift_id}/sign-ups", tags=["activities"], status_code=201
)
async def sign_up(
    activity_id: UUID,
    shift_id: UUID,
    cmd: ShiftVolunteer,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    return await work.sign_up(store, activity_id, shift_id, cmd, caller, config)


@commands.post(
    "/activities/{activity_id}/shifts/{shift_id}/withdrawal", tags=["activities"], status_code=201
)
async def withdraw(
    activity_id: UUID,
    shift_id: UUID,
    cmd: ShiftVolunteer,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    return await work.withdraw(store, activity_id, shift_id, cmd, caller, config)


@commands.post(
    "/activities/{activity_id}/shifts/{shift_id}/attendance", tags=["activities"], status_code=201
)
async def record_attendance(
    activity_id: UUID,
    shift_id: UUID,
    cmd: Attendance,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    """Who came (credited the shift's length, to be approved) and who did not (a no-show)."""
    return await work.record_attendance(store, activity_id, shift_id, cmd, caller, config)


# -- hours and certificates --------------------------------------------------------------------


@router.get("/volunteers/{volunteer_id}/hours", tags=["hours"])
async def get_hours(volunteer_id: UUID, store: StoreDep, caller: CallerDep) -> LedgerView:
    """Every entry, approved, pending or rejected; only approved hours count."""
    return await hours.view_ledger(store, volunteer_id, caller)


@commands.post(
    "/volunteers/{volunteer_id}/hours/{entry_id}/approval", tags=["hours"], status_code=201
)
async def approve_hours(
    volunteer_id: UUID, entry_id: UUID, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await hours.approve(store, volunteer_id, entry_id, caller, config)


@commands.post(
    "/volunteers/{volunteer_id}/hours/{entry_id}/rejection", tags=["hours"], status_code=201
)
async def reject_hours(
    volunteer_id: UUID,
    entry_id: UUID,
    cmd: RejectHours,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    return await hours.reject(store, volunteer_id, entry_id, cmd, caller, config)


@commands.post("/volunteers/{volunteer_id}/certificates", tags=["hours"], status_code=201)
async def issue_certificate(
    volunteer_id: UUID, cmd: IssueCertificate, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """A certificate of the approved hours in a period; ``id`` names the certificate."""
    return await hours.issue_certificate(store, volunteer_id, cmd, caller, config)


@router.get("/certificates/{certificate_id}", tags=["hours"])
async def get_certificate(
    certificate_id: UUID, store: StoreDep, caller: CallerDep
) -> CertificateView:
    return await hours.view_certificate(store, certificate_id, caller)


@public.get("/certificates/{number}", tags=["hours"])
async def verify_certificate(number: Number, store: StoreDep) -> Verification:
    """Check a certificate of service by its number — no token needed."""
    return await hours.verify(store, number)
