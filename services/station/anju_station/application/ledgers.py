"""The desk's paper ledgers, imported through the desk's own commands (:mod:`eventkit.ledger`).

- ``receptions`` (接待登记): one row per visit — the day (and time), purposes, who referred
  the visitor, the outcome, the resident if known.
- ``services`` (便民服务台账): one row per convenience service, from receipt to its end —
  received, a one-time notice of what was missing, accepted, handed off to the agency of
  record, completed or refused, the callback's satisfaction. Each step is the desk's command,
  dated on its own day.
- ``gatherings`` (宣讲活动台账): lectures, policy explanations, civilisation-practice activities
  and opinion-gathering sessions — kind, topic, speaker, day, attendance.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import Field

from anju_contracts.station import BillType, GatheringKind, Outcome, Purpose, Referral
from eventkit.ledger import Ledger, LedgerRow, Ledgers, Options, Step


class ReceptionRow(LedgerRow):
    day: date
    time: dt.time | None = None
    purposes: list[Purpose] = Field(min_length=1, max_length=8)
    referred_by: Referral = Referral.SELF
    outcome: Outcome = Outcome.ANSWERED
    resident_id: UUID | None = None
    note: str | None = Field(default=None, max_length=500)


def _reception(row: ReceptionRow, options: Options) -> list[Step]:
    body = {
        "area_id": str(options.area_id),
        "purposes": [p.value for p in row.purposes],
        "referred_by": row.referred_by.value,
        "outcome": row.outcome.value,
        "occurred_at": options.at(row.day, row.time),
    }
    return [
        Step("log", "POST", "/receptions", _given(body, resident_id=row.resident_id, note=row.note))
    ]


class ServiceRow(LedgerRow):
    service_type: str = Field(pattern=r"^[a-z][a-z0-9_]{1,49}$")
    received_on: date
    resident_id: UUID | None = None
    bill_type: BillType | None = None
    missing: list[str] = Field(
        default_factory=list, max_length=20, description="On the one-time notice, if one was given"
    )
    accepted_on: date | None = None
    handed_off_on: date | None = None
    organisation_id: UUID | None = None
    completed_on: date | None = None
    outcome: str | None = Field(default=None, max_length=500)
    refused_on: date | None = None
    refusal_reason: str | None = Field(default=None, max_length=500)
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    called_back_on: date | None = None


def _service(row: ServiceRow, options: Options) -> list[Step]:
    """The service's steps in order, each on its day; the ledger's days must run forwards."""
    ended = row.completed_on or row.refused_on
    if row.completed_on and row.refused_on:
        raise ValueError("a service is completed or refused, not both")
    if row.refused_on and not row.refusal_reason:
        raise ValueError("a refused service needs its refusal_reason")
    if row.handed_off_on and not row.organisation_id:
        raise ValueError("a hand-off needs the organisation_id of the agency of record")
    if row.satisfaction is not None and ended is None:
        raise ValueError("a satisfaction is given on a callback after the service ended")
    accepted = row.accepted_on or (
        row.received_on if not row.missing and (row.handed_off_on or row.completed_on) else None
    )
    if row.completed_on and accepted is None:
        raise ValueError("a completed service was accepted: give accepted_on")
    if row.handed_off_on and accepted is None:
        raise ValueError("a handed-off service was accepted: give accepted_on")
    days = [
        d
        for d in (row.received_on, accepted, row.handed_off_on, ended, row.called_back_on)
        if d is not None
    ]
    if days != sorted(days):
        raise ValueError("the days must follow each other: received, accepted, handed off, ended")

    steps = [
        Step(
            "receive",
            "POST",
            "/services",
            _given(
                {
                    "service_type": row.service_type,
                    "area_id": str(options.area_id),
                    "occurred_at": options.at(row.received_on),
                },
                resident_id=row.resident_id,
                bill_type=row.bill_type and row.bill_type.value,
            ),
        )
    ]
    on = "/services/{receive}"
    if row.missing:
        notice = {"missing": row.missing, "occurred_at": options.at(row.received_on)}
        steps.append(Step("notice", "POST", f"{on}/documents", notice))
    if accepted is not None:
        steps.append(
            Step("accept", "POST", f"{on}/documents", {"occurred_at": options.at(accepted)})
        )
    body: dict[str, Any]
    if row.handed_off_on is not None:
        body = {
            "organisation_id": str(row.organisation_id),
            "occurred_at": options.at(row.handed_off_on),
        }
        steps.append(Step("hand_off", "POST", f"{on}/hand-off", body))
    if row.completed_on is not None:
        body = _given(
            {"occurred_at": options.at(row.completed_on, dt.time(16))}, outcome=row.outcome
        )
        steps.append(Step("complete", "POST", f"{on}/completion", body))
    if row.refused_on is not None:
        body = {
            "reason": row.refusal_reason,
            "occurred_at": options.at(row.refused_on, dt.time(16)),
        }
        steps.append(Step("refuse", "POST", f"{on}/refusal", body))
    if row.satisfaction is not None:
        called = row.called_back_on or ended
        assert called is not None
        body = {
            "satisfaction": row.satisfaction,
            "occurred_at": options.at(called, dt.time(17)),
        }
        steps.append(Step("callback", "POST", f"{on}/callback", body))
    return steps


class GatheringRow(LedgerRow):
    kind: GatheringKind = GatheringKind.THEORY_LECTURE
    topic: str = Field(min_length=1, max_length=200)
    speaker: str | None = Field(default=None, max_length=100)
    held_on: date
    attendance: int = Field(ge=0, le=100_000)
    partner_id: UUID | None = None


def _gathering(row: GatheringRow, options: Options) -> list[Step]:
    body = {
        "area_id": str(options.area_id),
        "kind": row.kind.value,
        "topic": row.topic,
        "held_on": row.held_on.isoformat(),
        "attendance": row.attendance,
        "occurred_at": options.at(row.held_on, dt.time(14)),
    }
    return [
        Step(
            "record",
            "POST",
            "/gatherings",
            _given(body, speaker=row.speaker, partner_id=row.partner_id),
        )
    ]


def _given(body: dict[str, Any], **optional: object) -> dict[str, Any]:
    """``body`` with the optional values the row gives (as JSON values)."""
    return body | {
        k: str(v) if isinstance(v, UUID) else v for k, v in optional.items() if v is not None
    }


LEDGERS = Ledgers(
    service="station",
    kinds=(
        Ledger("receptions", "visits to the desk (接待登记)", ReceptionRow, _reception),
        Ledger(
            "services",
            "convenience services from receipt to their end (便民服务台账)",
            ServiceRow,
            _service,
        ),
        Ledger(
            "gatherings",
            "lectures, policy explanations, activities, opinion gatherings (宣讲活动台账)",
            GatheringRow,
            _gathering,
        ),
    ),
)
