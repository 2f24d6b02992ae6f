"""No container engine runs here: check what can be checked without one (issue 17) — every compose file, Kubernetes
manifest and template parses, and images, ports, paths and environment agree with each other and with ``Settings``.

The proxy configuration itself runs in tests/integration/test_nginx_proxy.py and test_nginx_tls.py (a real nginx
from Debian).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from cds_service.auth.trusted_issuers import parse_trusted_issuers
from cds_service.http.app import create_app
from cds_service.settings import Settings
from tests.support.nginx import TEMPLATE, render

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
KUBERNETES = DOCKER / "kubernetes"
DEMO, PRODUCTION = "compose.yaml", "compose.production.yaml"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
_INTERPOLATION = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:\?|:-)([^}]*))?\}")


def interpolate(text: str, values: Mapping[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}`` (which must then be given)."""
    def value(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if values.get(name):
            return values[name]
        if operator == ":-":
            return argument
        raise KeyError(f"{name} is required: {argument}")
    return _INTERPOLATION.sub(value, text)


def example_env() -> dict[str, str]:
    """docker/production.env.example, with test values for the secrets it leaves empty."""
    values = {}
    for line in (DOCKER / "production.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value[1:-1] if len(value) > 1 and value[0] == value[-1] == "'" else value
    secrets = {"NBCDS_AUDIT_HASH_KEY": "k" * 48, "NBCDS_APP_SESSION_KEY": "test-fernet-key", "POSTGRES_PASSWORD": "pw"}
    return {**values, **{k: v for k, v in secrets.items() if not values.get(k)}}


def _interpolated(node: Any, values: Mapping[str, str]) -> Any:
    """Compose interpolates the values of the parsed file (never its comments)."""
    if isinstance(node, dict):
        return {key: _interpolated(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolated(value, values) for value in node]
    return interpolate(node, values) if isinstance(node, str) else node


def compose(name: str, values: Mapping[str, str] | None = None) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DOCKER / name).read_text())
    return _interpolated(loaded, values) if values is not None else loaded


def manifests() -> Iterator[dict[str, Any]]:
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") != "Kustomization":
                yield document


def manifest(kind: str) -> dict[str, Any]:
    [found] = [m for m in manifests() if m["kind"] == kind]
    return found


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A clean slate for Settings(): no NBCDS_* from the caller's environment."""
    import os
    for name in [n for n in os.environ if n.startswith("NBCDS_")]:
        monkeypatch.delenv(name)
    yield monkeypatch


def settings_from(variables: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    assert all(name.startswith("NBCDS_") and name[6:].lower() in Settings.model_fields for name in variables), \
        [n for n in variables if n[6:].lower() not in Settings.model_fields]  # no setting that does not exist
    for name, value in variables.items():
        monkeypatch.setenv(name, str(value))
    return Settings()


def nbcds_variables(environment: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in environment.items() if k.startswith("NBCDS_")}


def port_of(url_or_address: str) -> int:
    return int(url_or_address.rsplit(":", 1)[1].split("/")[0].strip("'\""))


def flask_routes() -> set[str]:
    return {rule.rule for rule in create_app(Settings(profile="development", database_url="sqlite://")).url_map
            .iter_rules()}


# ---- every file parses ---------------------------------------------------------------------------

def test_every_compose_file_and_manifest_parses_and_kustomize_names_existing_files() -> None:
    for name in (DEMO, PRODUCTION):
        assert compose(name)["services"]
    kinds = [m["kind"] for m in manifests()]
    assert sorted(kinds) == sorted(["ConfigMap", "Secret", "Deployment", "Service", "Ingress", "NetworkPolicy"])
    for document in manifests():
        assert document["apiVersion"] and document["metadata"]["name"], document
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (KUBERNETES / resource).is_file(), resource
    assert "secret.example.yaml" not in kustomization["resources"]  # real secrets come from a secret store


# ---- production compose -------------------------------------------------------------------------

def test_the_production_compose_starts_a_complete_production_profile(environment: pytest.MonkeyPatch) -> None:
    services = compose(PRODUCTION, example_env())["services"]
    settings = settings_from(nbcds_variables(services["nbcds"]["environment"]), environment)
    assert settings.profile == "production"
    assert settings.production_problems() == []  # nbcds serve would start
    assert parse_trusted_issuers(settings.trusted_issuers)
    assert settings.database_url.startswith("postgresql+psycopg://") and "@postgres:5432/" in settings.database_url


def test_production_refuses_to_start_without_each_required_value() -> None:
    text = json.dumps(compose(PRODUCTION))  # the values, not the comments
    required = {m.group(1) for m in _INTERPOLATION.finditer(text) if m.group(2) == ":?"}
    assert {"NBCDS_PUBLIC_BASE_URL", "NBCDS_TRUSTED_ISSUERS", "NBCDS_FHIR_SERVER_ALLOWLIST", "NBCDS_AUDIT_HASH_KEY",
            "NBCDS_APP_SESSION_KEY", "POSTGRES_PASSWORD", "NBCDS_TLS_DIR"} <= required
    assert required <= set(example_env()), "docker/production.env.example must name every required value"
    for name in required:
        with pytest.raises(KeyError, match=name):
            compose(PRODUCTION, {k: v for k, v in example_env().items() if k != name})


def test_production_publishes_https_only_and_nothing_else() -> None:
    services = compose(PRODUCTION, example_env())["services"]
    proxy = services["proxy"]
    assert [port_of(p) for p in proxy["ports"]] == [int(proxy["environment"]["NGINX_TLS_PORT"])]
    assert proxy["ports"] == [f"443:{proxy['environment']['NGINX_TLS_PORT']}"]
    for name, service in services.items():
        assert name == "proxy" or "ports" not in service, name


def test_production_images_are_pinned_and_every_service_is_health_checked() -> None:
    services = compose(PRODUCTION)["services"]
    assert services["nbcds"]["image"] == f"nbcds:{VERSION}"
    for name, service in services.items():
        assert not service["image"].endswith(":latest") and ":" in service["image"], name
        assert service["healthcheck"]["test"], name
        assert service.get("restart") == "unless-stopped", name
    assert services["proxy"]["depends_on"]["nbcds"]["condition"] == "service_healthy"
    assert services["nbcds"]["depends_on"]["postgres"]["condition"] == "service_healthy"


# ---- both compose files -------------------------------------------------------------------------

@pytest.mark.parametrize("name", [DEMO, PRODUCTION])
def test_ports_agree_between_the_service_the_proxy_and_the_health_checks(
        name: str, environment: pytest.MonkeyPatch) -> None:
    services = compose(name, example_env())["services"]
    nbcds, proxy = services["nbcds"], services["proxy"]
    port = settings_from(nbcds_variables(nbcds["environment"]), environment).port
    assert nbcds["expose"] == [str(port)] and "ports" not in nbcds  # gunicorn is never published
    assert proxy["environment"]["NBCDS_UPSTREAM"] == f"nbcds:{port}"
    assert port_of(re.search(r"http://127\.0\.0\.1:\d+", " ".join(nbcds["healthcheck"]["test"]))[0]) == port  # type: ignore[index]
    proxy_check = " ".join(proxy["healthcheck"]["test"])
    assert f"127.0.0.1:{proxy['environment']['NGINX_PORT']}/healthz" in proxy_check


@pytest.mark.parametrize("name", [DEMO, PRODUCTION])
def test_the_proxy_gets_the_shipped_template_and_its_certificate_directory(name: str) -> None:
    proxy = compose(name, example_env())["services"]["proxy"]
    assert proxy["image"].startswith("nginx:")  # the official image renders /etc/nginx/templates/*.template
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in proxy["volumes"]}
    assert (DOCKER / mounts["/etc/nginx/templates/nbcds.conf.template"]).resolve() == TEMPLATE
    assert proxy["environment"]["NGINX_TLS_DIR"] in mounts
    assert all(volume.endswith(":ro") for volume in proxy["volumes"])
    rendered = render(TEMPLATE.read_text(), {k: str(v) for k, v in proxy["environment"].items()})
    assert "${" not in rendered


# ---- the demo -----------------------------------------------------------------------------------

def test_the_demo_is_the_development_profile_on_loopback_and_answers_the_readme_curl(
        environment: pytest.MonkeyPatch) -> None:
    services = compose(DEMO)["services"]
    settings = settings_from(nbcds_variables(services["nbcds"]["environment"]), environment)
    assert settings.profile == "development" and not settings.jwt_required  # the README's curl gets its card
    assert settings.fhir_server_allowlist  # even the demo does not fetch from any URL a caller names
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    assert services["nbcds"]["image"] == f"nbcds:{VERSION}"


def test_the_demo_makes_its_certificate_where_the_proxy_reads_it() -> None:
    services = compose(DEMO)["services"]
    cert = services["tls-cert"]
    assert cert["command"][:2] == ["nbcds", "tls-cert"]
    [volume] = cert["volumes"]
    name, target = volume.split(":")[:2]
    assert cert["command"][2] == target
    assert f"{name}:{services['proxy']['environment']['NGINX_TLS_DIR']}:ro" in services["proxy"]["volumes"]
    assert services["proxy"]["depends_on"]["tls-cert"]["condition"] == "service_completed_successfully"
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert target in dockerfile and re.search(rf"chown nbcds .*{re.escape(target)}", dockerfile)  # nbcds writes it


def test_the_demo_loads_every_example_patient_with_nbcds_load_examples() -> None:
    services = compose(DEMO)["services"]
    loader = services["load-examples"]
    assert loader["command"][:2] == ["nbcds", "load-examples"]
    assert loader["command"][2] == f"http://hapi:{port_of(services['hapi']['ports'][0])}/fhir"
    [volume] = loader["volumes"]
    source, target = volume.split(":")[:2]
    assert (DOCKER / source).resolve() == ROOT / "examples" / "fhir" and target in loader["command"]
    bundles = list((ROOT / "examples" / "fhir").glob("*.json"))
    assert bundles
    for bundle in bundles:
        assert json.loads(bundle.read_text())["type"] == "transaction", bundle.name


def test_the_demo_fhir_alias_makes_the_browsers_fhir_url_work_inside_the_service(
        environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    services = compose(DEMO)["services"]
    alias, hapi = services["fhir-alias"], services["hapi"]
    assert alias["network_mode"] == "service:nbcds"
    browser_port = int(hapi["ports"][0].split(":")[1])  # 127.0.0.1:<browser port>:8080
    assert alias["environment"]["FHIR_ALIAS_LISTEN"] == f"127.0.0.1:{browser_port}"
    assert alias["environment"]["FHIR_ALIAS_UPSTREAM"] == f"hapi:{hapi['ports'][0].split(':')[2]}"
    settings = settings_from(nbcds_variables(services["nbcds"]["environment"]), environment)
    for setting in (settings.fhir_server_allowlist, settings.allow_tokenless_fhir_servers):
        assert f"http://localhost:{browser_port}" in setting
    [template] = [v.split(":")[0] for v in alias["volumes"] if "templates" in v]
    rendered = render((DOCKER / template).read_text(), {**alias["environment"], "FHIR_ALIAS_UPSTREAM": "127.0.0.1:9"})
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.skip("nginx is not installed")
    (tmp_path / "alias.conf").write_text(rendered)
    (tmp_path / "nginx.conf").write_text(f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; events {{}} "
                                         f"http {{ access_log off; include {tmp_path}/alias.conf; }}")
    checked = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                              "-e", str(tmp_path / "error.log")], capture_output=True, text=True, timeout=30,
                             check=False)
    assert checked.returncode == 0, checked.stderr


# ---- the proxy template and the image ------------------------------------------------------------

def test_the_proxy_template_bounds_slow_clients_hides_operational_routes_and_speaks_modern_tls() -> None:
    rendered = render(TEMPLATE.read_text(), {"NGINX_PORT": "8080", "NGINX_TLS_PORT": "8443",
                                             "NGINX_TLS_DIR": "/etc/nginx/tls", "NBCDS_UPSTREAM": "nbcds:8080"})
    for directive in ("server_tokens off;", "client_header_timeout", "client_body_timeout", "proxy_request_buffering on;",
                      "location = /metrics", "location = /readyz", "client_max_body_size", "listen 8443 ssl;",
                      "ssl_certificate     /etc/nginx/tls/tls.crt;", "ssl_protocols TLSv1.2 TLSv1.3;"):
        assert directive in rendered, directive
    limit = re.search(r"client_max_body_size (\d+)m;", rendered)
    assert limit and int(limit.group(1)) * 1_000_000 > Settings().max_request_bytes  # the service answers its 413


def test_dockerfile_runs_as_non_root_on_the_settings_port_with_a_healthcheck(environment: pytest.MonkeyPatch) -> None:
    text = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^USER\s+nbcds\b", text, re.MULTILINE)
    env_port = re.search(r"NBCDS_PORT=(\d+)", text)
    expose = re.search(r"^EXPOSE\s+(\d+)", text, re.MULTILINE)
    assert env_port and expose and env_port.group(1) == expose.group(1)
    assert "NBCDS_HOST=0.0.0.0" in text  # the container network, for the proxy in front
    assert "HEALTHCHECK" in text and "/healthz" in text and "NBCDS_PORT" in text
    for source in re.findall(r"^COPY\s+(?!--from)(\S+)", text, re.MULTILINE):
        assert (ROOT / source).exists(), source
    assert 'CMD ["nbcds", "serve"]' in text


# ---- Kubernetes ---------------------------------------------------------------------------------

def test_kubernetes_settings_are_a_complete_production_profile(environment: pytest.MonkeyPatch) -> None:
    variables = {**manifest("ConfigMap")["data"], **manifest("Secret")["stringData"]}
    settings = settings_from(nbcds_variables(variables), environment)
    assert settings.profile == "production" and settings.production_problems() == []
    assert parse_trusted_issuers(settings.trusted_issuers)
    assert set(manifest("Secret")["stringData"]) >= {"NBCDS_AUDIT_HASH_KEY", "NBCDS_DATABASE_URL",
                                                      "NBCDS_APP_SESSION_KEY"}  # secrets never in the ConfigMap
    assert not {"NBCDS_AUDIT_HASH_KEY", "NBCDS_DATABASE_URL", "NBCDS_APP_SESSION_KEY", "NBCDS_METRICS_TOKEN"} & set(
        manifest("ConfigMap")["data"])


def test_kubernetes_ports_probes_labels_and_image_agree(environment: pytest.MonkeyPatch) -> None:
    deployment, service = manifest("Deployment"), manifest("Service")
    port = settings_from(nbcds_variables(manifest("ConfigMap")["data"]), environment).port
    pod = deployment["spec"]["template"]
    [container] = pod["spec"]["containers"]
    [container_port] = container["ports"]
    assert container_port == {"name": "http", "containerPort": port}
    assert container["image"] == f"nbcds:{VERSION}"
    assert {c["configMapRef"]["name"] if "configMapRef" in c else c["secretRef"]["name"]
            for c in container["envFrom"]} == {manifest("ConfigMap")["metadata"]["name"],
                                               manifest("Secret")["metadata"]["name"]}
    routes = flask_routes()
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] == "http"
        assert container[probe]["httpGet"]["path"] in routes
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"  # not /readyz: docs/deployment.md
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    [service_port] = service["spec"]["ports"]
    assert service_port["targetPort"] == "http" and service_port["port"] == port
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] and not security["allowPrivilegeEscalation"]
    assert pod["spec"]["securityContext"]["runAsUser"] == 10001  # the image's nbcds user


def test_the_ingress_routes_public_routes_only(environment: pytest.MonkeyPatch) -> None:
    ingress, service = manifest("Ingress"), manifest("Service")
    routes = flask_routes()
    [rule] = ingress["spec"]["rules"]
    public = settings_from(nbcds_variables(manifest("ConfigMap")["data"]), environment).public_base_url
    assert public == f"https://{rule['host']}" and ingress["spec"]["tls"][0]["hosts"] == [rule["host"]]
    paths = rule["http"]["paths"]
    for path in paths:
        backend = path["backend"]["service"]
        assert backend == {"name": service["metadata"]["name"], "port": {"name": "http"}}
        if path["pathType"] == "Exact":
            assert path["path"] in routes, path
        else:
            assert any(route.startswith(path["path"]) for route in routes), path
    for hidden in ("/metrics", "/readyz"):
        assert not any(hidden == p["path"] or (p["pathType"] == "Prefix" and hidden.startswith(p["path"] + "/"))
                       for p in paths), hidden
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "on"
    size = int(annotations["nginx.ingress.kubernetes.io/proxy-body-size"].rstrip("m")) * 1_000_000
    assert size > Settings().max_request_bytes


def test_only_the_ingress_controller_and_monitoring_reach_the_pods() -> None:
    policy, deployment = manifest("NetworkPolicy"), manifest("Deployment")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= deployment["spec"]["template"]["metadata"][
        "labels"].items()
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == [{"port": "http"}]
