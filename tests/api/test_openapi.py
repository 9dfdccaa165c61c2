"""The OpenAPI documents clients are generated from: every error an operation answers, each with
the body the edge really sends (built without infrastructure: creating an app connects nothing)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from anju_mediation.entrypoints.app import create_app as create_mediation
from anju_mediation.settings import MediationSettings
from anju_query.entrypoints.app import create_app as create_query
from anju_query.settings import QuerySettings
from anju_registry.entrypoints.app import create_app as create_registry
from anju_registry.settings import RegistrySettings

SETTINGS: dict[str, Any] = {
    "database_url": "postgresql://nobody@127.0.0.1:1/none",
    "jwt_secret": SecretStr("openapi-tests-secret-0123456789"),
}
ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
COMMANDS = {"post", "put", "patch", "delete"}
UNAUTHENTICATED = {"/healthz", "/readyz", "/metrics"}


def build(service: str) -> FastAPI:
    if service == "registry":
        return create_registry(RegistrySettings(**SETTINGS))
    if service == "mediation":
        return create_mediation(MediationSettings(**SETTINGS))
    return create_query(QuerySettings(**SETTINGS))


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


@pytest.mark.parametrize("service", ["registry", "mediation", "query"])
def test_every_operation_documents_its_errors_with_the_error_body(service: str) -> None:
    document = build(service).openapi()
    schemas = document["components"]["schemas"]
    assert schemas["ErrorBody"]["properties"]["error"] == {
        "$ref": "#/components/schemas/ErrorDetail"
    }
    assert set(schemas["ErrorDetail"]["required"]) == {"code", "message"}
    assert "HTTPValidationError" not in schemas

    checked = 0
    for method, path, operation in operations(document):
        if path in UNAUTHENTICATED:
            continue
        expected = {"401", "403"}
        if "{" in path or method in COMMANDS:
            expected.add("404")
        if method in COMMANDS:
            expected |= {"409", "413", "422", "503"}
        if operation.get("parameters") or "requestBody" in operation:
            expected.add("422")
        responses = operation["responses"]
        missing = expected - responses.keys()
        assert not missing, f"{method.upper()} {path} does not document {sorted(missing)}"
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == ERROR_REF, f"{method.upper()} {path} {status}: {schema}"
        checked += 1
    assert checked >= 10


def test_commands_document_conflicts_and_reads_do_not() -> None:
    document = build("mediation").openapi()
    paths = document["paths"]
    assert "409" in paths["/disputes/{dispute_id}/sessions"]["post"]["responses"]
    assert "409" not in paths["/disputes/{dispute_id}"]["get"]["responses"]
    assert "413" not in paths["/disputes/{dispute_id}"]["get"]["responses"]


def test_the_accepted_answer_documents_the_sub_entity_id() -> None:
    document = build("mediation").openapi()
    accepted = document["components"]["schemas"]["Accepted"]
    assert set(accepted["required"]) == {"id", "version", "consistency_token"}
    assert "sub_id" in accepted["properties"]


def test_readiness_documents_its_503_and_liveness_no_errors() -> None:
    paths = build("registry").openapi()["paths"]
    assert (
        paths["/readyz"]["get"]["responses"]["503"]["content"]["application/json"]["schema"]
        == ERROR_REF
    )
    assert set(paths["/healthz"]["get"]["responses"]) == {"200"}
