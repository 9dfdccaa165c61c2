from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from pydantic import SecretStr

from anju_registry.domain.retention import Rule
from anju_registry.settings import RegistrySettings


def settings() -> RegistrySettings:
    return RegistrySettings(database_url="postgresql://x/registry", jwt_secret=SecretStr("s" * 32))


def test_retention_periods_and_a_communitys_own_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    strict, lenient = uuid4(), uuid4()
    monkeypatch.setenv("ANJU_REGISTRY_RETENTION__DECEASED_DAYS", "3650")
    monkeypatch.setenv(
        "ANJU_REGISTRY_RETENTION__COMMUNITIES",
        f'{{"{strict}": {{"moved_out_days": 365}}, "{lenient}": {{"deceased_days": 30}}}}',
    )
    retention = settings().retention.retention

    other = uuid4()
    assert retention.days_for(Rule.MOVED_OUT, other) == 1826  # the default: five years
    assert retention.days_for(Rule.DECEASED, other) == 3650
    assert retention.days_for(Rule.MOVED_OUT, strict) == 365
    assert retention.days_for(Rule.DECEASED, strict) == 3650  # not set there: the default
    assert retention.days_for(Rule.DECEASED, lenient) == 30
    assert retention.erase_at(Rule.MOVED_OUT, strict, date(2024, 2, 29)) == datetime(
        2025, 2, 28, tzinfo=UTC
    )
    assert "moved out on 2024-02-29, kept 365 days" in retention.reason(
        Rule.MOVED_OUT, strict, date(2024, 2, 29)
    )


def test_a_period_must_be_a_positive_number_of_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ANJU_REGISTRY_RETENTION__COMMUNITIES", f'{{"{uuid4()}": {{"moved_out_days": 0}}}}'
    )
    with pytest.raises(ValueError, match="moved_out_days"):
        settings()
