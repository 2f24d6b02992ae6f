"""Everything this package publishes: our CodeSystems and our ValueSets, in publication order."""

from __future__ import annotations

from fhir_mappings.terminology import result_value_sets as rvs
from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology import value_sets_pathology as vp
from fhir_mappings.terminology import value_sets_workup as vw
from fhir_mappings.terminology.local_biology import BIOLOGY_CODE_SYSTEMS
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.terminology.local_procedures import PROCEDURES, RESECTION_ORDER_VS
from fhir_mappings.terminology.local_results import RESULT_CODE_SYSTEMS
from fhir_mappings.terminology.local_staging import STAGING_CODE_SYSTEMS
from fhir_mappings.terminology.model import LocalCodeSystem, ValueSetDef
from fhir_mappings.terminology.observation_kinds import OBSERVATION_CODE_VS, PREFETCH_OBSERVATION_CODE_VS

LOCAL_CODE_SYSTEMS: tuple[LocalCodeSystem, ...] = (
    *STAGING_CODE_SYSTEMS, *BIOLOGY_CODE_SYSTEMS, *RESULT_CODE_SYSTEMS, OBSERVATION_CODES, PROCEDURES,
)

VALUE_SETS: tuple[ValueSetDef, ...] = (
    # facts the rules read
    OBSERVATION_CODE_VS,
    vs.PRESENCE_VS,
    vs.NEUROBLASTOMA_CONDITION_VS,
    vs.NEUROBLASTIC_MORPHOLOGY_VS,
    vs.IDRF_VS,
    vs.RECORDED_CONDITION_VS,
    vs.STRUCTURE_RELATION_VS,
    vs.STRUCTURE_KIND_VS,
    vs.COMPARTMENT_VS,
    vs.LATERALITY_VS,
    vs.NODAL_REGION_VS,
    vs.LYMPH_NODE_SITE_VS,
    vs.METASTATIC_SITE_VS,
    vs.SECONDARY_NEOPLASM_VS,
    vs.MARROW_METHOD_VS,
    vs.IMAGING_MODALITY_VS,
    vs.FUNCTIONAL_IMAGING_VS,
    vs.EQUIVOCAL_VS,
    vs.FOCUS_RESOLUTION_VS,
    vs.HISTOLOGIC_CATEGORY_VS,
    vs.DIFFERENTIATION_GRADE_VS,
    vp.MKI_VS,
    vs.INPC_VS,
    vs.MYCN_STATUS_VS,
    vs.MYCN_GENE_VS,
    vs.PLOIDY_VS,
    vs.SEGMENTAL_ABERRATION_VS,
    vs.SYMPTOMS_VS,
    vs.RESECTION_VS,
    vw.ALK_VS,
    vw.SIZE_UNIT_VS,
    vw.ADRENAL_VS,
    RESECTION_ORDER_VS,
    # results the service writes
    rvs.STAGE_VS,
    rvs.INSS_STAGE_VS,
    rvs.INRG_GROUP_VS,
    rvs.INRG_2009_RISK_VS,
    rvs.COG_2021_RISK_VS,
    rvs.RISK_GENERIC_VS,
    rvs.CLASSIFIER_METHOD_VS,
    # the services' compact prefetch
    PREFETCH_OBSERVATION_CODE_VS,
)
