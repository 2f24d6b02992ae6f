"""Case → FHIR R4: one patient's facts as a Bundle of the Patient, Condition and Observations the reader reads.

The inverse of ``fhir_mappings.reading.case_reader.read_case``: every fact of a ``Case`` becomes the
resource the reader turns back into that fact (a test checks the round trip for every example and
for random cases). It is how the shipped example patients are published as FHIR, and how the
implementation guide's examples are made. The conventions, one place each:

* **Patient**: ``birthDate`` (year, month or day precision, as the case knows it) and a synthetic name.
* **Condition**: SNOMED CT 432328008 neuroblastoma, confirmed; ``onsetDateTime`` = the diagnosis date,
  or, when the case gives the age in days, ``onsetAge`` in days (``onsetRange`` for an age interval)
  with the diagnosis date, if any, in ``recordedDate`` (product decision 1).
* **Observations**: one per known fact (unknown facts are left out), ``status`` final, ``subject`` the
  Patient, ``effectiveDateTime`` the diagnosis date, ``category`` imaging, laboratory or exam. A finding
  the case lists with an unknown value (an IDRF assessed without a call, a node of unknown status) is
  written with ``dataAbsentReason`` unknown, never as absent.
* **Codes**: only from the terminology tables; where a standard code means exactly our concept it is
  written first (LOINC 93796-1 with LOINC answers for a MYCN amplified/not-amplified call, SNOMED CT
  body structures and laterality, ICD-O-3 9500/3), our own coding after it; everything else is ours.
* **Ids**: stable, ``{prefix}{patient}`` for the Patient and ``{prefix}{patient}-{fact}`` for the rest
  (e.g. ``nb-l1-low-mycn``), so a transaction Bundle PUTs the same resources every time.

Several primaries (guide 6.6): each primary's IDRFs, overall IDRF call and extensions carry ``focus`` →
its primary-site Observation; findings the case leaves untied (``Case.unattributed``) are written without
one, and the call over every primary as ``idrf-summary-all-primaries``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from fhir_mappings.terminology import codes as std
from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology import value_sets_pathology as vp
from fhir_mappings.terminology import value_sets_workup as vw
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.terminology.local_staging import FUNCTIONAL_IMAGING, MARROW
from fhir_mappings.terminology.model import Code
from fhir_mappings.writing.elements import (
    EFFUSION_SLUG,
    HISTOLOGY_STANDARD,
    MYCN_LOINC_ANSWER,
    NODE_BODY_STRUCTURE,
    SCA_CODE_BY_LABEL,
    SITE_BODY_STRUCTURE,
    age_quantity,
    component,
    concept,
    equivocal,
    named,
    presence_value,
    quantity_value,
    side_components,
    spinal_components,
)
from neuroblastoma.biology import AlkStatus, HistologicCategory, MycnStatus
from neuroblastoma.case import (
    Case,
    Effusion,
    FunctionalImaging,
    MarrowAssessment,
    MarrowMethod,
    MetastasisFinding,
    NodalFinding,
    TumourExtension,
)
from neuroblastoma.facts import Presence
from neuroblastoma.idrf import IdrfFinding, RecordedCondition

BundleType = Literal["transaction", "collection"]
Resource = dict[str, Any]

#: fullUrl base of the entries: a placeholder server (example.org is reserved for examples), so the
#: relative references inside the Bundle resolve to its entries as the FHIR Bundle rules describe.
FULL_URL_BASE = "http://example.org/fhir"
SYNTHETIC_NAME = {"use": "official", "text": "Example Child", "family": "Child", "given": ["Example"]}

# HL7 infrastructure codes (not clinical terminology): Condition status.
_CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

IMAGING, LABORATORY, EXAM = std.OBS_CATEGORY_IMAGING, std.OBS_CATEGORY_LABORATORY, std.OBS_CATEGORY_EXAM
_obs = OBSERVATION_CODES.code

class _BundleWriter:
    """Builds the resources of one case, in a stable order with stable ids."""

    def __init__(self, case: Case, ids_prefix: str) -> None:
        self.case = case
        self.base = f"{ids_prefix}{case.patient}"
        self.patient_ref = {"reference": f"Patient/{self.base}"}
        self.resources: list[Resource] = []
        self._ids: set[str] = set()

    # -- resources -----------------------------------------------------------------------------

    def _id(self, slug: str) -> str:
        candidate, n = f"{self.base}-{slug}", 1
        while candidate in self._ids:  # a case listing the same finding twice: both are written
            n += 1
            candidate = f"{self.base}-{slug}-{n}"
        self._ids.add(candidate)
        return candidate

    def patient(self) -> None:
        resource: Resource = {"resourceType": "Patient", "id": self.base, "name": [dict(SYNTHETIC_NAME)]}
        if self.case.birth_date is not None:
            resource["birthDate"] = str(self.case.birth_date)
        self._ids.add(self.base)
        self.resources.append(resource)

    def condition(self) -> None:
        case = self.case
        resource: Resource = {
            "resourceType": "Condition",
            "id": self._id("neuroblastoma"),
            "clinicalStatus": {"coding": [{"system": _CONDITION_CLINICAL, "code": "active", "display": "Active"}]},
            "verificationStatus": {
                "coding": [{"system": _CONDITION_VERIFICATION, "code": "confirmed", "display": "Confirmed"}]
            },
            "code": named(std.SCT_NEUROBLASTOMA),
            "subject": dict(self.patient_ref),
        }
        if case.age_days is not None:
            if case.age_days_max is None or case.age_days_max == case.age_days:
                resource["onsetAge"] = age_quantity(case.age_days)
            else:
                resource["onsetRange"] = {"low": age_quantity(case.age_days),
                                          "high": age_quantity(case.age_days_max)}
            if case.diagnosis_date is not None:
                resource["recordedDate"] = str(case.diagnosis_date)
        elif case.diagnosis_date is not None:
            resource["onsetDateTime"] = str(case.diagnosis_date)
        self.resources.append(resource)

    def observation(self, slug: str, code: Code, category: Code | None, value: dict[str, Any] | None = None,
                    **elements: Any) -> Resource:
        """One final Observation of the patient; ``elements`` are added as given (None skipped)."""
        resource: Resource = {"resourceType": "Observation", "id": self._id(slug), "status": "final"}
        if category is not None:
            resource["category"] = [concept(category)]
        resource["code"] = named(code)
        resource["subject"] = dict(self.patient_ref)
        if self.case.diagnosis_date is not None:
            resource["effectiveDateTime"] = str(self.case.diagnosis_date)
        resource.update(value or {})
        resource.update({key: item for key, item in elements.items() if item not in (None, [])})
        self.resources.append(resource)
        return resource

    def known(self, slug: str, code: Code, category: Code | None, presence: Presence) -> None:
        """A present/absent fact, written only when known."""
        if presence.known:
            self.observation(slug, code, category, presence_value(presence))

    # -- facts ---------------------------------------------------------------------------------

    def primaries(self) -> None:
        """Each primary's site; its IDRFs, overall call and extensions, tied to it by ``focus`` (a reference to
        its primary-site Observation) when there are several; untied findings without one (guide 6.6)."""
        case = self.case
        several = len(case.primaries) > 1
        for index, primary in enumerate(case.primaries):
            site = None
            if primary.compartment is not None:
                adrenal = vw.ADRENAL_CODING if primary.adrenal is Presence.PRESENT else None
                site = self.observation(
                    f"primary-{index + 1}", _obs("primary-tumour-site"), IMAGING,
                    {"valueCodeableConcept": concept(vs.COMPARTMENT_CODING[primary.compartment], adrenal)},
                    component=side_components(primary.side),
                )
            focus = [{"reference": f"Observation/{site['id']}"}] if several and site is not None else None
            self._idrfs(primary.idrf_summary, primary.idrfs, primary.extensions,
                        "" if index == 0 else f"primary-{index + 1}-", focus)
        untied = case.unattributed
        for call in untied.idrf_calls:
            self.known("untied-idrf-summary", _obs("idrf-summary"), IMAGING, call.presence)
        self._idrfs(Presence.UNKNOWN, untied.idrfs, untied.extensions, "untied-", None)
        self.known("idrf-summary-all-primaries", _obs("idrf-summary-all-primaries"), IMAGING,
                   case.idrf_all_primaries.presence)
        multifocal = vs.RECORDED_CONDITION_CODING[RecordedCondition.MULTIFOCAL_PRIMARY]
        self.known("multifocal", multifocal, IMAGING, case.multifocal)

    def _idrfs(self, summary: Presence, idrfs: tuple[IdrfFinding, ...], extensions: tuple[TumourExtension, ...],
               prefix: str, focus: list[dict[str, str]] | None) -> None:
        if summary.known:
            self.observation(f"{prefix}idrf-summary", _obs("idrf-summary"), IMAGING, presence_value(summary),
                             focus=focus)
        for finding in idrfs:
            self._idrf(finding, prefix, focus)
        for extension in extensions:
            self._extension(extension, prefix, focus)

    def _idrf(self, finding: IdrfFinding, prefix: str, focus: list[dict[str, str]] | None) -> None:
        parts = []
        if finding.structure is not None:
            parts.append(component(_obs("idrf-structure-kind"),
                                   {"valueCodeableConcept": concept(vs.STRUCTURE_KIND_CODING[finding.structure])}))
        if finding.relation is not None:
            parts.append(component(_obs("idrf-structure-relation"),
                                   {"valueCodeableConcept": concept(vs.STRUCTURE_RELATION_CODING[finding.relation])}))
        if finding.spinal_canal is not None:
            parts += spinal_components(finding.spinal_canal)
        self.observation(f"{prefix}{finding.code.value.lower()}", vs.IDRF_CODING[finding.code], IMAGING,
                         presence_value(finding.status), component=parts, focus=focus)

    def _extension(self, extension: TumourExtension, prefix: str, focus: list[dict[str, str]] | None) -> None:
        parts = [component(_obs("compartment"),
                           {"valueCodeableConcept": concept(vs.COMPARTMENT_CODING[extension.compartment])})]
        parts += side_components(extension.side)
        if extension.contiguous.known:
            parts.append(component(_obs("contiguous"), presence_value(extension.contiguous)))
        self.observation(f"{prefix}extension-{extension.compartment.value}-{extension.side.value}",
                         _obs("tumour-extension"), IMAGING, presence_value(Presence.PRESENT), component=parts,
                         focus=focus)

    def lymph_nodes(self) -> None:
        for node in self.case.lymph_nodes:
            self._node(node)

    def _node(self, node: NodalFinding) -> None:
        site = concept(NODE_BODY_STRUCTURE.get(node.region), vs.NODAL_REGION_CODING[node.region])
        self.observation(f"node-{node.region.value}-{node.side.value}", _obs("nodal-involvement"), IMAGING,
                         presence_value(node.status), bodySite=site, component=side_components(node.side))

    def metastases(self) -> None:
        for finding in self.case.metastases:
            self._metastasis(finding)
        self.known("metastatic-work-up", _obs("metastatic-work-up"), IMAGING, self.case.metastatic_survey)

    def _metastasis(self, finding: MetastasisFinding) -> None:
        site = concept(SITE_BODY_STRUCTURE.get(finding.site), vs.METASTATIC_SITE_CODING[finding.site])
        value = presence_value(finding.status)
        if finding.resolves_focus and finding.status.known:  # "focus ruled out" / "focus confirmed" (guide 6.8)
            resolution = "focus-confirmed" if finding.status is Presence.PRESENT else "focus-ruled-out"
            value = {"valueCodeableConcept": concept(FUNCTIONAL_IMAGING.code(resolution))}
        self.observation(f"metastasis-{finding.site.value}", _obs("metastatic-site"), IMAGING, value, bodySite=site,
                         interpretation=equivocal() if finding.equivocal else None)

    def bone_marrow(self) -> None:
        marrow: MarrowAssessment = self.case.bone_marrow
        method = concept(vs.MARROW_METHOD_CODING[marrow.method]) if marrow.method is not MarrowMethod.UNKNOWN else None
        if marrow.involvement.known or (marrow.tumour_cell_percent is None and method):
            self.observation("marrow-involvement", MARROW.code("involvement"), LABORATORY,
                             presence_value(marrow.involvement), method=method)
        if marrow.tumour_cell_percent is not None:
            self.observation("marrow-tumour-cell-percent", MARROW.code("tumour-cell-percent"), LABORATORY,
                             quantity_value(marrow.tumour_cell_percent, std.UCUM_PERCENT), method=method)

    def functional_imaging(self) -> None:
        for scan in self.case.functional_imaging:
            self._scan(scan)
        self.known("mibg-avidity", FUNCTIONAL_IMAGING.code("mibg-avidity-primary"), IMAGING,
                   self.case.primary_mibg_avid)

    def _scan(self, scan: FunctionalImaging) -> None:
        """Bone and bone marrow, each its own Observation; an equivocal scan marks both (the reader
        flags the scan equivocal when either is)."""
        method = concept(vs.IMAGING_MODALITY_CODING[scan.modality])
        for target, presence in ((vs.ImagingTarget.BONE, scan.bone), (vs.ImagingTarget.BONE_MARROW, scan.bone_marrow)):
            self.observation(
                f"{scan.modality.value}-{target.value}", vs.FUNCTIONAL_IMAGING_CODING[(scan.modality, target)],
                IMAGING, presence_value(presence), interpretation=equivocal() if scan.equivocal else None,
                method=method,
            )

    def effusions(self) -> None:
        for effusion in self.case.effusions:
            self._effusion(effusion)

    def _effusion(self, effusion: Effusion) -> None:
        parts = []
        if effusion.malignant_cells.known:
            parts.append(component(_obs("effusion-malignant-cells"), presence_value(effusion.malignant_cells)))
        self.observation(EFFUSION_SLUG[effusion.kind],
                         vs.EFFUSION_KIND_CODING[effusion.kind], IMAGING, presence_value(Presence.PRESENT),
                         component=parts)

    def pathology(self) -> None:
        case = self.case
        if case.histology is not HistologicCategory.UNKNOWN:
            value = concept(HISTOLOGY_STANDARD.get(case.histology), vs.HISTOLOGY_CODING[case.histology])
            self.observation("histology", _obs("histologic-category"), LABORATORY, {"valueCodeableConcept": value})
        if case.grade in vs.GRADE_CODING:
            self.observation("differentiation-grade", _obs("differentiation-grade"), LABORATORY,
                             {"valueCodeableConcept": concept(vs.GRADE_CODING[case.grade])})
        if case.mki in vp.MKI_CODING:
            self.observation("mki", _obs("mki-class"), LABORATORY,
                             {"valueCodeableConcept": concept(vp.MKI_CODING[case.mki])})
        if case.inpc in vs.INPC_CODING:
            self.observation("inpc", _obs("inpc-class"), LABORATORY,
                             {"valueCodeableConcept": concept(vs.INPC_CODING[case.inpc])})

    def genomics(self) -> None:
        case = self.case
        if case.mycn in MYCN_LOINC_ANSWER:
            self.observation("mycn", std.LOINC_MYCN_AMPLIFICATION_FISH, LABORATORY,
                             {"valueCodeableConcept": concept(MYCN_LOINC_ANSWER[case.mycn])})
        elif case.mycn is not MycnStatus.UNKNOWN:
            self.observation("mycn", _obs("mycn-status"), LABORATORY,
                             {"valueCodeableConcept": concept(vs.MYCN_STATUS_CODING[case.mycn])})
        self.known("11q", _obs("11q-aberration"), LABORATORY, case.chr11q_aberration)
        self.known("1p", _obs("1p-aberration"), LABORATORY, case.chr1p_aberration)
        for label in case.other_scas:
            if label not in SCA_CODE_BY_LABEL:
                raise ValueError(f"no code for the segmental aberration {label!r}: one of {sorted(SCA_CODE_BY_LABEL)}")
            code = SCA_CODE_BY_LABEL[label]
            self.observation(f"sca-{code.code}", _obs("other-sca"), LABORATORY, {"valueCodeableConcept": concept(code)})
        if case.ploidy.dna_index is not None:
            self.observation("dna-index", _obs("dna-index"), LABORATORY,
                             quantity_value(case.ploidy.dna_index, std.UCUM_UNITY))
        if case.ploidy.category is not None:
            self.observation("ploidy", _obs("ploidy-category"), LABORATORY,
                             {"valueCodeableConcept": concept(vs.PLOIDY_CODING[case.ploidy.category])})
        if case.alk is not AlkStatus.UNKNOWN:
            self.observation("alk", _obs("alk-status"), LABORATORY,
                             {"valueCodeableConcept": concept(vw.ALK_CODING[case.alk])})

    def clinical(self) -> None:
        case = self.case
        self.known("ms-symptoms", _obs("ms-symptoms"), EXAM, case.ms_symptoms)
        self.known("cord-compression", _obs("cord-compression-signs"), EXAM, case.cord_compression)
        if case.resection in vs.RESECTION_CODING:
            self.observation("resection", _obs("resection-extent"), None,
                             {"valueCodeableConcept": concept(vs.RESECTION_CODING[case.resection])})
        self.known("microscopic-residual", _obs("microscopic-residual"), LABORATORY, case.microscopic_residual)
        self.known("ipsilateral-nodes", _obs("ipsilateral-nodes-histology"), LABORATORY, case.nodes_ipsilateral)
        self.known("contralateral-nodes", _obs("contralateral-nodes-histology"), LABORATORY, case.nodes_contralateral)
        self.known("midline", _obs("midline-infiltration"), IMAGING, case.midline_infiltration)

    def work_up(self) -> None:
        """The primary's size (LOINC 33728-7, mCODE's longest dimension) and cystic fraction, a paraspinal
        primary, and the semi-quantitative MIBG scores (guide 6.23-6.27)."""
        case = self.case
        if case.primary_diameter_cm is not None:
            self.observation("primary-diameter", std.LOINC_TUMOR_LONGEST_DIMENSION, IMAGING,
                             quantity_value(case.primary_diameter_cm, std.UCUM_CM))
        if case.primary_cystic_percent is not None:
            self.observation("primary-cystic-fraction", _obs("primary-cystic-fraction"), IMAGING,
                             quantity_value(case.primary_cystic_percent, std.UCUM_PERCENT))
        self.known("paraspinal", _obs("paraspinal-primary"), IMAGING, case.paraspinal)
        for score in case.mibg_scores:
            self.observation(f"mibg-{score.method.value}-score", _obs(f"mibg-{score.method.value}-score"), IMAGING,
                             quantity_value(score.value, std.UCUM_UNITY))


def case_resources(case: Case, *, ids_prefix: str = "") -> list[Resource]:
    """The Patient, the neuroblastoma Condition and one Observation per known fact, in a stable order."""
    writer = _BundleWriter(case, ids_prefix)
    writer.patient()
    writer.condition()
    writer.primaries()
    writer.lymph_nodes()
    writer.metastases()
    writer.bone_marrow()
    writer.functional_imaging()
    writer.effusions()
    writer.work_up()
    writer.pathology()
    writer.genomics()
    writer.clinical()
    return writer.resources


def bundle_of(resources: Iterable[Resource], *, bundle_type: BundleType = "transaction",
              full_url_base: str = FULL_URL_BASE) -> dict[str, Any]:
    """Resources as a transaction Bundle (``PUT Type/id``, ids kept) or a collection Bundle."""
    if bundle_type not in ("transaction", "collection"):
        raise ValueError(f"bundle_type must be 'transaction' or 'collection', not {bundle_type!r}")
    entries = []
    for resource in resources:
        path = f"{resource['resourceType']}/{resource['id']}"
        entry: dict[str, Any] = {"fullUrl": f"{full_url_base}/{path}", "resource": resource}
        if bundle_type == "transaction":
            entry["request"] = {"method": "PUT", "url": path}
        entries.append(entry)
    return {"resourceType": "Bundle", "type": bundle_type, "entry": entries}


def case_to_bundle(case: Case, *, bundle_type: BundleType = "transaction", ids_prefix: str = "",
                   full_url_base: str = FULL_URL_BASE) -> dict[str, Any]:
    """One patient's case as a FHIR R4 Bundle that ``read_case`` reads back into the same case.

    ``ids_prefix`` is put before every id (the Patient's is ``{ids_prefix}{case.patient}``), e.g. to
    load the same example twice into one server.
    """
    return bundle_of(case_resources(case, ids_prefix=ids_prefix), bundle_type=bundle_type,
                     full_url_base=full_url_base)


__all__ = ["FULL_URL_BASE", "BundleType", "bundle_of", "case_resources", "case_to_bundle", "concept",
           "presence_value"]
