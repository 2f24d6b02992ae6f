"""Issue 13: a compact prefetch declaration for EHRs that limit a template's length or its code lists.

``neuroblastoma-staging-compact`` advertises ``Observation?patient=…&code:in=<our ValueSet>``; the ValueSet
holds exactly the codes of the long form; an absent key is fetched with the long form, which every FHIR
server runs; and the answer is the same as the long-form service's.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

from cds_service.services import REGISTRY
from cds_service.services.prefetch_queries import COMPACT_STAGING_PREFETCH, OBSERVATIONS, STAGING_PREFETCH
from fhir_mappings.terminology.build import value_set_resource
from fhir_mappings.terminology.observation_kinds import PREFETCH_OBSERVATION_CODE_VS
from tests.cds_service.client_simulator import (
    EPIC,
    example_patient,
    fhir_authorization,
    hook_request,
    running_service,
    searchset,
)
from tests.support.faulty_fhir_server import Reply as FhirReply

COMPACT = "neuroblastoma-staging-compact"


def test_the_compact_declaration_is_short_and_lists_no_code() -> None:
    template = COMPACT_STAGING_PREFETCH["observations"]
    assert len(template) < 160 < 3000 < len(OBSERVATIONS)
    assert "code:in=https://neuroblastoma-cds.github.io/fhir/ValueSet/prefetch-observation-code" in template
    assert "|" not in template
    declaration = REGISTRY.get(COMPACT)
    assert declaration is not None and declaration.prefetch == COMPACT_STAGING_PREFETCH
    assert declaration.fetch_templates == STAGING_PREFETCH


def test_the_value_set_holds_exactly_the_codes_of_the_long_form() -> None:
    long_form = {tuple(pair.split("|", 1)) for pair in OBSERVATIONS.split("code=", 1)[1].split(",")}
    assert {code.key for code in PREFETCH_OBSERVATION_CODE_VS.members} == long_form
    published = json.loads((Path(__file__).resolve().parents[2] / "fhir_mappings" / "terminology"
                            / "ValueSet-prefetch-observation-code.json").read_text(encoding="utf-8"))
    assert published == value_set_resource(PREFETCH_OBSERVATION_CODE_VS)


def test_an_absent_key_is_fetched_with_the_long_form_and_the_answer_is_the_same(tmp_path: Path,
                                                                               faulty_fhir_server) -> None:
    data = example_patient("nb-ms-infant")
    faulty_fhir_server.route("/fhir/Observation", FhirReply.json(searchset(data.of_type("Observation"))))
    prefetch = {key: value for key, value in data.prefetch().items() if key != "observations"}
    authorization = fhir_authorization("token-compact", EPIC, patient=data.patient_id)
    with running_service(tmp_path) as service:
        client = service.client(EPIC)
        compact = client.call(COMPACT, hook_request(data.patient_id, prefetch=prefetch, authorization=authorization,
                                                    fhir_server=faulty_fhir_server.base_url))
        full = client.call("neuroblastoma-staging", hook_request(data.patient_id, prefetch=data.prefetch()))
    assert compact.status == 200 and full.status == 200
    [request] = [r for r in faulty_fhir_server.requests if r.path == "/fhir/Observation"]
    query = parse_qs(request.query)
    assert "code:in" not in query and len(query["code"][0].split(",")) == len(PREFETCH_OBSERVATION_CODE_VS.members)
    summaries = [[card["summary"] for card in reply.json["cards"]] for reply in (compact, full)]
    assert summaries[0] == summaries[1]
