"""The projections have statements for the events they read, with as many columns as params."""

from __future__ import annotations

import re
import uuid

from anju_contracts import Actor
from anju_contracts.governance import CATALOG as GOVERNANCE
from anju_contracts.mediation import CATALOG as MEDIATION
from anju_contracts.registry import CATALOG, AreaCreated, AreaKind, AreaPath, PersonErased
from anju_contracts.station import CATALOG as STATION
from anju_contracts.volunteering import CATALOG as VOLUNTEERING
from anju_query.projections import disputes, governance, residents, station, volunteering
from anju_query.projections.residents import WRITERS
from eventkit.testing.delivery import envelope_of


def test_every_registry_event_has_a_writer() -> None:
    assert WRITERS.event_types == {m.event_type for m in CATALOG.models}


def test_mediation_events_without_a_writer_only_make_the_timeline() -> None:
    unwritten = {m.event_type for m in MEDIATION.models} - disputes.WRITERS.event_types
    assert unwritten == {
        "mediation.DisputeReferred",
        "mediation.MediationSessionHeld",
        "mediation.MediationSessionScheduled",
        "mediation.ReferralAnswered",
    }


def test_every_volunteering_event_has_a_writer() -> None:
    own = {m.event_type for m in VOLUNTEERING.models}
    assert volunteering.WRITERS.event_types == {*own, PersonErased.event_type}


def test_every_station_event_has_a_writer() -> None:
    assert station.WRITERS.event_types == {m.event_type for m in STATION.models} | {
        PersonErased.event_type
    }


def test_the_read_models_holding_personal_copies_follow_erasures() -> None:
    for projection in (
        residents.ResidentsProjection(),
        disputes.DisputesProjection(),
        station.StationProjection(),
        volunteering.VolunteeringProjection(),
    ):
        assert CATALOG in projection.catalogs, projection.name
    for writers in (WRITERS, disputes.WRITERS, station.WRITERS, volunteering.WRITERS):
        assert PersonErased.event_type in writers


def test_every_governance_event_has_a_writer() -> None:
    assert governance.WRITERS.event_types == {m.event_type for m in GOVERNANCE.models}


def test_every_work_item_event_makes_a_history_entry() -> None:
    items = {m for m in GOVERNANCE.models if "item_id" in m.model_fields}
    assert set(governance.HISTORY) == items


def test_area_rows_name_the_node_itself_at_its_level() -> None:
    community, grid = uuid.uuid4(), uuid.uuid4()
    event = AreaCreated(
        area_id=grid,
        kind=AreaKind.GRID,
        name="一网格",
        parent_id=community,
        path=AreaPath(community_id=community),
    )
    envelope = envelope_of(event, source="registry", subject=f"area-{grid}", actor=Actor(id="t"))
    [writer] = WRITERS[event.event_type]
    [row] = writer.rows(envelope, event)
    assert row[4:8] == (community, grid, None, None)
    params = {int(n) for n in re.findall(r"\$(\d+)", writer.sql)}
    assert max(params) == len(row)
