"""Errors as FHIR OperationOutcome bodies: every 4xx/5xx the service sends carries one (CDS Hooks 3.0 H5).

Framework-free: the HTTP layer turns a ``CdsError`` into a response, the CLI into a line. Diagnostics
are bounded and written by this code: a value from the request is never echoed into them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_DIAGNOSTICS = 300
MAX_EXPRESSION = 120


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class CdsError(Exception):
    """An answer other than 200: its status, FHIR issue code, diagnostics and the fields it is about."""

    def __init__(self, status: int, code: str, diagnostics: str, expression: list[str] | None = None) -> None:
        self.status = status
        self.code = code
        self.diagnostics = _bounded(diagnostics, MAX_DIAGNOSTICS)
        self.expression = [_bounded(item, MAX_EXPRESSION) for item in (expression or [])[:20]]
        super().__init__(self.diagnostics)

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.code, self.diagnostics, self.expression)


class Issue(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    severity: Literal["fatal", "error", "warning", "information"]
    code: str = Field(pattern=r"^[a-z][a-z-]*$")
    diagnostics: str | None = None
    expression: list[str] | None = Field(default=None, min_length=1)


class OperationOutcome(BaseModel):
    """The FHIR R4 OperationOutcome every error answer carries (the members this service writes)."""

    model_config = ConfigDict(frozen=True, extra="forbid", title="OperationOutcome")

    resource_type: Literal["OperationOutcome"] = Field(default="OperationOutcome", alias="resourceType")
    issue: list[Issue] = Field(min_length=1)


def operation_outcome(code: str, diagnostics: str, expression: list[str] | None = None,
                      severity: str = "error") -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def bad_request(diagnostics: str, *expression: str) -> CdsError:
    return CdsError(400, "invalid", diagnostics, list(expression))


def not_found(diagnostics: str) -> CdsError:
    return CdsError(404, "not-found", diagnostics)


def precondition_failed(diagnostics: str, *keys: str) -> CdsError:
    """412: essential prefetch data could not be obtained (CDS Hooks 2.0 P5), naming the keys."""
    return CdsError(412, "processing", diagnostics, [f"prefetch.{key}" for key in keys])
