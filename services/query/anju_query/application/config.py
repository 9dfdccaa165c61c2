"""What the read models take from the settings; ``create_app`` builds it once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class QueryConfig:
    active_volunteer_monthly_hours: float = 8.0
    """An *active volunteer* averaged at least this many approved hours a month over the
    last 12 months."""
    dashboard_suppression_threshold: int = 5
    """Smaller counts of sensitive groups are suppressed for aggregate-only callers."""
    export_max_rows: int = 50_000
    """The most records one export of a board or figure holds."""
    report_appendix_rows: int = 100
    """The records of each figure listed in the printable report's appendix."""
    reply_risk_window: timedelta = timedelta(hours=24)
    """A 12345 order unanswered this close to its deadline (or past it) is a reply at risk."""
