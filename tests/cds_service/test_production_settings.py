"""Production refuses to start misconfigured; development stays on loopback (issue 16, finding 5).

Before, a production instance with no trusted issuer started without a word and ``/readyz`` said ready while
every call got 401; with no allow-list it fetched from whatever ``fhirServer`` a caller named (127.0.0.1 and
127.0.0.2 included). ``Settings.production_problems()`` lists what is missing; ``nbcds serve`` and the WSGI
entry point refuse to start with any (tests/integration/test_served_resilience.py runs the real command).
"""

from __future__ import annotations

import importlib
import json
import sys

import pytest

from cds_service.settings import ProductionConfigError, Settings, require_complete_production
from tests.cds_service.client_simulator import TEST_AUDIT_HASH_KEY, trusted_issuers_setting

COMPLETE = {
    "profile": "production",
    "public_base_url": "https://cds.example.org",
    "trusted_issuers": trusted_issuers_setting(),
    "fhir_server_allowlist": ["https://ehr.example.org"],
    "audit_hash_key": TEST_AUDIT_HASH_KEY,
    "database_url": "sqlite://",
}


@pytest.fixture(autouse=True)
def no_nbcds_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("NBCDS_"):
            monkeypatch.delenv(name)


def test_a_complete_production_configuration_has_no_problems() -> None:
    settings = Settings(**COMPLETE)
    assert settings.production_problems() == []
    require_complete_production(settings)


@pytest.mark.parametrize(("change", "named"), [
    ({"public_base_url": None}, "NBCDS_PUBLIC_BASE_URL"),
    ({"public_base_url": "http://cds.example.org"}, "NBCDS_PUBLIC_BASE_URL is not https"),
    ({"trusted_issuers": "[]"}, "NBCDS_TRUSTED_ISSUERS"),
    ({"fhir_server_allowlist": []}, "NBCDS_FHIR_SERVER_ALLOWLIST"),
    ({"audit_hash_key": None}, "NBCDS_AUDIT_HASH_KEY"),
    ({"audit_hash_key": "short"}, "NBCDS_AUDIT_HASH_KEY"),
], ids=["no-base-url", "http-base-url", "no-issuers", "no-allowlist", "no-hash-key", "short-hash-key"])
def test_each_missing_piece_is_named(change: dict[str, object], named: str) -> None:
    settings = Settings(**{**COMPLETE, **change})
    [problem] = settings.production_problems()
    assert named in problem
    with pytest.raises(ProductionConfigError, match=named):
        require_complete_production(settings)


def test_production_defaults_are_all_problems_reported_at_once() -> None:
    problems = Settings().production_problems()
    assert len(problems) == 4, problems


def test_the_fhir_id_mode_needs_no_hash_key() -> None:
    assert Settings(**{**COMPLETE, "audit_hash_key": None, "audit_patient_id": "fhir-id"}).production_problems() == []


def test_development_has_no_production_problems_and_binds_loopback_by_default() -> None:
    settings = Settings(profile="development")
    assert settings.production_problems() == []
    assert settings.host == "127.0.0.1" and settings.binds_loopback
    assert settings.patient_id_in_audit == "fhir-id"
    assert Settings().patient_id_in_audit == "keyed-hash"  # production's default


def test_the_public_base_url_must_be_an_absolute_url() -> None:
    for bad in ("cds.example.org", "https://user:pw@cds.example.org", "https://cds.example.org/?x=1", "ftp://x"):
        with pytest.raises(ValueError, match="absolute http"):
            Settings(public_base_url=bad)
    assert Settings(public_base_url="https://cds.example.org/base/").public_base_urls == ("https://cds.example.org/base",)


def test_the_wsgi_entry_point_refuses_an_incomplete_production_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBCDS_PROFILE", "production")
    monkeypatch.setenv("NBCDS_DATABASE_URL", "sqlite://")
    sys.modules.pop("cds_service.wsgi", None)
    with pytest.raises(ProductionConfigError, match="NBCDS_TRUSTED_ISSUERS"):
        importlib.import_module("cds_service.wsgi")
    for name, value in COMPLETE.items():
        monkeypatch.setenv(f"NBCDS_{name.upper()}", json.dumps(value) if isinstance(value, list) else str(value))
    sys.modules.pop("cds_service.wsgi", None)
    module = importlib.import_module("cds_service.wsgi")
    try:
        assert module.application.extensions["nbcds"].problems == ()
    finally:
        module.application.extensions["nbcds"].close()
        sys.modules.pop("cds_service.wsgi", None)


def test_every_setting_is_documented() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    undocumented = [name for name in Settings.model_fields if f"`NBCDS_{name.upper()}`" not in text]
    assert not undocumented, f"add these to docs/configuration.md: {undocumented}"
