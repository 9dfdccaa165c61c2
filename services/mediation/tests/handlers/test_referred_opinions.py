"""An opinion the station's desk referred to mediation becomes one conflict signal, on the
in-memory store: what the signal says, where it is placed when mediation does not know the
opinion's area yet, and that a referral delivered again reports nothing more."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from anju_contracts import Actor, Event
from anju_contracts.mediation import (
    CATALOG,
    Category,
    ConflictSignalReported,
    Location,
    ReporterRole,
    SignalOrigin,
)
from anju_contracts.registry import AreaKind, AreaPath
from anju_contracts.station import (
    SOURCE as STATION,
    OpinionDestination,
    OpinionReferred,
    Outcome,
    Purpose,
    ReceptionLogged,
    Referral,
)
from anju_mediation.application.aggregates import SERVICE_ACTOR, SIGNALS
from anju_mediation.application.signals import report_referred_opinion
from anju_mediation.domain import signals
from anju_mediation.domain.errors import AreaNotFound
from eventkit.known import MemoryKnown
from eventkit.memory import MemoryEventStore
from eventkit.messages import Delivered
from eventkit.testing.delivery import delivered as delivered_as

REFERRED_AT = datetime(2026, 6, 1, 10, 30, tzinfo=UTC)
COMMUNITY, GRID, BUILDING, UNIT = uuid4(), uuid4(), uuid4(), uuid4()
AT_COMMUNITY = AreaPath(community_id=COMMUNITY)
AT_GRID = AreaPath(community_id=COMMUNITY, grid_id=GRID)
AT_BUILDING = AreaPath(community_id=COMMUNITY, grid_id=GRID, building_id=BUILDING)
AT_UNIT = AT_BUILDING.model_copy(update={"unit_id": UNIT})


def delivered(event: Event) -> Delivered:
    """``event`` as the station's relay would publish it (each call a new envelope, as a
    replay after the policy's inbox was reset brings)."""
    return delivered_as(
        event,
        source=STATION,
        subject=f"gathering-{uuid4()}",
        offset=0,
        occurred_at=REFERRED_AT,
        correlation_id="corr-opinion",
        actor=Actor(id="desk-1", roles=("desk_staff",)),
    )


def referral(
    *,
    to: OpinionDestination = OpinionDestination.MEDIATION,
    path: AreaPath = AT_BUILDING,
    resident_id: UUID | None = None,
    note: str | None = None,
) -> OpinionReferred:
    return OpinionReferred(
        opinion_id=uuid4(),
        gathering_id=uuid4(),
        to=to,
        text="楼下广场舞音响太吵，晚上十点还没停",
        resident_id=resident_id,
        path=path,
        referred_by="desk-1",
        referred_at=REFERRED_AT,
        note=note,
    )


class Estate:
    """Mediation's store and what it has learnt of the registry: a community with a grid and a
    building in it (not the unit), and one resident."""

    def __init__(self) -> None:
        self.store = MemoryEventStore(CATALOG)
        self.known = MemoryKnown()
        for area_id, kind, path in (
            (COMMUNITY, AreaKind.COMMUNITY, AT_COMMUNITY),
            (GRID, AreaKind.GRID, AT_GRID),
            (BUILDING, AreaKind.BUILDING, AT_BUILDING),
        ):
            self.known.locations[area_id] = Location(area_id=area_id, kind=kind, path=path)
        self.resident = uuid4()
        self.known.place(self.resident, AT_BUILDING)

    async def deliver(self, event: Event) -> Delivered:
        message = delivered(event)
        async with self.store.session() as session:
            await report_referred_opinion(session, message, known=self.known)
        return message

    async def signal_stream(self, opinion_id: UUID) -> list[Event]:
        stream = await self.store.load(SIGNALS.stream(signals.signal_id_of_opinion(opinion_id)))
        return list(stream.payloads)


@pytest.fixture
def estate() -> Estate:
    return Estate()


async def test_a_referred_opinion_is_reported_once_by_the_desk(estate: Estate) -> None:
    opinion = referral(resident_id=estate.resident, note="已电话联系物业，未果")
    first = await estate.deliver(opinion)
    await estate.deliver(opinion)  # a new envelope: the replay after a reset

    reported = await estate.signal_stream(opinion.opinion_id)
    assert len(reported) == 1
    signal = reported[0]
    assert isinstance(signal, ConflictSignalReported)
    assert signal.signal_id == signals.signal_id_of_opinion(opinion.opinion_id)
    assert signal.origin == SignalOrigin(source="station", record="opinion", id=opinion.opinion_id)
    assert signal.reporter_id == "desk-1"
    assert signal.reporter_role == ReporterRole.DESK_STAFF
    assert signal.location == Location(area_id=BUILDING, kind=AreaKind.BUILDING, path=AT_BUILDING)
    assert signal.category == Category.OTHER
    assert (
        signal.description == "楼下广场舞音响太吵，晚上十点还没停\n\n窗口备注：已电话联系物业，未果"
    )
    assert signal.involved_resident_ids == [estate.resident]
    assert signal.reported_at == REFERRED_AT
    assert await estate.store.head() == 1

    recorded = (
        await estate.store.load(SIGNALS.stream(signals.signal_id_of_opinion(opinion.opinion_id)))
    ).events[0]
    assert recorded.actor == SERVICE_ACTOR
    assert recorded.causation_id == str(first.envelope.id)
    assert recorded.correlation_id == "corr-opinion"
    assert recorded.area == str(GRID)


async def test_the_signal_is_folded_with_its_origin(estate: Estate) -> None:
    opinion = referral()
    await estate.deliver(opinion)
    signal = signals.fold(await estate.signal_stream(opinion.opinion_id))
    assert signal is not None
    assert signal.origin == signals.opinion_origin(opinion.opinion_id)
    assert signal.description == opinion.text
    assert signal.involved_resident_ids == ()


async def test_each_opinion_is_its_own_signal(estate: Estate) -> None:
    one, other = referral(), referral()
    await estate.deliver(one)
    await estate.deliver(other)
    assert signals.signal_id_of_opinion(one.opinion_id) != signals.signal_id_of_opinion(
        other.opinion_id
    )
    assert len(await estate.signal_stream(one.opinion_id)) == 1
    assert len(await estate.signal_stream(other.opinion_id)) == 1


async def test_an_opinion_for_governance_or_another_station_event_reports_nothing(
    estate: Estate,
) -> None:
    await estate.deliver(referral(to=OpinionDestination.GOVERNANCE))
    await estate.deliver(
        ReceptionLogged(
            reception_id=uuid4(),
            purposes=[Purpose.COMPLAINT],
            referred_by=Referral.SELF,
            outcome=Outcome.REFERRED,
            path=AT_BUILDING,
            staff_id="desk-1",
            logged_at=REFERRED_AT,
        )
    )
    assert await estate.store.head() == 0


async def test_a_resident_mediation_does_not_know_is_left_out(estate: Estate) -> None:
    opinion = referral(resident_id=uuid4())
    await estate.deliver(opinion)
    (signal,) = await estate.signal_stream(opinion.opinion_id)
    assert isinstance(signal, ConflictSignalReported)
    assert signal.involved_resident_ids == []


@pytest.mark.parametrize(
    ("path", "placed_at"),
    [
        # the unit is not known: its building is
        (AT_UNIT, BUILDING),
        # a building mediation has not learnt yet: its grid
        (AT_GRID.model_copy(update={"building_id": uuid4()}), GRID),
        # a grid mediation has not learnt yet: the community
        (AT_COMMUNITY.model_copy(update={"grid_id": uuid4()}), COMMUNITY),
        (AT_COMMUNITY, COMMUNITY),
    ],
)
async def test_the_signal_is_placed_at_the_nearest_area_mediation_knows(
    estate: Estate, path: AreaPath, placed_at: UUID
) -> None:
    opinion = referral(path=path)
    await estate.deliver(opinion)
    (signal,) = await estate.signal_stream(opinion.opinion_id)
    assert isinstance(signal, ConflictSignalReported)
    assert signal.location == estate.known.locations[placed_at]


async def test_an_opinion_of_a_community_mediation_does_not_know_is_refused(
    estate: Estate,
) -> None:
    elsewhere = AreaPath(community_id=uuid4(), grid_id=uuid4())
    opinion = referral(path=elsewhere)
    with pytest.raises(AreaNotFound) as refused:
        await estate.deliver(opinion)
    assert refused.value.details == {"area_id": str(elsewhere.community_id)}
    assert await estate.store.head() == 0

    # once the registry's news arrives, the same referral goes through
    estate.known.locations[elsewhere.community_id] = Location(
        area_id=elsewhere.community_id,
        kind=AreaKind.COMMUNITY,
        path=AreaPath(community_id=elsewhere.community_id),
    )
    await estate.deliver(opinion)
    assert len(await estate.signal_stream(opinion.opinion_id)) == 1
