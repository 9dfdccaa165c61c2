"""The volunteer coordinator's paper ledger, imported through volunteering's own commands
(:mod:`eventkit.ledger`).

- ``hours`` (志愿服务时长登记): one row per volunteer's service on a day — who (the volunteer as
  volunteering knows them), the day, how many hours, what they did — and the coordinator's
  approval.

Volunteering credits hours for work it saw done: a request taken up and delivered to a resident,
or a shift of an activity attended. A ledger row names no resident served and no request, so it
is recorded as what it is on paper — an activity of one shift, the volunteer's, on that day and
for those hours (``what`` is its title): scheduled and signed up for just before it starts,
attended (which credits the shift's length to the volunteer's hours), and approved by the
coordinator on the day the ledger says (the day served unless ``approved_on``).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from pydantic import Field

from anju_contracts.volunteering import VolunteerActivityKind
from eventkit.ledger import Ledger, LedgerRow, Ledgers, Options, Step

_SHIFTS = uuid.UUID("0d7b3e5a-64c1-4f28-b9a0-2c5e8f1d7a36")
"""The namespace of a row's shift id: the same row always names the same shift."""

START = dt.time(9)
SIGNED_UP_BEFORE = timedelta(minutes=30)
APPROVE_AT = dt.time(18)


class HoursRow(LedgerRow):
    volunteer_id: UUID = Field(description="The volunteer, as volunteering knows them")
    served_on: date
    hours: Decimal = Field(gt=0, le=24, decimal_places=2)
    what: str = Field(min_length=1, max_length=200, description="What they did")
    kind: VolunteerActivityKind = VolunteerActivityKind.OTHER
    start: dt.time | None = Field(default=None, description="When they began (default: nine)")
    area_id: UUID | None = Field(
        default=None, description="The grid or community served (default: the import's)"
    )
    approved_on: date | None = Field(
        default=None, description="The day the coordinator approved (default: the day served)"
    )


def _hours(row: HoursRow, options: Options) -> list[Step]:
    if row.approved_on is not None and row.approved_on < row.served_on:
        raise ValueError("hours are approved on or after the day they were served")
    starts = datetime.fromisoformat(options.at(row.served_on, row.start or START))
    ends = starts + timedelta(hours=float(row.hours))
    approval_day = datetime.fromisoformat(options.at(row.approved_on or row.served_on, APPROVE_AT))
    approved = max(ends, approval_day)
    before = (starts - SIGNED_UP_BEFORE).isoformat()
    content = json.dumps(row.model_dump(mode="json"), sort_keys=True)
    shift_id = str(uuid.uuid5(_SHIFTS, content))
    activity = {
        "kind": row.kind.value,
        "title": row.what,
        "area_id": str(row.area_id or options.area_id),
        "shifts": [
            {
                "shift_id": shift_id,
                "starts_at": starts.isoformat(),
                "ends_at": ends.isoformat(),
                "capacity": 1,
            }
        ],
        "occurred_at": before,
    }
    shift = f"/activities/{{schedule}}/shifts/{shift_id}"
    volunteer = str(row.volunteer_id)
    return [
        Step("schedule", "POST", "/activities", activity),
        Step(
            "sign_up",
            "POST",
            f"{shift}/sign-ups",
            {"volunteer_id": volunteer, "occurred_at": before},
        ),
        Step(
            "attend",
            "POST",
            f"{shift}/attendance",
            {"volunteer_id": volunteer, "attended": True, "occurred_at": ends.isoformat()},
        ),
        Step(
            "approve",
            "POST",
            f"/volunteers/{volunteer}/hours/{{attend.sub_id}}/approval",
            {"occurred_at": approved.isoformat()},
        ),
    ]


LEDGERS = Ledgers(
    service="volunteering",
    kinds=(
        Ledger(
            "hours",
            "volunteer hours served on a day, and their approval (志愿服务时长登记)",
            HoursRow,
            _hours,
        ),
    ),
)
