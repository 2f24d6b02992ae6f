"""The prefetch templates of our services, in the spec's recommended query subset.

The Observation search names every code the rules read (token equality, comma = OR), so a patient's
thousands of unrelated laboratory results are never transferred. Written out, that is about 4,300
characters and 60 ``system|code`` pairs, which some EHRs refuse (a limit on a prefetch template's length,
or on a code list spanning several systems). So a compact declaration is offered too (guide section 1):
``code:in`` our published ValueSet ``prefetch-observation-code``, which holds exactly those codes. A FHIR
server can run it only if it supports the ``:in`` modifier and has the ValueSet loaded, so when the service
fetches a key itself (the client sent none) it always uses the long form, which every server runs.
"""

from __future__ import annotations

from fhir_mappings.results_codes import RESULT_OBSERVATION_CODINGS
from fhir_mappings.terminology.observation_kinds import OBSERVATION_KIND_BY_CODING, PREFETCH_OBSERVATION_CODE_VS
from fhir_mappings.terminology.systems import value_set_url


def _observation_codes() -> str:
    keys = sorted({*OBSERVATION_KIND_BY_CODING, *RESULT_OBSERVATION_CODINGS})
    return ",".join(f"{system}|{code}" for system, code in keys)


PATIENT = "Patient/{{context.patientId}}"
CONDITIONS = "Condition?patient={{context.patientId}}"
OBSERVATIONS = "Observation?patient={{context.patientId}}&code=" + _observation_codes()
OBSERVATIONS_COMPACT = ("Observation?patient={{context.patientId}}&code:in="
                        + value_set_url(PREFETCH_OBSERVATION_CODE_VS.name))

STAGING_PREFETCH = {"patient": PATIENT, "conditions": CONDITIONS, "observations": OBSERVATIONS}
COMPACT_STAGING_PREFETCH = {"patient": PATIENT, "conditions": CONDITIONS, "observations": OBSERVATIONS_COMPACT}
