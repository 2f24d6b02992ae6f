"""SMART on FHIR scope strings, v1 (``patient/Observation.read``) and v2 (``patient/Observation.rs``).

CDS Hooks 3.0 moved ``fhirAuthorization.scope`` to SMART v2 syntax (its one breaking change);
2.0 clients send v1. Both are parsed so the service can tell, before fetching, that a token
cannot read what it needs.
"""

from __future__ import annotations

import re

_SCOPE = re.compile(r"^(patient|user|system)/(\*|[A-Za-z]+)\.(\*|read|write|[cruds]+)(\?.*)?$")


def scope_allows_read(scope: str | None, resource_type: str) -> bool | None:
    """True/False when the scope string says; None when there is no scope to judge by."""
    if not scope or not scope.strip():
        return None
    saw_resource_scope = False
    for item in scope.split():
        match = _SCOPE.match(item)
        if not match:
            continue
        saw_resource_scope = True
        _, scoped_type, permission, _ = match.groups()
        if scoped_type not in ("*", resource_type):
            continue
        if permission in ("*", "read") or ("r" in permission and permission not in ("write",)):
            return True
    return False if saw_resource_scope else None
