"""The health station's paper ledger, imported through health's own command
(:mod:`eventkit.ledger`).

- ``activities`` (健康活动台账): health activities and clinic days — free check-up days for the
  over-65s, on-site consultations, medical advice, disease-prevention talks — with the day held,
  the place (at the station or not), the partner that came (a hospital), how many people were
  served and the topic. Each row is recorded as held on its day.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import Field

from anju_contracts.health import ActivityKind
from eventkit.ledger import Ledger, LedgerRow, Ledgers, Options, Step

HELD_AT = dt.time(14)
"""Clinic days and talks are written down in the afternoon they were held."""


class ActivityRow(LedgerRow):
    kind: ActivityKind
    held_on: date
    place: str = Field(min_length=1, max_length=200)
    at_station: bool = Field(default=False, description="Held at the community's station")
    partner: str | None = Field(
        default=None, max_length=200, description="The partner that came (a hospital)"
    )
    served: int = Field(ge=0, le=100_000, description="People served")
    topic: str | None = Field(default=None, max_length=200)
    staff: list[str] = Field(default_factory=list, max_length=50, description="Who ran it")
    area_id: UUID | None = Field(
        default=None, description="The community or grid it served (default: the import's)"
    )


def _activity(row: ActivityRow, options: Options) -> list[Step]:
    body: dict[str, Any] = {
        "kind": row.kind.value,
        "held_on": row.held_on.isoformat(),
        "area_id": str(row.area_id or options.area_id),
        "place": row.place,
        "at_station": row.at_station,
        "staff": row.staff,
        "served": row.served,
        "occurred_at": options.at(row.held_on, HELD_AT),
    }
    optional = {"partner": row.partner, "topic": row.topic}
    body |= {k: v for k, v in optional.items() if v is not None}
    return [Step("record", "POST", "/activities", body)]


LEDGERS = Ledgers(
    service="health",
    kinds=(
        Ledger(
            "activities",
            "health activities and clinic days: check-up days, consultations, talks (健康活动台账)",
            ActivityRow,
            _activity,
        ),
    ),
)
