"""Settings of the governance service (environment variables ``ANJU_GOVERNANCE_*``)."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from anju_contracts.governance import MEETING_KIND_PATTERN, MeetingKind
from anju_governance.application.config import Rules
from eventkit.settings import ServiceSettings


class GovernanceSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ANJU_GOVERNANCE_", env_nested_delimiter="__", extra="ignore"
    )

    service: str = "governance"
    port: int = Field(default=8106, ge=1, le=65535)
    meeting_kinds: list[str] = Field(
        default_factory=list,
        max_length=50,
        description='More meeting kinds besides every community\'s, e.g. ["safety_review"]',
    )
    receipt_hours: float = Field(default=48, gt=0, le=24 * 30)
    """How long an owner has to sign for a work item (blue after that)."""
    near_days: float = Field(default=3, gt=0, le=60)
    """How long before the deadline yellow is raised."""
    reopen_days: float = Field(default=30, ge=0, le=366)
    """How long after closing a work item may be reopened."""
    dispute_item_days: float = Field(default=15, gt=0, le=366)
    """The deadline of an escalated dispute's item when its tier has no SLA end."""
    opinion_item_days: float = Field(default=30, gt=0, le=366)
    """The deadline of an item from an opinion the station referred, after the referral."""

    @property
    def kinds(self) -> frozenset[str]:
        return self.kinds_of(self.meeting_kinds)

    @staticmethod
    def kinds_of(configured: list[str]) -> frozenset[str]:
        """Every community's meeting kinds and the ``configured`` ones."""
        extra = {k for k in configured if re.fullmatch(MEETING_KIND_PATTERN, k)}
        return frozenset({*(str(k) for k in MeetingKind), *extra})

    @property
    def rules(self) -> Rules:
        return Rules(
            receipt=timedelta(hours=self.receipt_hours),
            near=timedelta(days=self.near_days),
            reopen_window=timedelta(days=self.reopen_days),
            dispute_days=timedelta(days=self.dispute_item_days),
            opinion_days=timedelta(days=self.opinion_item_days),
        )
