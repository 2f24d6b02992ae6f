"""The codes of the result Observations this service writes (so earlier results are recognised)."""

from __future__ import annotations

from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.terminology.value_sets import INRGSS_STAGE_TYPE

STAGE_CODE = INRGSS_STAGE_TYPE
INRG_2009_RISK_CODE = OBSERVATION_CODES.code("inrg-2009-risk-group")
COG_2021_RISK_CODE = OBSERVATION_CODES.code("cog-2021-risk-group")

RESULT_OBSERVATION_CODINGS = frozenset({STAGE_CODE.key, INRG_2009_RISK_CODE.key, COG_2021_RISK_CODE.key})
