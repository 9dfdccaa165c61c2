"""Exports: every board and figure of the query API as CSV or XLSX, by one route class.

A route of a router built with ``route_class=Exportable`` whose answer is a board (a read model
with ``items``, paged by ``limit`` and ``offset``) or a table (a read model with
``export_rows()``, as the dashboard) also answers as a file: asked with ``?format=csv`` or
``?format=xlsx``, or with ``Accept: text/csv`` or the XLSX media type. JSON stays the default.

The route itself answers, as it does in JSON — the same dependencies check the caller's role
and scope, the same handler audits the sensitive records it lists — but for every item its
filters select, not one page: ``limit`` becomes the bound ``export_max_rows`` (a setting) and
``offset`` 0. A board of more items than that is refused, 413 ``export_too_large``: narrow the
filters. (The records the handler read before that answer are audited as read: the audit errs
towards recording too much, never too little.)

A format it does not know is a 400 ``unknown_format``; an ``Accept`` header that allows none of
JSON, CSV and XLSX is a 406 ``not_acceptable``. The file comes as an attachment named after the
route and its period (``dashboard-figures-receptions-2025-03-01-2025-03-31.csv``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated, Any, Protocol, get_args, get_type_hints, runtime_checkable

from fastapi import Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from anju_query.application.config import QueryConfig
from anju_query.application.tables import Table, records_of, to_csv, to_xlsx
from eventkit.errors import DomainError, Invalid, Kind
from eventkit.http import ErrorBody, error_body

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]


_MEDIA_TYPES = {
    ExportFormat.JSON: "application/json",
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: XLSX_MEDIA_TYPE,
}
_ACCEPTED = {
    "application/json": ExportFormat.JSON,
    "application/*": ExportFormat.JSON,
    "*/*": ExportFormat.JSON,
    "text/csv": ExportFormat.CSV,
    XLSX_MEDIA_TYPE: ExportFormat.XLSX,
}


class UnknownFormat(Invalid):
    code = "unknown_format"


class ExportTooLarge(DomainError):
    kind = Kind.TOO_LARGE
    code = "export_too_large"


class NotAcceptable(Exception):
    """An ``Accept`` header that allows nothing the route writes."""


@runtime_checkable
class Tabular(Protocol):
    """A read model that is exported as the rows it names (the dashboard: one per figure)."""

    def export_rows(self) -> list[dict[str, Any]]: ...


def negotiate(given: str | None, accept: str | None) -> ExportFormat:
    """The format asked for: ``?format=`` first, else the best type ``Accept`` allows."""
    if given is not None:
        try:
            return ExportFormat(given.strip().lower())
        except ValueError:
            raise UnknownFormat(
                "no such format", format=given[:20], formats=[f.value for f in ExportFormat]
            ) from None
    if not accept:
        return ExportFormat.JSON
    ranges: list[tuple[float, int, str]] = []
    for n, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges.append((-q, n, media.lower()))
    for minus_q, _, media in sorted(ranges):
        if minus_q < 0 and media in _ACCEPTED:
            return _ACCEPTED[media]
    raise NotAcceptable(accept)


def _filename(request: Request, fmt: ExportFormat) -> str:
    parts = [request.url.path.strip("/").replace("/", "-") or "export"]
    parts += [request.query_params[k] for k in ("from", "to") if request.query_params.get(k)]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", "-".join(parts))[:120]
    return f"{name}.{fmt.value}"


def _render(table: Table, fmt: ExportFormat, title: str) -> bytes:
    return to_csv(table) if fmt is ExportFormat.CSV else to_xlsx(table, title)


def _item_model(answer: type[BaseModel]) -> type[BaseModel] | None:
    field = answer.model_fields.get("items")
    if field is None:
        return None
    args = get_args(field.annotation)
    item = args[0] if len(args) == 1 else None
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None


def _exporting(endpoint: Callable[..., Awaitable[Any]], answer: type[Any], paged: bool) -> Any:
    """``endpoint``, answering files too (see the module's docstring)."""
    signature = inspect.signature(endpoint, eval_str=True)
    item_model = _item_model(answer) if paged else None

    # FastAPI hands a route one request parameter: the endpoint's own, if it takes one.
    own_request = next(
        (p.name for p in signature.parameters.values() if p.annotation is Request), None
    )
    request_name = own_request or "export_request"

    async def exporting(*, export_format: str | None, **kwargs: Any) -> Any:
        export_request: Request = kwargs[request_name]
        if own_request is None:
            del kwargs[request_name]
        try:
            fmt = negotiate(export_format, export_request.headers.get("accept"))
        except NotAcceptable:
            return JSONResponse(
                error_body(
                    "not_acceptable",
                    "this route answers JSON, CSV or XLSX",
                    {"types": sorted(_ACCEPTED)},
                ),
                status_code=406,
            )
        if fmt is ExportFormat.JSON:
            return await endpoint(**kwargs)
        config: QueryConfig = export_request.app.state.config
        bound = config.export_max_rows
        if paged:
            kwargs.update(limit=bound + 1, offset=0)
        result = await endpoint(**kwargs)
        if paged:
            total = int(getattr(result, "total", len(result.items)))
            if total > bound:
                raise ExportTooLarge(
                    "more records than an export holds: narrow the filters (a shorter period, "
                    "one area, a status)",
                    records=total,
                    max_rows=bound,
                )
            table = Table.of(records_of(result.items), item_model)
        else:
            table = Table.of(result.export_rows(), None)
        title = export_request.url.path.strip("/").replace("/", "-")
        body = await run_in_threadpool(_render, table, fmt, title)
        filename = _filename(export_request, fmt)
        return Response(
            body,
            media_type=fmt.media_type,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    extra = [
        inspect.Parameter(
            "export_format",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                str | None,
                Query(
                    alias="format",
                    max_length=20,
                    description="`csv` or `xlsx` for a file of every item the filters select "
                    "(not one page); `json` (the default). `Accept: text/csv` or the XLSX "
                    "media type asks the same.",
                    json_schema_extra={"enum": [f.value for f in ExportFormat]},
                ),
            ],
        ),
    ]
    if own_request is None:
        extra.append(
            inspect.Parameter(request_name, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
        )
    exporting.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), *extra]
    )
    exporting.__name__ = endpoint.__name__
    exporting.__qualname__ = endpoint.__qualname__
    exporting.__doc__ = endpoint.__doc__
    exporting.__module__ = endpoint.__module__
    return exporting


EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        }
    },
    406: {"model": ErrorBody, "description": "`Accept` allows none of JSON, CSV and XLSX."},
    413: {
        "model": ErrorBody,
        "description": "An export of more records than `export_max_rows`: narrow the filters.",
    },
}


def _exportable(endpoint: Callable[..., Any]) -> tuple[type[Any], bool] | None:
    """What ``endpoint`` answers and whether it is paged, when that can be exported."""
    answer = get_type_hints(endpoint).get("return")
    if not isinstance(answer, type) or not issubclass(answer, BaseModel):
        return None
    parameters = inspect.signature(endpoint).parameters
    if "items" in answer.model_fields and {"limit", "offset"} <= parameters.keys():
        return answer, True
    if issubclass(answer, Tabular):
        return answer, False
    return None


class Exportable(APIRoute):
    """A route that answers CSV and XLSX as well as JSON when it lists a board or a table."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        shape = _exportable(endpoint)
        if shape is not None:
            endpoint = _exporting(endpoint, *shape)
            kwargs["responses"] = {**EXPORT_RESPONSES, **(kwargs.get("responses") or {})}
        super().__init__(path, endpoint, **kwargs)
