"""The in-memory FHIR engine (tests/fhir_server) behaves like a FHIR R4 server over HTTP."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.integration

PATIENT_ID = "nb-test-1"
PATIENT_REF = f"Patient/{PATIENT_ID}"
LOINC = "http://loinc.org"


def _observation(obs_id: str, code: str, when: str, value: float) -> dict:
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": PATIENT_REF},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": "mm"},
    }


RESOURCES = [
    {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "2022-03-01", "gender": "female"},
    {
        "resourceType": "Condition",
        "id": "nb-test-1-dx",
        "subject": {"reference": PATIENT_REF},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "432328008"}]},
    },
    _observation("nb-test-1-obs-1", "93796-1", "2024-01-05", 1),
    _observation("nb-test-1-obs-2", "93796-1", "2024-03-05", 2),
    _observation("nb-test-1-obs-3", "21889-1", "2024-02-05", 3),
    _observation("nb-test-1-obs-4", "21889-1", "2024-04-05", 4),
    _observation("nb-test-1-obs-5", "33717-0", "2024-05-05", 5),
    {"resourceType": "Patient", "id": "nb-test-2"},
    {
        **_observation("nb-test-2-obs-1", "93796-1", "2024-01-01", 9),
        "subject": {"reference": "Patient/nb-test-2"},
    },
]
PATIENT_1_OBSERVATIONS = {r["id"] for r in RESOURCES if r["id"].startswith("nb-test-1-obs")}


@pytest.fixture
def engine(fhir_engine):
    fhir_engine.reset()
    fhir_engine.seed(RESOURCES)
    return fhir_engine


def _get(engine, path: str, **kwargs) -> requests.Response:
    return requests.get(f"{engine.base_url}/{path}", headers=engine.auth_headers, timeout=10, **kwargs)


def _ids(bundle: dict) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


def test_metadata(fhir_engine):
    response = _get(fhir_engine, "metadata")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    assert response.json()["fhirVersion"] == "4.0.1"


def test_read_seeded_patient_keeps_its_id(engine):
    response = _get(engine, f"Patient/{PATIENT_ID}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    patient = response.json()
    assert (patient["id"], patient["birthDate"]) == (PATIENT_ID, "2022-03-01")


def test_read_missing_resource_is_404_operation_outcome(engine):
    response = _get(engine, "Patient/does-not-exist")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


def test_search_observations_by_patient(engine):
    bundle = _get(engine, "Observation", params={"patient": PATIENT_REF}).json()
    assert bundle["type"] == "searchset"
    assert set(_ids(bundle)) == PATIENT_1_OBSERVATIONS
    assert bundle["total"] == len(PATIENT_1_OBSERVATIONS)
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == f"{engine.base_url}/Observation/{entry['resource']['id']}"


def test_search_observations_by_patient_and_code(engine):
    bundle = _get(engine, "Observation", params={"patient": PATIENT_REF, "code": f"{LOINC}|93796-1"}).json()
    assert sorted(_ids(bundle)) == ["nb-test-1-obs-1", "nb-test-1-obs-2"]


def test_search_sorted_by_date_descending(engine):
    bundle = _get(engine, "Observation", params={"patient": PATIENT_REF, "_sort": "-date"}).json()
    dates = [entry["resource"]["effectiveDateTime"] for entry in bundle["entry"]]
    assert dates == sorted(dates, reverse=True)


def test_search_conditions_by_patient(engine):
    bundle = _get(engine, "Condition", params={"patient": PATIENT_REF}).json()
    assert _ids(bundle) == ["nb-test-1-dx"]


def test_search_by_post(engine):
    response = requests.post(
        f"{engine.base_url}/Observation/_search",
        data={"patient": PATIENT_REF, "code": f"{LOINC}|21889-1"},
        timeout=10,
    )
    assert response.status_code == 200
    assert sorted(_ids(response.json())) == ["nb-test-1-obs-3", "nb-test-1-obs-4"]


def test_paging_follows_next_links(engine):
    url = f"{engine.base_url}/Observation?patient={PATIENT_REF}&_count=2"
    pages: list[list[str]] = []
    while url:
        assert url.startswith(engine.base_url)
        bundle = requests.get(url, timeout=10).json()
        pages.append(_ids(bundle))
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        assert "self" in links
        url = links.get("next")
    assert [len(page) for page in pages] == [2, 2, 1]
    assert {i for page in pages for i in page} == PATIENT_1_OBSERVATIONS


def test_default_page_size_and_large_seed(fhir_engine):
    fhir_engine.reset()
    many = [_observation(f"nb-bulk-{i:03}", "93796-1", "2024-01-01", i) for i in range(120)]
    fhir_engine.seed(many)  # more than one transaction's worth of PUTs
    bundle = _get(fhir_engine, "Observation").json()
    assert bundle["total"] == 120
    assert len(bundle["entry"]) == 20  # like Medplum's server, pages of 20 unless _count says otherwise
    assert any(link["relation"] == "next" for link in bundle["link"])


def test_seed_transaction_bundle_resolves_local_references(fhir_engine):
    fhir_engine.reset()
    patient_url = "urn:uuid:9a6c1b8e-3f0e-4d55-9f4a-2b8c7d6e5f40"
    observation = {**_observation("-", "93796-1", "2024-01-01", 1), "subject": {"reference": patient_url}}
    del observation["id"]
    fhir_engine.seed(
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": patient_url,
                    "resource": {"resourceType": "Patient"},
                    "request": {"method": "POST", "url": "Patient"},
                },
                {
                    "resource": observation,
                    "request": {"method": "POST", "url": "Observation"},
                },
            ],
        }
    )
    patient_id = _ids(_get(fhir_engine, "Patient").json())[0]
    bundle = _get(fhir_engine, "Observation", params={"patient": f"Patient/{patient_id}"}).json()
    assert bundle["total"] == 1


def test_create_and_update(engine):
    created = requests.post(
        f"{engine.base_url}/Patient", json={"resourceType": "Patient", "gender": "male"}, timeout=10
    )
    assert created.status_code == 201
    patient = created.json()
    assert created.headers["Location"].startswith(f"{engine.base_url}/Patient/{patient['id']}")

    patient["birthDate"] = "2020-01-01"
    updated = requests.put(f"{engine.base_url}/Patient/{patient['id']}", json=patient, timeout=10)
    assert updated.status_code == 200
    assert _get(engine, f"Patient/{patient['id']}").json()["birthDate"] == "2020-01-01"


def test_invalid_requests_return_operation_outcomes(engine):
    bad_json = requests.post(
        f"{engine.base_url}/Patient",
        data="{not json",
        headers={"Content-Type": "application/fhir+json"},
        timeout=10,
    )
    bad_date = _get(engine, "Observation", params={"date": "not-a-date"})
    for response in (bad_json, bad_date):
        assert response.status_code == 400
        assert response.json()["resourceType"] == "OperationOutcome"
    assert _get(engine, "metadata").status_code == 200  # still alive


def test_reset_empties_the_repository(engine):
    engine.reset()
    assert _get(engine, f"Patient/{PATIENT_ID}").status_code == 404


def test_token_is_required(fhir_engine_with_token):
    engine = fhir_engine_with_token
    engine.reset()
    engine.seed(RESOURCES[:1])
    url = f"{engine.base_url}/Patient/{PATIENT_ID}"

    missing = requests.get(url, timeout=10)
    wrong = requests.get(url, headers={"Authorization": "Bearer wrong"}, timeout=10)
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["resourceType"] == "OperationOutcome"

    ok = requests.get(url, headers={"Authorization": f"Bearer {engine.token}"}, timeout=10)
    assert ok.status_code == 200
    assert ok.json()["id"] == PATIENT_ID


def test_requests_seen_records_authorization_header(fhir_engine_with_token):
    engine = fhir_engine_with_token
    engine.reset()
    engine.seed(RESOURCES)  # seeding traffic is not recorded
    assert engine.requests_seen() == []

    requests.get(f"{engine.base_url}/Observation?patient={PATIENT_REF}", timeout=10)
    requests.get(f"{engine.base_url}/Patient/{PATIENT_ID}", headers=engine.auth_headers, timeout=10)

    assert engine.requests_seen() == [
        {"method": "GET", "path": f"/fhir/R4/Observation?patient={PATIENT_REF}", "authorization": None},
        {
            "method": "GET",
            "path": f"/fhir/R4/Patient/{PATIENT_ID}",
            "authorization": "Bearer test-access-token",
        },
    ]
    engine.clear_requests()
    assert engine.requests_seen() == []
