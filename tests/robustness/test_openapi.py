"""The OpenAPI 3.1 description (`GET /openapi.json`): in step with the code, and fuzzed with schemathesis.

- Its paths and methods are exactly the Flask routes (HEAD and OPTIONS aside: Flask and CORS answer
  those for every route), and its service-id enum is exactly the declared services.
- schemathesis generates requests from it for every operation, both conforming (positive) and
  breaking it (negative), and calls the app through WSGI. Every answer must be documented: a status
  listed for the operation, a declared content type, a body valid against the response schema, and
  never a 5xx (except the documented 503s, which a healthy store never gives). Bounded: a few dozen
  examples per operation and mode.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from cds_service.http.app import create_app
from cds_service.protocol.openapi import OPENAPI_PATH, UNDOCUMENTED_ROUTES
from cds_service.services import REGISTRY
from tests.robustness.contract import assert_no_internal_detail, robustness_settings

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 60
_FLASK_PARAMETER = re.compile(r"<(?:[a-z]+:)?([A-Za-z_]+)>")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    database = tmp_path_factory.mktemp("openapi") / "nbcds.sqlite3"
    # A generated fhirServer is never contacted: only a closed loopback port is on the allow-list.
    yield create_app(robustness_settings(database, fhir_server_allowlist=["http://127.0.0.1:9"]))


@pytest.fixture(scope="module")
def document(app: Flask) -> dict[str, Any]:
    response = app.test_client().get(OPENAPI_PATH)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_document_is_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"]
    schemathesis.openapi.from_dict(document)  # refs resolve, the document loads


def test_paths_and_methods_are_the_flask_routes(app: Flask, document: dict[str, Any]) -> None:
    routes = {(_FLASK_PARAMETER.sub(r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules()
              for method in rule.methods or ()
              if method not in ("HEAD", "OPTIONS")}
    documented = {(path, method) for path, operations in document["paths"].items()
                  for method in operations if method in ("get", "post", "put", "patch", "delete")}

    def shape(items: set[tuple[str, str]]) -> set[tuple[str, str]]:  # parameter names may differ
        return {(re.sub(r"{[^}]+}", "{}", path), method) for path, method in items}

    assert shape(routes) >= shape(set(UNDOCUMENTED_ROUTES)), "an excluded route no longer exists"
    assert shape(documented) == shape(routes) - shape(set(UNDOCUMENTED_ROUTES)), \
        "openapi.json and the Flask routes disagree"


def test_service_ids_are_the_declared_services(app: Flask, document: dict[str, Any]) -> None:
    declared = [service.id for service in REGISTRY]
    for path in ("/cds-services/{id}", "/cds-services/{id}/feedback"):
        parameter = next(p for p in document["paths"][path]["post"]["parameters"] if p["in"] == "path")
        assert parameter["schema"]["enum"] == declared, path
    discovered = [entry["id"] for entry in app.test_client().get("/cds-services").get_json()["services"]]
    assert discovered == declared


def _operations(app: Flask) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi(OPENAPI_PATH, app)
    return [result.ok() for result in schema.get_all_operations()]


OPERATIONS = [
    ("GET", "/cds-services"), ("POST", "/cds-services/{id}"), ("POST", "/cds-services/{id}/feedback"),
    ("GET", "/"), ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
    ("GET", "/app/Questionnaire/idrf-worksheet"), ("POST", "/app/QuestionnaireResponse/$extract"),
]  # schemathesis leaves out the path it loaded the document from; test_document_is_openapi_3_1 covers it


# Negative examples only where there is something to break: a path parameter or a body.
RUNS = [(method, path, mode) for method, path in OPERATIONS
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if mode is GenerationMode.POSITIVE or method == "POST"]


@pytest.mark.parametrize(("method", "path", "mode"), RUNS, ids=[f"{m} {p} {g.value}" for m, p, g in RUNS])
def test_schemathesis(app: Flask, method: str, path: str, mode: GenerationMode) -> None:
    operation = next(op for op in _operations(app) if op.method.upper() == method and op.path == path)
    seen: set[int] = set()

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call()
        seen.add(response.status_code)
        case.validate_response(response, checks=CHECKS)
        assert_no_internal_detail(response.content)

    run()
    print(f"{method} {path} {mode.value}: statuses {sorted(seen)}")
    assert seen, "no request was made"
    assert 500 not in seen


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_undocumented_methods_are_a_405_with_allow(app: Flask, document: dict[str, Any], method: str) -> None:
    for path, operations in document["paths"].items():
        if method.lower() in operations:
            continue
        url = path.replace("{id}", "neuroblastoma-staging")
        response = app.test_client().open(url, method=method)
        assert response.status_code == 405, (method, url)
        allowed = {m.strip() for m in response.headers.get("Allow", "").split(",")}
        assert {m.upper() for m in operations} <= allowed, (method, url, allowed)
        assert response.get_json()["resourceType"] == "OperationOutcome"
