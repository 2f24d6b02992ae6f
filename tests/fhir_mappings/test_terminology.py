"""Terminology: the shipped FHIR JSON is valid and current, every code is ours or verified, and every
domain value the rules read or write has a code."""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.valueset import ValueSet

from fhir_mappings.terminology import (
    build,
    codes,
    result_value_sets,
    value_sets,
    value_sets_pathology,
    value_sets_workup,
)
from fhir_mappings.terminology.catalogue import LOCAL_CODE_SYSTEMS, VALUE_SETS
from fhir_mappings.terminology.local_results import INRG_PRETREATMENT_GROUP
from fhir_mappings.terminology.local_staging import IDRF
from fhir_mappings.terminology.model import TERMINOLOGY_VERSION, Code, first_match
from fhir_mappings.terminology.observation_kinds import (
    FACTS_NOT_FROM_OBSERVATIONS,
    OBSERVATION_KIND_BY_CODING,
    ObservationKind,
)
from fhir_mappings.terminology.result_value_sets import ResultAbsence
from fhir_mappings.terminology.systems import (
    NBCDS_FHIR_BASE,
    STANDARD_SYSTEMS,
    code_system_url,
    is_ours,
    value_set_url,
)
from fhir_mappings.terminology.value_sets import ImagingTarget
from neuroblastoma import inrg2009
from neuroblastoma.anatomy import Compartment, Laterality, NodalRegion
from neuroblastoma.biology import (
    DifferentiationGrade,
    HistologicCategory,
    InpcClass,
    MkiClass,
    MycnStatus,
    PloidyCategory,
    ResectionExtent,
)
from neuroblastoma.case import EffusionKind, FactKey, ImagingModality, MarrowMethod, MetastaticSite
from neuroblastoma.facts import Presence
from neuroblastoma.idrf import IDRF_CATALOGUE, IdrfCode, RecordedCondition, StructureKind, StructureRelation
from neuroblastoma.results import RiskLevel, Stage

JSON_FILES = sorted(build.JSON_DIR.glob("*.json"))
CODE_SYSTEM_FILES = [p for p in JSON_FILES if p.name.startswith("CodeSystem-")]
VALUE_SET_FILES = [p for p in JSON_FILES if p.name.startswith("ValueSet-")]
OURS_BY_URL = {cs.url: cs for cs in LOCAL_CODE_SYSTEMS}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _model(resource: dict[str, Any]) -> CodeSystem | ValueSet:
    model = CodeSystem if resource["resourceType"] == "CodeSystem" else ValueSet
    return model.model_validate(resource)


# ---- the shipped JSON ---------------------------------------------------------------------------


def test_every_resource_is_shipped() -> None:
    assert len(CODE_SYSTEM_FILES) == len(LOCAL_CODE_SYSTEMS)
    assert len(VALUE_SET_FILES) == len(VALUE_SETS)


def test_generated_json_is_up_to_date() -> None:
    assert build.stale_files() == [], "run: python -m fhir_mappings.terminology.build"
    assert build.main(["--check"]) == 0


@pytest.mark.parametrize("path", JSON_FILES, ids=[p.name for p in JSON_FILES])
def test_validates_with_fhir_r4b_and_round_trips(path: Path) -> None:
    resource = _load(path)
    model = _model(resource)
    assert json.loads(model.model_dump_json()) == resource
    assert _model(json.loads(model.model_dump_json())) == model


@pytest.mark.parametrize("path", CODE_SYSTEM_FILES, ids=[p.name for p in CODE_SYSTEM_FILES])
def test_code_system_metadata(path: Path) -> None:
    cs = _load(path)
    assert cs["url"] == code_system_url(cs["id"])
    assert path.name == f"CodeSystem-{cs['id']}.json"
    assert cs["url"].startswith(f"{NBCDS_FHIR_BASE}/CodeSystem/")
    assert (cs["status"], cs["content"], cs["caseSensitive"]) == ("active", "complete", True)
    assert cs["version"] == TERMINOLOGY_VERSION
    assert cs["count"] == len(cs["concept"])
    codes_ = [c["code"] for c in cs["concept"]]
    assert len(codes_) == len(set(codes_)), "codes must be unique within a system"
    for concept in cs["concept"]:
        assert concept["display"].strip() and concept["definition"].strip(), concept["code"]


@pytest.mark.parametrize("path", VALUE_SET_FILES, ids=[p.name for p in VALUE_SET_FILES])
def test_value_set_metadata_and_members(path: Path) -> None:
    vs = _load(path)
    assert vs["url"] == value_set_url(vs["id"])
    assert path.name == f"ValueSet-{vs['id']}.json"
    assert (vs["status"], vs["version"]) == ("active", TERMINOLOGY_VERSION)
    seen: set[tuple[str, str]] = set()
    for include in vs["compose"]["include"]:
        system = include["system"]
        for concept in include["concept"]:
            key = (system, concept["code"])
            assert key not in seen, key
            seen.add(key)
            if is_ours(system):
                assert system in OURS_BY_URL, f"{vs['id']}: unknown CodeSystem {system}"
                assert concept["code"] in OURS_BY_URL[system], f"{vs['id']}: {key} is not in our CodeSystem"
                assert OURS_BY_URL[system].code(concept["code"]).display == concept["display"]
            else:
                assert system in STANDARD_SYSTEMS, f"{vs['id']}: unexpected system {system}"
                assert key in codes.VERIFIED_IN, f"{vs['id']}: {key} is a standard code nobody verified"


# ---- ours vs standard ---------------------------------------------------------------------------


def _lookup_tables() -> dict[str, Mapping[Any, Any] | frozenset[Any]]:
    tables: dict[str, Mapping[Any, Any] | frozenset[Any]] = {
        name: table for module in (value_sets, value_sets_workup, value_sets_pathology, result_value_sets)
        for name, table in vars(module).items()
        if name.endswith(("_BY_CODING", "_CODINGS")) and isinstance(table, Mapping | frozenset)
    }
    tables["OBSERVATION_KIND_BY_CODING"] = OBSERVATION_KIND_BY_CODING
    return tables


def test_every_coding_we_accept_is_ours_or_verified() -> None:
    """No code of ours sits in a standard system's URL, and no standard code is taken on trust."""
    tables = _lookup_tables()
    assert len(tables) > 25
    for name, table in tables.items():
        for system, code in table:
            if is_ours(system):
                assert system in OURS_BY_URL and code in OURS_BY_URL[system], (name, system, code)
            else:
                assert system in STANDARD_SYSTEMS, (name, system)
                assert (system, code) in codes.VERIFIED_IN, (name, system, code)


def test_our_codes_only_under_our_base() -> None:
    our_codes = {c.code for cs in LOCAL_CODE_SYSTEMS for c in cs.concepts}
    standard_keys = set(codes.VERIFIED_IN)
    assert all(cs.url.startswith(f"{NBCDS_FHIR_BASE}/CodeSystem/") for cs in LOCAL_CODE_SYSTEMS)
    assert not any(is_ours(system) for system, _ in standard_keys)
    assert not any(system.startswith(NBCDS_FHIR_BASE) for system in STANDARD_SYSTEMS)
    leaked = {(s, c) for s, c in standard_keys if c in our_codes and not c.isdigit()}
    assert leaked == set(), "one of our codes is declared under a standard system"


def test_every_standard_constant_records_where_it_was_verified() -> None:
    constants = [v for v in vars(codes).values() if isinstance(v, Code)]
    assert len(constants) == len(codes.VERIFIED_IN)
    for code in constants:
        assert codes.VERIFIED_IN[code.key].strip(), code


def test_uncertain_codes_are_not_used_as_codes() -> None:
    """clinical-rules §6 ⚠/[1] codes appear only as candidates in definitions."""
    keys = set(codes.VERIFIED_IN)
    for system, code in [
        ("http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", "C192760"),
        ("http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", "C150281"),
        ("http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", "C177631"),
        ("http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", "C102560"),
        ("http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", "C42057"),
        ("http://loinc.org", "84915-8"),  # CLL 11q22.3 cell count, not a neuroblastoma 11q call
        ("http://loinc.org", "72231-4"),  # 'MIBG scan', one non-authoritative source
        ("http://snomed.info/sct", "94217008"),
        ("http://snomed.info/sct", "94579000"),
    ]:
        assert (system, code) not in keys
    definitions = " ".join(c.definition for cs in LOCAL_CODE_SYSTEMS for c in cs.concepts)
    for candidate in ("1287643004", "C42057", "C42064", "C42058", "C102560", "C102561", "84915-8"):
        assert candidate in definitions


# ---- every domain value has a code --------------------------------------------------------------


def _known(enum: type[Enum]) -> list[Enum]:
    return [m for m in enum if m.name != "UNKNOWN"]


ROUND_TRIPS = [
    (IdrfCode, value_sets.IDRF_CODING, value_sets.IDRF_BY_CODING),
    (RecordedCondition, value_sets.RECORDED_CONDITION_CODING, value_sets.RECORDED_CONDITION_BY_CODING),
    (StructureRelation, value_sets.STRUCTURE_RELATION_CODING, value_sets.STRUCTURE_RELATION_BY_CODING),
    (StructureKind, value_sets.STRUCTURE_KIND_CODING, value_sets.STRUCTURE_KIND_BY_CODING),
    (Compartment, value_sets.COMPARTMENT_CODING, value_sets.COMPARTMENT_BY_CODING),
    (Laterality, value_sets.LATERALITY_CODING, value_sets.LATERALITY_BY_CODING),
    (NodalRegion, value_sets.NODAL_REGION_CODING, value_sets.NODAL_REGION_BY_CODING),
    (MetastaticSite, value_sets.METASTATIC_SITE_CODING, value_sets.METASTATIC_SITE_BY_CODING),
    (MarrowMethod, value_sets.MARROW_METHOD_CODING, value_sets.MARROW_METHOD_BY_CODING),
    (ImagingModality, value_sets.IMAGING_MODALITY_CODING, value_sets.IMAGING_MODALITY_BY_CODING),
    (EffusionKind, value_sets.EFFUSION_KIND_CODING, value_sets.EFFUSION_KIND_BY_CODING),
    (HistologicCategory, value_sets.HISTOLOGY_CODING, value_sets.HISTOLOGY_BY_CODING),
    (DifferentiationGrade, value_sets.GRADE_CODING, value_sets.GRADE_BY_CODING),
    (InpcClass, value_sets.INPC_CODING, value_sets.INPC_BY_CODING),
    (MkiClass, value_sets_pathology.MKI_CODING, value_sets_pathology.MKI_BY_CODING),
    (MycnStatus, value_sets.MYCN_STATUS_CODING, value_sets.MYCN_STATUS_BY_CODING),
    (PloidyCategory, value_sets.PLOIDY_CODING, value_sets.PLOIDY_BY_CODING),
    (ResectionExtent, value_sets.RESECTION_CODING, value_sets.RESECTION_BY_CODING),
    (Stage, result_value_sets.STAGE_CODING, result_value_sets.STAGE_BY_CODING),
    (RiskLevel, result_value_sets.INRG_2009_RISK_CODING, result_value_sets.RISK_LEVEL_BY_CODING),
    (RiskLevel, result_value_sets.RISK_GENERIC_CODING, result_value_sets.RISK_LEVEL_BY_CODING),
    (Presence, value_sets.PRESENCE_CODING, value_sets.PRESENCE_BY_CODING),
]


@pytest.mark.parametrize(("enum", "write", "read"), ROUND_TRIPS,
                         ids=[f"{e.__name__}-{i}" for i, (e, _, _) in enumerate(ROUND_TRIPS)])
def test_every_domain_value_has_a_code_that_reads_back(
    enum: type[Enum], write: Mapping[Any, Code], read: Mapping[Any, Any]
) -> None:
    members = list(enum) if enum in (Presence,) else _known(enum)
    assert set(write) == set(members), f"{enum.__name__}: values without a code"
    for member in members:
        assert read[write[member].key] is member


def test_stages_are_ncit_inrg_stage_codes() -> None:
    assert {s: c.code for s, c in result_value_sets.STAGE_CODING.items()} == {
        Stage.L1: "C133428", Stage.L2: "C133429", Stage.M: "C133430", Stage.MS: "C133431"}
    assert all(c.system == "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
               for c in result_value_sets.STAGE_CODING.values())
    assert result_value_sets.INRGSS_STAGE_TYPE.key == ("http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", "C133427")


def test_cog_risk_has_three_levels_and_every_level_a_generic_code() -> None:
    assert set(result_value_sets.COG_2021_RISK_CODING) == {RiskLevel.LOW, RiskLevel.INTERMEDIATE, RiskLevel.HIGH}
    assert set(result_value_sets.RISK_GENERIC_CODING) == set(RiskLevel)
    for level, code in result_value_sets.COG_2021_RISK_CODING.items():
        assert result_value_sets.RISK_LEVEL_BY_CODING[code.key] is level


def test_every_imaging_result_has_a_code() -> None:
    for modality in ImagingModality:
        for target in ImagingTarget:
            code = value_sets.FUNCTIONAL_IMAGING_CODING[(modality, target)]
            assert value_sets.FUNCTIONAL_IMAGING_BY_CODING[code.key] == (modality, target)
            assert OBSERVATION_KIND_BY_CODING[code.key] is ObservationKind.FUNCTIONAL_IMAGING


def test_result_absence_uses_standard_data_absent_reasons() -> None:
    dar = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
    assert {a: c.key for a, c in result_value_sets.DATA_ABSENT_REASON_FOR.items()} == {
        ResultAbsence.INDETERMINATE: (dar, "temp-unknown"),
        ResultAbsence.OUT_OF_SCOPE: (dar, "not-applicable"),
    }


def test_every_fact_read_from_observations_has_an_observation_kind() -> None:
    covered = {kind.fact for kind in ObservationKind}
    assert set(FactKey) - FACTS_NOT_FROM_OBSERVATIONS <= covered
    kinds_with_codes = set(OBSERVATION_KIND_BY_CODING.values())
    assert kinds_with_codes == set(ObservationKind)


def test_copy_numbers_and_variants_are_recorded_not_decisive() -> None:
    """Product decision 11: the MYCN call is never derived from copy numbers."""
    for loinc in ("93797-9", "93798-7", "93799-5"):
        kind = OBSERVATION_KIND_BY_CODING[("http://loinc.org", loinc)]
        assert kind is ObservationKind.MYCN_COPY_NUMBER and not kind.decisive
    assert not OBSERVATION_KIND_BY_CODING[("http://loinc.org", "69548-6")].decisive
    assert OBSERVATION_KIND_BY_CODING[("http://loinc.org", "93796-1")] is ObservationKind.MYCN_STATUS
    assert ObservationKind.MYCN_STATUS.decisive


# ---- specific tables ----------------------------------------------------------------------------


def test_idrf_code_system_follows_the_domain_catalogue() -> None:
    assert [c.code for c in IDRF.concepts] == [f"IDRF-{n:02d}" for n in range(1, 21)] + [
        "REC-MULTIFOCAL", "REC-PLEURAL-EFFUSION", "REC-ASCITES"]
    for definition in IDRF_CATALOGUE:
        concept = next(c for c in IDRF.concepts if c.code == definition.code.value)
        assert definition.wording in concept.display and definition.wording in concept.definition
        assert dict(concept.properties) == {
            "number": definition.number, "region": definition.region.value, "recordedNotIdrf": False}
    for condition in RecordedCondition:
        concept = next(c for c in IDRF.concepts if c.code == condition.value)
        assert dict(concept.properties) == {"recordedNotIdrf": True}
        assert "not an IDRF" in concept.display


def test_inrg_groups_are_a_to_r_without_l_and_m_with_the_domain_risk() -> None:
    letters = [c.code for c in INRG_PRETREATMENT_GROUP.concepts]
    assert letters == list("ABCDEFGHIJKNOPQR")
    risk_of = {row.outcome.group: row.outcome.risk for row in inrg2009.ROWS}
    for concept in INRG_PRETREATMENT_GROUP.concepts:
        (name, coding), = concept.properties
        assert name == "riskLevel"
        assert coding == result_value_sets.INRG_2009_RISK_CODING[risk_of[concept.code]]


def test_histology_is_decided_only_by_specific_codes() -> None:
    icdo3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
    assert value_sets.HISTOLOGY_BY_CODING[(icdo3, "9500/3")] is HistologicCategory.NEUROBLASTOMA
    assert (icdo3, "9490/3") not in value_sets.HISTOLOGY_BY_CODING
    assert value_sets.HISTOLOGY_CANDIDATES_BY_CODING[(icdo3, "9490/0")] == {
        HistologicCategory.GANGLIONEUROMA_MATURING, HistologicCategory.GANGLIONEUROMA_MATURE}


def test_metastatic_sites_and_nodes() -> None:
    sct, icd = "http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10-cm"
    assert value_sets.METASTATIC_SITE_BY_CODING[(sct, "14016003")] is MetastaticSite.BONE_MARROW
    assert value_sets.METASTATIC_SITE_BY_CODING[(icd, "C79.52")] is MetastaticSite.BONE_MARROW
    assert value_sets.METASTATIC_SITE_BY_CODING[(icd, "C78.7")] is MetastaticSite.LIVER
    assert value_sets.METASTATIC_SITE_BY_CODING[(sct, "39937001")] is MetastaticSite.SKIN
    # A lymph node is never a metastatic site by code alone: regional vs distant is computed.
    assert (sct, "59441001") not in value_sets.METASTATIC_SITE_BY_CODING
    assert (sct, "59441001") in value_sets.LYMPH_NODE_CODINGS
    assert (sct, "59441001") not in value_sets.NODAL_REGION_BY_CODING
    assert value_sets.NODAL_REGION_BY_CODING[(icd, "C77.4")] is NodalRegion.INGUINAL
    assert (sct, "128462008") in value_sets.SECONDARY_NEOPLASM_CODINGS
    assert (icd, "C79.51") in value_sets.SECONDARY_NEOPLASM_CODINGS
    assert (sct, "14016003") not in value_sets.SECONDARY_NEOPLASM_CODINGS  # a body structure, not a disorder


def test_mycn_value_and_gene() -> None:
    sct, loinc = "http://snomed.info/sct", "http://loinc.org"
    assert value_sets.MYCN_STATUS_BY_CODING[(loinc, "LA9633-4")] is MycnStatus.AMPLIFIED
    assert value_sets.MYCN_STATUS_BY_CODING[(sct, "260415000")] is MycnStatus.NOT_AMPLIFIED
    assert value_sets.MYCN_STATUS_BY_CODING[value_sets.MYCN_STATUS_CODING[MycnStatus.GAIN].key] is MycnStatus.GAIN
    assert set(value_sets.MYCN_GENE_CODINGS) == {
        ("http://www.genenames.org/geneId", "HGNC:7559"), ("http://www.genenames.org", "HGNC:7559")}


def test_unknown_is_never_read_as_absent() -> None:
    assert value_sets.PRESENCE_BY_CODING[("http://snomed.info/sct", "261665006")] is Presence.UNKNOWN


# ---- lookups and the build ----------------------------------------------------------------------


def test_first_match_reads_fhir_codings_and_tuples() -> None:
    concept = CodeableConcept.model_validate({"coding": [
        {"system": "http://example.org/local", "code": "bone"},
        {"system": "http://snomed.info/sct", "code": "10200004"},
    ]})
    assert first_match(value_sets.METASTATIC_SITE_BY_CODING, concept.coding or []) is MetastaticSite.LIVER
    assert first_match(value_sets.METASTATIC_SITE_BY_CODING, [("http://snomed.info/sct", "0")]) is None
    assert first_match(OBSERVATION_KIND_BY_CODING, [("http://loinc.org", "82244-5")]) is ObservationKind.CHR_1P


def test_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        value_sets.METASTATIC_SITE_BY_CODING[("x", "y")] = MetastaticSite.OTHER  # type: ignore[index]


def test_build_writes_current_files_and_removes_stale_ones(tmp_path: Path) -> None:
    (tmp_path / "ValueSet-obsolete.json").write_text("{}", encoding="utf-8")
    (tmp_path / "unrelated.txt").write_text("keep", encoding="utf-8")
    assert "ValueSet-obsolete.json" in build.stale_files(tmp_path)
    build.write(tmp_path)
    assert build.stale_files(tmp_path) == []
    assert not (tmp_path / "ValueSet-obsolete.json").exists()
    assert (tmp_path / "unrelated.txt").exists()
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [p.name for p in JSON_FILES]


def test_computable_names() -> None:
    assert build.computable_name("inrg-2009-risk") == "Inrg2009Risk"
    assert build.computable_name("observation-codes") == "ObservationCodes"
