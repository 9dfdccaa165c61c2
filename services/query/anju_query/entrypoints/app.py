"""The query service's composition root."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from anju_query.application.config import QueryConfig
from anju_query.entrypoints import (
    audit as audit_routes,
    dashboard,
    disputes,
    governance,
    health,
    organisations,
    reports,
    station,
    volunteering,
)
from anju_query.entrypoints.http import router
from anju_query.projections import projections
from anju_query.settings import QuerySettings
from eventkit import audit
from eventkit.app import service_app
from eventkit.commands import Clock, utcnow
from eventkit.runtime import Runtime


def create_app(settings: QuerySettings, *, clock: Clock = utcnow) -> FastAPI:
    """The app; its lifespan starts the pool and the projection runners (no event store).

    ``clock`` is "now" for every answer that depends on it (due and overdue, SLA states, ages).
    """
    runtime = Runtime(settings, catalog=None, ddl=[audit.DDL], projections=projections())
    config = QueryConfig(
        active_volunteer_monthly_hours=settings.active_volunteer_monthly_hours,
        dashboard_suppression_threshold=settings.dashboard_suppression_threshold,
        export_max_rows=settings.export_max_rows,
        report_appendix_rows=settings.report_appendix_rows,
        reply_risk_window=timedelta(hours=settings.hotline_reply_risk_hours),
    )
    routers = [
        router,
        disputes.router,
        health.router,
        organisations.router,
        volunteering.router,
        station.router,
        governance.router,
        dashboard.router,
        reports.router,
        audit_routes.router,
    ]
    app = service_app(runtime, routers, config=config)
    app.state.clock = clock
    return app
