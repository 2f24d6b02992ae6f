"""Errors as FHIR OperationOutcome bodies: every 4xx/5xx the service sends carries one (CDS Hooks 3.0 H5)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify


class CdsHttpError(Exception):
    """An error the HTTP layer turns into a status code and an OperationOutcome."""

    def __init__(self, status: int, code: str, diagnostics: str, expression: list[str] | None = None) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.expression = expression or []


def operation_outcome(code: str, diagnostics: str, expression: list[str] | None = None,
                      severity: str = "error") -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def error_response(status: int, code: str, diagnostics: str, expression: list[str] | None = None) -> Response:
    response = jsonify(operation_outcome(code, diagnostics, expression))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def bad_request(diagnostics: str, *expression: str) -> CdsHttpError:
    return CdsHttpError(400, "invalid", diagnostics, list(expression))


def precondition_failed(diagnostics: str, *keys: str) -> CdsHttpError:
    return CdsHttpError(412, "processing", diagnostics, [f"prefetch.{key}" for key in keys])
