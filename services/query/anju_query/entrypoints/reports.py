"""The query API's printable report: a community's figures for a period, a chart per pillar and
the records behind every figure, as PDF or HTML (``anju_query.application.report``).

For the community's directors (and admins): ``read_report``. A community the caller's areas do
not reach does not exist for them (404 ``community_not_found``); the sensitive records its
appendix lists are audited reads, as on the dashboard's drill-downs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from anju_query.application.config import QueryConfig
from anju_query.application.permissions import READ_REPORT
from anju_query.application.report import community_report
from anju_query.application.report_html import report_html
from anju_query.application.report_pdf import report_pdf
from anju_query.application.scope import Scope
from anju_query.entrypoints.dashboard import From, To, record_audited_reads
from anju_query.entrypoints.http import NowDep, check_range, query_router, scope_for
from eventkit.app import CONFIG, RuntimeDep
from eventkit.http import ErrorBody

ReportScope = Annotated[Scope, Depends(scope_for(READ_REPORT))]
Config = Annotated[QueryConfig, CONFIG]

router = query_router()

_FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report: an A4 PDF, or one self-contained printable HTML page.",
        "content": {
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            "text/html": {"schema": {"type": "string"}},
        },
    },
    404: {
        "model": ErrorBody,
        "description": "No such community, or none the caller's areas reach.",
    },
}


@router.get("/reports/community", tags=["reports"], response_class=Response, responses=_FILES)
async def get_community_report(
    request: Request,
    runtime: RuntimeDep,
    scope: ReportScope,
    config: Config,
    now: NowDep,
    community_id: Annotated[UUID, Query(description="the community the report is of")],
    from_date: From,
    to_date: To,
    report_format: Annotated[
        Literal["pdf", "html"],
        Query(alias="format", description="`pdf` (A4) or `html` (a printable page)"),
    ] = "pdf",
) -> Response:
    """The community's report for the period, in Chinese: the title with the community's name
    and the period; every figure of the dashboard with its value and groups, and the rates (as
    percentages; satisfaction out of 5); a chart per pillar (the station's receptions and
    services per month and services by type, disputes resolved by tier and per month, health
    activities, volunteer hours, work items closed on time and late); and the records behind
    each figure (day, label, group), at most ``report_appendix_rows`` of each, with how many
    more. Every number is the dashboard's for the same period."""
    check_range(from_date, to_date)
    async with runtime.pool.acquire() as conn:
        audited, report = await community_report(
            conn,
            scope,
            community_id,
            from_date,
            to_date,
            threshold=config.dashboard_suppression_threshold,
            appendix_rows=config.report_appendix_rows,
            now=now,
        )
        await record_audited_reads(conn, request, scope, audited)
    name = f"report-{community_id}-{from_date.isoformat()}-{to_date.isoformat()}.{report_format}"
    headers = {"Content-Disposition": f'inline; filename="{name}"'}
    if report_format == "html":
        page = await run_in_threadpool(report_html, report)
        return Response(page, media_type="text/html; charset=utf-8", headers=headers)
    pdf = await run_in_threadpool(report_pdf, report)
    return Response(pdf, media_type="application/pdf", headers=headers)
