"""No Docker engine runs here: check what can be checked without one — the files parse and agree."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


def test_compose_file_parses_and_wires_the_service_to_postgres_and_hapi() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert {"nbcds", "postgres", "hapi", "hapi-loader"} <= set(services)
    nbcds = services["nbcds"]
    assert nbcds["build"]["dockerfile"] == "docker/Dockerfile"
    assert (DOCKER / nbcds["build"]["context"] / nbcds["build"]["dockerfile"]).resolve().is_file()
    assert nbcds["environment"]["NBCDS_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "postgres" in nbcds["depends_on"]
    for volume in services["hapi-loader"]["volumes"]:
        source = volume.split(":", 1)[0]
        assert (DOCKER / source).resolve().exists(), source


def test_dockerfile_runs_as_non_root_with_a_healthcheck_and_copies_existing_paths() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^USER\s+nbcds\b", text, re.MULTILINE)
    assert "HEALTHCHECK" in text and "/healthz" in text
    for source in re.findall(r"^COPY\s+(?!--from)(\S+)", text, re.MULTILINE):
        assert (ROOT / source).exists(), source
    assert 'CMD ["nbcds", "serve"]' in text


def test_example_loader_only_posts_transaction_bundles() -> None:
    script = (DOCKER / "hapi" / "load-examples.sh").read_text()
    assert "/examples/*.json" in script
    import json

    for bundle in (ROOT / "examples" / "fhir").glob("*.json"):
        assert json.loads(bundle.read_text())["type"] == "transaction", bundle.name
