"""TLS through the shipped reverse proxy (issue 17): nginx terminates HTTPS with the certificate ``nbcds tls-cert``
writes on a first start (here: made in the test), in front of ``nbcds serve``.

The CDS Hooks sandbox needs a service it can reach over TLS (or on localhost): through the proxy, discovery and a
hook call answer over HTTPS, TLS 1.2 or 1.3 only, with the certificate that was generated; the operational routes
stay hidden there as on the plain port.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cds_service.cli.tls_cert import fingerprint
from tests.cds_service.client_simulator import example_patient, hook_request
from tests.support.nbcds_server import ServedNbcds, free_port, served
from tests.support.nginx import RunningNginx, find_nginx, running_nginx

pytestmark = pytest.mark.integration

PATIENT = example_patient("nb-l2-infant")


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[RunningNginx, ServedNbcds]]:
    nginx = find_nginx()
    if nginx is None:
        pytest.skip("nginx is not installed (make system-packages installs it from Debian)")
    env = {"NBCDS_PROFILE": "development", "NBCDS_REQUIRE_JWT": "false", "NBCDS_WORKERS": "1",
           "NBCDS_DATABASE_URL": f"sqlite:///{tmp_path / 'nbcds.sqlite3'}"}
    with served(tmp_path, env, workers=1) as service, \
            running_nginx(nginx, port=free_port(), upstream=f"127.0.0.1:{service.port}") as proxy:
        yield proxy, service


def test_https_through_the_proxy_answers_discovery_and_a_hook_call(proxied: tuple[RunningNginx, ServedNbcds]) -> None:
    proxy, _ = proxied
    discovery = requests.get(f"{proxy.tls_url}/cds-services", verify=str(proxy.ca_file), timeout=10)
    assert discovery.status_code == 200 and discovery.json()["services"]
    body = hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch())
    call = requests.post(f"{proxy.tls_url}/cds-services/neuroblastoma-staging", json=body,
                         verify=str(proxy.ca_file), timeout=10)
    assert call.status_code == 200, proxy.error_log()[-2000:]
    assert call.json()["cards"][0]["summary"].startswith("INRG stage L2")
    landing = requests.get(f"{proxy.tls_url}/", verify=str(proxy.ca_file), timeout=10)
    assert landing.status_code == 200 and "text/html" in landing.headers["Content-Type"]
    for path in ("/metrics", "/readyz"):
        assert requests.get(f"{proxy.tls_url}{path}", verify=str(proxy.ca_file), timeout=10).status_code == 404


def test_the_proxy_serves_the_generated_certificate_over_tls_1_2_or_1_3(
        proxied: tuple[RunningNginx, ServedNbcds]) -> None:
    proxy, _ = proxied
    context = ssl.create_default_context(cafile=str(proxy.ca_file))
    with socket.create_connection(("127.0.0.1", proxy.tls_port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
        served_certificate = tls.getpeercert(binary_form=True)
    assert served_certificate is not None
    pem = ssl.DER_cert_to_PEM_cert(served_certificate)
    served_path = proxy.directory / "served.pem"
    served_path.write_text(pem)
    assert fingerprint(served_path) == fingerprint(proxy.ca_file)


def test_a_client_that_does_not_trust_the_certificate_is_refused(proxied: tuple[RunningNginx, ServedNbcds]) -> None:
    proxy, _ = proxied
    with pytest.raises(requests.exceptions.SSLError):  # self-signed: a browser asks you to accept it first
        requests.get(f"{proxy.tls_url}/healthz", timeout=10)
