from datetime import UTC, datetime
from uuid import uuid4

from anju_contracts.mediation import Category, ConflictSignalReported, Location, ReporterRole
from anju_contracts.registry import AreaKind, AreaPath
from anju_mediation.domain import errors, signals
from eventkit.testing.deciders import then_raises

NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
C = uuid4()
REPORTED = ConflictSignalReported(
    signal_id=uuid4(),
    reporter_id="gw-1",
    reporter_role=ReporterRole.GRID_WORKER,
    location=Location(area_id=C, kind=AreaKind.COMMUNITY, path=AreaPath(community_id=C)),
    category=Category.PARKING,
    description="cars on the fire lane",
    reported_at=NOW,
)


def test_a_signal_is_dismissed_or_converted_once() -> None:
    signal = signals.fold([REPORTED])
    assert signal is not None
    converted = signals.convert(signal, dispute_id=uuid4())
    after = signals.fold([REPORTED, *converted])
    assert after is not None
    assert after.status == signals.SignalStatus.CONVERTED
    then_raises(errors.SignalAlreadyHandled, signals.dismiss, after, reason="calm again")
