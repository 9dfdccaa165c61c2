"""The mediation point's paper ledgers, imported through mediation's own commands
(:mod:`eventkit.ledger`).

- ``disputes`` (矛盾纠纷调解台账): one row per dispute, from its registration to its end — the
  day registered, how it came in, what it is about, where (a building, grid or community, which
  sets the tier it starts at: 琐事不出楼栋、小事不出网格、大事不出社区), the applicant and the
  respondent as the ledger names them (a registered resident, or a name with a contact), the
  mediator, an escalation, the session held, the agreement or the failed mediation and its
  referral, the resolution (at the tier the dispute stood at that day) and the return visit's
  satisfaction. Each step is mediation's command, dated on its own day.
- ``petitions`` (信访代办台账): petitions taken by proxy — filed for a registered resident,
  forwarded to the department, accepted, answered, closed.

A row's days must run forwards; the rules across columns are checked before anything is sent.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import Field

from anju_contracts.mediation import (
    Category,
    Channel,
    MediatorRole,
    ReferralTarget,
    SessionPlace,
    Tier,
)
from eventkit.ledger import Ledger, LedgerRow, Ledgers, Options, Step

_PARTIES = uuid.UUID("5b0c2f4e-8a31-4d7e-9c62-1f8e3a7d4b90")
"""The namespace of the party ids a ledger's dispute names: the same row always names the same
parties, so a row imported again is the same command."""

REGISTER_AT = dt.time(9)
ESCALATE_AT = dt.time(10)
SESSION_AT = dt.time(14)
END_AT = dt.time(15)
"""The agreement, or the failed mediation."""
REFER_AT = dt.time(16)
RESOLVE_AT = dt.time(16, 30)
VISIT_AT = dt.time(17)


class DisputeRow(LedgerRow):
    registered_on: date
    channel: Channel = Field(default=Channel.WALK_IN, description="How the dispute came in")
    category: Category
    description: str = Field(min_length=1, max_length=4000)
    area_id: UUID | None = Field(
        default=None,
        description="The building, grid or community of the dispute (default: the import's)",
    )
    tier: Tier | None = Field(
        default=None, description="The tier it started at, if not the one its place sets"
    )
    sensitive: bool = False
    applicant: str = Field(min_length=1, max_length=100, description="The applicant's name")
    applicant_contact: str | None = Field(default=None, max_length=100)
    applicant_resident_id: UUID | None = None
    respondent: str = Field(min_length=1, max_length=100, description="The respondent's name")
    respondent_contact: str | None = Field(default=None, max_length=100)
    respondent_resident_id: UUID | None = None
    mediator: str | None = Field(default=None, max_length=100, description="The mediator's name")
    mediator_id: str | None = Field(
        default=None, max_length=100, description="The mediator's staff id (default: the name)"
    )
    mediator_role: MediatorRole = MediatorRole.PEOPLES_MEDIATOR
    escalated_on: date | None = None
    escalated_to: Tier | None = Field(default=None, description="Default: the next tier")
    escalation_reason: str | None = Field(default=None, max_length=2000)
    session_on: date | None = Field(default=None, description="The day a session was held")
    session_place: SessionPlace = SessionPlace.STATION
    minutes: str | None = Field(
        default=None, max_length=8000, description="The session's minutes (default: on paper)"
    )
    agreed_on: date | None = None
    terms: str | None = Field(
        default=None, max_length=1000, description="What the respondent agreed to do"
    )
    failed_on: date | None = Field(default=None, description="The day mediation failed")
    failure_reason: str | None = Field(default=None, max_length=2000)
    referred_on: date | None = None
    referred_to: ReferralTarget | None = None
    resolved_on: date | None = None
    outcome: str | None = Field(default=None, max_length=2000)
    visited_on: date | None = Field(
        default=None, description="The return visit (default: the day resolved)"
    )
    satisfaction: int | None = Field(
        default=None, ge=1, le=5, description="The parties' satisfaction on the return visit"
    )


def _check_dispute(row: DisputeRow) -> None:
    for role, contact, resident in (
        ("applicant", row.applicant_contact, row.applicant_resident_id),
        ("respondent", row.respondent_contact, row.respondent_resident_id),
    ):
        if resident is None and contact is None:
            raise ValueError(
                f"the {role} is not a registered resident: give {role}_contact or"
                f" {role}_resident_id"
            )
    needs = (
        (row.escalated_on, row.escalation_reason, "an escalation needs its escalation_reason"),
        (row.agreed_on, row.terms, "an agreement needs its terms"),
        (row.failed_on, row.failure_reason, "a failed mediation needs its failure_reason"),
        (row.referred_on, row.referred_to, "a referral needs referred_to"),
        (row.resolved_on, row.outcome, "a resolution needs its outcome"),
    )
    for day, given, reason in needs:
        if day is not None and not given:
            raise ValueError(reason)
    if row.escalated_to is not None and row.escalated_on is None:
        raise ValueError("escalated_to needs the day escalated (escalated_on)")
    if row.agreed_on and row.failed_on:
        raise ValueError("mediation reached an agreement or failed, not both")
    if row.referred_on and not row.failed_on:
        raise ValueError("a dispute is referred after its mediation failed: give failed_on")
    if row.resolved_on and row.referred_on:
        raise ValueError("a dispute is resolved or referred, not both")
    if row.visited_on and row.satisfaction is None:
        raise ValueError("a return visit records the parties' satisfaction")
    if row.satisfaction is not None and not (row.visited_on or row.resolved_on):
        raise ValueError("a satisfaction is given on a return visit: give visited_on")
    days = [
        d
        for d in (
            row.registered_on,
            row.escalated_on,
            row.session_on,
            row.agreed_on or row.failed_on,
            row.referred_on or row.resolved_on,
        )
        if d is not None
    ]
    visit = row.visited_on or row.resolved_on
    if days != sorted(days) or (visit is not None and visit < days[-1]):
        raise ValueError(
            "the days must follow each other: registered, escalated, session, agreed or failed,"
            " resolved or referred, return visit"
        )


def _dispute(row: DisputeRow, options: Options) -> list[Step]:
    _check_dispute(row)
    content = json.dumps(row.model_dump(mode="json"), sort_keys=True)
    applicant = uuid.uuid5(_PARTIES, f"{content}#applicant")
    respondent = uuid.uuid5(_PARTIES, f"{content}#respondent")
    body = _given(
        {
            "channel": row.channel.value,
            "category": row.category.value,
            "description": row.description,
            "area_id": str(row.area_id or options.area_id),
            "parties": [
                _party(
                    "applicant",
                    applicant,
                    row.applicant,
                    row.applicant_contact,
                    row.applicant_resident_id,
                ),
                _party(
                    "respondent",
                    respondent,
                    row.respondent,
                    row.respondent_contact,
                    row.respondent_resident_id,
                ),
            ],
            "sensitivity": "sensitive" if row.sensitive else "standard",
            "occurred_at": options.at(row.registered_on, REGISTER_AT),
        },
        tier=row.tier and row.tier.value,
    )
    steps = [Step("register", "POST", "/disputes", body)]
    on = "/disputes/{register}"
    if row.mediator or row.mediator_id:
        body = _given(
            {
                "mediator_id": row.mediator_id or row.mediator,
                "role": row.mediator_role.value,
                "occurred_at": options.at(row.registered_on, REGISTER_AT),
            },
            name=row.mediator,
        )
        steps.append(Step("assign", "POST", f"{on}/mediators", body))
    if row.escalated_on is not None:
        body = _given(
            {
                "reason": row.escalation_reason,
                "occurred_at": options.at(row.escalated_on, ESCALATE_AT),
            },
            to_tier=row.escalated_to and row.escalated_to.value,
        )
        steps.append(Step("escalate", "POST", f"{on}/escalations", body))
    if row.session_on is not None:
        body = {
            "place": row.session_place.value,
            "attendees": [row.mediator or row.mediator_id or "调解员", "申请人", "被申请人"],
            "minutes": row.minutes or "调解过程见纸质台账",
            "occurred_at": options.at(row.session_on, SESSION_AT),
        }
        steps.append(Step("session", "POST", f"{on}/sessions/held", body))
    if row.agreed_on is not None:
        body = {
            "terms": [{"party_id": str(respondent), "action": row.terms}],
            "confirmed_by": [str(applicant), str(respondent)],
            "occurred_at": options.at(row.agreed_on, END_AT),
        }
        steps.append(Step("agree", "POST", f"{on}/agreement", body))
    if row.failed_on is not None:
        body = {"reason": row.failure_reason, "occurred_at": options.at(row.failed_on, END_AT)}
        steps.append(Step("fail", "POST", f"{on}/failure", body))
    if row.referred_on is not None:
        assert row.referred_to is not None
        body = {"to": row.referred_to.value, "occurred_at": options.at(row.referred_on, REFER_AT)}
        steps.append(Step("refer", "POST", f"{on}/referrals", body))
    if row.resolved_on is not None:
        body = {"outcome": row.outcome, "occurred_at": options.at(row.resolved_on, RESOLVE_AT)}
        steps.append(Step("resolve", "POST", f"{on}/resolution", body))
    if row.satisfaction is not None:
        visited = row.visited_on or row.resolved_on
        assert visited is not None
        body = {
            "satisfaction": [
                {"party_id": str(party), "score": row.satisfaction}
                for party in (applicant, respondent)
            ],
            "occurred_at": options.at(visited, VISIT_AT),
        }
        steps.append(Step("visit", "POST", f"{on}/return-visits", body))
    return steps


def _party(
    role: str, party_id: UUID, name: str, contact: str | None, resident_id: UUID | None
) -> dict[str, Any]:
    return _given(
        {"role": role, "party_id": str(party_id), "name": name},
        contact=contact,
        resident_id=resident_id,
    )


FILE_AT = dt.time(9)
FORWARD_AT = dt.time(10)
ACCEPT_AT = dt.time(11)
ANSWER_AT = dt.time(15)
CLOSE_AT = dt.time(16)


class PetitionRow(LedgerRow):
    filed_on: date
    resident_id: UUID = Field(description="The petitioner, a registered resident")
    subject: str = Field(min_length=1, max_length=500)
    department: str = Field(min_length=1, max_length=200, description="Where it was forwarded")
    forwarded_on: date | None = None
    accepted_on: date | None = Field(default=None, description="The department accepted it")
    answered_on: date | None = Field(default=None, description="The department answered it")
    answer: str | None = Field(default=None, max_length=4000)
    closed_on: date | None = None
    outcome: str | None = Field(default=None, max_length=2000)


def _petition(row: PetitionRow, options: Options) -> list[Step]:
    """The petition's steps in order, each on its day."""
    if row.accepted_on and not row.forwarded_on:
        raise ValueError("a petition is accepted after it was forwarded: give forwarded_on")
    if row.answered_on and not row.accepted_on:
        raise ValueError("a petition is answered after it was accepted: give accepted_on")
    if row.answered_on and not row.answer:
        raise ValueError("an answered petition needs the answer")
    if row.closed_on and not row.outcome:
        raise ValueError("a closed petition needs its outcome")
    days = [
        d
        for d in (row.filed_on, row.forwarded_on, row.accepted_on, row.answered_on, row.closed_on)
        if d is not None
    ]
    if days != sorted(days):
        raise ValueError("the days must follow each other: filed, forwarded, accepted, answered")
    body: dict[str, Any] = {
        "resident_id": str(row.resident_id),
        "subject": row.subject,
        "department": row.department,
        "occurred_at": options.at(row.filed_on, FILE_AT),
    }
    steps = [Step("file", "POST", "/petitions", body)]
    on = "/petitions/{file}"
    for day, at, name, path in (
        (row.forwarded_on, FORWARD_AT, "forward", "forwarding"),
        (row.accepted_on, ACCEPT_AT, "accept", "acceptance"),
    ):
        if day is not None:
            steps.append(Step(name, "POST", f"{on}/{path}", {"occurred_at": options.at(day, at)}))
    if row.answered_on is not None:
        body = {"answer": row.answer, "occurred_at": options.at(row.answered_on, ANSWER_AT)}
        steps.append(Step("answer", "POST", f"{on}/answer", body))
    if row.closed_on is not None:
        body = {"outcome": row.outcome, "occurred_at": options.at(row.closed_on, CLOSE_AT)}
        steps.append(Step("close", "POST", f"{on}/closing", body))
    return steps


def _given(body: dict[str, Any], **optional: object) -> dict[str, Any]:
    """``body`` with the optional values the row gives (as JSON values)."""
    return body | {
        k: str(v) if isinstance(v, UUID) else v for k, v in optional.items() if v is not None
    }


LEDGERS = Ledgers(
    service="mediation",
    kinds=(
        Ledger(
            "disputes",
            "disputes from registration to their end (矛盾纠纷调解台账)",
            DisputeRow,
            _dispute,
        ),
        Ledger(
            "petitions",
            "petitions by proxy: filed, forwarded, accepted, answered, closed (信访代办台账)",
            PetitionRow,
            _petition,
        ),
    ),
)
