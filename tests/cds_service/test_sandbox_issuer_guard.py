"""Production refuses to trust the public CDS Hooks sandbox, however it is configured (issue 17).

``NBCDS_TRUST_SANDBOX_ISSUER`` was already refused in production; an entry for the sandbox's ``iss`` written into
``NBCDS_TRUSTED_ISSUERS`` (to add an audience, as a MELD or sandbox recipe might) was not, although its private key
is just as public.
"""

from __future__ import annotations

import json

from cds_service.auth.trusted_issuers import SANDBOX_ISSUER, SANDBOX_JWKS_PATH
from cds_service.settings import PUBLIC_SANDBOX_ISSUER, Settings

COMPLETE = {"profile": "production", "public_base_url": "https://cds.hospital.example",
            "fhir_server_allowlist": ["https://fhir.hospital.example"], "audit_hash_key": "k" * 48}


def issuers(*names: str) -> str:
    return json.dumps([{"issuer": name, "jwks_file": str(SANDBOX_JWKS_PATH)} for name in names])


def test_the_guard_names_the_same_issuer_as_the_verifier() -> None:
    assert PUBLIC_SANDBOX_ISSUER == SANDBOX_ISSUER


def test_production_lists_an_explicit_sandbox_issuer_as_a_problem() -> None:
    for name in (SANDBOX_ISSUER, SANDBOX_ISSUER + "/"):
        problems = Settings(**COMPLETE, trusted_issuers=issuers("https://ehr.hospital.example", name))
        assert any("public CDS Hooks sandbox" in p for p in problems.production_problems()), name
    assert Settings(**COMPLETE, trusted_issuers=issuers("https://ehr.hospital.example")).production_problems() == []


def test_development_may_still_use_it() -> None:
    assert Settings(profile="development", trusted_issuers=issuers(SANDBOX_ISSUER)).production_problems() == []
