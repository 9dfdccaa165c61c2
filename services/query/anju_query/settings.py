"""Settings of the query service (env prefix ``ANJU_QUERY_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from eventkit.settings import ServiceSettings


class QuerySettings(ServiceSettings):
    """The query service: projections of other services' events and the read API (port 8100)."""

    model_config = SettingsConfigDict(
        env_prefix="ANJU_QUERY_", env_nested_delimiter="__", extra="ignore"
    )

    service: str = "query"
    port: int = 8100
    active_volunteer_monthly_hours: float = Field(default=8.0, gt=0, le=200)
    """An *active volunteer* averaged at least this many approved hours a month over the last
    12 months (``ANJU_QUERY_ACTIVE_VOLUNTEER_MONTHLY_HOURS``; 8 is Sahana's rule)."""
    dashboard_suppression_threshold: int = Field(default=5, ge=1, le=100)
    """Below this many (and above zero), a sensitive group's count on the dashboard is shown
    only to callers who may read its details (``ANJU_QUERY_DASHBOARD_SUPPRESSION_THRESHOLD``)."""
    export_max_rows: int = Field(default=50_000, ge=1, le=1_000_000)
    """The most records one CSV or XLSX export of a board or figure holds; beyond it the export
    is refused (413 ``export_too_large``) until the filters are narrowed
    (``ANJU_QUERY_EXPORT_MAX_ROWS``)."""
    hotline_reply_risk_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    """A dispute whose 12345 work order is still unanswered this many hours before the order's
    deadline (or after it) shows ``reply_at_risk`` on the dispute board
    (``ANJU_QUERY_HOTLINE_REPLY_RISK_HOURS``)."""
    report_appendix_rows: int = Field(default=100, ge=0, le=10_000)
    """The records of each figure the printable report lists in its appendix; more are counted
    ("and N more") (``ANJU_QUERY_REPORT_APPENDIX_ROWS``)."""
