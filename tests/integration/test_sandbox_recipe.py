"""The README's path to the CDS Hooks sandbox, every step a browser does not have to take (issue 17).

1. ``node tests/fhir_server/server.mjs --cors`` (``make test-fhir-server``): the test FHIR server answers the browser
   the way the sandbox needs it (cds-hooks-notes §2.1): CORS and preflights, ``/metadata`` with ``fhirVersion``,
   ``GET /Patient`` without a 401, the Patient read and ``POST {type}/_search`` for the prefetch searches.
2. ``nbcds load-examples FHIR_BASE_URL`` loads every example patient into it (twice: PUTs, the same data).
3. The service, configured as the README says (development profile, the FHIR server tokenless), answers a
   patient-view for ``nb-l2-infant`` with nothing prefetched (it fetches from that server) with the README's card.
"""

from __future__ import annotations

import io
import json
import re
from argparse import Namespace
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from cds_service.auth.trusted_issuers import SANDBOX_ISSUER, SANDBOX_JKU
from cds_service.cli import main
from cds_service.cli.load_examples import LoadError, load_examples, run
from cds_service.settings import Settings
from tests.cds_service.cds_hooks_schema import assert_valid_cards_response
from tests.cds_service.client_simulator import hook_request, running_service
from tests.support.fhir_engine import FhirEngine, FhirEngineError

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "fhir").glob("*.json"))
SANDBOX_PAGE = "https://sandbox.cds-hooks.org"  # the hosted sandbox's origin, reading FHIR from the browser
README = (ROOT / "README.md").read_text(encoding="utf-8")
RECIPE = README.split("## From localhost to a sandbox and an EHR", 1)[1].split("\n## ", 1)[0]


def readme_sandbox_url() -> dict[str, str]:
    [url] = re.findall(r"^https://sandbox\.cds-hooks\.org/\?\S+$", RECIPE, re.MULTILINE)
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def readme_card_summary() -> str:
    [summary] = re.findall(r"summary \*\*`([^`]+)`\*\*", RECIPE)
    return summary


@pytest.fixture(scope="module")
def cors_server() -> Iterator[FhirEngine]:
    """The test FHIR server as the README starts it for a browser: ``--cors``."""
    try:
        engine = FhirEngine(cors=True).start()
    except FhirEngineError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="module")
def loaded(cors_server: FhirEngine) -> FhirEngine:
    out = io.StringIO()
    assert main(["load-examples", cors_server.base_url, str(ROOT / "examples" / "fhir")]) == 0
    load_examples(cors_server.base_url, [], 0, out)  # again, from the default directory: PUTs, same data
    text = out.getvalue()
    assert f"{len(EXAMPLES)} example patients" in text, text
    return cors_server


def test_every_example_patient_is_loaded(loaded: FhirEngine) -> None:
    for path in EXAMPLES:
        bundle = json.loads(path.read_text())
        [patient] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
        observations = sum(e["resource"]["resourceType"] == "Observation" for e in bundle["entry"])
        read = requests.get(f"{loaded.base_url}/Patient/{patient['id']}", timeout=10)
        assert read.status_code == 200, path.name
        found = requests.get(f"{loaded.base_url}/Observation", timeout=10,
                             params={"patient": patient["id"], "_summary": "count"}).json()
        assert found["total"] == observations, path.name


def test_the_fhir_server_answers_a_browser_as_the_sandbox_needs(loaded: FhirEngine) -> None:
    preflight = requests.options(f"{loaded.base_url}/Observation/_search", timeout=10, headers={
        "Origin": SANDBOX_PAGE, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
        "Access-Control-Request-Private-Network": "true"})  # Chromium, from the hosted sandbox to loopback
    assert preflight.status_code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] in ("*", SANDBOX_PAGE)
    assert preflight.headers["Access-Control-Allow-Private-Network"] == "true"
    allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    browser = {"Origin": SANDBOX_PAGE, "Accept": "application/json+fhir"}
    metadata = requests.get(f"{loaded.base_url}/metadata", headers=browser, timeout=10)
    assert metadata.json()["fhirVersion"].startswith("4.") and metadata.headers["Access-Control-Allow-Origin"]
    assert requests.get(f"{loaded.base_url}/Patient", headers=browser, timeout=10).status_code == 200  # not 401
    search = requests.post(f"{loaded.base_url}/Condition/_search", headers=browser, timeout=10,
                           data={"patient": "nb-l2-infant"})
    assert search.status_code == 200 and search.json()["total"] >= 1


def test_the_service_fetches_from_it_and_gives_the_readme_card(loaded: FhirEngine, tmp_path: Path) -> None:
    origin = loaded.root_url
    with running_service(tmp_path, profile="development", require_jwt=False, public_base_url=None,
                         allow_tokenless_fhir_servers=[origin], fhir_server_allowlist=[origin],
                         fhir_deadline_seconds=10.0, fhir_read_timeout_seconds=5.0) as service:
        body = hook_request("nb-l2-infant", fhir_server=loaded.base_url)  # nothing prefetched, no token
        reply = service.client().call("neuroblastoma-staging", body)
    assert reply.status == 200, reply.body[:500]
    cards = assert_valid_cards_response(reply.json)["cards"]
    assert cards[0]["summary"] == readme_card_summary()  # what step 4 of the README says the browser shows
    assert cards[0]["indicator"] == "warning"


def test_the_readme_recipe_names_what_these_tests_run() -> None:
    """The browser steps use the addresses, patient, settings and issuer the tests above exercise."""
    url = readme_sandbox_url()
    fhir, discovery = urlsplit(url["fhirServiceUrl"]), url["serviceDiscoveryURL"]
    assert url["fhirServiceUrl"] == "http://127.0.0.1:8081/fhir/R4"  # the test server's base path, its make port
    assert (ROOT / "examples" / "fhir" / f"{url['patientId']}.json").is_file()
    assert discovery == f"http://127.0.0.1:{Settings().port}/cds-services"  # the default port, no trailing slash
    makefile = (ROOT / "Makefile").read_text()
    [recipe] = re.findall(r"^test-fhir-server:.*\n\t(.*)$", makefile, re.MULTILINE)
    assert "--cors" in recipe and "${FHIR_PORT:-8081}" in recipe
    assert f"NBCDS_ALLOW_TOKENLESS_FHIR_SERVERS='[\"{fhir.scheme}://{fhir.netloc}\"]'" in RECIPE
    assert f"nbcds load-examples {url['fhirServiceUrl']}" in RECIPE
    flat = " ".join(RECIPE.split())
    assert f"`iss` **`{SANDBOX_ISSUER}`**" in flat and f"`jku` **`{SANDBOX_JKU}`**" in flat
    assert "NBCDS_TRUST_SANDBOX_ISSUER=true" in RECIPE
    resources = sum(len(json.loads(path.read_text())["entry"]) for path in EXAMPLES)
    assert f"# {len(EXAMPLES)} example patients ({resources} resources) loaded into" in RECIPE  # its sample output


def test_a_server_that_does_not_answer_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="could not be reached"):
        load_examples("http://127.0.0.1:9/fhir", [str(EXAMPLES[0])], 0, io.StringIO())
    with pytest.raises(LoadError, match="did not answer within"):
        load_examples("http://127.0.0.1:9/fhir", [str(EXAMPLES[0])], 0.3, io.StringIO())
    err = io.StringIO()
    assert run(Namespace(base_url="http://127.0.0.1:9/fhir", paths=[str(tmp_path / "none.json")], wait=0),
               io.StringIO(), err) == 1
    assert "no such file" in err.getvalue()


def test_collections_are_skipped_and_a_refused_bundle_names_its_file(cors_server: FhirEngine) -> None:
    out = io.StringIO()
    load_examples(cors_server.base_url, [str(ROOT / "examples" / "fhir" / "messy" / "nb-messy-duplicates.json")], 0,
                  out)
    assert "skipped nb-messy-duplicates.json: not a transaction Bundle" in out.getvalue()
    first = EXAMPLES[0].name
    with pytest.raises(LoadError, match=rf"^{re.escape(first)}: HTTP 404: "):  # not a FHIR base: the server says so
        load_examples(f"{cors_server.root_url}/not-fhir", [str(EXAMPLES[0])], 0, io.StringIO())
