"""The query API's partner organisations: a list by community and kind, and one organisation.

Same rules as every query route: a bearer JWT, read-your-writes by consistency token (a registry
command's token, ``registry:organisation-<id>:<version>``, waits for the ``residents`` read
model), and only organisations serving a community the caller covers. Liaisons' phone numbers
are for directors (and admins) only.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query

from anju_contracts.registry import OrganisationKind
from anju_query.application.models import Page
from anju_query.application.organisations import (
    OrganisationFilter,
    OrganisationItem,
    OrganisationStatus,
    list_organisations,
    organisation,
)
from anju_query.application.permissions import READ_ORGANISATIONS
from anju_query.application.scope import Scope
from anju_query.entrypoints.http import Limit, Offset, query_router, scope_for
from eventkit.app import RuntimeDep
from eventkit.errors import NotFound

OrganisationsScope = Annotated[Scope, Depends(scope_for(READ_ORGANISATIONS))]


class OrganisationNotFound(NotFound):
    code = "organisation_not_found"


router = query_router()


@router.get("/organisations", tags=["organisations"])
async def get_organisations(
    runtime: RuntimeDep,
    scope: OrganisationsScope,
    community_id: Annotated[UUID | None, Query(description="serving this community")] = None,
    kind: OrganisationKind | None = None,
    status: Annotated[
        OrganisationStatus | None, Query(description="`active` unless asked otherwise")
    ] = "active",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[OrganisationItem]:
    """Partner organisations serving a community the caller covers, by name."""
    search = OrganisationFilter(community_id=community_id, kind=kind, status=status)
    async with runtime.pool.acquire() as conn:
        return await list_organisations(conn, scope, search, limit=limit, offset=offset)


@router.get("/organisations/{organisation_id}", tags=["organisations"])
async def get_organisation(
    runtime: RuntimeDep, scope: OrganisationsScope, organisation_id: UUID
) -> OrganisationItem:
    """One partner organisation (retired ones too), with its liaisons."""
    async with runtime.pool.acquire() as conn:
        found = await organisation(conn, scope, organisation_id)
    if found is None:
        raise OrganisationNotFound("no such organisation", organisation_id=str(organisation_id))
    return found
