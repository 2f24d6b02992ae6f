"""The prefetch templates of our services, in the spec's recommended query subset.

The Observation search names every code the rules read (token equality, comma = OR), so a
patient's thousands of unrelated laboratory results are never transferred.
"""

from __future__ import annotations

from fhir_mappings.results_codes import RESULT_OBSERVATION_CODINGS
from fhir_mappings.terminology.observation_kinds import OBSERVATION_KIND_BY_CODING


def _observation_codes() -> str:
    keys = sorted({*OBSERVATION_KIND_BY_CODING, *RESULT_OBSERVATION_CODINGS})
    return ",".join(f"{system}|{code}" for system, code in keys)


PATIENT = "Patient/{{context.patientId}}"
CONDITIONS = "Condition?patient={{context.patientId}}"
OBSERVATIONS = "Observation?patient={{context.patientId}}&code=" + _observation_codes()

STAGING_PREFETCH = {"patient": PATIENT, "conditions": CONDITIONS, "observations": OBSERVATIONS}
