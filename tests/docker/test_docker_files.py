"""No Docker engine runs here: check what can be checked without one — the files parse and agree.

The proxy configuration itself runs in tests/integration/test_nginx_proxy.py (a real nginx from Debian).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tests.support.nginx import TEMPLATE, render

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


def compose() -> dict[str, Any]:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_compose_file_parses_and_wires_the_service_to_postgres_and_hapi() -> None:
    services = compose()["services"]
    assert {"proxy", "nbcds", "postgres", "hapi", "hapi-loader"} <= set(services)
    nbcds = services["nbcds"]
    assert nbcds["build"]["dockerfile"] == "docker/Dockerfile"
    assert (DOCKER / nbcds["build"]["context"] / nbcds["build"]["dockerfile"]).resolve().is_file()
    assert nbcds["environment"]["NBCDS_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "postgres" in nbcds["depends_on"]
    for volume in services["hapi-loader"]["volumes"]:
        source = volume.split(":", 1)[0]
        assert (DOCKER / source).resolve().exists(), source


def test_the_service_is_reached_only_through_the_proxy() -> None:
    services = compose()["services"]
    nbcds, proxy = services["nbcds"], services["proxy"]
    assert "ports" not in nbcds  # gunicorn is never published: it is not a buffering server
    assert nbcds["expose"] == ["8080"]
    assert proxy["image"].startswith("nginx:")  # the official image renders /etc/nginx/templates/*.template
    [template] = [v for v in proxy["volumes"] if v.split(":")[1].startswith("/etc/nginx/templates/")]
    assert (DOCKER / template.split(":")[0]).resolve() == TEMPLATE
    assert proxy["environment"]["NBCDS_UPSTREAM"] == "nbcds:8080"
    public = proxy["environment"]["NGINX_PORT"]
    assert proxy["ports"] == [f"127.0.0.1:8080:{public}"]
    assert nbcds["environment"]["NBCDS_PUBLIC_BASE_URL"] == "http://localhost:8080"  # the proxy's URL: the audience


def test_the_development_profile_is_never_published_beyond_loopback() -> None:
    services = compose()["services"]
    assert services["nbcds"]["environment"]["NBCDS_PROFILE"] == "development"
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    allowlist = json.loads(services["nbcds"]["environment"]["NBCDS_FHIR_SERVER_ALLOWLIST"])
    assert allowlist  # even the demo does not fetch from any URL a caller names


def test_the_proxy_template_bounds_slow_clients_and_hides_operational_routes() -> None:
    text = TEMPLATE.read_text()
    rendered = render(text, {"NGINX_PORT": "8080", "NGINX_TLS_PORT": "8443", "NGINX_TLS_DIR": "/etc/nginx/tls",
                             "NBCDS_UPSTREAM": "nbcds:8080"})
    assert "${" not in rendered
    for directive in ("server_tokens off;", "client_header_timeout", "client_body_timeout", "proxy_request_buffering on;",
                      "location = /metrics", "location = /readyz", "client_max_body_size"):
        assert directive in rendered, directive
    limit = re.search(r"client_max_body_size (\d+)m;", rendered)
    assert limit and int(limit.group(1)) * 1_000_000 > 5_000_000  # the service answers its own 413 (5 MB default)


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
    for bundle in (ROOT / "examples" / "fhir").glob("*.json"):
        assert json.loads(bundle.read_text())["type"] == "transaction", bundle.name
